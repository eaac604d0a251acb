/* Tests for sb-manifest (ECU version reports, vehicle version manifest, verification) and
 * sb-report-queue (install results waiting to be sent). */
#include "config.h"

#include "state/sb-config.h"
#include "core/sb-crypto.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-identity.h"
#include "core/sb-json.h"
#include "uptane/sb-manifest.h"
#include "state/sb-report-queue.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char *dir;
  SbConfig *cfg;
  SbIdentity *identity;
} Fixture;

static const SbInstalledImage image_v1 = {
  .filepath = "rootfs-v1.img",
  .sha256 = "3c9909afec25354d551dae21590bb26e38d53f2173b8d3dc3eee4c047e7ab1c1",
  .length = 4096,
};

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = sb_test_make_tmpdir ();
  f->cfg = sb_config_new_defaults ();
  g_free (f->cfg->state_dir);
  f->cfg->state_dir = g_strdup (f->dir);
  f->cfg->ecu_serial = g_strdup ("primary-1");
  f->identity = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_identity_unref (f->identity);
  sb_config_free (f->cfg);
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
}

static GDateTime *
fixed_time (void)
{
  return g_date_time_new_utc (2024, 5, 1, 12, 30, 0);
}

static char *
canonical_text (JsonNode *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = sb_json_canonical (node, &error);
  g_assert_no_error (error);
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  return g_strndup (data, len);
}

static GBytes *
encode (JsonNode *node)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = sb_json_canonical (node, &error);
  g_assert_no_error (error);
  return bytes;
}

static JsonNode *
parse (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = sb_json_parse_bytes (bytes, &error);
  g_assert_no_error (error);
  return node;
}

/* The member names of @obj, sorted and joined with ",". */
static char *
member_names (JsonObject *obj)
{
  g_autoptr (GList) names = json_object_get_members (obj);
  names = g_list_sort (names, (GCompareFunc) strcmp);
  g_autoptr (GString) s = g_string_new (NULL);
  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf (s, "%s%s", s->len > 0 ? "," : "", (const char *) l->data);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
assert_members (JsonObject *obj, const char *expected)
{
  g_autofree char *names = member_names (obj);
  g_assert_cmpstr (names, ==, expected);
}

/* Checks the one signature of @signed_doc with sb_key_verify over the canonical "signed", the
 * way any TUF/Uptane verifier does it. */
static void
assert_signature_by (JsonNode *signed_doc, SbKey *key, const char *method)
{
  JsonObject *top = json_node_get_object (signed_doc);
  assert_members (top, "signatures,signed");
  JsonArray *sigs = json_object_get_array_member (top, "signatures");
  g_assert_cmpuint (json_array_get_length (sigs), ==, 1);
  JsonObject *sig = json_array_get_object_element (sigs, 0);
  assert_members (sig, "keyid,method,sig");
  g_assert_cmpstr (json_object_get_string_member (sig, "keyid"), ==, sb_key_get_keyid (key));
  g_assert_cmpstr (json_object_get_string_member (sig, "method"), ==, method);

  /* aktualizr and OTA-CE carry the signature in base64. */
  gsize raw_len = 0;
  g_autofree guint8 *raw = g_base64_decode (json_object_get_string_member (sig, "sig"), &raw_len);
  g_autoptr (GString) hex = g_string_new (NULL);
  for (gsize i = 0; i < raw_len; i++)
    g_string_append_printf (hex, "%02x", raw[i]);

  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) canonical = sb_json_canonical (json_object_get_member (top, "signed"),
                                                    &error);
  g_assert_no_error (error);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (canonical, &len);
  g_assert_true (sb_key_verify (key, data, len, hex->str, &error));
  g_assert_no_error (error);
}

static JsonNode *
make_ecu_report (Fixture *f, guint64 counter)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) t = fixed_time ();
  JsonNode *report = sb_manifest_ecu_report_new (f->identity, &image_v1, counter, t,
                                                 "2024-04-30T08:00:00Z", NULL, &error);
  g_assert_no_error (error);
  return report;
}

