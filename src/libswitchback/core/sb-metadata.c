/* sb-metadata.c: the TUF metadata schema (TUF §4), parsed strictly from untrusted bytes.
 *
 * Every field the client relies on is checked here, once, so later code can read the tree
 * without re-validating it. The checks follow python-tuf's metadata API, which the TUF
 * conformance suite treats as the reference client.
 */
#include "config.h"

#include "core/sb-metadata.h"
#include "core/sb-role.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

typedef struct {
  SbKey *key;
  /* DER of the public key: what makes two key ids the same key for threshold counting, however
   * its text is spelled (hex case, PEM line breaks, keytype aliases). */
  GBytes *material;
  /* An OTA-CE key (no scheme, read in ota-ce mode): it verifies over aktualizr's canonical
   * form, and only signatures whose "method" aktualizr accepts count for it. */
  gboolean ota_ce;
} SbKeyEntry;

struct _SbMetadata {
  gint ref_count;
  SbMetadataType type;
  SbMetadataFlags flags;
  GBytes *bytes;
  JsonNode *envelope;
  JsonObject *signed_obj;
  GBytes *signed_bytes;
  GBytes *aktualizr_signed_bytes; /* the same in aktualizr's form, made when a key needs it */
  GHashTable *signatures; /* keyid -> hex signature (borrowed from the tree) */
  GHashTable *sig_methods; /* keyid -> "method" of that signature, when it has one */
  const char *spec_version;
  gint64 version;
  gint64 expires;

  /* root and targets */
  GHashTable *keys;    /* keyid -> SbKeyEntry */
  GHashTable *roles;   /* name -> SbRole (root: owned; targets: borrowed from role_order) */
  GPtrArray *role_order;
  SbRole *succinct;
  gboolean has_delegations;
  gboolean consistent_snapshot;

  /* timestamp and snapshot */
  GHashTable *meta; /* file name (borrowed) -> SbMetaFile */

  /* targets: the "targets" object is kept as a span map over @bytes (a role may list
   * 100,000 targets), and built as a tree only if sb_metadata_get_targets asks for it. */
  SbJsonSpanMap *target_map;
  JsonObject *targets;
};

/* Canonical "signed" bytes are kept after parsing only below this size; larger ones are
 * encoded again when a signature check needs them, so a large targets role does not hold a
 * second copy of itself. */
#define SIGNED_BYTES_CACHE_MAX (1024 * 1024)

const char *
sb_metadata_type_name (SbMetadataType type)
{
  switch (type)
    {
    case SB_METADATA_ROOT:
      return SB_ROLE_ROOT;
    case SB_METADATA_TIMESTAMP:
      return SB_ROLE_TIMESTAMP;
    case SB_METADATA_SNAPSHOT:
      return SB_ROLE_SNAPSHOT;
    case SB_METADATA_TARGETS:
      return SB_ROLE_TARGETS;
    }
  g_return_val_if_reached ("unknown");
}

static gboolean
take_digits (const char *s, guint n, gint *out)
{
  gint v = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return TRUE;
}

gboolean
sb_metadata_parse_time (const char *text, gint64 *out_unix, GError **error)
{
  gint y, mo, d, h, mi, s;

  /* Exactly "YYYY-MM-DDTHH:MM:SSZ": the one form TUF writes. A lenient parser would let two
   * clients disagree about when the same metadata expires. */
  if (text == NULL || strlen (text) != 20 || !take_digits (text, 4, &y) || text[4] != '-'
      || !take_digits (text + 5, 2, &mo) || text[7] != '-' || !take_digits (text + 8, 2, &d)
      || text[10] != 'T' || !take_digits (text + 11, 2, &h) || text[13] != ':'
      || !take_digits (text + 14, 2, &mi) || text[16] != ':' || !take_digits (text + 17, 2, &s)
      || text[19] != 'Z')
    return sb_throw (error, SB_ERROR_PARSE, "time \"%s\" is not of the form YYYY-MM-DDTHH:MM:SSZ",
                     text ? text : "(null)");
  /* g_date_time_new_utc refuses impossible dates (February 30th, hour 24, second 60). */
  g_autoptr (GDateTime) dt = NULL;
  if (y >= 1 && h < 24 && mi < 60 && s < 60)
    dt = g_date_time_new_utc (y, mo, d, h, mi, s);
  if (dt == NULL)
    return sb_throw (error, SB_ERROR_PARSE, "time \"%s\" is not a valid date", text);
  *out_unix = g_date_time_to_unix (dt);
  return TRUE;
}

char *
sb_metadata_format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);
  g_return_val_if_fail (dt != NULL, NULL);
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- keys and signatures ---- */

