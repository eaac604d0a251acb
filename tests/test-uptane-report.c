/* Tests for sb-manifest-sender (the manifest PUT and the order of queued results) and the pure
 * parts of sb-uptane-freshness (clock plausibility). */
#include "config.h"

#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "core/sb-json.h"
#include "uptane/sb-manifest-sender.h"
#include "core/sb-metadata.h"
#include "sb-test-httpd.h"
#include "sb-test-util.h"
#include "uptane/sb-uptane-freshness.h"

#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#define ECU "primary-1"
#define MANIFEST_PATH "/director/manifest"

typedef struct {
  char *dir;
  SbConfig *config;
  SbIdentity *identity;
  SbTestHttpd *httpd;
  char *director_url;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = sb_test_make_tmpdir ();
  f->config = sb_config_new_defaults ();
  g_free (f->config->state_dir);
  f->config->state_dir = g_strdup (f->dir);
  f->config->ecu_serial = g_strdup (ECU);
  f->identity = sb_identity_load_or_create (f->config, SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  f->httpd = sb_test_httpd_new (NULL);
  f->director_url = sb_test_httpd_url (f->httpd, "/director");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_httpd_free (f->httpd);
  sb_identity_unref (f->identity);
  sb_config_free (f->config);
  sb_test_rm_rf (f->dir);
  g_free (f->director_url);
  g_free (f->dir);
}

static SbFetcher *
new_fetcher (void)
{
  SbFetcherOptions opts;
  sb_fetcher_options_init (&opts);
  opts.retry_base_ms = 1;
  opts.max_retries = 1;
  g_autoptr (GError) error = NULL;
  SbFetcher *fetcher = sb_fetcher_new (&opts, &error);
  g_assert_no_error (error);
  return fetcher;
}

static gboolean
send (Fixture *f, const SbInstalledImage *installed, guint *out_sent, GError **error)
{
  g_autoptr (SbFetcher) fetcher = new_fetcher ();
  return sb_manifest_sender_send (fetcher, f->identity, f->dir, f->director_url, installed,
                                  out_sent, error);
}

static void
send_ok (Fixture *f, const SbInstalledImage *installed, guint want_sent)
{
  g_autoptr (GError) error = NULL;
  guint sent = 99;
  g_assert_true (send (f, installed, &sent, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sent, ==, want_sent);
}

/* The last manifest the server received, verified with the ECU's public key; its "signed". */
static JsonNode *
last_manifest (Fixture *f)
{
  g_autoptr (GBytes) body = sb_test_httpd_get_last_put (f->httpd, MANIFEST_PATH);
  g_assert_nonnull (body);
  g_autoptr (JsonNode) key = sb_identity_get_public_key_json (f->identity);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) verified = sb_manifest_verify (body, key, &error);
  g_assert_no_error (error);
  JsonNode *signed_node = json_object_get_member (json_node_get_object (verified), "signed");
  return json_node_copy (signed_node);
}

static JsonObject *
ecu_report (JsonNode *manifest)
{
  JsonObject *m = json_node_get_object (manifest);
  JsonObject *reports = json_object_get_object_member (m, "ecu_version_manifests");
  return json_object_get_object_member (json_object_get_object_member (reports, ECU), "signed");
}

static guint64
report_counter (JsonNode *manifest)
{
  g_autoptr (GError) error = NULL;
  guint64 counter = 0;
  g_assert_true (sb_manifest_get_report_counter (ecu_report (manifest), &counter, &error));
  g_assert_no_error (error);
  return counter;
}

/* installation_report.report of @manifest, or NULL when it carries none. */
static JsonObject *
installation_report (JsonNode *manifest)
{
  JsonObject *m = json_node_get_object (manifest);
  if (!json_object_has_member (m, "installation_report"))
    return NULL;
  return json_object_get_object_member (json_object_get_object_member (m, "installation_report"),
                                        "report");
}

static void
enqueue (Fixture *f, const char *correlation_id, gboolean success, const char *code,
         const char *description)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_install_state_record_result (f->dir, correlation_id, "fw.bin", success, code,
                                                 description, &error));
  g_assert_no_error (error);
}

static guint
queue_length (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReportQueue) queue = sb_report_queue_open (f->dir, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) list = sb_report_queue_list (queue, &error);
  g_assert_no_error (error);
  return list->len;
}

static void
test_put_signed (Fixture *f, gconstpointer data)
{
  static const SbInstalledImage installed = {
    .filepath = "fw-1.bin",
    .sha256 = "3c9909afec25354d551dae21590bb26e38d53f2173b8d3dc3eee4c047e7ab1c1",
    .length = 12,
  };
  send_ok (f, &installed, 0);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, MANIFEST_PATH), ==, 1);
  g_autoptr (JsonNode) manifest = last_manifest (f);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (manifest),
                                                  "primary_ecu_serial"),
                   ==, ECU);
  g_assert_null (installation_report (manifest));
  JsonObject *image = json_object_get_object_member (ecu_report (manifest), "installed_image");
  g_assert_cmpstr (json_object_get_string_member (image, "filepath"), ==, "fw-1.bin");

  /* Without a known installed image, the placeholder is reported. */
  send_ok (f, NULL, 0);
  g_autoptr (JsonNode) second = last_manifest (f);
  image = json_object_get_object_member (ecu_report (second), "installed_image");
  g_assert_cmpstr (json_object_get_string_member (image, "filepath"), ==, "unknown");
}