static void
test_ecu_report_golden (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) report = make_ecu_report (f, 7);
  assert_signature_by (report, sb_identity_get_public_key (f->identity), "ed25519");

  JsonNode *body = json_object_get_member (json_node_get_object (report), "signed");
  g_autofree char *text = canonical_text (body);
  g_assert_cmpstr (text, ==,
                   "{\"attacks_detected\":\"\",\"ecu_serial\":\"primary-1\","
                   "\"installed_image\":{\"fileinfo\":{\"hashes\":{\"sha256\":"
                   "\"3c9909afec25354d551dae21590bb26e38d53f2173b8d3dc3eee4c047e7ab1c1\"},"
                   "\"length\":4096},\"filepath\":\"rootfs-v1.img\"},"
                   "\"previous_timeserver_time\":\"2024-04-30T08:00:00Z\","
                   "\"report_counter\":\"7\","
                   "\"timeserver_time\":\"2024-05-01T12:30:00Z\"}");

  guint64 counter = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_manifest_get_report_counter (json_node_get_object (body), &counter, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counter, ==, 7);
}

static void
test_ecu_report_custom (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  JsonObject *custom = json_object_new ();
  json_object_set_string_member (custom, "operation", "boot");
  g_autoptr (JsonNode) report
      = sb_manifest_ecu_report_new (f->identity, &image_v1, 1, NULL, NULL, custom, &error);
  g_assert_no_error (error);
  /* Changing the caller's object afterwards cannot change what was signed. */
  json_object_set_string_member (custom, "operation", "changed");
  json_object_unref (custom);

  JsonObject *body = json_object_get_object_member (json_node_get_object (report), "signed");
  assert_members (body, "attacks_detected,custom,ecu_serial,installed_image,"
                        "previous_timeserver_time,report_counter,timeserver_time");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (body, "custom"),
                                                  "operation"),
                   ==, "boot");
  g_assert_cmpstr (json_object_get_string_member (body, "previous_timeserver_time"), ==,
                   "1970-01-01T00:00:00Z");
  assert_signature_by (report, sb_identity_get_public_key (f->identity), "ed25519");
}

static void
test_vehicle_golden (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) ecu_report = make_ecu_report (f, 3);
  g_autoptr (GDateTime) t = fixed_time ();
  g_autoptr (SbReport) result = sb_report_new ("urn:here-ota:campaign:42", "rootfs-v2.img", FALSE,
                                               SB_RESULT_INSTALL_FAILED,
                                               "rolled back after 3 failed boots", t);
  g_autoptr (JsonNode) ir = sb_manifest_installation_report_new ("primary-1", result);
  g_autoptr (JsonNode) manifest = sb_manifest_vehicle_new (f->identity, ecu_report, ir, &error);
  g_assert_no_error (error);
  assert_signature_by (manifest, sb_identity_get_public_key (f->identity), "ed25519");

  JsonObject *body = json_object_get_object_member (json_node_get_object (manifest), "signed");
  assert_members (body, "ecu_version_manifests,installation_report,primary_ecu_serial");
  g_assert_cmpstr (json_object_get_string_member (body, "primary_ecu_serial"), ==, "primary-1");
  JsonObject *reports = json_object_get_object_member (body, "ecu_version_manifests");
  assert_members (reports, "primary-1");
  /* The nested report is the signed ECU version report, unchanged. */
  g_autofree char *nested = canonical_text (json_object_get_member (reports, "primary-1"));
  g_autofree char *original = canonical_text (ecu_report);
  g_assert_cmpstr (nested, ==, original);

  g_autofree char *ir_text = canonical_text (json_object_get_member (body, "installation_report"));
  g_assert_cmpstr (ir_text, ==,
                   "{\"content_type\":\"application/vnd.com.here.otac.installationReport.v1\","
                   "\"report\":{\"correlation_id\":\"urn:here-ota:campaign:42\","
                   "\"items\":[{\"ecu\":\"primary-1\",\"result\":{\"code\":\"INSTALL_FAILED\","
                   "\"description\":\"rolled back after 3 failed boots\",\"success\":false}}],"
                   "\"raw_report\":\"rolled back after 3 failed boots\","
                   "\"result\":{\"code\":\"INSTALL_FAILED\","
                   "\"description\":\"rolled back after 3 failed boots\",\"success\":false}}}");
}

