/* Tests for sb-uptane and sb-uptane-verify: full verification against a Director and an Image
 * repository served on loopback, the Uptane rules between them, and the trusted state left by
 * refused updates. */
#include "config.h"

#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "sb-test-httpd.h"
#include "sb-test-repo.h"
#include "sb-test-util.h"
#include "uptane/sb-uptane.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <utime.h>

#define ECU "ecu-1"
#define HWID "hw-1"
#define VIN "vin-1"
#define FW "fw-1.bin"
#define FW_CONTENT "firmware one"

typedef struct {
  char *dir;
  char *state_dir;
  SbTestRepo *director;
  SbTestRepo *image;
  GPtrArray *image_delegated; /* delegated role names of the Image repository */
  SbTestHttpd *httpd;
  SbConfig *config;
  SbIdentity *identity;
  gboolean ota_ce;
} Fixture;

static JsonObject *
target_entry (SbTestRepo *repo, const char *role, const char *name)
{
  JsonObject *targets = json_object_get_object_member (sb_test_repo_signed (repo, role), "targets");
  return json_object_get_object_member (targets, name);
}

static JsonObject *
ensure_custom (JsonObject *obj)
{
  if (!json_object_has_member (obj, "custom"))
    json_object_set_object_member (obj, "custom", json_object_new ());
  return json_object_get_object_member (obj, "custom");
}

/* A Director target for @serial with @hwid; @counter < 0: no release counter. */
static JsonObject *
add_director_target (Fixture *f, const char *name, const char *content, const char *serial,
                     const char *hwid, gint64 counter)
{
  sb_test_repo_add_target (f->director, "targets", name, content);
  JsonObject *custom = ensure_custom (target_entry (f->director, "targets", name));
  JsonObject *ecus = json_object_new ();
  JsonObject *ecu = json_object_new ();
  json_object_set_string_member (ecu, "hardwareId", hwid);
  json_object_set_object_member (ecus, serial, ecu);
  json_object_set_object_member (custom, "ecuIdentifiers", ecus);
  json_object_set_string_member (custom, "targetFormat", "BINARY");
  if (counter >= 0)
    json_object_set_int_member (custom, "releaseCounter", counter);
  return custom;
}

static JsonObject *
add_image_target (Fixture *f, const char *role, const char *name, const char *content,
                  const char *hwid, gint64 counter)
{
  sb_test_repo_add_target (f->image, role, name, content);
  JsonObject *custom = ensure_custom (target_entry (f->image, role, name));
  JsonArray *hwids = json_array_new ();
  json_array_add_string_element (hwids, hwid);
  json_object_set_array_member (custom, "hardwareIds", hwids);
  json_object_set_string_member (custom, "targetFormat", "BINARY");
  json_object_set_string_member (custom, "version", "1.0");
  if (counter >= 0)
    json_object_set_int_member (custom, "releaseCounter", counter);
  return custom;
}

static void
set_director_custom (Fixture *f, const char *vin, const char *correlation_id)
{
  JsonObject *custom = ensure_custom (sb_test_repo_signed (f->director, "targets"));
  if (vin != NULL)
    json_object_set_string_member (custom, "vin", vin);
  else
    json_object_remove_member (custom, "vin");
  if (correlation_id != NULL)
    json_object_set_string_member (custom, "correlationId", correlation_id);
}

static void
serve (Fixture *f, const char *path, GBytes *bytes)
{
  sb_test_httpd_set_file (f->httpd, path, bytes);
}

static void
serve_role (Fixture *f, SbTestRepo *repo, const char *prefix, const char *role)
{
  g_autoptr (GBytes) bytes = sb_test_repo_bytes (repo, role);
  g_autofree char *path = NULL;
  if (g_str_equal (role, "root"))
    path = g_strdup_printf ("%s/%" G_GINT64_FORMAT ".root.json", prefix,
                            sb_test_repo_get_version (repo, "root"));
  else if (repo == f->image && f->ota_ce && !sb_role_is_top_level (role))
    path = g_strdup_printf ("%s/delegations/%s.json", prefix, role);
  else
    path = g_strdup_printf ("%s/%s.json", prefix, role);
  serve (f, path, bytes);
}

/* Publishes both repositories as they are now: snapshot and timestamp list the current
 * versions. */
static void
publish (Fixture *f)
{
  sb_test_repo_update_snapshot_meta (f->director, FALSE);
  sb_test_repo_update_timestamp_meta (f->director, FALSE);
  serve_role (f, f->director, "/director", "root");
  serve_role (f, f->director, "/director", "targets");
  if (!f->ota_ce)
    {
      serve_role (f, f->director, "/director", "snapshot");
      serve_role (f, f->director, "/director", "timestamp");
    }
  sb_test_repo_update_snapshot_meta (f->image, FALSE);
  sb_test_repo_update_timestamp_meta (f->image, FALSE);
  const char *top[] = { "root", "targets", "snapshot", "timestamp" };
  for (guint i = 0; i < G_N_ELEMENTS (top); i++)
    serve_role (f, f->image, "/repo", top[i]);
  for (guint i = 0; i < f->image_delegated->len; i++)
    serve_role (f, f->image, "/repo", f->image_delegated->pdata[i]);
}

