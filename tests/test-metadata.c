/* Tests for sb-metadata (the TUF schema, signature thresholds, length and hash checks) and the
 * matching half of sb-delegation (path patterns, hash prefixes, succinct bins). */
#include "config.h"

#include "core/sb-delegation.h"
#include "core/sb-error.h"
#include "core/sb-json.h"
#include "core/sb-metadata.h"
#include "sb-test-repo.h"
#include "sb-test-util.h"

#include <string.h>

typedef struct {
  SbTestRepo *repo;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->repo = sb_test_repo_new ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_repo_free (f->repo);
}

static SbMetadata *
parse_role (Fixture *f, const char *role, SbMetadataType type, GError **error)
{
  g_autoptr (GBytes) bytes = sb_test_repo_bytes (f->repo, role);
  return sb_metadata_new_from_bytes (bytes, type, error);
}

static SbMetadata *
parse_text (const char *text, SbMetadataType type, GError **error)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  return sb_metadata_new_from_bytes (bytes, type, error);
}

/* Parses @envelope (consumed) as @type and expects @code. */
static void
assert_envelope_refused (JsonNode *envelope, SbMetadataType type, gint code)
{
  g_autoptr (JsonNode) owned = envelope;
  g_autoptr (GBytes) bytes = sb_test_encode (owned);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) md = sb_metadata_new_from_bytes (bytes, type, &error);
  g_assert_error (error, SB_ERROR, code);
  g_assert_null (md);
}

static JsonObject *
envelope_signed (JsonNode *envelope)
{
  return json_object_get_object_member (json_node_get_object (envelope), "signed");
}

/* ---- common fields and envelope ---- */

static void
test_root_parsed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  json_object_set_boolean_member (sb_test_repo_signed (f->repo, "root"), "consistent_snapshot",
                                  TRUE);
  g_autoptr (SbMetadata) md = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sb_metadata_get_type (md), ==, SB_METADATA_ROOT);
  g_assert_cmpint (sb_metadata_get_version (md), ==, 1);
  g_assert_cmpint (sb_metadata_get_expires (md), ==, SB_TEST_NOW + 365 * SB_TEST_DAY);
  g_assert_cmpstr (sb_metadata_get_spec_version (md), ==, "1.0.31");
  g_assert_true (sb_metadata_get_consistent_snapshot (md));

  const SbRole *role = sb_metadata_get_role (md, "timestamp");
  g_assert_nonnull (role);
  g_assert_cmpuint (role->n_keyids, ==, 1);
  g_assert_cmpint (role->threshold, ==, 1);
  SbSigner *signer = sb_test_repo_signers (f->repo, "timestamp")->pdata[0];
  const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));
  g_assert_cmpstr (role->keyids[0], ==, keyid);
  g_assert_nonnull (sb_metadata_get_key (md, keyid));
  g_assert_null (sb_metadata_get_role (md, "mirrors"));
  g_assert_true (sb_metadata_verify_delegate (md, "root", md, &error));
  g_assert_no_error (error);
}

static void
test_consistent_snapshot_default (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  json_object_remove_member (sb_test_repo_signed (f->repo, "root"), "consistent_snapshot");
  g_autoptr (SbMetadata) md = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_get_consistent_snapshot (md));
}

static void
test_malformed_json (Fixture *f, gconstpointer data)
{
  const char *const texts[] = {
    "",
    "{",
    "{\"signed\": {}, \"signatures\": []} trailing",
    "[]",
    "{\"signatures\": []}",
    "{\"signed\": [], \"signatures\": []}",
    "{\"signed\": {\"_type\": \"timestamp\"}, \"signatures\": {}}",
    "{\"signed\": {\"_type\": \"timestamp\"}, \"signatures\": [{\"keyid\": 1, \"sig\": \"00\"}]}",
    "{\"signed\": {\"_type\": \"timestamp\"}, \"signed\": {}, \"signatures\": []}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SbMetadata) md = parse_text (texts[i], SB_METADATA_TIMESTAMP, &error);
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
      g_assert_null (md);
    }
}

static void
test_wrong_type (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) md = parse_role (f, "snapshot", SB_METADATA_TIMESTAMP, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
  g_assert_null (md);
}

static void
test_spec_version (Fixture *f, gconstpointer data)
{
  const struct {
    const char *value;
    int code; /* -1: accepted */
  } cases[] = {
    { "1.0", -1 },
    { "1.0.31", -1 },
    { "1.2.3", -1 },
    { "2.0.0", SB_ERROR_SPEC_VERSION },
    { "0.9", SB_ERROR_SPEC_VERSION },
    { "1", SB_ERROR_PARSE },
    { "1.0.0.0", SB_ERROR_PARSE },
    { "v1.0", SB_ERROR_PARSE },
    { "1..0", SB_ERROR_PARSE },
    { "1.0-rc1", SB_ERROR_PARSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      json_object_set_string_member (sb_test_repo_signed (f->repo, "timestamp"), "spec_version",
                                     cases[i].value);
      g_autoptr (SbMetadata) md = parse_role (f, "timestamp", SB_METADATA_TIMESTAMP, &error);
      if (cases[i].code < 0)
        g_assert_no_error (error);
      else
        g_assert_error (error, SB_ERROR, cases[i].code);
    }
}

static void
test_version_invalid (Fixture *f, gconstpointer data)
{
  JsonObject *ts = sb_test_repo_signed (f->repo, "timestamp");
  json_object_set_int_member (ts, "version", 0);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);
  json_object_set_int_member (ts, "version", -3);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);
  json_object_set_string_member (ts, "version", "2");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);
  json_object_remove_member (ts, "version");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);

  /* A float is not an integer, even when whole. */
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) md = parse_text (
      "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"expires\":\"2030-01-01T00:00:00Z\","
      "\"meta\":{\"snapshot.json\":{\"version\":1}},\"spec_version\":\"1.0\",\"version\":1.0}}",
      SB_METADATA_TIMESTAMP, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_assert_null (md);
}

