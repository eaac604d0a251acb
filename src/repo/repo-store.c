/* repo-store.c: the on-disk repository model (see repo-store.h). */
#include "config.h"

#include "repo-store.h"
#include "repo-expiry.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-key-file.h"
#include "core/sb-json.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Metadata this tool wrote itself; the cap only guards against reading a wrong file whole. */
#define METADATA_MAX_LENGTH (512 * 1024 * 1024)

typedef struct
{
  char *name;
  gboolean loaded;
  JsonNode *published;     /* the envelope, or NULL */
  GBytes *published_bytes; /* its bytes, or NULL */
  JsonNode *staged;        /* an object node: the staged signed part, or NULL */
  gboolean staged_dirty;   /* staged differs from staged/ROLE.json on disk */
  gboolean published_now;  /* published by this SbRepo: its staging file goes */
} RoleState;

struct _SbRepo
{
  char *dir;
  SbRepoKind kind;
  SbKeyType key_type;
  guint target_hashes;
  JsonObject *expires; /* role -> rule */
  gboolean config_dirty;
  GHashTable *roles; /* name -> RoleState */
};

static void
role_state_free (RoleState *rs)
{
  g_free (rs->name);
  g_clear_pointer (&rs->published, json_node_unref);
  g_clear_pointer (&rs->published_bytes, g_bytes_unref);
  g_clear_pointer (&rs->staged, json_node_unref);
  g_free (rs);
}

void
sb_repo_free (SbRepo *repo)
{
  if (repo == NULL)
    return;
  g_free (repo->dir);
  g_clear_pointer (&repo->expires, json_object_unref);
  g_clear_pointer (&repo->roles, g_hash_table_unref);
  g_free (repo);
}

static SbRepo *
repo_new (const char *dir)
{
  SbRepo *repo = g_new0 (SbRepo, 1);
  repo->dir = g_canonicalize_filename (dir, NULL);
  repo->expires = json_object_new ();
  repo->roles
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)role_state_free);
  repo->target_hashes = SB_HASH_SHA256 | SB_HASH_SHA512;
  return repo;
}

const char *
sb_repo_get_dir (SbRepo *repo)
{
  return repo->dir;
}

SbRepoKind
sb_repo_get_kind (SbRepo *repo)
{
  return repo->kind;
}

const char *
sb_repo_kind_name (SbRepoKind kind)
{
  switch (kind)
    {
    case SB_REPO_KIND_DIRECTOR:
      return "director";
    case SB_REPO_KIND_IMAGE:
      return "image";
    case SB_REPO_KIND_TUF:
    default:
      return "tuf";
    }
}

SbKeyType
sb_repo_get_key_type (SbRepo *repo)
{
  return repo->key_type;
}

guint
sb_repo_get_target_hashes (SbRepo *repo)
{
  return repo->target_hashes;
}

gboolean
sb_repo_parse_key_type (const char *name, SbKeyType *out, GError **error)
{
  if (g_strcmp0 (name, "ed25519") == 0)
    *out = SB_KEY_TYPE_ED25519;
  else if (g_strcmp0 (name, "rsa") == 0)
    *out = SB_KEY_TYPE_RSA;
  else if (g_strcmp0 (name, "ecdsa") == 0)
    *out = SB_KEY_TYPE_ECDSA;
  else
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "unknown key type \"%s\" (expected ed25519, rsa or ecdsa)",
                     name != NULL ? name : "");
  return TRUE;
}

const char *
sb_repo_key_type_name (SbKeyType type)
{
  switch (type)
    {
    case SB_KEY_TYPE_RSA:
      return "rsa";
    case SB_KEY_TYPE_ECDSA:
      return "ecdsa";
    case SB_KEY_TYPE_ED25519:
    default:
      return "ed25519";
    }
}

char *
sb_repo_path (SbRepo *repo, const char *sub)
{
  return g_build_filename (repo->dir, sub, NULL);
}

char *
sb_repo_role_file_name (const char *role, gint64 version)
{
  /* The client percent-encodes role names the same way (TUF §5.6 file names). */
  g_autofree char *enc = g_uri_escape_string (role, NULL, FALSE);
  if (version > 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT ".%s.json", version, enc);
  return g_strconcat (enc, ".json", NULL);
}