/* A new version of every role but root. */
static void
bump (SbTestRepo *repo)
{
  sb_test_repo_bump (repo, "targets");
  sb_test_repo_bump (repo, "snapshot");
  sb_test_repo_bump (repo, "timestamp");
}

static void
write_root (SbTestRepo *repo, const char *path)
{
  g_autoptr (GBytes) bytes = sb_test_repo_bytes (repo, "root");
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                       &error);
  g_assert_no_error (error);
}

enum {
  SCENE_OTA_CE = 1 << 0, /* the OTA Community Edition layout */
  SCENE_MTLS = 1 << 1,   /* both repositories over https with a client certificate */
};

static void
setup (Fixture *f, gconstpointer data)
{
  int scene = GPOINTER_TO_INT (data);
  f->ota_ce = (scene & SCENE_OTA_CE) != 0;
  f->dir = sb_test_make_tmpdir ();
  f->state_dir = g_build_filename (f->dir, "state", NULL);
  f->director = sb_test_repo_new ();
  f->image = sb_test_repo_new ();
  f->image_delegated = g_ptr_array_new_with_free_func (g_free);
  f->config = sb_config_new_defaults ();
  if (scene & SCENE_MTLS)
    {
      g_autoptr (GError) error = NULL;
      if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
        {
          g_test_skip ("no GIO TLS backend (glib-networking)");
          return;
        }
      if (!sb_test_make_tls_files (f->dir, &error))
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            {
              g_test_skip (error->message);
              return;
            }
          g_assert_no_error (error);
        }
      g_autofree char *cert = g_build_filename (f->dir, "server.pem", NULL);
      g_autofree char *key = g_build_filename (f->dir, "server.key", NULL);
      f->config->tls_ca = g_build_filename (f->dir, "ca.pem", NULL);
      f->config->tls_cert = g_build_filename (f->dir, "client.pem", NULL);
      f->config->tls_key = g_build_filename (f->dir, "client.key", NULL);
      f->httpd = sb_test_httpd_new_tls (NULL, cert, key, f->config->tls_ca);
    }
  else
    f->httpd = sb_test_httpd_new (NULL);

  g_free (f->config->state_dir);
  f->config->state_dir = g_strdup (f->state_dir);
  f->config->director_url = sb_test_httpd_url (f->httpd, "/director");
  f->config->image_url = sb_test_httpd_url (f->httpd, "/repo");
  g_free (f->config->director_root);
  f->config->director_root = g_build_filename (f->dir, "director-root.json", NULL);
  g_free (f->config->image_root);
  f->config->image_root = g_build_filename (f->dir, "image-root.json", NULL);
  f->config->ecu_serial = g_strdup (ECU);
  f->config->hardware_id = g_strdup (HWID);
  f->config->vehicle_id = g_strdup (VIN);
  f->config->ota_ce_compat = f->ota_ce;
  write_root (f->director, f->config->director_root);
  write_root (f->image, f->config->image_root);

  g_autoptr (GError) error = NULL;
  f->identity = sb_identity_load_or_create (f->config, SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);

  /* The default scene: one image for this ECU, matching in both repositories. */
  set_director_custom (f, VIN, "urn:test:1");
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, 1);
  add_image_target (f, "targets", FW, FW_CONTENT, HWID, 1);
  publish (f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->identity, sb_identity_unref);
  sb_config_free (f->config);
  g_clear_pointer (&f->httpd, sb_test_httpd_free);
  g_ptr_array_unref (f->image_delegated);
  sb_test_repo_free (f->director);
  sb_test_repo_free (f->image);
  sb_test_rm_rf (f->dir);
  g_free (f->state_dir);
  g_free (f->dir);
}

static SbUptane *
new_uptane (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbUptane *u = sb_uptane_new (f->config, f->identity, &error);
  g_assert_no_error (error);
  sb_uptane_set_reference_time (u, SB_TEST_NOW);
  return u;
}

static SbUptaneUpdate *
check_ok (Fixture *f)
{
  g_autoptr (SbUptane) u = new_uptane (f);
  g_autoptr (GError) error = NULL;
  SbUptaneUpdate *update = sb_uptane_check (u, &error);
  g_assert_no_error (error);
  g_assert_nonnull (update);
  return update;
}

