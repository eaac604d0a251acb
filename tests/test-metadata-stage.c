/* Tests for sb-metadata-stage: the working copy of a trusted metadata directory. */
#include "config.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-metadata-stage.h"
#include "sb-test-io-spy.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char *tmp;
  char *trusted;
  char *staging;
} Fixture;

static void
put (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_durable_write (path, text, strlen (text), 0644, &error));
  g_assert_no_error (error);
}

static char *
get (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->tmp = sb_test_make_tmpdir ();
  f->trusted = g_build_filename (f->tmp, "director", NULL);
  f->staging = g_build_filename (f->tmp, ".director.staging", NULL);
  g_assert_cmpint (g_mkdir (f->trusted, 0755), ==, 0);
  put (f->trusted, "root.json", "root v1");
  put (f->trusted, "timestamp.json", "timestamp v1");
  put (f->trusted, "snapshot.json", "snapshot v1");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->trusted);
  g_free (f->staging);
}

static SbMetadataStage *
open_stage (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbMetadataStage *stage = sb_metadata_stage_open (f->trusted, f->staging, &error);
  g_assert_no_error (error);
  g_assert_nonnull (stage);
  return stage;
}

static void
test_discard_leaves_trusted (Fixture *f, gconstpointer data)
{
  g_autoptr (SbMetadataStage) stage = open_stage (f);
  g_assert_true (sb_metadata_stage_was_trusted (stage, "timestamp.json"));
  g_assert_false (sb_metadata_stage_was_trusted (stage, "targets.json"));
  const char *work = sb_metadata_stage_get_path (stage);
  g_autofree char *staged = get (work, "timestamp.json");
  g_assert_cmpstr (staged, ==, "timestamp v1");

  /* The client replaces and removes files in the working copy. */
  put (work, "timestamp.json", "timestamp v2");
  put (work, "targets.json", "targets v1");
  g_autofree char *gone = g_build_filename (work, "snapshot.json", NULL);
  g_assert_cmpint (g_unlink (gone), ==, 0);

  g_autoptr (GError) error = NULL;
  g_assert_true (sb_metadata_stage_discard (f->staging, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f->staging, G_FILE_TEST_EXISTS));
  g_autofree char *ts = get (f->trusted, "timestamp.json");
  g_autofree char *snap = get (f->trusted, "snapshot.json");
  g_autofree char *targets = get (f->trusted, "targets.json");
  g_assert_cmpstr (ts, ==, "timestamp v1");
  g_assert_cmpstr (snap, ==, "snapshot v1");
  g_assert_null (targets);
}

static void
test_commit (Fixture *f, gconstpointer data)
{
  g_autoptr (SbMetadataStage) stage = open_stage (f);
  const char *work = sb_metadata_stage_get_path (stage);
  put (work, "root.json", "root v2");
  put (work, "timestamp.json", "timestamp v2");
  put (work, "targets.json", "targets v1");
  /* Fast-forward recovery removed the stored snapshot. */
  g_autofree char *gone = g_build_filename (work, "snapshot.json", NULL);
  g_assert_cmpint (g_unlink (gone), ==, 0);

  g_autoptr (GError) error = NULL;
  g_assert_true (sb_metadata_stage_commit (stage, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f->staging, G_FILE_TEST_EXISTS));
  g_autofree char *root = get (f->trusted, "root.json");
  g_autofree char *ts = get (f->trusted, "timestamp.json");
  g_autofree char *snap = get (f->trusted, "snapshot.json");
  g_autofree char *targets = get (f->trusted, "targets.json");
  g_assert_cmpstr (root, ==, "root v2");
  g_assert_cmpstr (ts, ==, "timestamp v2");
  g_assert_null (snap);
  g_assert_cmpstr (targets, ==, "targets v1");
}

static void
test_unchanged_files_keep_inode (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->trusted, "root.json", NULL);
  GStatBuf before, after;
  g_assert_cmpint (g_stat (path, &before), ==, 0);
  g_autoptr (SbMetadataStage) stage = open_stage (f);
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_metadata_stage_commit (stage, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  g_assert_cmpuint (before.st_ino, ==, after.st_ino);
  g_assert_cmpint (before.st_mtime, ==, after.st_mtime);
}

static void
test_first_run_and_leftover (Fixture *f, gconstpointer data)
{
  /* A working copy left by a crash, and no trusted directory yet. */
  sb_test_rm_rf (f->trusted);
  g_assert_cmpint (g_mkdir (f->staging, 0755), ==, 0);
  put (f->staging, "timestamp.json", "half-verified");

  g_autoptr (SbMetadataStage) stage = open_stage (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) files = sb_metadata_stage_list (stage, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (files), ==, 0);
  put (sb_metadata_stage_get_path (stage), "root.json", "shipped root");
  g_assert_true (sb_metadata_stage_commit (stage, &error));
  g_assert_no_error (error);
  g_autofree char *root = get (f->trusted, "root.json");
  g_assert_cmpstr (root, ==, "shipped root");
}

/* root.json's rename is durable before any other file moves: a power cut must not keep a
 * timestamp signed by the new root's keys beside the old root. */
static void
test_root_durable_first (Fixture *f, gconstpointer data)
{
  g_autoptr (SbMetadataStage) stage = open_stage (f);
  const char *work = sb_metadata_stage_get_path (stage);
  put (work, "root.json", "root v2");
  put (work, "timestamp.json", "timestamp v2");
  put (work, "targets.json", "targets v1");

  g_autoptr (GError) error = NULL;
  sb_test_io_log_start ();
  gboolean ok = sb_metadata_stage_commit (stage, &error);
  g_autofree char *log = sb_test_io_log_stop ();
  g_assert_no_error (error);
  g_assert_true (ok);
  g_test_message ("%s", log);
  /* The other two move in hash-table order, then one fsync covers them. */
  g_assert_true (g_str_has_prefix (log, "rename root.json, fsync-dir, rename "));
  g_autofree char *tail = g_strdup (log + strlen ("rename root.json, fsync-dir, "));
  g_assert_true (g_strcmp0 (tail, "rename timestamp.json, rename targets.json, fsync-dir") == 0
                 || g_strcmp0 (tail, "rename targets.json, rename timestamp.json, fsync-dir") == 0);
}

/* An unchanged root needs no fsync of its own. */
static void
test_unchanged_root_no_extra_fsync (Fixture *f, gconstpointer data)
{
  g_autoptr (SbMetadataStage) stage = open_stage (f);
  put (sb_metadata_stage_get_path (stage), "timestamp.json", "timestamp v2");
  g_autoptr (GError) error = NULL;
  sb_test_io_log_start ();
  gboolean ok = sb_metadata_stage_commit (stage, &error);
  g_autofree char *log = sb_test_io_log_stop ();
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (log, ==, "rename timestamp.json, fsync-dir");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/metadata-stage/discard-leaves-trusted-directory", test_discard_leaves_trusted);
  ADD ("/metadata-stage/commit-replaces-adds-and-removes", test_commit);
  ADD ("/metadata-stage/unchanged-files-are-not-rewritten", test_unchanged_files_keep_inode);
  ADD ("/metadata-stage/first-run-and-crash-leftover", test_first_run_and_leftover);
  ADD ("/metadata-stage/commit/root-durable-before-the-rest", test_root_durable_first);
  ADD ("/metadata-stage/commit/unchanged-root-no-extra-fsync", test_unchanged_root_no_extra_fsync);
#undef ADD
  return g_test_run ();
}