static void
key_entry_free (gpointer p)
{
  SbKeyEntry *entry = p;
  sb_key_unref (entry->key);
  g_bytes_unref (entry->material);
  g_free (entry);
}

static gboolean
parse_keys (SbMetadata *md, JsonObject *parent, const char *what, GError **error)
{
  JsonObject *keys = sb_json_get_object (parent, "keys", what, error);
  if (keys == NULL)
    return FALSE;
  md->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, key_entry_free);

  JsonObjectIter iter;
  const char *keyid;
  JsonNode *node;
  json_object_iter_init (&iter, keys);
  while (json_object_iter_next (&iter, &keyid, &node))
    {
      g_autofree char *key_what = g_strdup_printf ("%s key %s", what, keyid);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return sb_throw (error, SB_ERROR_PARSE, "%s is not an object", key_what);
      JsonObject *obj = json_node_get_object (node);
      const char *keytype = sb_json_get_string (obj, "keytype", key_what, error);
      if (keytype == NULL)
        return FALSE;
      /* aktualizr and OTA-CE write keys without a scheme (docs/ota-ce.md); only ota-ce mode
       * reads them, with aktualizr's rules. */
      gboolean ota_ce = (md->flags & SB_METADATA_OTA_CE) != 0
                        && !json_object_has_member (obj, "scheme");
      if (!ota_ce && sb_json_get_string (obj, "scheme", key_what, error) == NULL)
        return FALSE;
      JsonObject *keyval = sb_json_get_object (obj, "keyval", key_what, error);
      if (keyval == NULL)
        return FALSE;

      /* A key this client cannot use is left out rather than refused, as python-tuf does: a
       * repository may list keys of newer types, and they simply never count toward a
       * threshold here. aktualizr refuses the whole file for a keytype it does not know
       * (MetaWithKeys::ParseKeys), so an OTA-CE key of such a type is refused too. */
      g_autoptr (GError) local_error = NULL;
      g_autoptr (SbKey) key = ota_ce ? sb_key_new_from_ota_ce_json (node, &local_error)
                                     : sb_key_new_from_json (node, &local_error);
      if (key == NULL && ota_ce && g_error_matches (local_error, SB_ERROR, SB_ERROR_UNSUPPORTED))
        return sb_throw (error, SB_ERROR_UNSUPPORTED, "%s: %s", key_what, local_error->message);
      if (key == NULL)
        {
          g_debug ("%s: not usable, ignored: %s", key_what, local_error->message);
          continue;
        }
      SbKeyEntry *entry = g_new0 (SbKeyEntry, 1);
      entry->material = g_bytes_ref (sb_key_get_public_der (key));
      entry->key = g_steal_pointer (&key);
      entry->ota_ce = ota_ce;
      g_hash_table_insert (md->keys, g_strdup (keyid), entry);
    }
  return TRUE;
}

static gboolean
parse_signatures (SbMetadata *md, JsonObject *envelope, const char *what, GError **error)
{
  JsonArray *sigs = sb_json_get_array (envelope, "signatures", what, error);
  if (sigs == NULL)
    return FALSE;
  md->signatures = g_hash_table_new (g_str_hash, g_str_equal);
  md->sig_methods = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = json_array_get_length (sigs);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (sigs, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return sb_throw (error, SB_ERROR_PARSE, "%s: signatures[%u] is not an object", what, i);
      JsonObject *obj = json_node_get_object (node);
      const char *keyid = sb_json_get_string (obj, "keyid", what, error);
      const char *sig = keyid ? sb_json_get_string (obj, "sig", what, error) : NULL;
      if (sig == NULL)
        return FALSE;
      /* TUF §4.2: the keyid must be unique in "signatures". Refusing repeats (as python-tuf
       * does) means one key can never be counted twice toward a threshold. */
      if (g_hash_table_contains (md->signatures, keyid))
        return sb_throw (error, SB_ERROR_PARSE, "%s: two signatures by keyid %s", what, keyid);
      g_hash_table_insert (md->signatures, (gpointer) keyid, (gpointer) sig);
      JsonNode *method = json_object_get_member (obj, "method");
      if (method != NULL && JSON_NODE_HOLDS_VALUE (method)
          && json_node_get_value_type (method) == G_TYPE_STRING)
        g_hash_table_insert (md->sig_methods, (gpointer) keyid,
                             (gpointer) json_node_get_string (method));
    }
  return TRUE;
}

/* ---- meta files and targets ---- */

