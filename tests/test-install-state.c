/* Tests for sb-install-state: install.json, counters.json (never lowered), and install results
 * queued for the Director. */
#include "config.h"

#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "core/sb-json.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char *dir;
  char *install;
  char *counters;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->install = g_build_filename (f->dir, SB_INSTALL_STATE_FILE, NULL);
  f->counters = g_build_filename (f->dir, SB_COUNTERS_FILE, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->install);
  g_free (f->counters);
}

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *path)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_missing_is_idle (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbInstallState) s = sb_install_state_load (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->state, ==, SB_INSTALL_IDLE);
  g_assert_false (s->has_committed);
  g_autoptr (SbCounters) c = sb_counters_load (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sb_counters_get_rollback_counter (c), ==, 0);
  guint64 v;
  g_assert_false (sb_counters_get_version (c, "director", "root", &v));
  g_assert_false (sb_counters_get_pending (c, &v));
  g_assert_false (sb_counters_get_slot (c, SB_SLOT_A, &v));
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbInstallState) s = sb_install_state_new ();
  s->has_committed = TRUE;
  s->committed = SB_SLOT_A;
  g_autoptr (GHashTable) hashes = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (hashes, "sha256", "ab12");
  g_hash_table_insert (hashes, "sha512", "cd34");
  sb_install_state_begin (s, SB_SLOT_B, "image-2.bin", "BINARY", 4096, hashes, "urn:corr:1", 7);
  s->bytes_done = 1024;
  g_assert_true (sb_install_state_save (s, f->dir, &error));
  g_assert_no_error (error);
  /* Written atomically: nothing but the file is left in the directory. */
  g_assert_cmpuint (count_entries (f->dir), ==, 1);

  g_autoptr (SbInstallState) t = sb_install_state_load (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->state, ==, SB_INSTALL_DOWNLOADING);
  g_assert_true (t->has_committed);
  g_assert_cmpint (t->committed, ==, SB_SLOT_A);
  g_assert_cmpint (t->slot, ==, SB_SLOT_B);
  g_assert_cmpstr (t->target, ==, "image-2.bin");
  g_assert_cmpstr (t->format, ==, "BINARY");
  g_assert_cmpuint (t->length, ==, 4096);
  g_assert_cmpuint (t->bytes_done, ==, 1024);
  g_assert_cmpstr (t->correlation_id, ==, "urn:corr:1");
  g_assert_true (t->has_release_counter);
  g_assert_cmpuint (t->release_counter, ==, 7);
  g_assert_cmpstr (g_hash_table_lookup (t->hashes, "sha256"), ==, "ab12");
  g_assert_cmpstr (g_hash_table_lookup (t->hashes, "sha512"), ==, "cd34");

  t->state = SB_INSTALL_STAGED;
  g_assert_true (sb_install_state_save (t, f->dir, &error));
  g_autoptr (SbInstallState) u = sb_install_state_load (f->dir, &error);
  g_assert_cmpint (u->state, ==, SB_INSTALL_STAGED);

  /* Ending the transaction keeps the committed slot and drops the rest. */
  sb_install_state_clear (u);
  g_assert_true (sb_install_state_save (u, f->dir, &error));
  g_autofree char *text = read_file (f->install);
  g_assert_null (strstr (text, "image-2.bin"));
  g_autoptr (SbInstallState) v = sb_install_state_load (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->state, ==, SB_INSTALL_IDLE);
  g_assert_true (v->has_committed);
  g_assert_cmpint (v->committed, ==, SB_SLOT_A);
  g_assert_null (v->target);
}