static void
check_refused (Fixture *f, SbErrorCode code)
{
  g_autoptr (SbUptane) u = new_uptane (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (u, &error);
  g_assert_null (update);
  g_assert_error (error, SB_ERROR, (int) code);
  g_test_message ("refused: %s", error->message);
}

/* Every file of the trusted state (both metadata directories, counters.json), as
 * "path sha256" lines in name order. */
static void
collect_files (const char *dir, const char *rel, GPtrArray *lines)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *relpath = g_build_filename (rel, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          collect_files (path, relpath, lines);
          continue;
        }
      if (g_str_equal (name, ".lock"))
        continue;
      g_autofree char *contents = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      g_autofree char *digest = sb_sha256_hex (contents, len);
      g_ptr_array_add (lines, g_strdup_printf ("%s %s", relpath, digest));
    }
}

static int
compare_lines (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static char *
trusted_state (Fixture *f)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *metadata = g_build_filename (f->state_dir, "metadata", NULL);
  collect_files (metadata, "metadata", lines);
  g_autofree char *counters = g_build_filename (f->state_dir, SB_COUNTERS_FILE, NULL);
  g_autofree char *contents = NULL;
  if (g_file_get_contents (counters, &contents, NULL, NULL))
    g_ptr_array_add (lines, g_strdup_printf ("counters.json %s", contents));
  g_ptr_array_sort (lines, compare_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

/* Runs a good check, then @code is expected from the repositories as the test changed them, and
 * the trusted state must be exactly as the good check left it. */
static char *
good_check_then_state (Fixture *f)
{
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  return trusted_state (f);
}

static void
assert_refused_unchanged (Fixture *f, const char *before, SbErrorCode code)
{
  check_refused (f, code);
  g_autofree char *after = trusted_state (f);
  g_assert_cmpstr (before, ==, after);
}

/* ---- the good path ---- */

static void
test_check_assigned (Fixture *f, gconstpointer data)
{
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
  g_assert_cmpstr (update->correlation_id, ==, "urn:test:1");
  SbUptaneTarget *t = update->targets->pdata[0];
  g_assert_cmpstr (t->ecu_serial, ==, ECU);
  g_assert_cmpstr (t->hardware_id, ==, HWID);
  g_assert_cmpstr (t->name, ==, FW);
  g_assert_cmpuint (t->length, ==, strlen (FW_CONTENT));
  g_assert_cmpstr (t->format, ==, "BINARY");
  g_assert_true (t->has_release_counter);
  g_assert_cmpuint (t->release_counter, ==, 1);
  g_assert_cmpstr (t->version, ==, "1.0");
  g_autofree char *digest = sb_sha256_hex (FW_CONTENT, strlen (FW_CONTENT));
  g_assert_cmpstr (sb_uptane_target_get_sha256 (t), ==, digest);

  /* The trusted files and the counters record what was verified. */
  g_autofree char *dtargets = g_build_filename (f->state_dir, "metadata", "director",
                                                "targets.json", NULL);
  g_autofree char *itargets = g_build_filename (f->state_dir, "metadata", "image",
                                                "targets.json", NULL);
  g_assert_true (g_file_test (dtargets, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (itargets, G_FILE_TEST_IS_REGULAR));
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) counters = sb_counters_load (f->state_dir, &error);
  g_assert_no_error (error);
  guint64 v = 0;
  g_assert_true (sb_counters_get_version (counters, "director", "targets", &v));
  g_assert_cmpuint (v, ==, 1);
  g_assert_true (sb_counters_get_version (counters, "image", "snapshot", &v));
  g_assert_cmpuint (v, ==, 1);
  /* No staging copy is left behind. */
  g_autofree char *staging = g_build_filename (f->state_dir, "metadata", ".director.staging",
                                               NULL);
  g_assert_false (g_file_test (staging, G_FILE_TEST_EXISTS));
}

static void
test_check_url_and_again (Fixture *f, gconstpointer data)
{
  g_autoptr (SbUptane) u = new_uptane (f);
  for (int round = 0; round < 2; round++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SbUptaneUpdate) update = sb_uptane_check (u, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (update->targets->len, ==, 1);
      g_autofree char *url = sb_uptane_target_url (u, update->targets->pdata[0]);
      g_autofree char *want = sb_test_httpd_url (f->httpd, "/repo/targets/" FW);
      g_assert_cmpstr (url, ==, want);
    }
  /* The second check found the timestamp unchanged and did not download targets again. */
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, "/repo/targets.json"), ==, 1);
}

static void
test_check_nothing_assigned (Fixture *f, gconstpointer data)
{
  json_object_remove_member (json_object_get_object_member (sb_test_repo_signed (f->director,
                                                                                 "targets"),
                                                            "targets"),
                             FW);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 0);
  /* Uptane §5.4.4.2 step 5: nothing to match, the Image repository is not asked. */
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, "/repo/timestamp.json"), ==, 0);
}

/* ---- Director rules ---- */