static gboolean
check_hashes (JsonObject *obj, const char *what, JsonObject **out_hashes, GError **error)
{
  JsonObject *hashes = sb_json_get_object (obj, "hashes", what, error);
  if (hashes == NULL)
    return FALSE;
  if (json_object_get_size (hashes) == 0)
    return sb_throw (error, SB_ERROR_PARSE, "%s: hashes is empty", what);
  JsonObjectIter iter;
  const char *algo;
  JsonNode *node;
  json_object_iter_init (&iter, hashes);
  while (json_object_iter_next (&iter, &algo, &node))
    if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
      return sb_throw (error, SB_ERROR_PARSE, "%s: hash %s is not a string", what, algo);
  *out_hashes = hashes;
  return TRUE;
}

static gboolean
parse_meta (SbMetadata *md, const char *what, GError **error)
{
  JsonObject *meta = sb_json_get_object (md->signed_obj, "meta", what, error);
  if (meta == NULL)
    return FALSE;
  md->meta = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  JsonObjectIter iter;
  const char *filename;
  JsonNode *node;
  json_object_iter_init (&iter, meta);
  while (json_object_iter_next (&iter, &filename, &node))
    {
      g_autofree char *file_what = g_strdup_printf ("%s meta \"%s\"", what, filename);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return sb_throw (error, SB_ERROR_PARSE, "%s is not an object", file_what);
      JsonObject *obj = json_node_get_object (node);
      g_autofree SbMetaFile *mf = g_new0 (SbMetaFile, 1);
      if (!sb_json_get_int (obj, "version", file_what, &mf->version, error))
        return FALSE;
      if (mf->version < 1)
        return sb_throw (error, SB_ERROR_PARSE, "%s: version %" G_GINT64_FORMAT " is below 1",
                         file_what, mf->version);
      mf->length = -1;
      if (json_object_has_member (obj, "length"))
        {
          if (!sb_json_get_int (obj, "length", file_what, &mf->length, error))
            return FALSE;
          if (mf->length < 0)
            return sb_throw (error, SB_ERROR_PARSE, "%s: negative length", file_what);
        }
      if (json_object_has_member (obj, "hashes")
          && !check_hashes (obj, file_what, &mf->hashes, error))
        return FALSE;
      g_hash_table_insert (md->meta, (gpointer) filename, g_steal_pointer (&mf));
    }
  return TRUE;
}

/* One member of "targets", read from its accepted bytes: called for every target of a file
 * that may list 100,000, so it builds no tree and allocates nothing unless it fails. The rules
 * are those check_hashes and the typed getters apply to trees. */
static gboolean
check_target (const SbJsonSlice *target, GError **error)
{
  if (sb_json_slice_kind (target) != SB_JSON_KIND_OBJECT)
    return sb_throw (error, SB_ERROR_PARSE, "not an object");
  SbJsonSlice v;
  gint64 length;
  if (!sb_json_slice_get_member (target, "length", &v))
    return sb_throw (error, SB_ERROR_PARSE, "target: missing \"length\"");
  if (!sb_json_slice_get_int (&v, &length))
    return sb_throw (error, SB_ERROR_PARSE, "target: \"length\" is not an integer");
  if (length < 0)
    return sb_throw (error, SB_ERROR_PARSE, "negative length");
  if (!sb_json_slice_get_member (target, "hashes", &v))
    return sb_throw (error, SB_ERROR_PARSE, "target: missing \"hashes\"");
  if (sb_json_slice_kind (&v) != SB_JSON_KIND_OBJECT)
    return sb_throw (error, SB_ERROR_PARSE, "target: \"hashes\" is not an object");
  if (sb_json_slice_get_size (&v) == 0)
    return sb_throw (error, SB_ERROR_PARSE, "target: hashes is empty");
  gsize cursor = 0, at = 0;
  SbJsonSlice hash;
  while (sb_json_slice_next_member (&v, &cursor, NULL, &hash))
    {
      if (sb_json_slice_kind (&hash) != SB_JSON_KIND_STRING)
        {
          /* Only now is the algorithm's name decoded, for the message. */
          g_autoptr (GString) algo = g_string_new (NULL);
          if (!sb_json_slice_next_member (&v, &at, algo, &hash))
            g_string_assign (algo, "(unknown)");
          return sb_throw (error, SB_ERROR_PARSE, "target: hash %s is not a string", algo->str);
        }
      at = cursor;
    }
  /* TUF §4.5: custom is an object; Uptane reads its fields. */
  if (sb_json_slice_get_member (target, "custom", &v)
      && sb_json_slice_kind (&v) != SB_JSON_KIND_OBJECT)
    return sb_throw (error, SB_ERROR_PARSE, "target: \"custom\" is not an object");
  return TRUE;
}