gint64
sb_repo_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

gboolean
sb_repo_dir_is_uptane (const char *dir)
{
  g_autofree char *d = g_build_filename (dir, "director", SB_REPO_CONFIG_NAME, NULL);
  g_autofree char *i = g_build_filename (dir, "image", SB_REPO_CONFIG_NAME, NULL);
  return g_file_test (d, G_FILE_TEST_IS_REGULAR) && g_file_test (i, G_FILE_TEST_IS_REGULAR);
}

/* ---- expiry rules ---------------------------------------------------------------------- */

gboolean
sb_repo_set_expiry_rule (SbRepo *repo, const char *role, const char *rule, GError **error)
{
  gint64 ignored;
  if (!sb_repo_parse_expiry (rule, 0, &ignored, error))
    return FALSE;
  json_object_set_string_member (repo->expires, role, rule);
  repo->config_dirty = TRUE;
  return TRUE;
}

gboolean
sb_repo_compute_expires (SbRepo *repo, const char *role, gint64 now, gint64 *out, GError **error)
{
  const char *rule = NULL;
  if (json_object_has_member (repo->expires, role))
    rule = json_object_get_string_member (repo->expires, role);
  else if (!sb_role_is_top_level (role) && json_object_has_member (repo->expires, "delegated"))
    rule = json_object_get_string_member (repo->expires, "delegated");
  else
    rule = sb_repo_default_expiry (role);
  if (!sb_repo_parse_expiry (rule, now, out, error))
    {
      g_prefix_error (error, "%s in %s/%s, role %s: ", "expiry rule", repo->dir,
                      SB_REPO_CONFIG_NAME, role);
      return FALSE;
    }
  return TRUE;
}

/* ---- settings -------------------------------------------------------------------------- */

static gboolean
save_config (SbRepo *repo, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, sb_repo_kind_name (repo->kind));
  json_builder_set_member_name (b, "key_type");
  json_builder_add_string_value (b, sb_repo_key_type_name (repo->key_type));
  json_builder_set_member_name (b, "target_hashes");
  json_builder_begin_array (b);
  if (repo->target_hashes & SB_HASH_SHA256)
    json_builder_add_string_value (b, "sha256");
  if (repo->target_hashes & SB_HASH_SHA512)
    json_builder_add_string_value (b, "sha512");
  json_builder_end_array (b);
  json_builder_set_member_name (b, "expires");
  JsonNode *exp = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (exp, repo->expires);
  json_builder_add_value (b, exp);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = sb_json_pretty (root);
  g_autofree char *path = sb_repo_path (repo, SB_REPO_CONFIG_NAME);
  if (!sb_durable_write (path, text, strlen (text), 0644, error))
    return FALSE;
  repo->config_dirty = FALSE;
  return TRUE;
}