static void
test_needs_target (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbInstallState) s = sb_install_state_new ();
  s->state = SB_INSTALL_WRITTEN;
  g_assert_false (sb_install_state_save (s, f->dir, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_assert_false (g_file_test (f->install, G_FILE_TEST_EXISTS));
}

static void
test_install_corrupt (Fixture *f, gconstpointer data)
{
  const char *bad[] = {
    "",
    "{",
    "[]",
    "{\"state\": \"idle\"} x",
    "{\"state\": \"sleeping\"}",
    "{\"state\": \"idle\", \"committed\": \"C\"}",
    "{\"state\": \"idle\", \"color\": \"red\"}",
    "{\"state\": \"idle\", \"target\": \"x\"}",
    "{\"state\": \"staged\", \"slot\": \"B\"}",
    "{\"state\": \"written\", \"slot\": \"B\", \"target\": \"t\", \"length\": 10, "
    "\"bytes_done\": 11, \"hashes\": {}}",
    "{\"state\": \"written\", \"slot\": \"B\", \"target\": \"t\", \"length\": -1, "
    "\"bytes_done\": 0, \"hashes\": {}}",
    "{\"state\": \"written\", \"slot\": \"B\", \"target\": \"t\", \"length\": 1, "
    "\"bytes_done\": 0, \"hashes\": {\"sha256\": 5}}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      write_file (f->install, bad[i]);
      g_autoptr (SbInstallState) s = sb_install_state_load (f->dir, &error);
      g_assert_null (s);
      g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
    }
}

static void
test_counters_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) c = sb_counters_new ();
  g_assert_true (sb_counters_set_version (c, "director", "root", 2, &error));
  g_assert_true (sb_counters_set_version (c, "image", "targets", 9, &error));
  g_assert_true (sb_counters_set_version (c, "image", "role-x", 3, &error));
  g_assert_true (sb_counters_set_rollback_counter (c, 4, &error));
  g_assert_true (sb_counters_set_pending (c, 5, &error));
  sb_counters_set_slot (c, SB_SLOT_A, 4);
  sb_counters_set_slot (c, SB_SLOT_B, 5);
  g_assert_no_error (error);
  g_assert_true (sb_counters_save (c, f->dir, &error));
  g_assert_no_error (error);

  g_autoptr (SbCounters) d = sb_counters_load (f->dir, &error);
  g_assert_no_error (error);
  guint64 v = 0;
  g_assert_true (sb_counters_get_version (d, "director", "root", &v));
  g_assert_cmpuint (v, ==, 2);
  g_assert_true (sb_counters_get_version (d, "image", "role-x", &v));
  g_assert_cmpuint (v, ==, 3);
  g_assert_false (sb_counters_get_version (d, "director", "targets", &v));
  g_assert_cmpuint (sb_counters_get_rollback_counter (d), ==, 4);
  g_assert_true (sb_counters_get_pending (d, &v));
  g_assert_cmpuint (v, ==, 5);
  g_assert_true (sb_counters_get_slot (d, SB_SLOT_B, &v));
  g_assert_cmpuint (v, ==, 5);

  /* The file is the documented shape. */
  g_autofree char *text = read_file (f->counters);
  g_autoptr (JsonNode) root = sb_json_parse ((const guint8 *) text, strlen (text), &error);
  g_assert_no_error (error);
  JsonObject *o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "image-rollback-counter"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "image"),
                                               "targets"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "slots"), "A"),
                   ==, 4);

  /* Promotion at commit. */
  sb_counters_promote_pending (d);
  g_assert_cmpuint (sb_counters_get_rollback_counter (d), ==, 5);
  g_assert_false (sb_counters_get_pending (d, &v));
  g_assert_true (sb_counters_save (d, f->dir, &error));
  g_assert_no_error (error);
}