static gboolean
check_target_member (const char *path, const SbJsonSlice *value, gpointer user_data,
                     GError **error)
{
  if (!check_target (value, error))
    {
      g_prefix_error (error, "%s: target \"%s\": ", (const char *) user_data, path);
      return FALSE;
    }
  return TRUE;
}

/* ---- the four roles ---- */

static gboolean
parse_root (SbMetadata *md, const char *what, GError **error)
{
  if (!parse_keys (md, md->signed_obj, what, error))
    return FALSE;
  JsonObject *roles = sb_json_get_object (md->signed_obj, "roles", what, error);
  if (roles == NULL)
    return FALSE;
  md->roles = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) sb_role_free);

  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  json_object_iter_init (&iter, roles);
  while (json_object_iter_next (&iter, &name, &node))
    {
      g_autofree char *role_what = g_strdup_printf ("%s role \"%s\"", what, name);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return sb_throw (error, SB_ERROR_PARSE, "%s is not an object", role_what);
      SbRole *role = sb_role_new_from_json (json_node_get_object (node), name, role_what, error);
      if (role == NULL)
        return FALSE;
      g_hash_table_insert (md->roles, role->name, role);
    }
  const char *const required[] = { SB_ROLE_ROOT, SB_ROLE_TIMESTAMP, SB_ROLE_SNAPSHOT,
                                   SB_ROLE_TARGETS };
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!g_hash_table_contains (md->roles, required[i]))
      return sb_throw (error, SB_ERROR_PARSE, "%s: roles has no \"%s\"", what, required[i]);

  md->consistent_snapshot = FALSE;
  if (json_object_has_member (md->signed_obj, "consistent_snapshot")
      && !sb_json_get_bool (md->signed_obj, "consistent_snapshot", what, &md->consistent_snapshot,
                            error))
    return FALSE;
  return TRUE;
}

static gboolean
parse_timestamp (SbMetadata *md, const char *what, GError **error)
{
  if (!parse_meta (md, what, error))
    return FALSE;
  if (!g_hash_table_contains (md->meta, "snapshot.json"))
    return sb_throw (error, SB_ERROR_PARSE, "%s: meta has no \"snapshot.json\"", what);
  return TRUE;
}

static gboolean
parse_delegations (SbMetadata *md, const char *what, GError **error)
{
  g_autofree char *d_what = g_strdup_printf ("%s delegations", what);
  JsonObject *delegations = sb_json_get_object (md->signed_obj, "delegations", what, error);
  if (delegations == NULL)
    return FALSE;
  md->has_delegations = TRUE;
  if (!parse_keys (md, delegations, d_what, error))
    return FALSE;

  gboolean has_roles = json_object_has_member (delegations, "roles");
  gboolean has_succinct = json_object_has_member (delegations, "succinct_roles");
  if (has_roles == has_succinct)
    return sb_throw (error, SB_ERROR_PARSE,
                     "%s: exactly one of roles and succinct_roles is required", d_what);
  if (has_succinct)
    {
      JsonObject *succinct = sb_json_get_object (delegations, "succinct_roles", d_what, error);
      if (succinct == NULL)
        return FALSE;
      g_autofree char *s_what = g_strdup_printf ("%s succinct_roles", d_what);
      md->succinct = sb_succinct_roles_new_from_json (succinct, s_what, error);
      return md->succinct != NULL;
    }

  JsonArray *roles = sb_json_get_array (delegations, "roles", d_what, error);
  if (roles == NULL)
    return FALSE;
  guint n = json_array_get_length (roles);
  for (guint i = 0; i < n; i++)
    {
      SbRole *role =
          sb_delegated_role_new_from_json (json_array_get_element (roles, i), d_what, error);
      if (role == NULL)
        return FALSE;
      g_ptr_array_add (md->role_order, role);
      if (!g_hash_table_insert (md->roles, role->name, role))
        return sb_throw (error, SB_ERROR_PARSE, "%s: role \"%s\" is delegated twice", d_what,
                         role->name);
    }
  return TRUE;
}

static gboolean
parse_targets (SbMetadata *md, const char *what, GError **error)
{
  /* Every member was checked by check_target_member while parsing; only the placeholder
   * stands in the tree. Anything else at "targets" (missing, not an object) is refused here. */
  if (sb_json_get_object (md->signed_obj, "targets", what, error) == NULL)
    return FALSE;
  g_assert (md->target_map != NULL);

  md->role_order = g_ptr_array_new_with_free_func ((GDestroyNotify) sb_role_free);
  md->roles = g_hash_table_new (g_str_hash, g_str_equal);
  if (json_object_has_member (md->signed_obj, "delegations"))
    return parse_delegations (md, what, error);
  return TRUE;
}