static void
test_report_counter_increases (Fixture *f, gconstpointer data)
{
  guint64 previous = 0;
  for (int i = 0; i < 3; i++)
    {
      send_ok (f, NULL, 0);
      g_autoptr (JsonNode) manifest = last_manifest (f);
      guint64 counter = report_counter (manifest);
      g_assert_cmpuint (counter, >, previous);
      previous = counter;
    }
}

static void
test_results_in_order_once (Fixture *f, gconstpointer data)
{
  enqueue (f, "urn:c1", TRUE, SB_RESULT_OK, "installed fw.bin into slot B");
  send_ok (f, NULL, 1);
  g_autoptr (JsonNode) first = last_manifest (f);
  JsonObject *report = installation_report (first);
  g_assert_nonnull (report);
  g_assert_cmpstr (json_object_get_string_member (report, "correlation_id"), ==, "urn:c1");
  JsonObject *result = json_object_get_object_member (report, "result");
  g_assert_true (json_object_get_boolean_member (result, "success"));
  g_assert_cmpstr (json_object_get_string_member (result, "code"), ==, SB_RESULT_OK);
  JsonObject *item = json_array_get_object_element (json_object_get_array_member (report, "items"),
                                                    0);
  g_assert_cmpstr (json_object_get_string_member (item, "ecu"), ==, ECU);
  g_assert_cmpuint (queue_length (f), ==, 0);

  /* Two results; the last manifest carries the newer, after one for the older. */
  enqueue (f, "urn:c2", FALSE, SB_RESULT_DOWNLOAD_FAILED, "download of fw.bin failed");
  enqueue (f, "urn:c3", FALSE, SB_RESULT_INSTALL_FAILED, "rolled back after 3 failed boots");
  guint before = sb_test_httpd_get_hits (f->httpd, MANIFEST_PATH);
  send_ok (f, NULL, 2);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, MANIFEST_PATH), ==, before + 2);
  g_autoptr (JsonNode) last = last_manifest (f);
  report = installation_report (last);
  g_assert_cmpstr (json_object_get_string_member (report, "correlation_id"), ==, "urn:c3");
  result = json_object_get_object_member (report, "result");
  g_assert_false (json_object_get_boolean_member (result, "success"));
  g_assert_cmpstr (json_object_get_string_member (result, "code"), ==, SB_RESULT_INSTALL_FAILED);
  g_assert_cmpstr (json_object_get_string_member (report, "raw_report"), ==,
                   "rolled back after 3 failed boots");
  g_assert_cmpuint (queue_length (f), ==, 0);

  /* Sent once: the next cycle's manifest carries no result. */
  send_ok (f, NULL, 0);
  g_autoptr (JsonNode) plain = last_manifest (f);
  g_assert_null (installation_report (plain));

  /* The last accepted result is kept for status. */
  g_autoptr (SbReport) last_result = NULL;
  g_autofree char *reported_at = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_manifest_sender_load_last_result (f->dir, &last_result, &reported_at,
                                                      &error));
  g_assert_no_error (error);
  g_assert_cmpstr (last_result->correlation_id, ==, "urn:c3");
  g_assert_cmpstr (last_result->result_code, ==, SB_RESULT_INSTALL_FAILED);
  gint64 t = 0;
  g_assert_true (sb_metadata_parse_time (reported_at, &t, &error));
}

