/* sb-manifest.c: ECU version reports, the vehicle version manifest, and their verification. */
#include "config.h"

#include "uptane/sb-manifest.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

#define EPOCH_TIME "1970-01-01T00:00:00Z"
/* A manifest carries one signature per level; a few more are tolerated, a flood is not. */
#define MAX_SIGNATURES 8
#define COUNTER_FILE_MAX_SIZE 4096

static char *
format_time (GDateTime *time)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

static char *
now_or (GDateTime *time)
{
  if (time != NULL)
    return format_time (time);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return format_time (now);
}

static JsonNode *
node_take_object (JsonObject *obj)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

/* json_node_copy shares objects and arrays; this copies the whole tree. */
static JsonNode *
deep_copy (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *src = json_node_get_object (node);
      JsonObject *dst = json_object_new ();
      g_autoptr (GList) names = json_object_get_members (src);
      for (GList *l = names; l != NULL; l = l->next)
        json_object_set_member (dst, l->data, deep_copy (json_object_get_member (src, l->data)));
      return node_take_object (dst);
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *src = json_node_get_array (node);
      JsonArray *dst = json_array_new ();
      for (guint i = 0; i < json_array_get_length (src); i++)
        json_array_add_element (dst, deep_copy (json_array_get_element (src, i)));
      JsonNode *copy = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (copy, dst);
      return copy;
    }
  return json_node_copy (node);
}

/* Report counter. */

gboolean
sb_manifest_next_report_counter (const char *state_dir, GDateTime *now, guint64 *out_counter,
                                 char **out_previous_time, GError **error)
{
  g_return_val_if_fail (state_dir != NULL && out_counter != NULL, FALSE);

  g_autofree char *path = g_build_filename (state_dir, SB_REPORT_COUNTER_FILE_NAME, NULL);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (path, COUNTER_FILE_MAX_SIZE, &local_error);
  gint64 counter = 0;
  g_autofree char *previous = g_strdup (EPOCH_TIME);

  if (bytes != NULL)
    {
      const char *what = SB_REPORT_COUNTER_FILE_NAME;
      g_autoptr (JsonNode) root = sb_json_parse_bytes (bytes, &local_error);
      JsonObject *obj = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
                            ? json_node_get_object (root)
                            : NULL;
      const char *time = NULL;
      if (obj == NULL && local_error == NULL)
        sb_throw (&local_error, SB_ERROR_PARSE, "not a JSON object");
      if (obj != NULL && sb_json_get_int (obj, "report_counter", what, &counter, &local_error))
        time = sb_json_get_string (obj, "time", what, &local_error);
      if (time == NULL || counter < 0)
        return sb_throw (error, SB_ERROR_STATE, "report counter %s is unreadable: %s", path,
                         local_error != NULL ? local_error->message : "negative counter");
      g_free (previous);
      previous = g_strdup (time);
    }
  else if (!g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "reading the report counter: ");
      return FALSE;
    }

  if (counter == G_MAXINT64)
    return sb_throw (error, SB_ERROR_STATE, "report counter %s is exhausted", path);
  counter++;

  /* Uptane §5.4.2.1: the counter makes every report unique. It is on disk before any report
   * carries it, so a report that was sent can never be followed by one with the same value. */
  g_autofree char *time_now = now_or (now);
  JsonObject *obj = json_object_new ();
  json_object_set_int_member (obj, "report_counter", counter);
  json_object_set_string_member (obj, "time", time_now);
  g_autoptr (JsonNode) node = node_take_object (obj);
  g_autofree char *text = sb_json_pretty (node);
  if (!sb_durable_write (path, text, strlen (text), 0644, error))
    {
      g_prefix_error (error, "saving the report counter: ");
      return FALSE;
    }

  *out_counter = (guint64) counter;
  if (out_previous_time != NULL)
    *out_previous_time = g_steal_pointer (&previous);
  return TRUE;
}

/* Signatures: hex from SbSigner, base64 on the wire, as aktualizr and OTA-CE exchange them. */

static const char *
method_for_key_type (SbKeyType type)
{
  switch (type)
    {
    case SB_KEY_TYPE_RSA:
      return "rsassa-pss-sha256";
    case SB_KEY_TYPE_ECDSA:
      return "ecdsa-sha2-nistp256";
    case SB_KEY_TYPE_ED25519:
    default:
      return "ed25519";
    }
}