static gboolean
load_config (SbRepo *repo, GError **error)
{
  g_autofree char *path = sb_repo_path (repo, SB_REPO_CONFIG_NAME);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (path, 1024 * 1024, &local_error);
  if (bytes == NULL)
    {
      if (g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        return sb_throw (error, SB_ERROR_NOT_FOUND,
                         "%s is not a switchback-repo repository (no %s; create one with "
                         "`switchback-repo init %s`)",
                         repo->dir, SB_REPO_CONFIG_NAME, repo->dir);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_autoptr (JsonNode) node = sb_json_parse_bytes (bytes, error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      if (node != NULL)
        sb_throw (error, SB_ERROR_PARSE, "not a JSON object");
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  JsonObject *obj = json_node_get_object (node);
  const char *kind = sb_json_get_string (obj, "kind", path, error);
  const char *key_type = kind != NULL ? sb_json_get_string (obj, "key_type", path, error) : NULL;
  JsonArray *hashes
      = key_type != NULL ? sb_json_get_array (obj, "target_hashes", path, error) : NULL;
  JsonObject *expires = hashes != NULL ? sb_json_get_object (obj, "expires", path, error) : NULL;
  if (expires == NULL)
    return FALSE;
  if (strcmp (kind, "director") == 0)
    repo->kind = SB_REPO_KIND_DIRECTOR;
  else if (strcmp (kind, "image") == 0)
    repo->kind = SB_REPO_KIND_IMAGE;
  else if (strcmp (kind, "tuf") == 0)
    repo->kind = SB_REPO_KIND_TUF;
  else
    return sb_throw (error, SB_ERROR_PARSE, "%s: unknown kind \"%s\"", path, kind);
  if (!sb_repo_parse_key_type (key_type, &repo->key_type, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  repo->target_hashes = 0;
  for (guint i = 0; i < json_array_get_length (hashes); i++)
    {
      JsonNode *h = json_array_get_element (hashes, i);
      SbHashAlgo algo = JSON_NODE_HOLDS_VALUE (h) && json_node_get_value_type (h) == G_TYPE_STRING
                            ? sb_hash_algo_from_name (json_node_get_string (h))
                            : 0;
      if (algo == 0)
        return sb_throw (error, SB_ERROR_PARSE, "%s: target_hashes[%u] is not sha256 or sha512",
                         path, i);
      repo->target_hashes |= algo;
    }
  if (repo->target_hashes == 0)
    return sb_throw (error, SB_ERROR_PARSE, "%s: target_hashes is empty", path);
  g_autoptr (GList) members = json_object_get_members (expires);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *r = json_object_get_member (expires, l->data);
      if (!JSON_NODE_HOLDS_VALUE (r) || json_node_get_value_type (r) != G_TYPE_STRING)
        return sb_throw (error, SB_ERROR_PARSE, "%s: expires.%s is not a string", path,
                         (const char *)l->data);
      json_object_set_string_member (repo->expires, l->data, json_node_get_string (r));
    }
  return TRUE;
}

SbRepo *
sb_repo_open (const char *dir, GError **error)
{
  g_autoptr (SbRepo) repo = repo_new (dir);
  if (!load_config (repo, error))
    return NULL;
  return g_steal_pointer (&repo);
}

/* ---- roles ----------------------------------------------------------------------------- */

static gboolean
load_role (SbRepo *repo, RoleState *rs, GError **error)
{
  if (rs->loaded)
    return TRUE;

  g_autofree char *name = sb_repo_role_file_name (rs->name, 0);
  g_autofree char *meta_path = g_build_filename (repo->dir, "metadata", name, NULL);
  g_autofree char *staged_path = g_build_filename (repo->dir, "staged", name, NULL);
  g_autoptr (GError) local_error = NULL;

  g_autoptr (GBytes) bytes = sb_read_file (meta_path, METADATA_MAX_LENGTH, &local_error);
  if (bytes != NULL)
    {
      g_autoptr (JsonNode) env = sb_json_parse_bytes (bytes, error);
      if (env == NULL)
        {
          g_prefix_error (error, "%s: ", meta_path);
          return FALSE;
        }
      if (!JSON_NODE_HOLDS_OBJECT (env)
          || sb_json_get_object (json_node_get_object (env), "signed", meta_path, error) == NULL)
        {
          if (error != NULL && *error == NULL)
            sb_throw (error, SB_ERROR_PARSE, "%s is not a metadata envelope", meta_path);
          return FALSE;
        }
      rs->published = g_steal_pointer (&env);
      rs->published_bytes = g_steal_pointer (&bytes);
    }
  else if (!g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_clear_error (&local_error);

  g_autoptr (GBytes) staged = sb_read_file (staged_path, METADATA_MAX_LENGTH, &local_error);
  if (staged != NULL)
    {
      g_autoptr (JsonNode) obj = sb_json_parse_bytes (staged, error);
      if (obj == NULL || !JSON_NODE_HOLDS_OBJECT (obj))
        {
          if (obj != NULL)
            sb_throw (error, SB_ERROR_PARSE, "not a JSON object");
          g_prefix_error (error, "%s: ", staged_path);
          return FALSE;
        }
      rs->staged = g_steal_pointer (&obj);
    }
  else if (!g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  rs->loaded = TRUE;
  return TRUE;
}

static RoleState *
get_role_state (SbRepo *repo, const char *role, GError **error)
{
  RoleState *rs = g_hash_table_lookup (repo->roles, role);
  if (rs == NULL)
    {
      rs = g_new0 (RoleState, 1);
      rs->name = g_strdup (role);
      g_hash_table_insert (repo->roles, rs->name, rs);
    }
  if (!load_role (repo, rs, error))
    return NULL;
  return rs;
}

gboolean
sb_repo_has_role (SbRepo *repo, const char *role)
{
  g_autoptr (GError) local_error = NULL;
  RoleState *rs = get_role_state (repo, role, &local_error);
  return rs != NULL && (rs->published != NULL || rs->staged != NULL);
}

JsonObject *
sb_repo_get_signed (SbRepo *repo, const char *role, GError **error)
{
  RoleState *rs = get_role_state (repo, role, error);
  if (rs == NULL)
    return NULL;
  if (rs->staged != NULL)
    return json_node_get_object (rs->staged);
  if (rs->published != NULL)
    return sb_repo_object_member (json_node_get_object (rs->published), "signed");
  sb_throw (error, SB_ERROR_NOT_FOUND, "role %s does not exist in %s", role, repo->dir);
  return NULL;
}

JsonNode *
sb_repo_get_published (SbRepo *repo, const char *role, GError **error)
{
  RoleState *rs = get_role_state (repo, role, error);
  return rs != NULL ? rs->published : NULL;
}

GBytes *
sb_repo_get_published_bytes (SbRepo *repo, const char *role)
{
  g_autoptr (GError) local_error = NULL;
  RoleState *rs = get_role_state (repo, role, &local_error);
  return rs != NULL ? rs->published_bytes : NULL;
}

gint64
sb_repo_get_published_version (SbRepo *repo, const char *role)
{
  g_autoptr (GError) local_error = NULL;
  RoleState *rs = get_role_state (repo, role, &local_error);
  if (rs == NULL || rs->published == NULL)
    return 0;
  JsonObject *signed_obj = sb_repo_object_member (json_node_get_object (rs->published), "signed");
  JsonNode *v = json_object_get_member (signed_obj, "version");
  return v != NULL && sb_json_node_is_int (v) ? json_node_get_int (v) : 0;
}

JsonObject *
sb_repo_edit_signed (SbRepo *repo, const char *role, GError **error)
{
  RoleState *rs = get_role_state (repo, role, error);
  if (rs == NULL)
    return NULL;
  if (rs->staged == NULL)
    {
      if (rs->published == NULL)
        {
          sb_throw (error, SB_ERROR_NOT_FOUND, "role %s does not exist in %s", role, repo->dir);
          return NULL;
        }
      rs->staged = sb_repo_deep_copy (
          json_object_get_member (json_node_get_object (rs->published), "signed"));
    }
  rs->staged_dirty = TRUE;
  return json_node_get_object (rs->staged);
}

void
sb_repo_stage_new_role (SbRepo *repo, const char *role, JsonObject *signed_obj)
{
  RoleState *rs = g_hash_table_lookup (repo->roles, role);
  if (rs == NULL)
    {
      rs = g_new0 (RoleState, 1);
      rs->name = g_strdup (role);
      rs->loaded = TRUE;
      g_hash_table_insert (repo->roles, rs->name, rs);
    }
  g_clear_pointer (&rs->staged, json_node_unref);
  rs->staged = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (rs->staged, signed_obj);
  rs->staged_dirty = TRUE;
}

gboolean
sb_repo_touch (SbRepo *repo, const char *role, GError **error)
{
  return sb_repo_edit_signed (repo, role, error) != NULL;
}

gboolean
sb_repo_is_staged (SbRepo *repo, const char *role)
{
  g_autoptr (GError) local_error = NULL;
  RoleState *rs = get_role_state (repo, role, &local_error);
  return rs != NULL && rs->staged != NULL;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
sb_repo_list_staged (SbRepo *repo)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = sb_repo_path (repo, "staged");
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (entry, ".json"))
        continue;
      g_autofree char *enc = g_strndup (entry, strlen (entry) - strlen (".json"));
      g_autofree char *role = g_uri_unescape_string (enc, NULL);
      if (role != NULL && g_hash_table_lookup (repo->roles, role) == NULL)
        (void)sb_repo_has_role (repo, role);
    }
  GHashTableIter iter;
  RoleState *rs;
  g_hash_table_iter_init (&iter, repo->roles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&rs))
    if (rs->staged != NULL)
      g_ptr_array_add (out, g_strdup (rs->name));
  g_ptr_array_sort (out, compare_names);
  return out;
}

gboolean
sb_repo_save (SbRepo *repo, GError **error)
{
  g_autofree char *staged_dir = sb_repo_path (repo, "staged");
  if (repo->config_dirty && !save_config (repo, error))
    return FALSE;

  /* Sorted, so that runs are reproducible. */
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  RoleState *rs;
  g_hash_table_iter_init (&iter, repo->roles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&rs))
    if (rs->staged != NULL && rs->staged_dirty)
      g_ptr_array_add (names, rs->name);
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      rs = g_hash_table_lookup (repo->roles, names->pdata[i]);
      g_autofree char *name = sb_repo_role_file_name (rs->name, 0);
      g_autofree char *path = g_build_filename (staged_dir, name, NULL);
      g_autofree char *text = sb_json_pretty (rs->staged);
      if (!sb_durable_write (path, text, strlen (text), 0644, error))
        return FALSE;
      rs->staged_dirty = FALSE;
    }
  return TRUE;
}

void
sb_repo_mark_published (SbRepo *repo, const char *role, JsonNode *envelope, GBytes *bytes)
{
  RoleState *rs = g_hash_table_lookup (repo->roles, role);
  g_return_if_fail (rs != NULL);
  g_clear_pointer (&rs->published, json_node_unref);
  g_clear_pointer (&rs->published_bytes, g_bytes_unref);
  g_clear_pointer (&rs->staged, json_node_unref);
  rs->published = json_node_ref (envelope);
  rs->published_bytes = g_bytes_ref (bytes);
  rs->staged_dirty = FALSE;
  rs->published_now = TRUE;
}

gboolean
sb_repo_clear_published_staging (SbRepo *repo, GError **error)
{
  GHashTableIter iter;
  RoleState *rs;
  g_hash_table_iter_init (&iter, repo->roles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&rs))
    {
      if (!rs->published_now)
        continue;
      g_autofree char *name = sb_repo_role_file_name (rs->name, 0);
      g_autofree char *path = g_build_filename (repo->dir, "staged", name, NULL);
      if (!sb_durable_unlink (path, error))
        return FALSE;
      rs->published_now = FALSE;
    }
  return TRUE;
}