static void
test_director_replay_without_vin (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  json_object_remove_member (json_object_get_object_member (sb_test_repo_signed (f->director,
                                                                                 "targets"),
                                                            "targets"),
                             FW);
  set_director_custom (f, NULL, NULL);
  bump (f->director);
  publish (f);
  if (f->ota_ce)
    {
      /* OTA Community Edition signs no vin: an empty list is accepted. */
      g_autoptr (SbUptaneUpdate) update = check_ok (f);
      g_assert_cmpuint (update->targets->len, ==, 0);
      return;
    }
  assert_refused_unchanged (f, before, SB_ERROR_REPLAY);

  /* The Director signs it properly: the next check succeeds. */
  set_director_custom (f, VIN, NULL);
  bump (f->director);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 0);
}

static void
test_director_other_vin (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  set_director_custom (f, "vin-2", NULL);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_REPLAY);
}

static void
test_director_delegations (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  const char *paths[] = { "*", NULL };
  sb_test_repo_delegate (f->director, "targets", "sneaky", paths, NULL, FALSE);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_PARSE);
}

static void
test_director_unknown_ecu (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  /* One good image for this ECU and one for an ECU this vehicle does not have: all refused. */
  add_director_target (f, "other.bin", "other", "ecu-unknown", HWID, 1);
  add_image_target (f, "targets", "other.bin", "other", HWID, 1);
  bump (f->director);
  bump (f->image);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_BAD_ECU_ID);
}

static void
test_director_bad_hardware_id (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  add_director_target (f, FW, FW_CONTENT, ECU, "hw-other", 1);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_BAD_HARDWARE_ID);
}

static void
test_director_ecu_twice (Fixture *f, gconstpointer data)
{
  add_director_target (f, "second.bin", "second", ECU, HWID, 1);
  add_image_target (f, "targets", "second.bin", "second", HWID, 1);
  publish (f);
  check_refused (f, SB_ERROR_BAD_ECU_ID);
}

/* ---- matching the Image repository ---- */

static void
test_match_hash (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  /* Same name and length, other bytes: the Director points at an image the Image repository
   * does not vouch for. */
  add_director_target (f, FW, "firmware 0ne", ECU, HWID, 1);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_MISMATCH);
}

static void
test_match_length (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  JsonObject *entry = target_entry (f->director, "targets", FW);
  json_object_set_int_member (entry, "length", (gint64) strlen (FW_CONTENT) + 1);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_MISMATCH);
}

static void
test_match_no_common_hash (Fixture *f, gconstpointer data)
{
  JsonObject *hashes =
      json_object_get_object_member (target_entry (f->director, "targets", FW), "hashes");
  g_autofree char *sha512 = sb_sha512_hex (FW_CONTENT, strlen (FW_CONTENT));
  json_object_remove_member (hashes, "sha256");
  json_object_set_string_member (hashes, "sha512", sha512);
  publish (f);
  check_refused (f, SB_ERROR_MISMATCH);
}

static void
test_match_image_hardware_id (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  add_image_target (f, "targets", FW, FW_CONTENT, "hw-other", 1);
  bump (f->image);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_BAD_HARDWARE_ID);
}

static void
test_match_release_counter (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, 2);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_MISMATCH);

  /* Only one side gives a counter. */
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, -1);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_MISMATCH);

  /* Both agree again. */
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, 1);
  bump (f->director);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

static void
commit_rollback_counter (Fixture *f, guint64 value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) counters = sb_counters_load (f->state_dir, &error);
  g_assert_no_error (error);
  g_assert_true (sb_counters_set_rollback_counter (counters, value, &error));
  g_assert_no_error (error);
  g_assert_true (g_mkdir_with_parents (f->state_dir, 0755) == 0);
  g_assert_true (sb_counters_save (counters, f->state_dir, &error));
  g_assert_no_error (error);
}

static void
test_match_release_counter_rollback (Fixture *f, gconstpointer data)
{
  g_autofree char *first = good_check_then_state (f);
  commit_rollback_counter (f, 5);
  g_autofree char *before = trusted_state (f);
  g_assert_cmpstr (first, !=, before);
  /* Both repositories agree on release 1, but release 5 is committed. */
  assert_refused_unchanged (f, before, SB_ERROR_ROLLBACK);

  /* A target without a counter cannot show it is not older. */
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, -1);
  add_image_target (f, "targets", FW, FW_CONTENT, HWID, -1);
  bump (f->director);
  bump (f->image);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_ROLLBACK);

  /* Release 5 itself is fine (re-installing the committed release). */
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, 5);
  add_image_target (f, "targets", FW, FW_CONTENT, HWID, 5);
  bump (f->director);
  bump (f->image);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (((SbUptaneTarget *) update->targets->pdata[0])->release_counter, ==, 5);
}

static void
test_match_missing_image_target (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  add_director_target (f, "fw-2.bin", "firmware two", ECU, HWID, 1);
  json_object_remove_member (json_object_get_object_member (sb_test_repo_signed (f->director,
                                                                                 "targets"),
                                                            "targets"),
                             FW);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_MISMATCH);
}