static gboolean
method_matches (SbKeyType type, const char *method)
{
  if (g_str_equal (method, method_for_key_type (type)))
    return TRUE;
  /* aktualizr names its RSA-PSS signatures without the digest. */
  return type == SB_KEY_TYPE_RSA && g_str_equal (method, "rsassa-pss");
}

static char *
hex_to_base64 (const char *hex)
{
  gsize n = strlen (hex) / 2;
  g_autofree guint8 *raw = g_malloc (n + 1);
  for (gsize i = 0; i < n; i++)
    raw[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
                       | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_base64_encode (raw, n);
}

/* g_base64_decode skips characters it does not know; a signature must be strict base64. */
static char *
base64_to_hex (const char *b64)
{
  gsize len = strlen (b64);
  if (len == 0 || len % 4 != 0 || len > 4096)
    return NULL;
  for (gsize i = 0; i < len; i++)
    {
      char c = b64[i];
      gboolean pad = c == '=' && i >= len - 2 && (i == len - 1 || b64[len - 1] == '=');
      if (!g_ascii_isalnum (c) && c != '+' && c != '/' && !pad)
        return NULL;
    }
  gsize n = 0;
  g_autofree guint8 *raw = g_base64_decode (b64, &n);
  GString *hex = g_string_sized_new (2 * n + 1);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (hex, "%02x", raw[i]);
  return g_string_free (hex, FALSE);
}

JsonNode *
sb_manifest_sign (SbSigner *signer, JsonNode *signed_node, GError **error)
{
  g_return_val_if_fail (signer != NULL && signed_node != NULL, NULL);

  g_autoptr (GBytes) canonical = sb_json_canonical (signed_node, error);
  if (canonical == NULL)
    return NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (canonical, &len);
  g_autofree char *sig_hex = sb_signer_sign (signer, data != NULL ? data : (const guint8 *) "",
                                             len, error);
  if (sig_hex == NULL)
    return NULL;

  SbKey *key = sb_signer_get_public (signer);
  g_autofree char *sig_b64 = hex_to_base64 (sig_hex);
  JsonObject *sig = json_object_new ();
  json_object_set_string_member (sig, "keyid", sb_key_get_keyid (key));
  json_object_set_string_member (sig, "method", method_for_key_type (sb_key_get_key_type (key)));
  json_object_set_string_member (sig, "sig", sig_b64);
  JsonArray *sigs = json_array_new ();
  json_array_add_object_element (sigs, sig);

  JsonObject *top = json_object_new ();
  json_object_set_array_member (top, "signatures", sigs);
  /* A copy of its own, so that a later change to the caller's tree cannot alter what was
   * signed. */
  json_object_set_member (top, "signed", deep_copy (signed_node));
  return node_take_object (top);
}

/* Building. */

JsonNode *
sb_manifest_ecu_report_new (SbIdentity *identity, const SbInstalledImage *installed,
                            guint64 report_counter, GDateTime *time, const char *previous_time,
                            JsonObject *custom, GError **error)
{
  g_return_val_if_fail (identity != NULL && installed != NULL, NULL);
  g_return_val_if_fail (installed->filepath != NULL && installed->sha256 != NULL, NULL);

  if (installed->length > G_MAXINT64)
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "installed image %s: length out of range",
                installed->filepath);
      return NULL;
    }

  JsonObject *hashes = json_object_new ();
  json_object_set_string_member (hashes, "sha256", installed->sha256);
  JsonObject *fileinfo = json_object_new ();
  json_object_set_object_member (fileinfo, "hashes", hashes);
  json_object_set_int_member (fileinfo, "length", (gint64) installed->length);
  JsonObject *image = json_object_new ();
  json_object_set_string_member (image, "filepath", installed->filepath);
  json_object_set_object_member (image, "fileinfo", fileinfo);

  g_autofree char *now = now_or (time);
  g_autofree char *counter = g_strdup_printf ("%" G_GUINT64_FORMAT, report_counter);
  JsonObject *body = json_object_new ();
  /* Uptane §5.4.2.1: this client detects attacks by refusing them; it reports none here. */
  json_object_set_string_member (body, "attacks_detected", "");
  json_object_set_string_member (body, "ecu_serial", sb_identity_get_ecu_serial (identity));
  json_object_set_object_member (body, "installed_image", image);
  json_object_set_string_member (body, "previous_timeserver_time",
                                 previous_time != NULL ? previous_time : EPOCH_TIME);
  json_object_set_string_member (body, "timeserver_time", now);
  json_object_set_string_member (body, "report_counter", counter);
  if (custom != NULL)
    json_object_set_object_member (body, "custom", json_object_ref (custom));
  g_autoptr (JsonNode) body_node = node_take_object (body);
  return sb_manifest_sign (sb_identity_get_signer (identity), body_node, error);
}