static void
test_counters_not_lowered_in_memory (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) c = sb_counters_new ();
  g_assert_true (sb_counters_set_version (c, "image", "snapshot", 10, &error));
  g_assert_false (sb_counters_set_version (c, "image", "snapshot", 9, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  guint64 v = 0;
  g_assert_true (sb_counters_get_version (c, "image", "snapshot", &v));
  g_assert_cmpuint (v, ==, 10);
  /* Equal is not lower. */
  g_assert_true (sb_counters_set_version (c, "image", "snapshot", 10, &error));

  g_assert_true (sb_counters_set_rollback_counter (c, 6, &error));
  g_assert_false (sb_counters_set_rollback_counter (c, 5, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  g_assert_cmpuint (sb_counters_get_rollback_counter (c), ==, 6);
  g_assert_false (sb_counters_set_pending (c, 5, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  g_assert_false (sb_counters_get_pending (c, &v));

  g_assert_false (sb_counters_set_version (c, "vehicle", "root", 1, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Slot counters describe slot contents: a rewritten slot may hold an older release. */
  sb_counters_set_slot (c, SB_SLOT_B, 9);
  sb_counters_set_slot (c, SB_SLOT_B, 7);
  g_assert_true (sb_counters_get_slot (c, SB_SLOT_B, &v));
  g_assert_cmpuint (v, ==, 7);
}

/* A stale copy cannot lower what another writer saved: the file on disk is the floor. */
static void
test_counters_stale_copy_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) a = sb_counters_new ();
  g_assert_true (sb_counters_set_version (a, "director", "targets", 3, &error));
  g_assert_true (sb_counters_set_rollback_counter (a, 2, &error));
  g_assert_true (sb_counters_save (a, f->dir, &error));
  g_autoptr (SbCounters) stale = sb_counters_load (f->dir, &error);
  g_assert_no_error (error);

  g_assert_true (sb_counters_set_version (a, "director", "targets", 5, &error));
  g_assert_true (sb_counters_save (a, f->dir, &error));
  g_assert_no_error (error);
  g_autofree char *before = read_file (f->counters);

  g_assert_true (sb_counters_set_version (stale, "image", "root", 1, &error));
  g_assert_false (sb_counters_save (stale, f->dir, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  g_autofree char *after = read_file (f->counters);
  g_assert_cmpstr (before, ==, after);

  /* Same for the committed counter. */
  g_autoptr (SbCounters) b = sb_counters_load (f->dir, &error);
  g_assert_true (sb_counters_set_rollback_counter (b, 8, &error));
  g_assert_true (sb_counters_save (b, f->dir, &error));
  g_autoptr (SbCounters) stale2 = sb_counters_new ();
  g_assert_true (sb_counters_set_version (stale2, "director", "targets", 5, &error));
  g_assert_true (sb_counters_set_rollback_counter (stale2, 7, &error));
  g_assert_false (sb_counters_save (stale2, f->dir, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  g_autoptr (SbCounters) now = sb_counters_load (f->dir, &error);
  g_assert_cmpuint (sb_counters_get_rollback_counter (now), ==, 8);
}

static void
test_counters_corrupt (Fixture *f, gconstpointer data)
{
  const char *bad[] = {
    "not json",
    "{\"director\": {\"root\": -1}}",
    "{\"director\": {\"root\": 1.5}}",
    "{\"director\": {\"root\": \"1\"}}",
    "{\"director\": [1]}",
    "{\"image-rollback-counter\": true}",
    "{\"slots\": {\"C\": 1}}",
    "{\"vehicle\": {}}",
    "{\"director\": {\"root\": 1, \"root\": 2}}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      write_file (f->counters, bad[i]);
      g_autoptr (SbCounters) c = sb_counters_load (f->dir, &error);
      g_assert_null (c);
      g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
      g_clear_error (&error);
      /* A damaged file is never silently replaced: it might hold higher counters. */
      g_autoptr (SbCounters) fresh = sb_counters_new ();
      g_assert_false (sb_counters_save (fresh, f->dir, &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
      g_autofree char *text = read_file (f->counters);
      g_assert_cmpstr (text, ==, bad[i]);
    }
}

/* g_ptr_array_sort hands the comparator pointers to the elements. Comparing those as strings
 * (g_strcmp0 directly) orders by the bytes of the addresses, which happened to match the names'
 * order on 64-bit builds and not on i686. */
static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static void
test_record_result (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_install_state_record_result (f->dir, "urn:c:1", "image-2.bin", FALSE,
                                                 "INSTALL_FAILED", "rolled back", &error));
  g_assert_no_error (error);
  g_assert_true (sb_install_state_record_result (f->dir, NULL, NULL, TRUE, "OK", "fine", &error));
  g_assert_no_error (error);

  g_autofree char *reports = g_build_filename (f->dir, "reports", NULL);
  g_autoptr (GDir) d = g_dir_open (reports, 0, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (n));
  g_assert_cmpuint (names->len, ==, 2);
  g_ptr_array_sort (names, compare_names);
  g_assert_true (g_str_has_suffix (names->pdata[0], ".json"));

  const char *want[][3] = { { "urn:c:1", "image-2.bin", "INSTALL_FAILED" }, { "", "", "OK" } };
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *path = g_build_filename (reports, names->pdata[i], NULL);
      g_autofree char *text = read_file (path);
      g_autoptr (JsonNode) root = sb_json_parse ((const guint8 *) text, strlen (text), &error);
      g_assert_no_error (error);
      JsonObject *o = json_node_get_object (root);
      g_assert_cmpstr (json_object_get_string_member (o, "correlation_id"), ==, want[i][0]);
      g_assert_cmpstr (json_object_get_string_member (o, "target"), ==, want[i][1]);
      g_assert_cmpstr (json_object_get_string_member (o, "result_code"), ==, want[i][2]);
      g_assert_cmpint (json_object_get_boolean_member (o, "success"), ==, i == 1);
      g_assert_nonnull (json_object_get_string_member (o, "time"));
      g_assert_nonnull (json_object_get_string_member (o, "description"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/install-state/missing-files-are-first-start", test_missing_is_idle);
  ADD ("/install-state/round-trip-keeps-committed-slot", test_round_trip);
  ADD ("/install-state/in-flight-needs-target", test_needs_target);
  ADD ("/install-state/corrupt-file-refused", test_install_corrupt);
  ADD ("/install-state/counters/round-trip-and-promotion", test_counters_round_trip);
  ADD ("/install-state/counters/lowering-refused", test_counters_not_lowered_in_memory);
  ADD ("/install-state/counters/stale-copy-cannot-lower-file", test_counters_stale_copy_refused);
  ADD ("/install-state/counters/corrupt-file-refused-and-kept", test_counters_corrupt);
  ADD ("/install-state/reports/result-queued", test_record_result);
#undef ADD
  return g_test_run ();
}