/* The _type OTA-CE writes for @type: "Root", "Timestamp", "Snapshot", "Targets". aktualizr
 * requires exactly these for timestamp, snapshot and targets (tuf.cc, the init functions). */
static const char *
ota_ce_type_name (SbMetadataType type)
{
  switch (type)
    {
    case SB_METADATA_ROOT:
      return "Root";
    case SB_METADATA_TIMESTAMP:
      return "Timestamp";
    case SB_METADATA_SNAPSHOT:
      return "Snapshot";
    case SB_METADATA_TARGETS:
      return "Targets";
    }
  g_return_val_if_reached ("unknown");
}

static gboolean
check_spec_version (SbMetadata *md, const char *what, GError **error)
{
  md->spec_version = sb_json_get_string (md->signed_obj, "spec_version", what, error);
  if (md->spec_version == NULL)
    return FALSE;
  /* python-tuf accepts "X.Y" and "X.Y.Z" with decimal parts, and only its own major. */
  g_auto (GStrv) parts = g_strsplit (md->spec_version, ".", -1);
  guint n_parts = g_strv_length (parts);
  gboolean well_formed = n_parts == 2 || n_parts == 3;
  for (guint i = 0; well_formed && i < n_parts; i++)
    {
      well_formed = parts[i][0] != '\0' && strlen (parts[i]) <= 9;
      for (const char *c = parts[i]; well_formed && *c; c++)
        well_formed = g_ascii_isdigit (*c);
    }
  if (!well_formed)
    return sb_throw (error, SB_ERROR_PARSE, "%s: spec_version \"%s\" is not a version number",
                     what, md->spec_version);
  if (g_ascii_strtoull (parts[0], NULL, 10) != SB_TUF_SPEC_MAJOR)
    return sb_throw (error, SB_ERROR_SPEC_VERSION,
                     "%s: spec_version %s is not supported (this client implements %d.x)", what,
                     md->spec_version, SB_TUF_SPEC_MAJOR);
  return TRUE;
}