static JsonObject *
result_object (const SbReport *result)
{
  JsonObject *obj = json_object_new ();
  json_object_set_boolean_member (obj, "success", result->success);
  json_object_set_string_member (obj, "code", result->result_code);
  json_object_set_string_member (obj, "description", result->description);
  return obj;
}

JsonNode *
sb_manifest_installation_report_new (const char *ecu_serial, const SbReport *result)
{
  g_return_val_if_fail (ecu_serial != NULL && result != NULL, NULL);

  JsonObject *item = json_object_new ();
  json_object_set_string_member (item, "ecu", ecu_serial);
  json_object_set_object_member (item, "result", result_object (result));
  JsonArray *items = json_array_new ();
  json_array_add_object_element (items, item);

  JsonObject *report = json_object_new ();
  json_object_set_string_member (report, "correlation_id", result->correlation_id);
  json_object_set_array_member (report, "items", items);
  json_object_set_string_member (report, "raw_report", result->description);
  json_object_set_object_member (report, "result", result_object (result));

  JsonObject *top = json_object_new ();
  json_object_set_string_member (top, "content_type", SB_INSTALLATION_REPORT_CONTENT_TYPE);
  json_object_set_object_member (top, "report", report);
  return node_take_object (top);
}

JsonNode *
sb_manifest_vehicle_new (SbIdentity *identity, JsonNode *ecu_report,
                         JsonNode *installation_report, GError **error)
{
  g_return_val_if_fail (identity != NULL && ecu_report != NULL, NULL);

  const char *serial = sb_identity_get_ecu_serial (identity);
  JsonObject *reports = json_object_new ();
  json_object_set_member (reports, serial, json_node_copy (ecu_report));
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "primary_ecu_serial", serial);
  json_object_set_object_member (body, "ecu_version_manifests", reports);
  if (installation_report != NULL)
    json_object_set_member (body, "installation_report", json_node_copy (installation_report));
  g_autoptr (JsonNode) body_node = node_take_object (body);
  return sb_manifest_sign (sb_identity_get_signer (identity), body_node, error);
}

GBytes *
sb_manifest_assemble (SbIdentity *identity, const char *state_dir,
                      const SbInstalledImage *installed, const SbReport *result, GError **error)
{
  g_return_val_if_fail (identity != NULL && state_dir != NULL && installed != NULL, NULL);

  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  guint64 counter = 0;
  g_autofree char *previous = NULL;
  if (!sb_manifest_next_report_counter (state_dir, now, &counter, &previous, error))
    return NULL;
  g_autoptr (JsonNode) ecu_report
      = sb_manifest_ecu_report_new (identity, installed, counter, now, previous, NULL, error);
  if (ecu_report == NULL)
    return NULL;
  g_autoptr (JsonNode) installation_report
      = result != NULL
            ? sb_manifest_installation_report_new (sb_identity_get_ecu_serial (identity), result)
            : NULL;
  g_autoptr (JsonNode) manifest
      = sb_manifest_vehicle_new (identity, ecu_report, installation_report, error);
  if (manifest == NULL)
    return NULL;
  /* Not the canonical form on the wire: it leaves control characters (a newline in a
   * description) unescaped, which is not JSON. The receiver canonicalises "signed" itself. */
  char *text = sb_json_pretty (manifest);
  return g_bytes_new_take (text, strlen (text));
}

/* Verification. */