static void
test_installation_report_success (Fixture *f, gconstpointer data)
{
  g_autoptr (SbReport) result
      = sb_report_new ("corr-1", "rootfs-v2.img", TRUE, SB_RESULT_OK, "installed", NULL);
  g_autoptr (JsonNode) ir = sb_manifest_installation_report_new ("primary-1", result);
  JsonObject *report = json_object_get_object_member (json_node_get_object (ir), "report");
  g_assert_cmpstr (json_object_get_string_member (report, "correlation_id"), ==, "corr-1");
  JsonObject *res = json_object_get_object_member (report, "result");
  assert_members (res, "code,description,success");
  g_assert_cmpstr (json_object_get_string_member (res, "code"), ==, "OK");
  g_assert_true (json_object_get_boolean_member (res, "success"));
  JsonArray *items = json_object_get_array_member (report, "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  JsonObject *item = json_array_get_object_element (items, 0);
  g_assert_cmpstr (json_object_get_string_member (item, "ecu"), ==, "primary-1");
  g_assert_true (
      json_object_get_boolean_member (json_object_get_object_member (item, "result"), "success"));
}

static void
test_assemble_verifies (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReport) result
      = sb_report_new ("corr-9", "rootfs-v1.img", TRUE, SB_RESULT_OK, "installed", NULL);
  g_autoptr (GBytes) bytes
      = sb_manifest_assemble (f->identity, f->cfg->state_dir, &image_v1, result, &error);
  g_assert_no_error (error);

  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (f->identity);
  g_autoptr (JsonNode) verified = sb_manifest_verify (bytes, key, &error);
  g_assert_no_error (error);
  JsonObject *body = json_object_get_object_member (json_node_get_object (verified), "signed");
  JsonObject *ir = json_object_get_object_member (body, "installation_report");
  g_assert_cmpstr (json_object_get_string_member (ir, "content_type"), ==,
                   SB_INSTALLATION_REPORT_CONTENT_TYPE);

  /* Text with control characters and quotes goes over the wire as valid JSON and comes back
   * unchanged. */
  g_autoptr (SbReport) odd = sb_report_new ("c\"1", "t", FALSE, SB_RESULT_INSTALL_FAILED,
                                            "line one\nline \"two\"\t\\ \u00e9", NULL);
  g_autoptr (GBytes) odd_bytes
      = sb_manifest_assemble (f->identity, f->cfg->state_dir, &image_v1, odd, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) odd_node = sb_manifest_verify (odd_bytes, key, &error);
  g_assert_no_error (error);
  JsonObject *odd_report = json_object_get_object_member (
      json_object_get_object_member (
          json_object_get_object_member (json_node_get_object (odd_node), "signed"),
          "installation_report"),
      "report");
  g_assert_cmpstr (json_object_get_string_member (odd_report, "raw_report"), ==,
                   "line one\nline \"two\"\t\\ \u00e9");

  /* Without a result there is no installation report. */
  g_autoptr (GBytes) plain
      = sb_manifest_assemble (f->identity, f->cfg->state_dir, &image_v1, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) plain_node = sb_manifest_verify (plain, key, &error);
  g_assert_no_error (error);
  JsonObject *plain_body
      = json_object_get_object_member (json_node_get_object (plain_node), "signed");
  assert_members (plain_body, "ecu_version_manifests,primary_ecu_serial");
}