/* TUF §4.3 common fields: _type, spec_version, version, expires. */
static gboolean
parse_common (SbMetadata *md, const char *what, GError **error)
{
  gboolean ota_ce = (md->flags & SB_METADATA_OTA_CE) != 0;
  const char *expected = sb_metadata_type_name (md->type);
  const char *type = sb_json_get_string (md->signed_obj, "_type", what, error);
  if (type == NULL)
    return FALSE;
  if (strcmp (type, expected) != 0
      && !(ota_ce && strcmp (type, ota_ce_type_name (md->type)) == 0))
    return sb_throw (error, SB_ERROR_BAD_TYPE, "expected metadata of type \"%s\", got \"%s\"",
                     expected, type);

  /* OTA-CE writes no spec_version; one that is given is checked as in standard mode. */
  md->spec_version = NULL;
  if (!(ota_ce && !json_object_has_member (md->signed_obj, "spec_version"))
      && !check_spec_version (md, what, error))
    return FALSE;

  if (!sb_json_get_int (md->signed_obj, "version", what, &md->version, error))
    return FALSE;
  /* An OTA-CE Director's targets start at version 0 (aktualizr's tests/test_data/prov
   * metadata), and aktualizr sets no lower bound (BaseMeta::init, DirectorRepository). Only
   * targets may be 0: roots start at 1 (aktualizr fetches 1.root.json first), and a timestamp
   * or snapshot of version 0 cannot be listed (meta versions are at least 1). */
  if (md->version < 1 && !(md->version == 0 && ota_ce && md->type == SB_METADATA_TARGETS))
    return sb_throw (error, SB_ERROR_PARSE, "%s: version %" G_GINT64_FORMAT " is below 1", what,
                     md->version);

  const char *expires = sb_json_get_string (md->signed_obj, "expires", what, error);
  if (expires == NULL)
    return FALSE;
  if (!sb_metadata_parse_time (expires, &md->expires, error))
    {
      g_prefix_error (error, "%s: expires: ", what);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
encode_signed (SbMetadata *md, GError **error)
{
  JsonNode *signed_node = json_object_get_member (json_node_get_object (md->envelope), "signed");
  return sb_json_canonical_with_span_map (signed_node, md->target_map, error);
}

static GBytes *
encode_signed_aktualizr (SbMetadata *md, GError **error)
{
  JsonNode *signed_node = json_object_get_member (json_node_get_object (md->envelope), "signed");
  return sb_json_canonical_form (signed_node, md->target_map, SB_JSON_CANONICAL_AKTUALIZR,
                                 error);
}

SbMetadata *
sb_metadata_new_from_bytes (GBytes *bytes, SbMetadataType type, GError **error)
{
  return sb_metadata_new_from_bytes_full (bytes, type, SB_METADATA_FLAGS_NONE, error);
}

SbMetadata *
sb_metadata_new_from_bytes_full (GBytes *bytes, SbMetadataType type, SbMetadataFlags flags,
                                 GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);

  g_autoptr (SbMetadata) md = g_new0 (SbMetadata, 1);
  md->ref_count = 1;
  md->type = type;
  md->flags = flags;
  md->bytes = g_bytes_ref (bytes);
  const char *name = sb_metadata_type_name (type);
  g_autofree char *what = g_strdup_printf ("%s metadata", name);

  if (type == SB_METADATA_TARGETS)
    {
      static const char *const targets_path[] = { "signed", "targets", NULL };
      md->envelope = sb_json_parse_with_span_map (bytes, targets_path, check_target_member, what,
                                                  &md->target_map, error);
    }
  else
    md->envelope = sb_json_parse_bytes (bytes, error);
  if (md->envelope == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (md->envelope))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s is not a JSON object", what);
      return NULL;
    }
  JsonObject *envelope = json_node_get_object (md->envelope);
  md->signed_obj = sb_json_get_object (envelope, "signed", what, error);
  if (md->signed_obj == NULL || !parse_signatures (md, envelope, what, error))
    return NULL;
  if (!parse_common (md, what, error))
    return NULL;

  gboolean ok = FALSE;
  switch (type)
    {
    case SB_METADATA_ROOT:
      ok = parse_root (md, what, error);
      break;
    case SB_METADATA_TIMESTAMP:
      ok = parse_timestamp (md, what, error);
      break;
    case SB_METADATA_SNAPSHOT:
      ok = parse_meta (md, what, error);
      break;
    case SB_METADATA_TARGETS:
      ok = parse_targets (md, what, error);
      break;
    }
  if (!ok)
    return NULL;

  /* Signatures are over the canonical form of "signed" as parsed (TUF §4.2), unknown fields
   * included. Encoding it now also refuses what canonical JSON cannot express (floats). */
  g_autoptr (GBytes) signed_bytes = encode_signed (md, error);
  if (signed_bytes == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      return NULL;
    }
  if (g_bytes_get_size (signed_bytes) <= SIGNED_BYTES_CACHE_MAX)
    md->signed_bytes = g_steal_pointer (&signed_bytes);
  return g_steal_pointer (&md);
}

SbMetadata *
sb_metadata_ref (SbMetadata *md)
{
  g_return_val_if_fail (md != NULL, NULL);
  g_atomic_int_inc (&md->ref_count);
  return md;
}

void
sb_metadata_unref (SbMetadata *md)
{
  if (md == NULL || !g_atomic_int_dec_and_test (&md->ref_count))
    return;
  g_clear_pointer (&md->meta, g_hash_table_unref);
  g_clear_pointer (&md->roles, g_hash_table_unref);
  g_clear_pointer (&md->role_order, g_ptr_array_unref);
  g_clear_pointer (&md->succinct, sb_role_free);
  g_clear_pointer (&md->keys, g_hash_table_unref);
  g_clear_pointer (&md->signatures, g_hash_table_unref);
  g_clear_pointer (&md->sig_methods, g_hash_table_unref);
  g_clear_pointer (&md->signed_bytes, g_bytes_unref);
  g_clear_pointer (&md->aktualizr_signed_bytes, g_bytes_unref);
  g_clear_pointer (&md->targets, json_object_unref);
  g_clear_pointer (&md->target_map, sb_json_span_map_unref);
  g_clear_pointer (&md->envelope, json_node_unref);
  g_clear_pointer (&md->bytes, g_bytes_unref);
  g_free (md);
}

/* ---- accessors ---- */

SbMetadataType
sb_metadata_get_type (SbMetadata *md)
{
  return md->type;
}

gint64
sb_metadata_get_version (SbMetadata *md)
{
  return md->version;
}

gint64
sb_metadata_get_expires (SbMetadata *md)
{
  return md->expires;
}

const char *
sb_metadata_get_spec_version (SbMetadata *md)
{
  return md->spec_version;
}

gboolean
sb_metadata_is_expired (SbMetadata *md, gint64 reference_time)
{
  return reference_time >= md->expires;
}

GBytes *
sb_metadata_get_bytes (SbMetadata *md)
{
  return md->bytes;
}