static void
test_expires_malformed (Fixture *f, gconstpointer data)
{
  const char *const bad[] = {
    "2030-01-01T00:00:00",       "2030-01-01 00:00:00Z",      "2030-01-01T00:00:00.5Z",
    "2030-01-01T00:00:00+00:00", "2030-1-01T00:00:00Z",       "2030-02-30T00:00:00Z",
    "2030-13-01T00:00:00Z",      "2030-01-01T24:00:00Z",      "2030-01-01T00:60:00Z",
    "2030-01-01T00:00:60Z",      "0000-01-01T00:00:00Z",      "2030-01-01t00:00:00z",
    "+030-01-01T00:00:00Z",      "",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      json_object_set_string_member (sb_test_repo_signed (f->repo, "snapshot"), "expires", bad[i]);
      assert_envelope_refused (sb_test_repo_sign (f->repo, "snapshot"), SB_METADATA_SNAPSHOT,
                               SB_ERROR_PARSE);
    }
  json_object_set_int_member (sb_test_repo_signed (f->repo, "snapshot"), "expires", 1900000000);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "snapshot"), SB_METADATA_SNAPSHOT,
                           SB_ERROR_PARSE);
}

static void
test_time_round_trip (void)
{
  const struct {
    const char *text;
    gint64 unix_seconds;
  } cases[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2023-11-14T22:13:20Z", 1700000000 },
    { "2024-02-29T12:00:00Z", 1709208000 },
    { "2038-01-19T03:14:08Z", G_GINT64_CONSTANT (2147483648) },
    { "9999-12-31T23:59:59Z", G_GINT64_CONSTANT (253402300799) },
    { "1969-12-31T23:59:59Z", -1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 t = 0;
      g_assert_true (sb_metadata_parse_time (cases[i].text, &t, &error));
      g_assert_no_error (error);
      g_assert_cmpint (t, ==, cases[i].unix_seconds);
      g_autofree char *text = sb_metadata_format_time (t);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
  g_autoptr (GError) error = NULL;
  gint64 t;
  g_assert_false (sb_metadata_parse_time ("2023-02-29T00:00:00Z", &t, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
}

static void
test_expiry_boundary (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_expires (f->repo, "timestamp", SB_TEST_NOW);
  g_autoptr (SbMetadata) md = parse_role (f, "timestamp", SB_METADATA_TIMESTAMP, &error);
  g_assert_no_error (error);
  /* python-tuf: expired when reference_time >= expires. */
  g_assert_false (sb_metadata_is_expired (md, SB_TEST_NOW - 1));
  g_assert_true (sb_metadata_is_expired (md, SB_TEST_NOW));
  g_assert_true (sb_metadata_is_expired (md, SB_TEST_NOW + 1));
}

static void
test_unknown_fields_kept (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  JsonObject *root = sb_test_repo_signed (f->repo, "root");
  json_object_set_string_member (root, "x-custom-field", "value");
  json_object_set_string_member (
      json_object_get_object_member (json_object_get_object_member (root, "roles"), "targets"),
      "another-field", "value");
  g_autoptr (SbMetadata) md = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  /* The unknown fields were signed, so the signature only verifies if they are kept. */
  g_assert_true (sb_metadata_verify_delegate (md, "root", md, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (sb_metadata_get_signed (md), "x-custom-field"),
                   ==, "value");
  gsize len;
  const char *canonical = g_bytes_get_data (sb_metadata_get_signed_bytes (md), &len);
  g_assert_nonnull (g_strstr_len (canonical, len, "\"another-field\":\"value\""));
}

static void
test_duplicate_signature_keyid (Fixture *f, gconstpointer data)
{
  JsonNode *envelope = sb_test_repo_sign (f->repo, "snapshot");
  JsonArray *sigs = json_object_get_array_member (json_node_get_object (envelope), "signatures");
  json_array_add_element (sigs, sb_test_deep_copy (json_array_get_element (sigs, 0)));
  assert_envelope_refused (envelope, SB_METADATA_SNAPSHOT, SB_ERROR_PARSE);
}

static void
test_duplicate_role_keyid (Fixture *f, gconstpointer data)
{
  JsonObject *roles
      = json_object_get_object_member (sb_test_repo_signed (f->repo, "root"), "roles");
  JsonArray *keyids =
      json_object_get_array_member (json_object_get_object_member (roles, "snapshot"), "keyids");
  json_array_add_string_element (keyids, json_array_get_string_element (keyids, 0));
  assert_envelope_refused (sb_test_repo_sign (f->repo, "root"), SB_METADATA_ROOT, SB_ERROR_PARSE);
}

static void
test_root_schema (Fixture *f, gconstpointer data)
{
  JsonObject *root = sb_test_repo_signed (f->repo, "root");
  JsonObject *roles = json_object_get_object_member (root, "roles");

  json_object_set_int_member (json_object_get_object_member (roles, "targets"), "threshold", 0);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "root"), SB_METADATA_ROOT, SB_ERROR_PARSE);
  json_object_set_int_member (json_object_get_object_member (roles, "targets"), "threshold", 1);

  json_object_set_string_member (root, "consistent_snapshot", "yes");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "root"), SB_METADATA_ROOT, SB_ERROR_PARSE);
  json_object_set_boolean_member (root, "consistent_snapshot", FALSE);

  JsonNode *saved = sb_test_deep_copy (json_object_get_member (roles, "snapshot"));
  json_object_remove_member (roles, "snapshot");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "root"), SB_METADATA_ROOT, SB_ERROR_PARSE);
  json_object_set_member (roles, "snapshot", saved);

  /* A key must have keytype, scheme and keyval. */
  JsonObject *key = json_object_new ();
  json_object_set_string_member (key, "keytype", "ed25519");
  json_object_set_object_member (json_object_get_object_member (root, "keys"), "abc", key);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "root"), SB_METADATA_ROOT, SB_ERROR_PARSE);
}

static void
test_unsupported_key_ignored (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  JsonObject *root = sb_test_repo_signed (f->repo, "root");
  JsonObject *key = json_object_new ();
  JsonObject *keyval = json_object_new ();
  json_object_set_string_member (keyval, "public", "0123abcd");
  json_object_set_string_member (key, "keytype", "sphincs-plus");
  json_object_set_string_member (key, "scheme", "sphincs-shake-256s");
  json_object_set_object_member (key, "keyval", keyval);
  json_object_set_object_member (json_object_get_object_member (root, "keys"), "future-key", key);
  JsonObject *role =
      json_object_get_object_member (json_object_get_object_member (root, "roles"), "root");
  json_array_add_string_element (json_object_get_array_member (role, "keyids"), "future-key");

  g_autoptr (SbMetadata) md = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  g_assert_null (sb_metadata_get_key (md, "future-key"));
  /* The usable key still meets the threshold of 1 ... */
  g_assert_true (sb_metadata_verify_delegate (md, "root", md, &error));
  g_assert_no_error (error);
}