static void
test_rsa_method (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = g_build_filename (f->dir, "rsa", NULL);
  g_free (f->cfg->state_dir);
  f->cfg->state_dir = g_steal_pointer (&state);
  g_autoptr (SbIdentity) id = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_RSA, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes
      = sb_manifest_assemble (id, f->cfg->state_dir, &image_v1, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) node = parse (bytes);
  assert_signature_by (node, sb_identity_get_public_key (id), "rsassa-pss-sha256");
  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (id);
  g_autoptr (JsonNode) verified = sb_manifest_verify (bytes, key, &error);
  g_assert_no_error (error);
}

/* Re-signs a changed "signed" so that only the nested report's signature is wrong. */
static GBytes *
resign_vehicle (SbIdentity *id, JsonNode *manifest)
{
  g_autoptr (GError) error = NULL;
  JsonNode *body = json_object_get_member (json_node_get_object (manifest), "signed");
  g_autoptr (JsonNode) resigned = sb_manifest_sign (sb_identity_get_signer (id), body, &error);
  g_assert_no_error (error);
  return encode (resigned);
}

static void
test_tampering_detected (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes
      = sb_manifest_assemble (f->identity, f->cfg->state_dir, &image_v1, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (f->identity);

  /* The vehicle level: a changed primary serial. */
  g_autoptr (JsonNode) m1 = parse (bytes);
  JsonObject *body1 = json_object_get_object_member (json_node_get_object (m1), "signed");
  json_object_set_string_member (body1, "primary_ecu_serial", "someone-else");
  g_autoptr (GBytes) t1 = encode (m1);
  g_autoptr (JsonNode) r1 = sb_manifest_verify (t1, key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
  g_assert_null (r1);
  g_clear_error (&error);

  /* The nested ECU report: another installed image, under a valid vehicle signature. */
  g_autoptr (JsonNode) m2 = parse (bytes);
  JsonObject *body2 = json_object_get_object_member (json_node_get_object (m2), "signed");
  JsonObject *ecu = json_object_get_object_member (
      json_object_get_object_member (body2, "ecu_version_manifests"), "primary-1");
  JsonObject *image
      = json_object_get_object_member (json_object_get_object_member (ecu, "signed"),
                                       "installed_image");
  json_object_set_string_member (image, "filepath", "rootfs-evil.img");
  g_autoptr (GBytes) t2 = resign_vehicle (f->identity, m2);
  g_autoptr (JsonNode) r2 = sb_manifest_verify (t2, key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
  g_assert_null (r2);
  g_clear_error (&error);

  /* A signature replaced by bytes that are not base64. */
  g_autoptr (JsonNode) m3 = parse (bytes);
  JsonObject *sig = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (m3), "signatures"), 0);
  json_object_set_string_member (sig, "sig", "not base64 at all!");
  g_autoptr (GBytes) t3 = encode (m3);
  g_autoptr (JsonNode) r3 = sb_manifest_verify (t3, key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);

  /* Untouched, it verifies. */
  g_autoptr (JsonNode) ok = sb_manifest_verify (bytes, key, &error);
  g_assert_no_error (error);
}

static void
test_other_key_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes
      = sb_manifest_assemble (f->identity, f->cfg->state_dir, &image_v1, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (SbSigner) other = sb_signer_generate (SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) other_key = sb_key_to_json (sb_signer_get_public (other));
  g_autoptr (JsonNode) r = sb_manifest_verify (bytes, other_key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
  g_assert_null (r);
}

static void
test_report_under_wrong_serial (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* Same key, but the vehicle files the report of "primary-1" under "primary-2". */
  g_autoptr (JsonNode) ecu_report = make_ecu_report (f, 1);
  g_free (f->cfg->ecu_serial);
  f->cfg->ecu_serial = g_strdup ("primary-2");
  g_autoptr (SbIdentity) renamed = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_ED25519,
                                                               &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) manifest = sb_manifest_vehicle_new (renamed, ecu_report, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes = encode (manifest);
  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (renamed);
  g_autoptr (JsonNode) r = sb_manifest_verify (bytes, key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_ECU_ID);
  g_assert_null (r);
}

static void
test_secondary_needs_its_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* A secondary ECU with a key of its own. */
  g_autoptr (SbSigner) secondary = sb_signer_generate (SB_KEY_TYPE_ECDSA, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) primary_report = make_ecu_report (f, 1);
  g_autoptr (JsonNode) manifest = sb_manifest_vehicle_new (f->identity, primary_report, NULL,
                                                           &error);
  g_assert_no_error (error);
  JsonObject *body = json_object_get_object_member (json_node_get_object (manifest), "signed");
  JsonObject *reports = json_object_get_object_member (body, "ecu_version_manifests");
  g_autoptr (JsonNode) secondary_body = json_from_string (
      "{\"attacks_detected\":\"\",\"ecu_serial\":\"secondary-7\",\"installed_image\":"
      "{\"filepath\":\"fw.bin\",\"fileinfo\":{\"hashes\":{\"sha256\":\"00\"},\"length\":1}}}",
      &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) secondary_report = sb_manifest_sign (secondary, secondary_body, &error);
  g_assert_no_error (error);
  json_object_set_member (reports, "secondary-7", json_node_ref (secondary_report));
  g_autoptr (GBytes) bytes = resign_vehicle (f->identity, manifest);
  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (f->identity);

  g_autoptr (JsonNode) r1 = sb_manifest_verify (bytes, key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_ECU_ID);
  g_assert_null (r1);
  g_clear_error (&error);

  g_autoptr (GHashTable) keys
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) json_node_unref);
  g_hash_table_insert (keys, g_strdup ("secondary-7"),
                       sb_key_to_json (sb_signer_get_public (secondary)));
  g_autoptr (JsonNode) r2 = sb_manifest_verify_with_keys (bytes, key, keys, &error);
  g_assert_no_error (error);

  /* The secondary's report checked against another key fails. */
  g_hash_table_insert (keys, g_strdup ("secondary-7"), json_node_ref (key));
  g_autoptr (JsonNode) r3 = sb_manifest_verify_with_keys (bytes, key, keys, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
}