JsonNode *
sb_metadata_get_json (SbMetadata *md)
{
  return md->envelope;
}

JsonObject *
sb_metadata_get_signed (SbMetadata *md)
{
  return md->signed_obj;
}

GBytes *
sb_metadata_get_signed_bytes (SbMetadata *md)
{
  if (md->signed_bytes == NULL)
    {
      g_autoptr (GError) local_error = NULL;
      /* Encoding succeeded when the metadata was parsed, and the tree has not changed since. */
      md->signed_bytes = encode_signed (md, &local_error);
      /* A daemon does not abort on what can only be a broken invariant: the caller gets NULL. */
      if (md->signed_bytes == NULL)
        g_warning ("re-encoding accepted metadata failed: %s", local_error->message);
    }
  return md->signed_bytes;
}

const char *
sb_metadata_get_signature (SbMetadata *md, const char *keyid)
{
  return g_hash_table_lookup (md->signatures, keyid);
}

gboolean
sb_metadata_get_consistent_snapshot (SbMetadata *root)
{
  g_return_val_if_fail (root->type == SB_METADATA_ROOT, FALSE);
  return root->consistent_snapshot;
}

SbKey *
sb_metadata_get_key (SbMetadata *delegator, const char *keyid)
{
  if (delegator->keys == NULL)
    return NULL;
  SbKeyEntry *entry = g_hash_table_lookup (delegator->keys, keyid);
  return entry ? entry->key : NULL;
}

const SbRole *
sb_metadata_get_role (SbMetadata *delegator, const char *role_name)
{
  if (delegator->roles == NULL)
    return NULL;
  const SbRole *role = g_hash_table_lookup (delegator->roles, role_name);
  if (role == NULL && delegator->succinct != NULL
      && sb_succinct_has_bin (delegator->succinct, role_name))
    role = delegator->succinct;
  return role;
}

gboolean
sb_metadata_has_delegations (SbMetadata *targets)
{
  return targets->has_delegations;
}

const SbRole *const *
sb_metadata_get_delegated_roles (SbMetadata *targets, guint *out_n)
{
  g_return_val_if_fail (targets->type == SB_METADATA_TARGETS, NULL);
  *out_n = targets->role_order->len;
  return (const SbRole *const *) targets->role_order->pdata;
}

const SbRole *
sb_metadata_get_succinct_roles (SbMetadata *targets)
{
  return targets->succinct;
}

/* aktualizr's MetaWithKeys::UnpackSignedObject: a signature's "method", lower-cased, must be
 * one of these. It does not choose the algorithm (the key does). */
static gboolean
ota_ce_method_accepted (const char *method)
{
  if (method == NULL)
    return FALSE;
  g_autofree char *lower = g_ascii_strdown (method, -1);
  return g_str_equal (lower, "rsassa-pss") || g_str_equal (lower, "rsassa-pss-sha256")
         || g_str_equal (lower, "ed25519");
}

/* The bytes signatures over @md are checked against: OLPC canonical JSON of its signed part,
 * or aktualizr's form for OTA-CE keys. Kept when small (SIGNED_BYTES_CACHE_MAX). */
static GBytes *
signed_payload (SbMetadata *md, gboolean aktualizr_form, GError **error)
{
  GBytes **cache = aktualizr_form ? &md->aktualizr_signed_bytes : &md->signed_bytes;
  if (*cache != NULL)
    return g_bytes_ref (*cache);
  GBytes *bytes = aktualizr_form ? encode_signed_aktualizr (md, error) : encode_signed (md, error);
  if (bytes != NULL && aktualizr_form && g_bytes_get_size (bytes) <= SIGNED_BYTES_CACHE_MAX)
    *cache = g_bytes_ref (bytes);
  return bytes;
}