static void
delegate (Fixture *f, const char *name, const char *pattern, gboolean terminating)
{
  const char *paths[] = { pattern, NULL };
  sb_test_repo_delegate (f->image, "targets", name, paths, NULL, terminating);
  g_ptr_array_add (f->image_delegated, g_strdup (name));
}

static void
test_match_through_delegation (Fixture *f, gconstpointer data)
{
  json_object_remove_member (json_object_get_object_member (sb_test_repo_signed (f->image,
                                                                                 "targets"),
                                                            "targets"),
                             FW);
  delegate (f, "firmware", "fw-*", FALSE);
  add_image_target (f, "firmware", FW, FW_CONTENT, HWID, 1);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
  g_autofree char *role_file = g_build_filename (f->state_dir, "metadata", "image",
                                                 "firmware.json", NULL);
  g_assert_true (g_file_test (role_file, G_FILE_TEST_IS_REGULAR));
  const char *path = f->ota_ce ? "/repo/delegations/firmware.json" : "/repo/firmware.json";
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, path), ==, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) counters = sb_counters_load (f->state_dir, &error);
  g_assert_no_error (error);
  guint64 v = 0;
  g_assert_true (sb_counters_get_version (counters, "image", "firmware", &v));
  g_assert_cmpuint (v, ==, 1);
}

static void
test_match_terminating_delegation_hides (Fixture *f, gconstpointer data)
{
  json_object_remove_member (json_object_get_object_member (sb_test_repo_signed (f->image,
                                                                                 "targets"),
                                                            "targets"),
                             FW);
  /* "gate" is searched first and terminates the search for fw-*, so the target "late" lists
   * is never reached (TUF §5.6.7.2.1). */
  delegate (f, "gate", "fw-*", TRUE);
  delegate (f, "late", "*", FALSE);
  add_image_target (f, "late", FW, FW_CONTENT, HWID, 1);
  publish (f);
  check_refused (f, SB_ERROR_MISMATCH);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, "/repo/late.json"), ==, 0);

  /* Without the terminating role in the way, the same target is found. */
  add_image_target (f, "gate", FW, FW_CONTENT, HWID, 1);
  bump (f->image);
  sb_test_repo_bump (f->image, "gate");
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

/* ---- TUF attacks on either repository ---- */

/* The Director's targets as served, with one signature byte changed. */
static void
serve_tampered_signature (Fixture *f, SbTestRepo *repo, const char *prefix, const char *role)
{
  g_autoptr (JsonNode) envelope = sb_test_repo_sign (repo, role);
  JsonArray *sigs = json_object_get_array_member (json_node_get_object (envelope), "signatures");
  JsonObject *sig = json_array_get_object_element (sigs, 0);
  g_autofree char *hex = g_strdup (json_object_get_string_member (sig, "sig"));
  hex[0] = hex[0] == '0' ? '1' : '0';
  json_object_set_string_member (sig, "sig", hex);
  g_autoptr (GBytes) bytes = sb_test_encode (envelope);
  g_autofree char *path = g_strdup_printf ("%s/%s.json", prefix, role);
  serve (f, path, bytes);
}

static void
test_attack_arbitrary_software (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  add_director_target (f, FW, "evil firmware", ECU, HWID, 1);
  bump (f->director);
  publish (f);
  serve_tampered_signature (f, f->director, "/director", "targets");
  assert_refused_unchanged (f, before, SB_ERROR_THRESHOLD);

  /* The same on the Image repository's targets. */
  add_director_target (f, FW, FW_CONTENT, ECU, HWID, 1);
  bump (f->director);
  bump (f->image);
  publish (f);
  serve_tampered_signature (f, f->image, "/repo", "targets");
  assert_refused_unchanged (f, before, SB_ERROR_THRESHOLD);

  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

static void
test_attack_rollback (Fixture *f, gconstpointer data)
{
  bump (f->director);
  bump (f->image);
  publish (f);
  g_autofree char *before = good_check_then_state (f);

  /* Older versions, validly signed. */
  sb_test_repo_set_version (f->director, "targets", 1);
  sb_test_repo_set_version (f->director, "snapshot", 1);
  sb_test_repo_set_version (f->director, "timestamp", 1);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_ROLLBACK);

  sb_test_repo_set_version (f->director, "targets", 3);
  sb_test_repo_set_version (f->director, "snapshot", 3);
  sb_test_repo_set_version (f->director, "timestamp", 3);
  sb_test_repo_set_version (f->image, "snapshot", 1);
  sb_test_repo_set_version (f->image, "timestamp", 1);
  publish (f);
  /* The Image repository's timestamp goes back (it is full TUF in both layouts). */
  assert_refused_unchanged (f, before, SB_ERROR_ROLLBACK);
  bump (f->image);
  bump (f->image);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

static void
test_attack_freeze (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  const char *role = f->ota_ce ? "targets" : "timestamp";
  sb_test_repo_set_expires (f->director, role, SB_TEST_NOW - 1);
  bump (f->director);
  publish (f);
  assert_refused_unchanged (f, before, SB_ERROR_EXPIRED);
  /* Still refused on the next cycle, and nothing was kept that would block recovery. */
  assert_refused_unchanged (f, before, SB_ERROR_EXPIRED);

  /* The Director re-signs: the next cycle recovers without any cleanup. */
  sb_test_repo_set_expires (f->director, role, SB_TEST_NOW + SB_TEST_DAY);
  bump (f->director);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);

  /* The Image repository's snapshot expires. */
  g_autofree char *before2 = trusted_state (f);
  sb_test_repo_set_expires (f->image, "snapshot", SB_TEST_NOW - 1);
  bump (f->image);
  publish (f);
  assert_refused_unchanged (f, before2, SB_ERROR_EXPIRED);
  sb_test_repo_set_expires (f->image, "snapshot", SB_TEST_NOW + SB_TEST_DAY);
  bump (f->image);
  publish (f);
  g_autoptr (SbUptaneUpdate) update2 = check_ok (f);
  g_assert_cmpuint (update2->targets->len, ==, 1);
}