static void
test_malformed_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (f->identity);
  const char *docs[] = {
    "not json",
    "[]",
    "{\"signatures\":[]}",
    "{\"signatures\":{},\"signed\":{}}",
    "{\"signatures\":[],\"signed\":[]}",
    "{\"signatures\":[{\"keyid\":\"x\",\"sig\":\"AA==\"}],\"signed\":{}}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = g_bytes_new_static (docs[i], strlen (docs[i]));
      g_autoptr (JsonNode) r = sb_manifest_verify (bytes, key, &error);
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
      g_assert_null (r);
    }

  /* Well signed, but not a vehicle manifest. */
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = json_from_string ("{\"primary_ecu_serial\":\"primary-1\"}", &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) doc = sb_manifest_sign (sb_identity_get_signer (f->identity), body, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes = encode (doc);
  g_autoptr (JsonNode) r = sb_manifest_verify (bytes, key, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_assert_null (r);
}

static void
test_counter_increases_and_persists (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) t1 = g_date_time_new_utc (2024, 1, 1, 0, 0, 0);
  g_autoptr (GDateTime) t2 = g_date_time_new_utc (2024, 1, 2, 0, 0, 0);
  guint64 counter = 0;
  g_autofree char *prev1 = NULL, *prev2 = NULL;

  g_assert_true (sb_manifest_next_report_counter (f->dir, t1, &counter, &prev1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counter, ==, 1);
  g_assert_cmpstr (prev1, ==, "1970-01-01T00:00:00Z");
  g_assert_true (sb_manifest_next_report_counter (f->dir, t2, &counter, &prev2, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counter, ==, 2);
  g_assert_cmpstr (prev2, ==, "2024-01-01T00:00:00Z");

  /* Every assembled manifest takes the next value, also after a restart (a new identity object
   * over the same state directory). */
  g_autoptr (SbIdentity) restarted
      = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  for (guint64 expected = 3; expected <= 5; expected++)
    {
      g_autoptr (GBytes) bytes
          = sb_manifest_assemble (restarted, f->cfg->state_dir, &image_v1, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (JsonNode) m = parse (bytes);
      JsonObject *body = json_object_get_object_member (json_node_get_object (m), "signed");
      JsonObject *ecu = json_object_get_object_member (
          json_object_get_object_member (body, "ecu_version_manifests"), "primary-1");
      guint64 got = 0;
      g_assert_true (sb_manifest_get_report_counter (json_object_get_object_member (ecu, "signed"),
                                                     &got, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (got, ==, expected);
    }
}

static void
test_counter_unreadable_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, SB_REPORT_COUNTER_FILE_NAME, NULL);
  const char *bad[] = { "garbage", "{\"report_counter\":-1,\"time\":\"x\"}",
                        "{\"report_counter\":\"5\",\"time\":\"x\"}", "{\"time\":\"x\"}" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
      guint64 counter = 0;
      g_assert_false (sb_manifest_next_report_counter (f->dir, NULL, &counter, NULL, &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
      g_clear_error (&error);
      /* Refused, and left for inspection rather than reset to a lower value. */
      g_autofree char *after = NULL;
      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (after, ==, bad[i]);
    }
}

/* Report queue. */

static SbReportQueue *
open_queue (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbReportQueue *q = sb_report_queue_open (f->dir, &error);
  g_assert_no_error (error);
  return q;
}

static void
enqueue (SbReportQueue *q, const char *corr, gboolean success, const char *code)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *desc = g_strdup_printf ("result of %s", corr);
  g_autoptr (SbReport) r = sb_report_new (corr, "img", success, code, desc, NULL);
  g_assert_true (sb_report_queue_enqueue (q, r, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r->seq, >, 0);
}

static GPtrArray *
list_ok (SbReportQueue *q)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *list = sb_report_queue_list (q, &error);
  g_assert_no_error (error);
  return list;
}

static void
test_queue_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReportQueue) q = open_queue (f);
  SbReport *peeked = NULL;
  g_assert_true (sb_report_queue_peek (q, &peeked, &error));
  g_assert_null (peeked);

  const char *corrs[] = { "c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8", "c-9", "c-10",
                          "c-11" };
  for (gsize i = 0; i < G_N_ELEMENTS (corrs); i++)
    enqueue (q, corrs[i], i % 2 == 0, i % 2 == 0 ? SB_RESULT_OK : SB_RESULT_DOWNLOAD_FAILED);

  g_autoptr (GPtrArray) list = list_ok (q);
  g_assert_cmpuint (list->len, ==, G_N_ELEMENTS (corrs));
  for (guint i = 0; i < list->len; i++)
    {
      SbReport *r = list->pdata[i];
      g_assert_cmpstr (r->correlation_id, ==, corrs[i]);
      g_assert_cmpint (r->success, ==, i % 2 == 0);
      if (i > 0)
        g_assert_cmpuint (r->seq, >, ((SbReport *) list->pdata[i - 1])->seq);
    }

  g_autoptr (SbReport) oldest = NULL;
  g_assert_true (sb_report_queue_peek (q, &oldest, &error));
  g_assert_cmpstr (oldest->correlation_id, ==, "c-1");
  g_assert_cmpstr (oldest->result_code, ==, "OK");
  g_assert_true (sb_report_queue_remove (q, oldest->seq, &error));
  g_assert_no_error (error);
  /* Removing twice (a repeat after a power cut) is fine. */
  g_assert_true (sb_report_queue_remove (q, oldest->seq, &error));
  g_assert_no_error (error);

  g_autoptr (SbReport) next = NULL;
  g_assert_true (sb_report_queue_peek (q, &next, &error));
  g_assert_cmpstr (next->correlation_id, ==, "c-2");
  g_assert_cmpstr (next->result_code, ==, "DOWNLOAD_FAILED");
  g_assert_false (next->success);
}

static void
test_queue_persists (Fixture *f, gconstpointer data)
{
  g_autoptr (SbReportQueue) q = open_queue (f);
  enqueue (q, "first", TRUE, SB_RESULT_OK);
  enqueue (q, "second", FALSE, SB_RESULT_INSTALL_FAILED);
  g_clear_pointer (&q, sb_report_queue_free);

  g_autoptr (SbReportQueue) again = open_queue (f);
  g_autoptr (GPtrArray) list = list_ok (again);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((SbReport *) list->pdata[0])->correlation_id, ==, "first");
  g_assert_cmpstr (((SbReport *) list->pdata[1])->correlation_id, ==, "second");
  g_assert_cmpstr (((SbReport *) list->pdata[1])->description, ==, "result of second");
  /* New results still go behind the old ones. */
  enqueue (again, "third", TRUE, SB_RESULT_OK);
  g_autoptr (GPtrArray) list2 = list_ok (again);
  g_assert_cmpstr (((SbReport *) list2->pdata[2])->correlation_id, ==, "third");
}

static void
test_queue_file_format (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReportQueue) q = open_queue (f);
  g_autoptr (GDateTime) t = fixed_time ();
  g_autoptr (SbReport) r
      = sb_report_new ("corr", "rootfs-v2.img", FALSE, SB_RESULT_INSTALL_FAILED, "why", t);
  g_assert_true (sb_report_queue_enqueue (q, r, &error));
  g_assert_no_error (error);

  g_autofree char *name = g_strdup_printf ("%016" G_GUINT64_FORMAT ".json", r->seq);
  g_autofree char *path = g_build_filename (sb_report_queue_get_dir (q), name, NULL);
  g_autoptr (GBytes) bytes = sb_read_file (path, 65536, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) node = parse (bytes);
  g_autofree char *text = canonical_text (node);
  g_assert_cmpstr (text, ==,
                   "{\"correlation_id\":\"corr\",\"description\":\"why\",\"result_code\":"
                   "\"INSTALL_FAILED\",\"success\":false,\"target\":\"rootfs-v2.img\","
                   "\"time\":\"2024-05-01T12:30:00Z\"}");

  /* A file written by another writer of the same format (switchback-boot) is read; a time in
   * seconds since the epoch is understood too. */
  g_autofree char *foreign = g_build_filename (sb_report_queue_get_dir (q),
                                               "0000000000000009.json", NULL);
  g_assert_true (g_file_set_contents (
      foreign,
      "{\"correlation_id\":\"b\",\"target\":\"t\",\"success\":false,\"result_code\":"
      "\"INSTALL_FAILED\",\"description\":\"rolled back after 3 failed boots\",\"time\":0}",
      -1, NULL));
  g_autoptr (GPtrArray) list = list_ok (q);
  g_assert_cmpuint (list->len, ==, 2);
  SbReport *b = list->pdata[1];
  g_assert_cmpuint (b->seq, ==, 9);
  g_assert_cmpstr (b->time, ==, "1970-01-01T00:00:00Z");
  g_assert_cmpstr (b->description, ==, "rolled back after 3 failed boots");
}