static gboolean
verify_signed_object (JsonObject *obj, SbKey *key, const char *what, GError **error)
{
  JsonArray *sigs = sb_json_get_array (obj, "signatures", what, error);
  if (sigs == NULL)
    return FALSE;
  JsonNode *signed_node = json_object_get_member (obj, "signed");
  if (signed_node == NULL || !JSON_NODE_HOLDS_OBJECT (signed_node))
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"signed\" is missing or not an object", what);
  guint n = json_array_get_length (sigs);
  if (n > MAX_SIGNATURES)
    return sb_throw (error, SB_ERROR_TOO_MANY, "%s: %u signatures, at most %d are read", what, n,
                     MAX_SIGNATURES);

  g_autoptr (GBytes) canonical = sb_json_canonical (signed_node, error);
  if (canonical == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (canonical, &len);

  /* The key id is only a label (aktualizr computes its own); the signature decides. */
  for (guint i = 0; i < n; i++)
    {
      JsonNode *sig_node = json_array_get_element (sigs, i);
      if (!JSON_NODE_HOLDS_OBJECT (sig_node))
        return sb_throw (error, SB_ERROR_PARSE, "%s: signature %u is not an object", what, i);
      JsonObject *sig = json_node_get_object (sig_node);
      const char *method = sb_json_get_string (sig, "method", what, error);
      const char *value = method != NULL ? sb_json_get_string (sig, "sig", what, error) : NULL;
      if (value == NULL)
        return FALSE;
      if (!method_matches (sb_key_get_key_type (key), method))
        continue;
      g_autofree char *hex = base64_to_hex (value);
      if (hex != NULL && sb_key_verify (key, data != NULL ? data : (const guint8 *) "", len, hex,
                                        NULL))
        return TRUE;
    }
  return sb_throw (error, SB_ERROR_BAD_SIGNATURE, "%s: no valid signature by key %s", what,
                   sb_key_get_keyid (key));
}

static gboolean
check_ecu_report_body (JsonObject *body, const char *what, GError **error)
{
  JsonObject *image, *fileinfo, *hashes;
  gint64 length;
  if (sb_json_get_string (body, "ecu_serial", what, error) == NULL
      || sb_json_get_string (body, "attacks_detected", what, error) == NULL
      || (image = sb_json_get_object (body, "installed_image", what, error)) == NULL
      || sb_json_get_string (image, "filepath", what, error) == NULL
      || (fileinfo = sb_json_get_object (image, "fileinfo", what, error)) == NULL
      || (hashes = sb_json_get_object (fileinfo, "hashes", what, error)) == NULL
      || sb_json_get_string (hashes, "sha256", what, error) == NULL
      || !sb_json_get_int (fileinfo, "length", what, &length, error))
    return FALSE;
  if (length < 0)
    return sb_throw (error, SB_ERROR_PARSE, "%s: negative installed image length", what);
  guint64 counter;
  if (json_object_has_member (body, "report_counter")
      && !sb_manifest_get_report_counter (body, &counter, error))
    return FALSE;
  return TRUE;
}

static gboolean
check_installation_report (JsonObject *top, GError **error)
{
  const char *what = "installation_report";
  const char *type = sb_json_get_string (top, "content_type", what, error);
  if (type == NULL)
    return FALSE;
  if (!g_str_equal (type, SB_INSTALLATION_REPORT_CONTENT_TYPE))
    return sb_throw (error, SB_ERROR_PARSE, "%s: unknown content_type \"%s\"", what, type);
  JsonObject *report = sb_json_get_object (top, "report", what, error);
  if (report == NULL || sb_json_get_string (report, "correlation_id", what, error) == NULL)
    return FALSE;
  JsonObject *result = sb_json_get_object (report, "result", what, error);
  gboolean success;
  if (result == NULL || sb_json_get_string (result, "code", what, error) == NULL
      || !sb_json_get_bool (result, "success", what, &success, error))
    return FALSE;
  JsonArray *items = sb_json_get_array (report, "items", what, error);
  if (items == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);
      if (!JSON_NODE_HOLDS_OBJECT (item))
        return sb_throw (error, SB_ERROR_PARSE, "%s: item %u is not an object", what, i);
      if (sb_json_get_string (json_node_get_object (item), "ecu", what, error) == NULL
          || sb_json_get_object (json_node_get_object (item), "result", what, error) == NULL)
        return FALSE;
    }
  return TRUE;
}