static void
test_failing_server_keeps_results (Fixture *f, gconstpointer data)
{
  enqueue (f, "urn:c1", TRUE, SB_RESULT_OK, "installed");
  enqueue (f, "urn:c2", FALSE, SB_RESULT_INSTALL_FAILED, "rolled back");
  SbTestFault fault = { .status = 500 };
  sb_test_httpd_set_fault (f->httpd, MANIFEST_PATH, &fault);
  g_autoptr (GError) error = NULL;
  guint sent = 99;
  g_assert_false (send (f, NULL, &sent, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
  g_assert_cmpuint (sent, ==, 0);
  g_assert_cmpuint (queue_length (f), ==, 2);
  g_autoptr (SbReport) none = NULL;
  g_autofree char *none_at = NULL;
  g_clear_error (&error);
  g_assert_true (sb_manifest_sender_load_last_result (f->dir, &none, &none_at, &error));
  g_assert_null (none);

  /* A restart: a new identity object over the same state directory; the server is back. */
  sb_test_httpd_set_fault (f->httpd, MANIFEST_PATH, NULL);
  sb_identity_unref (f->identity);
  f->identity = sb_identity_load_or_create (f->config, SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  send_ok (f, NULL, 2);
  g_assert_cmpuint (queue_length (f), ==, 0);
  g_autoptr (JsonNode) last = last_manifest (f);
  g_assert_cmpstr (json_object_get_string_member (installation_report (last), "correlation_id"),
                   ==, "urn:c2");
}

static void
test_manifest_url (Fixture *f, gconstpointer data)
{
  g_autofree char *a = sb_manifest_url ("https://d.example/director");
  g_autofree char *b = sb_manifest_url ("https://d.example/director/");
  g_assert_cmpstr (a, ==, "https://d.example/director/manifest");
  g_assert_cmpstr (b, ==, a);
}

/* ---- freshness ---- */

static gint64
utc (int y, int m, int d)
{
  g_autoptr (GDateTime) dt = g_date_time_new_utc (y, m, d, 0, 0, 0);
  return g_date_time_to_unix (dt);
}

static void
test_parse_build_date (Fixture *f, gconstpointer data)
{
  gint64 t = 0;
  g_assert_true (sb_freshness_parse_build_date ("Nov 27 2026", &t));
  g_assert_cmpint (t, ==, utc (2026, 11, 27));
  g_assert_true (sb_freshness_parse_build_date ("Jan  1 2024", &t));
  g_assert_cmpint (t, ==, utc (2024, 1, 1));
  const char *bad[] = { "", "Nov 27", "Foo 27 2026", "Nov 32 2026", "Feb 30 2024", "ov 27 2026",
                        "Nov 27 2026x", "Nov 27 1969", "vNo 27 2026" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (sb_freshness_parse_build_date (bad[i], &t));

  /* This build happened in the past, and after the project existed. */
  gint64 build = sb_freshness_build_time ();
  g_assert_cmpint (build, >, utc (2023, 1, 1));
  g_assert_cmpint (build, <=, g_get_real_time () / G_USEC_PER_SEC);
}

static void
test_clock_problem (Fixture *f, gconstpointer data)
{
  gint64 build = utc (2026, 11, 1);
  gint64 trusted = utc (2026, 11, 20);

  g_autofree char *fine = sb_freshness_clock_problem (utc (2026, 11, 21), build, trusted);
  g_assert_null (fine);
  g_autofree char *unknown = sb_freshness_clock_problem (utc (2026, 11, 2), build, 0);
  g_assert_null (unknown);
  g_autofree char *behind_trusted = sb_freshness_clock_problem (utc (2026, 11, 10), build, trusted);
  g_assert_nonnull (behind_trusted);
  g_autofree char *behind_build = sb_freshness_clock_problem (utc (2001, 1, 1), build, 0);
  g_assert_nonnull (behind_build);
  g_assert_cmpstr (behind_build, !=, behind_trusted);

  /* A clock in the past never makes expired metadata look fresh beyond the build date. */
  g_assert_cmpint (sb_freshness_reference_time (utc (2001, 1, 1), build), ==, build);
  g_assert_cmpint (sb_freshness_reference_time (trusted, build), ==, trusted);

  g_autoptr (GError) error = NULL;
  sb_throw (&error, SB_ERROR_EXPIRED, "timestamp expired");
  sb_freshness_annotate_error (&error, behind_build);
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_assert_true (g_str_has_suffix (error->message, behind_build));
  sb_freshness_annotate_error (&error, NULL);
  g_assert_true (g_str_has_suffix (error->message, behind_build));
}

static void
touch (const char *path, gint64 mtime)
{
  g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
  struct utimbuf times = { .actime = (time_t) mtime, .modtime = (time_t) mtime };
  g_assert_cmpint (utime (path, &times), ==, 0);
}

static void
test_newest_mtime (Fixture *f, gconstpointer data)
{
  g_autofree char *a = g_build_filename (f->dir, "a", NULL);
  g_autofree char *b = g_build_filename (f->dir, "b", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  g_assert_cmpint (g_mkdir (a, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (b, 0755), ==, 0);
  const char *none[] = { missing, NULL };
  g_assert_cmpint (sb_freshness_newest_mtime (none), ==, 0);

  g_autofree char *a1 = g_build_filename (a, "root.json", NULL);
  g_autofree char *b1 = g_build_filename (b, "timestamp.json", NULL);
  g_autofree char *sub = g_build_filename (b, "sub", NULL);
  touch (a1, 1700000000);
  touch (b1, 1700000500);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  const char *dirs[] = { a, missing, b, NULL };
  g_assert_cmpint (sb_freshness_newest_mtime (dirs), ==, 1700000500);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/manifest-sender/put-is-signed-by-the-ecu-key", test_put_signed);
  ADD ("/manifest-sender/report-counter-increases", test_report_counter_increases);
  ADD ("/manifest-sender/results-sent-in-order-once", test_results_in_order_once);
  ADD ("/manifest-sender/failing-server-keeps-results-for-restart",
       test_failing_server_keeps_results);
  ADD ("/manifest-sender/url", test_manifest_url);
  ADD ("/freshness/parse-build-date", test_parse_build_date);
  ADD ("/freshness/clock-problem-and-reference-time", test_clock_problem);
  ADD ("/freshness/newest-trusted-mtime", test_newest_mtime);
#undef ADD
  return g_test_run ();
}