/* ---- signature thresholds ---- */

static void
test_verify_bad_signature (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) root = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);

  g_autoptr (JsonNode) envelope = sb_test_repo_sign (f->repo, "timestamp");
  JsonObject *sig = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (envelope), "signatures"), 0);
  g_autofree char *flipped = g_strdup (json_object_get_string_member (sig, "sig"));
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  json_object_set_string_member (sig, "sig", flipped);
  g_autoptr (GBytes) bytes = sb_test_encode (envelope);
  g_autoptr (SbMetadata) ts = sb_metadata_new_from_bytes (bytes, SB_METADATA_TIMESTAMP, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (root, "timestamp", ts, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_verify_signed_content_changed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) root = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) envelope = sb_test_repo_sign (f->repo, "timestamp");
  json_object_set_int_member (envelope_signed (envelope), "version", 7);
  g_autoptr (GBytes) bytes = sb_test_encode (envelope);
  g_autoptr (SbMetadata) ts = sb_metadata_new_from_bytes (bytes, SB_METADATA_TIMESTAMP, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (root, "timestamp", ts, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_verify_wrong_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) root = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  /* Signed by the snapshot key, which root does not list for timestamp. */
  GPtrArray *signers = sb_test_repo_signers (f->repo, "timestamp");
  g_ptr_array_set_size (signers, 0);
  g_ptr_array_add (signers, sb_signer_ref (sb_test_repo_signers (f->repo, "snapshot")->pdata[0]));
  g_autoptr (SbMetadata) ts = parse_role (f, "timestamp", SB_METADATA_TIMESTAMP, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (root, "timestamp", ts, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_verify_threshold (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  JsonObject *roles
      = json_object_get_object_member (sb_test_repo_signed (f->repo, "root"), "roles");
  json_object_set_int_member (json_object_get_object_member (roles, "snapshot"), "threshold", 2);
  SbSigner *second = sb_test_repo_add_key (f->repo, "snapshot");
  g_autoptr (SbMetadata) root = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);

  /* Two keys sign: met. */
  g_autoptr (SbMetadata) both = parse_role (f, "snapshot", SB_METADATA_SNAPSHOT, &error);
  g_assert_no_error (error);
  g_assert_true (sb_metadata_verify_delegate (root, "snapshot", both, &error));
  g_assert_no_error (error);

  /* One key signs: not met. */
  g_ptr_array_remove (sb_test_repo_signers (f->repo, "snapshot"), second);
  g_autoptr (SbMetadata) one = parse_role (f, "snapshot", SB_METADATA_SNAPSHOT, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (root, "snapshot", one, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

/* Threshold 2 with one key listed under two key ids (the key object differs only by an extra
 * field, so its key id differs): two valid signatures, but one key. */
static void
test_verify_same_key_two_keyids (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  JsonObject *root = sb_test_repo_signed (f->repo, "root");
  JsonObject *keys = json_object_get_object_member (root, "keys");
  JsonObject *snap_role =
      json_object_get_object_member (json_object_get_object_member (root, "roles"), "snapshot");
  json_object_set_int_member (snap_role, "threshold", 2);
  SbSigner *signer = sb_test_repo_signers (f->repo, "snapshot")->pdata[0];
  const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));

  JsonNode *alias = sb_test_deep_copy (json_object_get_member (keys, keyid));
  json_object_set_string_member (json_node_get_object (alias), "x-note", "same key");
  g_autoptr (GBytes) alias_canonical = sb_json_canonical (alias, &error);
  g_assert_no_error (error);
  gsize alias_len;
  const void *alias_data = g_bytes_get_data (alias_canonical, &alias_len);
  g_autofree char *alias_id = sb_sha256_hex (alias_data, alias_len);
  json_object_set_member (keys, alias_id, alias);
  json_array_add_string_element (json_object_get_array_member (snap_role, "keyids"), alias_id);

  g_autoptr (SbMetadata) root_md = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sb_metadata_get_key (root_md, alias_id));

  /* The same signature under both key ids. */
  g_autoptr (JsonNode) envelope = sb_test_repo_sign (f->repo, "snapshot");
  JsonArray *sigs = json_object_get_array_member (json_node_get_object (envelope), "signatures");
  JsonNode *copy = sb_test_deep_copy (json_array_get_element (sigs, 0));
  json_object_set_string_member (json_node_get_object (copy), "keyid", alias_id);
  json_array_add_element (sigs, copy);
  g_autoptr (GBytes) bytes = sb_test_encode (envelope);
  g_autoptr (SbMetadata) snap = sb_metadata_new_from_bytes (bytes, SB_METADATA_SNAPSHOT, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (root_md, "snapshot", snap, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

/* One key spelled two ways (issue: one key counted twice). Each case lists the same public key
 * under a second key id in another spelling that the key parser accepts; both key ids sign, and
 * a threshold of 2 must still not be met. The control (the second spelling alone, threshold 1)
 * shows the second spelling is a working key, so only counting by key can refuse. */
typedef struct {
  SbKeyType type;
  gboolean ota_ce; /* both entries without a scheme, read in OTA-CE mode */
  void (*respell) (JsonObject *key);
} SameKeyCase;

static void
respell_public_upper (JsonObject *key)
{
  JsonObject *keyval = json_object_get_object_member (key, "keyval");
  g_autofree char *upper = g_ascii_strup (json_object_get_string_member (keyval, "public"), -1);
  json_object_set_string_member (keyval, "public", upper);
}

static void
respell_ecdsa_keytype (JsonObject *key)
{
  g_assert_cmpstr (json_object_get_string_member (key, "keytype"), ==, "ecdsa");
  json_object_set_string_member (key, "keytype", "ecdsa-sha2-nistp256");
}

/* The PEM body wrapped at 76 columns instead of 64, with CRLF line ends. */
static void
respell_pem_wrapping (JsonObject *key)
{
  JsonObject *keyval = json_object_get_object_member (key, "keyval");
  g_auto (GStrv) lines = g_strsplit (json_object_get_string_member (keyval, "public"), "\n", -1);
  g_autoptr (GString) body = g_string_new (NULL);
  for (guint i = 1; lines[i] != NULL && !g_str_has_prefix (lines[i], "-----END"); i++)
    g_string_append (body, lines[i]);
  g_autoptr (GString) pem = g_string_new (lines[0]);
  g_string_append (pem, "\r\n");
  for (gsize off = 0; off < body->len; off += 76)
    {
      g_string_append_len (pem, body->str + off, MIN (76, body->len - off));
      g_string_append (pem, "\r\n");
    }
  g_string_append (pem, "-----END PUBLIC KEY-----\r\n");
  g_assert_cmpstr (json_object_get_string_member (keyval, "public"), !=, pem->str);
  json_object_set_string_member (keyval, "public", pem->str);
}

static void
respell_ota_ce_keytype (JsonObject *key)
{
  json_object_set_string_member (key, "keytype", "ED25519");
  respell_public_upper (key);
}

static const SameKeyCase same_key_hex_case = { SB_KEY_TYPE_ED25519, FALSE, respell_public_upper };
static const SameKeyCase same_key_ecdsa_alias = { SB_KEY_TYPE_ECDSA, FALSE, respell_ecdsa_keytype };
static const SameKeyCase same_key_ecdsa_pem = { SB_KEY_TYPE_ECDSA, FALSE, respell_pem_wrapping };
static const SameKeyCase same_key_rsa_pem = { SB_KEY_TYPE_RSA, FALSE, respell_pem_wrapping };
static const SameKeyCase same_key_ota_ce = { SB_KEY_TYPE_ED25519, TRUE, respell_ota_ce_keytype };

/* Parses the snapshot envelope signed by key ids @ids (each signature is the one the repository
 * made, under that key id) and verifies it against @root. */
static gboolean
verify_snapshot_signed_as (Fixture *f, SbMetadata *root, const char *const *ids,
                           SbMetadataFlags flags, GError **error)
{
  g_autoptr (JsonNode) envelope = sb_test_repo_sign (f->repo, "snapshot");
  JsonArray *sigs = json_object_get_array_member (json_node_get_object (envelope), "signatures");
  g_autoptr (JsonNode) made = sb_test_deep_copy (json_array_get_element (sigs, 0));
  json_object_remove_member (json_node_get_object (envelope), "signatures");
  JsonArray *out = json_array_new ();
  for (guint i = 0; ids[i] != NULL; i++)
    {
      JsonNode *sig = sb_test_deep_copy (made);
      json_object_set_string_member (json_node_get_object (sig), "keyid", ids[i]);
      if (flags & SB_METADATA_OTA_CE)
        json_object_set_string_member (json_node_get_object (sig), "method", "ed25519");
      json_array_add_element (out, sig);
    }
  json_object_set_array_member (json_node_get_object (envelope), "signatures", out);
  g_autoptr (GBytes) bytes = sb_test_encode_escaped (envelope);
  g_autoptr (SbMetadata) snap
      = sb_metadata_new_from_bytes_full (bytes, SB_METADATA_SNAPSHOT, flags, error);
  if (snap == NULL)
    return FALSE;
  return sb_metadata_verify_delegate (root, "snapshot", snap, error);
}

static void
test_verify_same_key_respelled (Fixture *f, gconstpointer data)
{
  const SameKeyCase *c = data;
  SbMetadataFlags flags = c->ota_ce ? SB_METADATA_OTA_CE : 0;
  g_autoptr (GError) error = NULL;
  SbSigner *signer = sb_signer_generate (c->type, &error);
  g_assert_no_error (error);
  GPtrArray *signers = sb_test_repo_signers (f->repo, "snapshot");
  g_ptr_array_set_size (signers, 0);
  g_ptr_array_add (signers, signer);

  JsonObject *root = sb_test_repo_signed (f->repo, "root");
  JsonObject *keys = json_object_get_object_member (root, "keys");
  JsonObject *snap_role =
      json_object_get_object_member (json_object_get_object_member (root, "roles"), "snapshot");
  const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));
  g_autoptr (JsonNode) made = sb_key_to_json (sb_signer_get_public (signer));
  JsonNode *first = sb_test_deep_copy (made);
  if (c->ota_ce)
    json_object_remove_member (json_node_get_object (first), "scheme");
  JsonNode *second = sb_test_deep_copy (first);
  c->respell (json_node_get_object (second));
  const char *alias_id = "0a11a5";
  json_object_set_member (keys, keyid, first);
  json_object_set_member (keys, alias_id, second);
  JsonArray *keyids = json_array_new ();
  json_array_add_string_element (keyids, keyid);
  json_array_add_string_element (keyids, alias_id);
  json_object_set_array_member (snap_role, "keyids", keyids);

  const char *both[] = { keyid, alias_id, NULL };
  const char *alias_only[] = { alias_id, NULL };

  /* Control: threshold 1, signed under the second spelling only. */
  json_object_set_int_member (snap_role, "threshold", 1);
  {
    g_autoptr (JsonNode) root_env = sb_test_repo_sign (f->repo, "root");
    g_autoptr (GBytes) root_bytes = sb_test_encode_escaped (root_env);
    g_autoptr (SbMetadata) root_md
        = sb_metadata_new_from_bytes_full (root_bytes, SB_METADATA_ROOT, flags, &error);
    g_assert_no_error (error);
    g_assert_true (verify_snapshot_signed_as (f, root_md, alias_only, flags, &error));
    g_assert_no_error (error);
  }

  /* Threshold 2: both key ids sign, but they are one key. */
  json_object_set_int_member (snap_role, "threshold", 2);
  g_autoptr (JsonNode) root_env = sb_test_repo_sign (f->repo, "root");
  g_autoptr (GBytes) root_bytes = sb_test_encode_escaped (root_env);
  g_autoptr (SbMetadata) root_md
      = sb_metadata_new_from_bytes_full (root_bytes, SB_METADATA_ROOT, flags, &error);
  g_assert_no_error (error);
  g_assert_false (verify_snapshot_signed_as (f, root_md, both, flags, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_verify_role_not_delegated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) root = parse_role (f, "root", SB_METADATA_ROOT, &error);
  g_autoptr (SbMetadata) targets = parse_role (f, "targets", SB_METADATA_TARGETS, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (root, "mirrors", targets, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* A targets role without delegations delegates nothing. */
  g_assert_false (sb_metadata_verify_delegate (targets, "a", targets, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

/* ---- timestamp and snapshot meta ---- */

static void
test_meta_parsed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_update_timestamp_meta (f->repo, TRUE);
  g_autoptr (SbMetadata) ts = parse_role (f, "timestamp", SB_METADATA_TIMESTAMP, &error);
  g_assert_no_error (error);
  const SbMetaFile *meta = sb_metadata_get_snapshot_meta (ts);
  g_assert_cmpint (meta->version, ==, 1);
  g_assert_cmpint (meta->length, >, 0);
  g_assert_nonnull (meta->hashes);
  g_assert_true (meta == sb_metadata_get_meta (ts, "snapshot.json"));

  g_autoptr (SbMetadata) snap = parse_role (f, "snapshot", SB_METADATA_SNAPSHOT, &error);
  g_assert_no_error (error);
  const SbMetaFile *tmeta = sb_metadata_get_meta (snap, "targets.json");
  g_assert_cmpint (tmeta->version, ==, 1);
  g_assert_cmpint (tmeta->length, ==, -1);
  g_assert_null (tmeta->hashes);
  g_assert_null (sb_metadata_get_meta (snap, "other.json"));
  g_assert_cmpuint (g_hash_table_size (sb_metadata_get_meta_files (snap)), ==, 1);
}

static void
test_meta_schema (Fixture *f, gconstpointer data)
{
  JsonObject *ts = sb_test_repo_signed (f->repo, "timestamp");
  JsonObject *entry =
      json_object_get_object_member (json_object_get_object_member (ts, "meta"), "snapshot.json");

  json_object_set_int_member (entry, "length", -1);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);
  json_object_remove_member (entry, "length");

  json_object_set_object_member (entry, "hashes", json_object_new ());
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);
  json_object_remove_member (entry, "hashes");

  json_object_set_int_member (entry, "version", 0);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);

  json_object_set_object_member (ts, "meta", json_object_new ());
  assert_envelope_refused (sb_test_repo_sign (f->repo, "timestamp"), SB_METADATA_TIMESTAMP,
                           SB_ERROR_PARSE);
}

static void
test_meta_file_verify (void)
{
  g_autoptr (GBytes) data = g_bytes_new_static ("snapshot bytes", 14);
  g_autofree char *sha256 = sb_sha256_hex ("snapshot bytes", 14);
  g_autofree char *sha512 = sb_sha512_hex ("snapshot bytes", 14);
  g_autoptr (JsonObject) hashes = json_object_new ();
  SbMetaFile meta = { .version = 1, .length = 14, .hashes = hashes };
  g_autoptr (GError) error = NULL;

  json_object_set_string_member (hashes, "sha256", sha256);
  json_object_set_string_member (hashes, "sha512", sha512);
  g_assert_true (sb_meta_file_verify (&meta, "snapshot.json", data, &error));
  g_assert_no_error (error);

  meta.length = 15;
  g_assert_false (sb_meta_file_verify (&meta, "snapshot.json", data, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);
  meta.length = -1;

  json_object_set_string_member (hashes, "sha512", sha256);
  g_assert_false (sb_meta_file_verify (&meta, "snapshot.json", data, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_clear_error (&error);
  json_object_set_string_member (hashes, "sha512", sha512);

  json_object_set_string_member (hashes, "md5", "00");
  g_assert_false (sb_meta_file_verify (&meta, "snapshot.json", data, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* Nothing listed: nothing to check. */
  SbMetaFile bare = { .version = 1, .length = -1, .hashes = NULL };
  g_assert_true (sb_meta_file_verify (&bare, "snapshot.json", data, &error));
  g_assert_no_error (error);
}

/* ---- targets ---- */

static void
test_target_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_add_target (f->repo, "targets", "dir/file.img", "hello");
  JsonObject *entry = json_object_get_object_member (
      json_object_get_object_member (sb_test_repo_signed (f->repo, "targets"), "targets"),
      "dir/file.img");
  JsonObject *custom = json_object_new ();
  json_object_set_string_member (custom, "targetFormat", "BINARY");
  json_object_set_object_member (entry, "custom", custom);

  g_autoptr (SbMetadata) md = parse_role (f, "targets", SB_METADATA_TARGETS, &error);
  g_assert_no_error (error);
  g_assert_false (sb_metadata_has_delegations (md));
  g_autoptr (SbTargetInfo) info = sb_metadata_get_target (md, "dir/file.img");
  g_assert_nonnull (info);
  g_assert_cmpstr (info->path, ==, "dir/file.img");
  g_assert_cmpint (info->length, ==, 5);
  g_autofree char *digest = sb_sha256_hex ("hello", 5);
  g_assert_cmpstr (json_object_get_string_member (info->hashes, "sha256"), ==, digest);
  g_assert_cmpstr (json_object_get_string_member (info->custom, "targetFormat"), ==, "BINARY");
  g_assert_null (sb_metadata_get_target (md, "dir/other.img"));
  g_assert_null (sb_metadata_get_target (md, "file.img"));

  g_autoptr (SbTargetInfo) copy = sb_target_info_copy (info);
  g_assert_cmpstr (copy->path, ==, info->path);
  g_assert_true (copy->hashes == info->hashes);
}

static void
test_target_schema (Fixture *f, gconstpointer data)
{
  JsonObject *targets =
      json_object_get_object_member (sb_test_repo_signed (f->repo, "targets"), "targets");
  const char *const bad[] = {
    "{\"hashes\": {\"sha256\": \"00\"}}",
    "{\"length\": -1, \"hashes\": {\"sha256\": \"00\"}}",
    "{\"length\": 1}",
    "{\"length\": 1, \"hashes\": {}}",
    "{\"length\": 1, \"hashes\": {\"sha256\": 5}}",
    "{\"length\": 1, \"hashes\": [\"00\"]}",
    "{\"length\": 1, \"hashes\": {\"sha256\": \"00\"}, \"custom\": \"text\"}",
    "[]",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = sb_json_parse ((const guint8 *) bad[i], strlen (bad[i]), &error);
      g_assert_no_error (error);
      json_object_set_member (targets, "t", g_steal_pointer (&node));
      assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                               SB_ERROR_PARSE);
    }
}

static void
test_target_verify (void)
{
  g_autoptr (JsonObject) hashes = json_object_new ();
  g_autofree char *sha256 = sb_sha256_hex ("image", 5);
  g_autofree char *sha512 = sb_sha512_hex ("image", 5);
  json_object_set_string_member (hashes, "sha256", sha256);
  json_object_set_string_member (hashes, "sha512", sha512);
  SbTargetInfo info = { .path = (char *) "image.bin", .length = 5, .hashes = hashes };
  g_autoptr (GError) error = NULL;

  guint algos = 0;
  g_assert_true (sb_target_info_get_hash_algos (&info, &algos, &error));
  g_assert_cmpuint (algos, ==, SB_HASH_SHA256 | SB_HASH_SHA512);
  g_assert_true (sb_target_info_verify_bytes (&info, (const guint8 *) "image", 5, &error));
  g_assert_no_error (error);
  g_assert_false (sb_target_info_verify_bytes (&info, (const guint8 *) "imagE", 5, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_clear_error (&error);
  g_assert_false (sb_target_info_verify_bytes (&info, (const guint8 *) "image!", 6, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);

  /* Streamed, in two pieces. */
  g_autoptr (SbHasher) hasher = sb_hasher_new (algos);
  sb_hasher_update (hasher, "ima", 3);
  sb_hasher_update (hasher, "ge", 2);
  g_assert_true (sb_target_info_verify_hasher (&info, 5, hasher, &error));
  g_assert_no_error (error);
  g_autoptr (SbHasher) short_hasher = sb_hasher_new (algos);
  sb_hasher_update (short_hasher, "imag", 4);
  g_assert_false (sb_target_info_verify_hasher (&info, 4, short_hasher, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);

  /* Only one wrong hash among several is enough to refuse. */
  json_object_set_string_member (hashes, "sha512", sha256);
  g_assert_false (sb_target_info_verify_bytes (&info, (const guint8 *) "image", 5, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_clear_error (&error);

  /* An algorithm this client cannot compute makes the target unverifiable. */
  json_object_set_string_member (hashes, "sha512", sha512);
  json_object_set_string_member (hashes, "blake2b", "00");
  g_assert_false (sb_target_info_get_hash_algos (&info, &algos, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (sb_target_info_verify_bytes (&info, (const guint8 *) "image", 5, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
}

/* 100,000 targets: parsed once, each looked up by member, without copying the map. */
static void
test_many_targets (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  JsonObject *targets =
      json_object_get_object_member (sb_test_repo_signed (f->repo, "targets"), "targets");
  g_autofree char *digest = sb_sha256_hex ("x", 1);
  for (guint i = 0; i < 100000; i++)
    {
      g_autofree char *path = g_strdup_printf ("pkg/%05u.bin", i);
      JsonObject *entry = json_object_new ();
      JsonObject *hashes = json_object_new ();
      json_object_set_string_member (hashes, "sha256", digest);
      json_object_set_int_member (entry, "length", i);
      json_object_set_object_member (entry, "hashes", hashes);
      json_object_set_object_member (targets, path, entry);
    }
  g_autoptr (GBytes) bytes = sb_test_repo_bytes (f->repo, "targets");
  g_test_timer_start ();
  g_autoptr (SbMetadata) md = sb_metadata_new_from_bytes (bytes, SB_METADATA_TARGETS, &error);
  g_test_message ("parsed %" G_GSIZE_FORMAT " bytes of targets in %.3f s", g_bytes_get_size (bytes),
                  g_test_timer_elapsed ());
  g_assert_no_error (error);
  g_assert_cmpuint (sb_metadata_get_n_targets (md), ==, 100000);
  g_assert_cmpuint (json_object_get_size (sb_metadata_get_targets (md)), ==, 100000);
  for (guint i = 0; i < 100000; i += 997)
    {
      g_autofree char *path = g_strdup_printf ("pkg/%05u.bin", i);
      g_autoptr (SbTargetInfo) info = sb_metadata_get_target (md, path);
      g_assert_nonnull (info);
      g_assert_cmpint (info->length, ==, i);
    }
}

/* ---- delegations ---- */

static void
test_delegations_parsed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const paths_a[] = { "a/*", NULL };
  const char *const prefixes_b[] = { "0", "8f", NULL };
  sb_test_repo_delegate (f->repo, "targets", "role-a", paths_a, NULL, TRUE);
  sb_test_repo_delegate (f->repo, "targets", "role-b", NULL, prefixes_b, FALSE);
  g_autoptr (SbMetadata) md = parse_role (f, "targets", SB_METADATA_TARGETS, &error);
  g_assert_no_error (error);
  g_assert_true (sb_metadata_has_delegations (md));
  guint n;
  const SbRole *const *roles = sb_metadata_get_delegated_roles (md, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpstr (roles[0]->name, ==, "role-a");
  g_assert_true (roles[0]->terminating);
  g_assert_cmpstr (roles[0]->paths[0], ==, "a/*");
  g_assert_null (roles[0]->path_hash_prefixes);
  g_assert_cmpstr (roles[1]->name, ==, "role-b");
  g_assert_false (roles[1]->terminating);
  g_assert_null (roles[1]->paths);
  g_assert_cmpstr (roles[1]->path_hash_prefixes[1], ==, "8f");
  g_assert_true (sb_metadata_get_role (md, "role-b") == roles[1]);
  g_assert_null (sb_metadata_get_succinct_roles (md));

  SbSigner *signer = sb_test_repo_signers (f->repo, "role-a")->pdata[0];
  g_assert_nonnull (sb_metadata_get_key (md, sb_key_get_keyid (sb_signer_get_public (signer))));
  g_autoptr (SbMetadata) role_a = parse_role (f, "role-a", SB_METADATA_TARGETS, &error);
  g_assert_no_error (error);
  g_assert_true (sb_metadata_verify_delegate (md, "role-a", role_a, &error));
  g_assert_no_error (error);
  g_assert_false (sb_metadata_verify_delegate (md, "role-b", role_a, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static JsonObject *
first_delegated_role (Fixture *f)
{
  JsonObject *delegations = json_object_get_object_member (
      sb_test_repo_signed (f->repo, "targets"), "delegations");
  return json_array_get_object_element (json_object_get_array_member (delegations, "roles"), 0);
}

static void
test_delegations_schema (Fixture *f, gconstpointer data)
{
  const char *const paths[] = { "*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "role-a", paths, NULL, FALSE);
  JsonObject *role = first_delegated_role (f);

  /* Both paths and path_hash_prefixes. */
  json_object_set_array_member (role, "path_hash_prefixes", json_array_new ());
  assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                           SB_ERROR_PARSE);
  /* Neither. */
  json_object_remove_member (role, "path_hash_prefixes");
  JsonNode *saved_paths = sb_test_deep_copy (json_object_get_member (role, "paths"));
  json_object_remove_member (role, "paths");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                           SB_ERROR_PARSE);
  json_object_set_member (role, "paths", saved_paths);

  /* terminating is required. */
  json_object_remove_member (role, "terminating");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                           SB_ERROR_PARSE);
  json_object_set_boolean_member (role, "terminating", FALSE);

  /* A top-level name. */
  json_object_set_string_member (role, "name", "snapshot");
  assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                           SB_ERROR_PARSE);
  json_object_set_string_member (role, "name", "role-a");

  /* The same role twice. */
  JsonObject *delegations = json_object_get_object_member (
      sb_test_repo_signed (f->repo, "targets"), "delegations");
  JsonArray *roles = json_object_get_array_member (delegations, "roles");
  json_array_add_element (roles, sb_test_deep_copy (json_array_get_element (roles, 0)));
  assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                           SB_ERROR_PARSE);
  json_array_remove_element (roles, 1);

  /* roles and succinct_roles together. */
  JsonObject *succinct = json_object_new ();
  json_object_set_array_member (succinct, "keyids", json_array_new ());
  json_object_set_int_member (succinct, "threshold", 1);
  json_object_set_int_member (succinct, "bit_length", 4);
  json_object_set_string_member (succinct, "name_prefix", "bin");
  json_object_set_object_member (delegations, "succinct_roles", succinct);
  assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                           SB_ERROR_PARSE);
}

static void
test_succinct_schema (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_delegate_succinct (f->repo, "targets", 5, "bins");
  JsonObject *succinct = json_object_get_object_member (
      json_object_get_object_member (sb_test_repo_signed (f->repo, "targets"), "delegations"),
      "succinct_roles");
  g_autoptr (SbMetadata) md = parse_role (f, "targets", SB_METADATA_TARGETS, &error);
  g_assert_no_error (error);
  const SbRole *role = sb_metadata_get_succinct_roles (md);
  g_assert_nonnull (role);
  g_assert_cmpuint (role->bit_length, ==, 5);
  g_assert_cmpstr (role->name, ==, "bins");
  g_assert_true (role->terminating);
  g_assert_true (sb_metadata_get_role (md, "bins-1f") == role);
  g_assert_null (sb_metadata_get_role (md, "bins-20"));
  guint n = 99;
  sb_metadata_get_delegated_roles (md, &n);
  g_assert_cmpuint (n, ==, 0);

  const gint64 bad_bits[] = { 0, 33, -1 };
  for (guint i = 0; i < G_N_ELEMENTS (bad_bits); i++)
    {
      json_object_set_int_member (succinct, "bit_length", bad_bits[i]);
      assert_envelope_refused (sb_test_repo_sign (f->repo, "targets"), SB_METADATA_TARGETS,
                               SB_ERROR_PARSE);
    }
}

/* ---- matching (sb-delegation) ---- */

static void
test_path_patterns (void)
{
  const struct {
    const char *pattern;
    const char *path;
    gboolean match;
  } cases[] = {
    { "*", "file", TRUE },
    { "*", "dir/file", FALSE },
    { "*/*", "dir/file", TRUE },
    { "dir/*", "dir/file", TRUE },
    { "dir/*", "dir/sub/file", FALSE },
    { "dir/*/*", "dir/sub/file", TRUE },
    { "*.md", "README.md", TRUE },
    { "*.md", "releases/README.md", FALSE },
    { "*.md", "README.MD", FALSE },
    { "foo-?.tgz", "foo-1.tgz", TRUE },
    { "foo-?.tgz", "foo-10.tgz", FALSE },
    { "foo-?.tgz", "foo-.tgz", FALSE },
    { "foo-?", "foo-é", TRUE },
    { "?", "/", FALSE },
    { "releases/*/*", "releases/x/x_v1", TRUE },
    { "releases/y/*.zip", "releases/z/z_v1.zip", FALSE },
    { "file", "file", TRUE },
    { "file", "file2", FALSE },
    { "", "", TRUE },
    { "*", "", TRUE },
    { "a*b*c", "aXXbYYc", TRUE },
    { "a*b*c", "aXXbYY", FALSE },
    { "*a*", "bbb", FALSE },
    { "[ab]x", "bx", TRUE },
    { "[ab]x", "cx", FALSE },
    { "[!ab]x", "cx", TRUE },
    { "[!ab]x", "ax", FALSE },
    { "[a-c]", "b", TRUE },
    { "[a-c]", "d", FALSE },
    { "[c-a]", "b", FALSE },
    { "[a-]", "-", TRUE },
    { "[]]", "]", TRUE },
    { "[!]]", "a", TRUE },
    { "[abc", "[abc", TRUE },
    { "a\\*", "a\\b", TRUE },
    { "/abs/*", "/abs/x", TRUE },
    { "dir//*", "dir//x", TRUE },
    { "dir/", "dir/", TRUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (sb_path_pattern_match (cases[i].pattern, cases[i].path) != cases[i].match)
        g_error ("pattern \"%s\" on \"%s\": expected %s", cases[i].pattern, cases[i].path,
                 cases[i].match ? "a match" : "no match");
    }
}

static void
test_hash_prefixes (void)
{
  g_autofree char *digest = sb_sha256_hex ("targets/file.txt", strlen ("targets/file.txt"));
  char prefix[3] = { digest[0], digest[1], '\0' };
  char other[3] = { digest[0] == '0' ? '1' : '0', digest[1], '\0' };
  char *match_prefixes[] = { other, prefix, NULL };
  char *miss_prefixes[] = { other, NULL };
  SbRole role = { .name = (char *) "bins", .path_hash_prefixes = match_prefixes };
  g_assert_true (sb_role_delegates_path (&role, "targets/file.txt"));
  role.path_hash_prefixes = miss_prefixes;
  g_assert_false (sb_role_delegates_path (&role, "targets/file.txt"));

  char *paths[] = { (char *) "targets/*", NULL };
  SbRole by_path = { .name = (char *) "p", .paths = paths };
  g_assert_true (sb_role_delegates_path (&by_path, "targets/file.txt"));
  g_assert_false (sb_role_delegates_path (&by_path, "other/file.txt"));
}

static void
test_succinct_names (void)
{
  const struct {
    guint bit_length;
    const char *first;
    const char *last;
  } cases[] = {
    { 1, "p-0", "p-1" },          { 2, "p-0", "p-3" },
    { 4, "p-0", "p-f" },          { 5, "p-00", "p-1f" },
    { 8, "p-00", "p-ff" },        { 9, "p-000", "p-1ff" },
    { 12, "p-000", "p-fff" },     { 16, "p-0000", "p-ffff" },
    { 32, "p-00000000", "p-ffffffff" },
  };
  const char *const paths[] = { "a", "file.tgz", "dir/sub/file", "é" };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint bits = cases[i].bit_length;
      SbRole role = { .name = (char *) "p", .bit_length = bits, .threshold = 1 };
      guint32 last = (guint32) ((G_GUINT64_CONSTANT (1) << bits) - 1);
      g_autofree char *first_name = sb_succinct_bin_name (&role, 0);
      g_autofree char *last_name = sb_succinct_bin_name (&role, last);
      g_assert_cmpstr (first_name, ==, cases[i].first);
      g_assert_cmpstr (last_name, ==, cases[i].last);
      g_assert_true (sb_succinct_has_bin (&role, first_name));
      g_assert_true (sb_succinct_has_bin (&role, last_name));
      g_assert_true (sb_role_delegates_path (&role, "anything"));

      /* The bin is the first bit_length bits of the sha256 of the path. */
      for (guint j = 0; j < G_N_ELEMENTS (paths); j++)
        {
          g_autofree char *digest = sb_sha256_hex (paths[j], strlen (paths[j]));
          g_autofree char *head = g_strndup (digest, 8);
          guint64 first32 = g_ascii_strtoull (head, NULL, 16);
          g_autofree char *expected
              = sb_succinct_bin_name (&role, (guint32) (first32 >> (32 - bits)));
          g_autofree char *bin = sb_succinct_bin_for_target (&role, paths[j]);
          g_assert_cmpstr (bin, ==, expected);
          g_assert_true (sb_succinct_has_bin (&role, bin));
        }
    }

  SbRole role5 = { .name = (char *) "bin", .bit_length = 5, .threshold = 1 };
  const char *const not_bins[] = { "bin-20", "bin-1F", "bin-1",  "bin-001", "bin1f",
                                   "bins-1f", "bin-+1", "bin-0x", "bin-",    "" };
  for (guint i = 0; i < G_N_ELEMENTS (not_bins); i++)
    g_assert_false (sb_succinct_has_bin (&role5, not_bins[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/metadata/root/parsed", test_root_parsed);
  ADD ("/metadata/root/consistent-snapshot-default-false", test_consistent_snapshot_default);
  ADD ("/metadata/root/schema-violations-refused", test_root_schema);
  ADD ("/metadata/parse/malformed-json-refused", test_malformed_json);
  ADD ("/metadata/parse/wrong-type-refused", test_wrong_type);
  ADD ("/metadata/parse/spec-version-major-1-only", test_spec_version);
  ADD ("/metadata/parse/bad-version-refused", test_version_invalid);
  ADD ("/metadata/parse/malformed-expires-refused", test_expires_malformed);
  ADD ("/metadata/parse/unknown-fields-kept-and-signed", test_unknown_fields_kept);
  ADD ("/metadata/parse/duplicate-signature-keyid-refused", test_duplicate_signature_keyid);
  ADD ("/metadata/parse/duplicate-role-keyid-refused", test_duplicate_role_keyid);
  ADD ("/metadata/keys/unsupported-type-ignored", test_unsupported_key_ignored);
  ADD ("/metadata/expiry/boundary-is-expired", test_expiry_boundary);
  ADD ("/metadata/verify/bad-signature-below-threshold", test_verify_bad_signature);
  ADD ("/metadata/verify/changed-content-below-threshold", test_verify_signed_content_changed);
  ADD ("/metadata/verify/key-of-other-role-refused", test_verify_wrong_key);
  ADD ("/metadata/verify/threshold-two", test_verify_threshold);
  ADD ("/metadata/verify/same-key-under-two-keyids-counts-once", test_verify_same_key_two_keyids);
  g_test_add ("/metadata/verify/same-key-hex-case-counts-once", Fixture, &same_key_hex_case,
              setup, test_verify_same_key_respelled, teardown);
  g_test_add ("/metadata/verify/same-key-ecdsa-keytype-alias-counts-once", Fixture,
              &same_key_ecdsa_alias, setup, test_verify_same_key_respelled, teardown);
  g_test_add ("/metadata/verify/same-key-ecdsa-pem-wrapping-counts-once", Fixture,
              &same_key_ecdsa_pem, setup, test_verify_same_key_respelled, teardown);
  g_test_add ("/metadata/verify/same-key-rsa-pem-wrapping-counts-once", Fixture,
              &same_key_rsa_pem, setup, test_verify_same_key_respelled, teardown);
  g_test_add ("/metadata/verify/same-key-ota-ce-keytype-case-counts-once", Fixture,
              &same_key_ota_ce, setup, test_verify_same_key_respelled, teardown);
  ADD ("/metadata/verify/role-not-delegated", test_verify_role_not_delegated);
  ADD ("/metadata/meta/parsed", test_meta_parsed);
  ADD ("/metadata/meta/schema-violations-refused", test_meta_schema);
  ADD ("/metadata/targets/lookup", test_target_lookup);
  ADD ("/metadata/targets/schema-violations-refused", test_target_schema);
  ADD ("/metadata/targets/hundred-thousand", test_many_targets);
  ADD ("/metadata/delegations/parsed-in-order", test_delegations_parsed);
  ADD ("/metadata/delegations/schema-violations-refused", test_delegations_schema);
  ADD ("/metadata/delegations/succinct-parsed", test_succinct_schema);
#undef ADD
  g_test_add_func ("/metadata/time/round-trip", test_time_round_trip);
  g_test_add_func ("/metadata/meta/verify-length-and-hashes", test_meta_file_verify);
  g_test_add_func ("/metadata/targets/verify-length-and-hashes", test_target_verify);
  g_test_add_func ("/delegation/path-patterns", test_path_patterns);
  g_test_add_func ("/delegation/hash-prefixes", test_hash_prefixes);
  g_test_add_func ("/delegation/succinct-bin-names", test_succinct_names);

  return g_test_run ();
}