gboolean
sb_repo_get_consistent_snapshot (SbRepo *repo)
{
  g_autoptr (GError) local_error = NULL;
  JsonObject *root = sb_repo_get_signed (repo, SB_ROLE_ROOT, &local_error);
  if (root == NULL || !json_object_has_member (root, "consistent_snapshot"))
    return FALSE;
  JsonNode *n = json_object_get_member (root, "consistent_snapshot");
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN
         && json_node_get_boolean (n);
}

/* ---- keys ------------------------------------------------------------------------------ */

SbSigner *
sb_repo_new_key (SbRepo *repo, SbKeyType type, GError **error)
{
  g_autoptr (SbSigner) signer = sb_signer_generate (type, error);
  if (signer == NULL)
    return NULL;
  const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));
  g_autofree char *file = g_strconcat (keyid, ".pem", NULL);
  g_autofree char *path = g_build_filename (repo->dir, "keys", file, NULL);
  if (!sb_signer_save (signer, path, error))
    return NULL;
  return g_steal_pointer (&signer);
}

SbSigner *
sb_repo_load_key (SbRepo *repo, const char *keyid, GError **error)
{
  /* Key ids come from metadata; only plain hex ids name files here. */
  for (const char *p = keyid; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      {
        sb_throw (error, SB_ERROR_NOT_FOUND, "key %s is not a key this repository made", keyid);
        return NULL;
      }
  g_autofree char *file = g_strconcat (keyid, ".pem", NULL);
  g_autofree char *path = g_build_filename (repo->dir, "keys", file, NULL);
  return sb_signer_load (path, error);
}

/* ---- creating a repository ------------------------------------------------------------- */

static JsonObject *
new_signed (const char *type)
{
  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "_type", type);
  json_object_set_string_member (obj, "spec_version", SB_REPO_SPEC_VERSION);
  json_object_set_int_member (obj, "version", 1);
  json_object_set_string_member (obj, "expires", "1970-01-01T00:00:00Z");
  return obj;
}