static void
test_attack_mix_and_match_snapshot (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  /* The Image snapshot lists targets version 2 but the server hands out version 1 signed
   * anew. */
  bump (f->image);
  sb_test_repo_update_snapshot_meta (f->image, FALSE);
  sb_test_repo_update_timestamp_meta (f->image, FALSE);
  serve_role (f, f->image, "/repo", "snapshot");
  serve_role (f, f->image, "/repo", "timestamp");
  sb_test_repo_set_version (f->image, "targets", 1);
  add_image_target (f, "targets", "extra.bin", "extra", HWID, 1);
  serve_role (f, f->image, "/repo", "targets");
  assert_refused_unchanged (f, before, SB_ERROR_VERSION_MISMATCH);
}

static void
test_attack_endless_data (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  SbTestFault fault = { .endless = TRUE };
  sb_test_httpd_set_fault (f->httpd, "/director/targets.json", &fault);
  if (!f->ota_ce)
    sb_test_httpd_set_fault (f->httpd, "/director/timestamp.json", &fault);
  assert_refused_unchanged (f, before, SB_ERROR_ENDLESS_DATA);

  sb_test_httpd_set_fault (f->httpd, "/director/targets.json", NULL);
  sb_test_httpd_set_fault (f->httpd, "/director/timestamp.json", NULL);
  sb_test_httpd_set_fault (f->httpd, "/repo/timestamp.json", &fault);
  assert_refused_unchanged (f, before, SB_ERROR_ENDLESS_DATA);

  sb_test_httpd_set_fault (f->httpd, "/repo/timestamp.json", NULL);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

static void
test_attack_slow_retrieval (Fixture *f, gconstpointer data)
{
  g_autofree char *before = good_check_then_state (f);
  /* 1 byte every 400 ms against a floor of 100 bytes/s measured over one second. */
  f->config->low_speed_limit = 100;
  f->config->low_speed_time = 1;
  bump (f->director);
  publish (f);
  SbTestFault fault = { .throttle_bytes = 1, .throttle_ms = 400 };
  const char *path = f->ota_ce ? "/director/targets.json" : "/director/timestamp.json";
  sb_test_httpd_set_fault (f->httpd, path, &fault);
  assert_refused_unchanged (f, before, SB_ERROR_SLOW_RETRIEVAL);
  f->config->low_speed_limit = SB_FETCHER_DEFAULT_LOW_SPEED_LIMIT;
  f->config->low_speed_time = SB_FETCHER_DEFAULT_LOW_SPEED_TIME;

  sb_test_httpd_set_fault (f->httpd, path, NULL);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

/* counters.json stands in for trusted files that were lost. */
static void
test_counters_lost_metadata (Fixture *f, gconstpointer data)
{
  bump (f->director);
  bump (f->image);
  publish (f);
  g_autoptr (SbUptaneUpdate) first = check_ok (f);

  /* The metadata directories are lost; the repositories are replaced by copies of their first
   * versions (as an attacker who kept them would serve). */
  g_autofree char *metadata = g_build_filename (f->state_dir, "metadata", NULL);
  sb_test_rm_rf (metadata);
  sb_test_repo_set_version (f->director, "targets", 1);
  sb_test_repo_set_version (f->director, "snapshot", 1);
  sb_test_repo_set_version (f->director, "timestamp", 1);
  publish (f);
  check_refused (f, SB_ERROR_ROLLBACK);

  /* Current versions are accepted again. */
  bump (f->director);
  publish (f);
  g_autoptr (SbUptaneUpdate) update = check_ok (f);
  g_assert_cmpuint (update->targets->len, ==, 1);
}

/* Sets the modification time of every trusted metadata file to @mtime. */
static void
set_trusted_mtimes (Fixture *f, gint64 mtime)
{
  const char *repos[] = { "director", "image" };
  for (guint i = 0; i < G_N_ELEMENTS (repos); i++)
    {
      g_autofree char *dir = g_build_filename (f->state_dir, "metadata", repos[i], NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      g_assert_nonnull (d);
      const char *name;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          struct utimbuf times = { .actime = (time_t) mtime, .modtime = (time_t) mtime };
          g_assert_cmpint (utime (path, &times), ==, 0);
        }
    }
}

static void
test_freshness_clock_behind (Fixture *f, gconstpointer data)
{
  g_autoptr (SbUptaneUpdate) first = check_ok (f);
  /* The newest trusted metadata was stored "tomorrow": today's clock cannot be right. */
  set_trusted_mtimes (f, g_get_real_time () / G_USEC_PER_SEC + SB_TEST_DAY);
  g_autofree char *before = trusted_state (f);
  sb_test_repo_set_expires (f->director, "targets", SB_TEST_NOW - 1);
  bump (f->director);
  publish (f);

  g_autoptr (SbUptane) u = new_uptane (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (u, &error);
  g_assert_null (update);
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  const char *problem = sb_uptane_get_clock_problem (u);
  g_assert_nonnull (problem);
  g_assert_true (g_str_has_suffix (error->message, problem));
  g_autofree char *after = trusted_state (f);
  g_assert_cmpstr (before, ==, after);

  /* A plausible clock: no such note. */
  set_trusted_mtimes (f, g_get_real_time () / G_USEC_PER_SEC - SB_TEST_DAY);
  sb_test_repo_set_expires (f->director, "targets", SB_TEST_NOW + SB_TEST_DAY);
  bump (f->director);
  publish (f);
  g_clear_error (&error);
  g_autoptr (SbUptaneUpdate) again = sb_uptane_check (u, &error);
  g_assert_no_error (error);
  g_assert_null (sb_uptane_get_clock_problem (u));
}

/* OTA Community Edition devices reach the Director with a client certificate (design.md §2). */
static void
test_mutual_tls (Fixture *f, gconstpointer data)
{
  if (f->httpd == NULL)
    return; /* skipped in setup */
  g_autoptr (SbUptane) u = new_uptane (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (u, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (update->targets->len, ==, 1);
  g_autofree char *url = sb_uptane_target_url (u, update->targets->pdata[0]);
  g_assert_true (g_str_has_prefix (url, "https://"));
  g_assert_true (sb_uptane_send_manifest (u, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) put = sb_test_httpd_get_last_put (f->httpd, "/director/manifest");
  g_assert_nonnull (put);

  /* Without the client certificate the server does not answer. */
  g_clear_pointer (&f->config->tls_cert, g_free);
  g_clear_pointer (&f->config->tls_key, g_free);
  g_autoptr (SbUptane) anonymous = new_uptane (f);
  g_autoptr (SbUptaneUpdate) refused = sb_uptane_check (anonymous, &error);
  g_assert_null (refused);
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
}

static void
test_missing_initial_root (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (g_unlink (f->config->image_root), ==, 0);
  /* The Director alone is checked when nothing is assigned; with an image, the Image root is
   * needed and its absence is a configuration error. */
  check_refused (f, SB_ERROR_CONFIG);
}

static void
test_config_urls_required (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->config->image_url, g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbUptane) u = sb_uptane_new (f->config, f->identity, &error);
  g_assert_null (u);
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
}

/* An error that names a TUF step says in plain words what the step was for. */
static void
assert_step_error (Fixture *f, SbErrorCode code, const char *step, const char *words)
{
  g_autoptr (SbUptane) u = new_uptane (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (u, &error);
  g_assert_null (update);
  g_assert_error (error, SB_ERROR, (int) code);
  g_test_message ("refused: %s", error->message);
  g_autofree char *expected = g_strdup_printf ("%s (%s): ", step, words);
  g_assert_nonnull (strstr (error->message, expected));
}

static void
test_errors_plain_words (Fixture *f, gconstpointer data)
{
  f->config->retries = 0;
  g_autoptr (SbUptaneUpdate) first = check_ok (f);
  SbTestFault fail = { .status = 500 };

  sb_test_httpd_set_fault (f->httpd, "/repo/2.root.json", &fail);
  assert_step_error (f, SB_ERROR_DOWNLOAD, "Fetching root version 2",
                     "checking for a new root of trust");
  sb_test_httpd_set_fault (f->httpd, "/repo/2.root.json", NULL);

  /* A new root signed only by a key the trusted root does not list. */
  g_autoptr (SbTestRepo) rotated = sb_test_repo_new ();
  sb_test_repo_set_version (rotated, "root", 2);
  serve_role (f, rotated, "/repo", "root");
  assert_step_error (f, SB_ERROR_THRESHOLD, "Root version 2", "checking for a new root of trust");
  /* Gone again: the trusted root is the newest. */
  SbTestFault gone = { .status = 404 };
  sb_test_httpd_set_fault (f->httpd, "/repo/2.root.json", &gone);

  sb_test_httpd_set_fault (f->httpd, "/repo/timestamp.json", &fail);
  assert_step_error (f, SB_ERROR_DOWNLOAD, "Fetching timestamp",
                     "checking that the repository has something new");
  sb_test_httpd_set_fault (f->httpd, "/repo/timestamp.json", NULL);

  /* A new timestamp, so that the snapshot and targets it leads to are fetched. */
  bump (f->image);
  publish (f);
  sb_test_httpd_set_fault (f->httpd, "/repo/snapshot.json", &fail);
  assert_step_error (f, SB_ERROR_DOWNLOAD, "Fetching snapshot",
                     "checking which versions of the metadata are current");
  sb_test_httpd_set_fault (f->httpd, "/repo/snapshot.json", NULL);

  sb_test_httpd_set_fault (f->httpd, "/repo/targets.json", &fail);
  assert_step_error (f, SB_ERROR_DOWNLOAD, "Fetching targets",
                     "reading the list of images and their hashes");
  sb_test_httpd_set_fault (f->httpd, "/repo/targets.json", NULL);

  g_autoptr (SbUptaneUpdate) last = check_ok (f);
  g_assert_cmpuint (last->targets->len, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The fetcher must never go through a proxy to reach loopback. */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");

  static const struct {
    const char *name;
    void (*fn) (Fixture *, gconstpointer);
  } tests[] = {
    { "check/assigned-target-verified", test_check_assigned },
    { "check/target-url-and-second-check", test_check_url_and_again },
    { "check/nothing-assigned-stops-before-image-repo", test_check_nothing_assigned },
    { "director/zero-images-without-vin-is-replay", test_director_replay_without_vin },
    { "director/other-vehicle-vin-refused", test_director_other_vin },
    { "director/delegations-refused", test_director_delegations },
    { "director/unknown-ecu-refuses-all", test_director_unknown_ecu },
    { "director/bad-hardware-id-refused", test_director_bad_hardware_id },
    { "director/ecu-assigned-twice-refused", test_director_ecu_twice },
    { "match/hash-mismatch-refused", test_match_hash },
    { "match/length-mismatch-refused", test_match_length },
    { "match/no-common-hash-refused", test_match_no_common_hash },
    { "match/image-hardware-id-not-listed", test_match_image_hardware_id },
    { "match/release-counter-mismatch-refused", test_match_release_counter },
    { "match/release-counter-below-committed-refused", test_match_release_counter_rollback },
    { "match/missing-image-target-refused", test_match_missing_image_target },
    { "match/target-through-delegation", test_match_through_delegation },
    { "match/terminating-delegation-hides-target", test_match_terminating_delegation_hides },
    { "attack/arbitrary-software-refused", test_attack_arbitrary_software },
    { "attack/rollback-refused", test_attack_rollback },
    { "attack/freeze-refused-then-recovers", test_attack_freeze },
    { "attack/mix-and-match-snapshot-refused", test_attack_mix_and_match_snapshot },
    { "attack/endless-data-refused", test_attack_endless_data },
    { "attack/slow-retrieval-refused", test_attack_slow_retrieval },
    { "counters/lost-metadata-cannot-roll-back", test_counters_lost_metadata },
    { "freshness/clock-behind-trusted-metadata-said", test_freshness_clock_behind },
    { "config/missing-initial-root", test_missing_initial_root },
    { "config/urls-required", test_config_urls_required },
    { "errors/tuf-steps-in-plain-words", test_errors_plain_words },
  };
  for (guint i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      g_autofree char *full = g_strdup_printf ("/uptane/full/%s", tests[i].name);
      g_autofree char *ota = g_strdup_printf ("/uptane/ota-ce/%s", tests[i].name);
      g_test_add (full, Fixture, GINT_TO_POINTER (0), setup, tests[i].fn, teardown);
      g_test_add (ota, Fixture, GINT_TO_POINTER (SCENE_OTA_CE), setup, tests[i].fn, teardown);
    }
  g_test_add ("/uptane/full/tls/mutual-tls", Fixture, GINT_TO_POINTER (SCENE_MTLS), setup,
              test_mutual_tls, teardown);
  g_test_add ("/uptane/ota-ce/tls/mutual-tls", Fixture,
              GINT_TO_POINTER (SCENE_MTLS | SCENE_OTA_CE), setup, test_mutual_tls, teardown);
  return g_test_run ();
}