static void
test_queue_corrupt_skipped (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReportQueue) q = open_queue (f);
  enqueue (q, "good-1", TRUE, SB_RESULT_OK);
  const char *dir = sb_report_queue_get_dir (q);
  g_autofree char *bad = g_build_filename (dir, "0000000000000002.json", NULL);
  g_autofree char *wrong_type = g_build_filename (dir, "0000000000000003.json", NULL);
  g_assert_true (g_file_set_contents (bad, "{\"correlation_id\": tru", -1, NULL));
  g_assert_true (g_file_set_contents (
      wrong_type,
      "{\"correlation_id\":\"x\",\"target\":\"t\",\"success\":\"yes\",\"result_code\":\"OK\","
      "\"description\":\"d\",\"time\":\"t\"}",
      -1, NULL));
  /* Names that are not queue files are left alone. */
  g_autofree char *tmp = g_build_filename (dir, ".0000000000000004.json.Xy12Zq", NULL);
  g_assert_true (g_file_set_contents (tmp, "partial", -1, NULL));

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*0000000000000002.json*damaged*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*0000000000000003.json*damaged*");
  g_autoptr (GPtrArray) list = list_ok (q);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((SbReport *) list->pdata[0])->correlation_id, ==, "good-1");

  /* Moved aside, not deleted; the next result still goes behind them. */
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  g_autofree char *bad_aside = g_strconcat (bad, ".bad", NULL);
  g_assert_true (g_file_test (bad_aside, G_FILE_TEST_EXISTS));
  g_autofree char *wrong_aside = g_strconcat (wrong_type, ".bad", NULL);
  g_assert_true (g_file_test (wrong_aside, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (tmp, G_FILE_TEST_EXISTS));
  g_autoptr (SbReport) r = sb_report_new ("good-2", "img", TRUE, SB_RESULT_OK, "", NULL);
  g_assert_true (sb_report_queue_enqueue (q, r, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r->seq, ==, 4);

  /* A result without a code is not queued. */
  g_autoptr (SbReport) no_code = sb_report_new ("c", "img", FALSE, NULL, "", NULL);
  g_assert_false (sb_report_queue_enqueue (q, no_code, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Peek skips a damaged oldest file too. */
  g_autoptr (SbReport) first = NULL;
  g_assert_true (sb_report_queue_peek (q, &first, &error));
  g_assert_true (sb_report_queue_remove (q, first->seq, &error));
  g_autofree char *bad2 = g_build_filename (dir, "0000000000000003.json", NULL);
  g_assert_true (g_file_set_contents (bad2, "", -1, NULL));
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*damaged*");
  g_autoptr (SbReport) oldest = NULL;
  g_assert_true (sb_report_queue_peek (q, &oldest, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpstr (oldest->correlation_id, ==, "good-2");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/manifest/ecu-report/golden-fields-and-signature", test_ecu_report_golden);
  ADD ("/manifest/ecu-report/custom-copied-and-signed", test_ecu_report_custom);
  ADD ("/manifest/vehicle/golden-fields-and-signature", test_vehicle_golden);
  ADD ("/manifest/installation-report/success", test_installation_report_success);
  ADD ("/manifest/assemble/verifies", test_assemble_verifies);
  ADD ("/manifest/assemble/rsa-method", test_rsa_method);
  ADD ("/manifest/verify/tampering-detected", test_tampering_detected);
  ADD ("/manifest/verify/other-key-refused", test_other_key_refused);
  ADD ("/manifest/verify/report-under-wrong-serial-refused", test_report_under_wrong_serial);
  ADD ("/manifest/verify/secondary-needs-its-key", test_secondary_needs_its_key);
  ADD ("/manifest/verify/malformed-refused", test_malformed_refused);
  ADD ("/manifest/report-counter/increases-and-persists", test_counter_increases_and_persists);
  ADD ("/manifest/report-counter/unreadable-refused", test_counter_unreadable_refused);
  ADD ("/report-queue/order", test_queue_order);
  ADD ("/report-queue/persists-across-reopen", test_queue_persists);
  ADD ("/report-queue/file-format", test_queue_file_format);
  ADD ("/report-queue/corrupt-file-moved-aside", test_queue_corrupt_skipped);
  return g_test_run ();
}