static gboolean
dir_is_empty_or_absent (const char *dir, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local_error);
  if (d == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      return sb_throw (error, SB_ERROR_IO, "%s: %s", dir, local_error->message);
    }
  if (g_dir_read_name (d) != NULL)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "%s already exists and is not empty; refusing to overwrite it", dir);
  return TRUE;
}

SbRepo *
sb_repo_create (const char *dir, const SbRepoCreateOptions *opts, GError **error)
{
  if (!dir_is_empty_or_absent (dir, error))
    return NULL;
  g_autoptr (SbRepo) repo = repo_new (dir);
  repo->kind = opts->kind;
  repo->key_type = opts->key_type;
  if (opts->target_hashes != 0)
    repo->target_hashes = opts->target_hashes;
  for (char **r = opts->expiry_rules; r != NULL && *r != NULL; r++)
    {
      const char *eq = strchr (*r, '=');
      if (eq == NULL || eq == *r)
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--expires %s: expected ROLE=DURATION", *r);
          return NULL;
        }
      g_autofree char *role = g_strndup (*r, eq - *r);
      if (!sb_repo_set_expiry_rule (repo, role, eq + 1, error))
        {
          g_prefix_error (error, "--expires %s: ", *r);
          return NULL;
        }
    }

  static const char *const subdirs[] = { "", "metadata", "targets", "staged" };
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = sb_repo_path (repo, subdirs[i]);
      if (!sb_durable_mkdir_p (path, 0755, error))
        return NULL;
    }
  g_autofree char *keys = sb_repo_path (repo, "keys");
  if (!sb_durable_mkdir_p (keys, 0700, error))
    return NULL;

  JsonObject *root = new_signed (SB_ROLE_ROOT);
  json_object_set_boolean_member (root, "consistent_snapshot", opts->consistent_snapshot);
  JsonObject *root_keys = json_object_new ();
  JsonObject *roles = json_object_new ();
  static const char *const top[]
      = { SB_ROLE_ROOT, SB_ROLE_TARGETS, SB_ROLE_SNAPSHOT, SB_ROLE_TIMESTAMP };
  for (guint i = 0; i < G_N_ELEMENTS (top); i++)
    {
      g_autoptr (SbSigner) signer = sb_repo_new_key (repo, opts->key_type, error);
      if (signer == NULL)
        {
          json_object_unref (root_keys);
          json_object_unref (roles);
          json_object_unref (root);
          return NULL;
        }
      SbKey *key = sb_signer_get_public (signer);
      json_object_set_member (root_keys, sb_key_get_keyid (key), sb_key_to_json (key));
      JsonObject *role = json_object_new ();
      JsonArray *keyids = json_array_new ();
      json_array_add_string_element (keyids, sb_key_get_keyid (key));
      json_object_set_array_member (role, "keyids", keyids);
      json_object_set_int_member (role, "threshold", 1);
      json_object_set_object_member (roles, top[i], role);
    }
  json_object_set_object_member (root, "keys", root_keys);
  json_object_set_object_member (root, "roles", roles);
  sb_repo_stage_new_role (repo, SB_ROLE_ROOT, root);

  JsonObject *targets = new_signed (SB_ROLE_TARGETS);
  json_object_set_object_member (targets, "targets", json_object_new ());
  sb_repo_stage_new_role (repo, SB_ROLE_TARGETS, targets);
  JsonObject *snapshot = new_signed (SB_ROLE_SNAPSHOT);
  json_object_set_object_member (snapshot, "meta", json_object_new ());
  sb_repo_stage_new_role (repo, SB_ROLE_SNAPSHOT, snapshot);
  JsonObject *timestamp = new_signed (SB_ROLE_TIMESTAMP);
  json_object_set_object_member (timestamp, "meta", json_object_new ());
  sb_repo_stage_new_role (repo, SB_ROLE_TIMESTAMP, timestamp);

  repo->config_dirty = TRUE;
  if (!sb_repo_save (repo, error))
    return NULL;
  return g_steal_pointer (&repo);
}