gboolean
sb_metadata_verify_delegate (SbMetadata *delegator, const char *role_name, SbMetadata *delegate,
                             GError **error)
{
  const SbRole *role = sb_metadata_get_role (delegator, role_name);
  if (role == NULL)
    return sb_throw (error, SB_ERROR_NOT_FOUND, "role %s is not delegated by this %s metadata",
                     role_name, sb_metadata_type_name (delegator->type));

  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) aktualizr_payload = NULL;
  /* Count keys, not key ids or signatures: the same key listed under two key ids, or signing
   * twice, is still one key. */
  g_autoptr (GHashTable) counted = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  guint bad = 0;
  for (guint i = 0; i < role->n_keyids; i++)
    {
      const char *keyid = role->keyids[i];
      SbKeyEntry *entry = g_hash_table_lookup (delegator->keys, keyid);
      const char *sig = g_hash_table_lookup (delegate->signatures, keyid);
      if (entry == NULL || sig == NULL || g_hash_table_contains (counted, entry->material))
        continue;
      GBytes **which = entry->ota_ce ? &aktualizr_payload : &payload;
      if (entry->ota_ce && !ota_ce_method_accepted (g_hash_table_lookup (delegate->sig_methods,
                                                                         keyid)))
        {
          g_debug ("role %s: signature by key %s has no signature method aktualizr accepts",
                   role_name, keyid);
          bad++;
          continue;
        }
      if (*which == NULL && (*which = signed_payload (delegate, entry->ota_ce, error)) == NULL)
        return FALSE;
      gsize len;
      const guint8 *data = g_bytes_get_data (*which, &len);
      g_autoptr (GError) local_error = NULL;
      if (!sb_key_verify (entry->key, data, len, sig, &local_error))
        {
          g_debug ("role %s: signature by key %s does not verify: %s", role_name, keyid,
                   local_error->message);
          bad++;
          continue;
        }
      g_hash_table_add (counted, entry->material);
    }
  guint good = g_hash_table_size (counted);
  if (good < role->threshold)
    return sb_throw (error, SB_ERROR_THRESHOLD,
                     "role %s: %u valid signature(s) from its keys, %" G_GINT64_FORMAT
                     " required (%u did not verify)",
                     role_name, good, role->threshold, bad);
  return TRUE;
}

GHashTable *
sb_metadata_get_meta_files (SbMetadata *md)
{
  g_return_val_if_fail (md->meta != NULL, NULL);
  return md->meta;
}

const SbMetaFile *
sb_metadata_get_meta (SbMetadata *md, const char *filename)
{
  g_return_val_if_fail (md->meta != NULL, NULL);
  return g_hash_table_lookup (md->meta, filename);
}

const SbMetaFile *
sb_metadata_get_snapshot_meta (SbMetadata *timestamp)
{
  g_return_val_if_fail (timestamp->type == SB_METADATA_TIMESTAMP, NULL);
  return g_hash_table_lookup (timestamp->meta, "snapshot.json");
}

JsonObject *
sb_metadata_get_targets (SbMetadata *targets)
{
  g_return_val_if_fail (targets->type == SB_METADATA_TARGETS, NULL);
  if (targets->targets == NULL)
    {
      targets->targets = json_object_new ();
      guint n = sb_json_span_map_get_size (targets->target_map);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (GError) local_error = NULL;
          JsonNode *value = sb_json_span_map_get_value (targets->target_map, i, &local_error);
          /* Parsed once already; should the span not parse again, the target is left out
           * (fails closed: it cannot be installed) rather than aborting the daemon. */
          if (value == NULL)
            {
              g_warning ("re-reading accepted target %s failed: %s",
                         sb_json_span_map_get_key (targets->target_map, i), local_error->message);
              continue;
            }
          json_object_set_member (targets->targets,
                                  sb_json_span_map_get_key (targets->target_map, i), value);
        }
    }
  return targets->targets;
}

guint
sb_metadata_get_n_targets (SbMetadata *targets)
{
  g_return_val_if_fail (targets->type == SB_METADATA_TARGETS, 0);
  return sb_json_span_map_get_size (targets->target_map);
}

const char *
sb_metadata_get_target_path (SbMetadata *targets, guint index)
{
  g_return_val_if_fail (targets->type == SB_METADATA_TARGETS, NULL);
  return sb_json_span_map_get_key (targets->target_map, index);
}

SbTargetInfo *
sb_metadata_get_target (SbMetadata *targets, const char *path)
{
  g_return_val_if_fail (targets->type == SB_METADATA_TARGETS, NULL);
  guint index;
  if (!sb_json_span_map_find (targets->target_map, path, &index))
    return NULL;
  /* check_target vouched for every member while parsing; the span parses the same again. */
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) node = sb_json_span_map_get_value (targets->target_map, index,
                                                          &local_error);
  if (node == NULL)
    {
      /* Fails closed (the target reads as not listed) rather than aborting the daemon. */
      g_warning ("re-reading accepted target %s failed: %s", path, local_error->message);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (node);
  SbTargetInfo *info = g_new0 (SbTargetInfo, 1);
  info->path = g_strdup (path);
  info->length = json_object_get_int_member (obj, "length");
  info->hashes = json_object_ref (json_object_get_object_member (obj, "hashes"));
  if (json_object_has_member (obj, "custom"))
    info->custom = json_object_ref (json_object_get_object_member (obj, "custom"));
  return info;
}