JsonNode *
sb_manifest_verify_with_keys (GBytes *manifest, JsonNode *primary_key, GHashTable *ecu_keys,
                              GError **error)
{
  g_return_val_if_fail (manifest != NULL && primary_key != NULL, NULL);

  g_autoptr (SbKey) key = sb_key_new_from_json (primary_key, error);
  if (key == NULL)
    {
      g_prefix_error (error, "primary ECU key: ");
      return NULL;
    }
  g_autoptr (JsonNode) root = sb_json_parse_bytes (manifest, error);
  if (root == NULL)
    {
      g_prefix_error (error, "vehicle version manifest: ");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      sb_throw (error, SB_ERROR_PARSE, "vehicle version manifest is not a JSON object");
      return NULL;
    }
  JsonObject *top = json_node_get_object (root);
  if (!verify_signed_object (top, key, "vehicle version manifest", error))
    return NULL;

  JsonObject *body = json_object_get_object_member (top, "signed");
  const char *what = "vehicle version manifest signed";
  const char *primary_serial = sb_json_get_string (body, "primary_ecu_serial", what, error);
  if (primary_serial == NULL)
    return NULL;
  JsonObject *reports = sb_json_get_object (body, "ecu_version_manifests", what, error);
  if (reports == NULL)
    return NULL;
  if (!json_object_has_member (reports, primary_serial))
    {
      sb_throw (error, SB_ERROR_PARSE,
                "vehicle version manifest has no ECU version report of its primary %s",
                primary_serial);
      return NULL;
    }

  g_autoptr (GList) serials = json_object_get_members (reports);
  for (GList *l = serials; l != NULL; l = l->next)
    {
      const char *serial = l->data;
      g_autofree char *report_what = g_strdup_printf ("ECU version report of %s", serial);
      JsonNode *report_node = json_object_get_member (reports, serial);
      if (!JSON_NODE_HOLDS_OBJECT (report_node))
        {
          sb_throw (error, SB_ERROR_PARSE, "%s is not an object", report_what);
          return NULL;
        }
      g_autoptr (SbKey) ecu_key = NULL;
      if (g_str_equal (serial, primary_serial))
        ecu_key = sb_key_ref (key);
      else
        {
          JsonNode *key_json = ecu_keys != NULL ? g_hash_table_lookup (ecu_keys, serial) : NULL;
          if (key_json == NULL)
            {
              sb_throw (error, SB_ERROR_BAD_ECU_ID,
                        "%s: no key is known for an ECU of that serial", report_what);
              return NULL;
            }
          ecu_key = sb_key_new_from_json (key_json, error);
          if (ecu_key == NULL)
            {
              g_prefix_error (error, "key of ECU %s: ", serial);
              return NULL;
            }
        }
      JsonObject *report = json_node_get_object (report_node);
      if (!verify_signed_object (report, ecu_key, report_what, error))
        return NULL;
      JsonObject *report_body = json_object_get_object_member (report, "signed");
      if (!check_ecu_report_body (report_body, report_what, error))
        return NULL;
      /* A report signed by one ECU must not be passed off as another's. */
      const char *named = json_object_get_string_member (report_body, "ecu_serial");
      if (!g_str_equal (named, serial))
        {
          sb_throw (error, SB_ERROR_BAD_ECU_ID, "%s names ECU %s", report_what, named);
          return NULL;
        }
    }

  if (json_object_has_member (body, "installation_report"))
    {
      JsonObject *ir = sb_json_get_object (body, "installation_report", what, error);
      if (ir == NULL || !check_installation_report (ir, error))
        return NULL;
    }
  return g_steal_pointer (&root);
}

JsonNode *
sb_manifest_verify (GBytes *manifest, JsonNode *primary_key, GError **error)
{
  return sb_manifest_verify_with_keys (manifest, primary_key, NULL, error);
}

gboolean
sb_manifest_get_report_counter (JsonObject *ecu_signed, guint64 *out, GError **error)
{
  g_return_val_if_fail (ecu_signed != NULL && out != NULL, FALSE);

  JsonNode *node = json_object_get_member (ecu_signed, "report_counter");
  if (node != NULL && sb_json_node_is_int (node) && json_node_get_int (node) >= 0)
    {
      *out = (guint64) json_node_get_int (node);
      return TRUE;
    }
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *s = json_node_get_string (node);
      if (g_ascii_isdigit (s[0])
          && g_ascii_string_to_unsigned (s, 10, 0, G_MAXINT64, out, NULL))
        return TRUE;
    }
  return sb_throw (error, SB_ERROR_PARSE,
                   "ECU version report: report_counter is missing or not a decimal count");
}
