/* Tests for sb-durable: the single durable-write helper. */
#include "config.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "sb-test-io-spy.h"
#include "sb-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_replaces_contents (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (f->dir, "state.json", NULL);
  g_assert_true (sb_durable_write (p, "old", 3, 0644, &error));
  g_assert_no_error (error);
  g_assert_true (sb_durable_write (p, "new!", 4, 0644, &error));
  g_assert_no_error (error);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (p, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, "new!", 4);
  /* No temporary file is left behind. */
  g_assert_cmpuint (count_entries (f->dir), ==, 1);
}

/* The directory fsync comes after the rename: its failure is reported, with the file already
 * holding the new contents (sb-durable.h) and no temporary file left. */
static void
test_failed_dir_fsync (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (f->dir, "state.json", NULL);
  g_assert_true (sb_durable_write (p, "old", 3, 0644, &error));
  g_assert_no_error (error);
  sb_test_io_fail_dir_fsync = TRUE;
  gboolean ok = sb_durable_write (p, "new!", 4, 0644, &error);
  sb_test_io_fail_dir_fsync = FALSE;
  g_assert_false (ok);
  g_assert_error (error, SB_ERROR, SB_ERROR_IO);
  g_assert_nonnull (strstr (error->message, p));
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (p, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, "new!", 4);
  g_assert_cmpuint (count_entries (f->dir), ==, 1);
}

static void
test_secret_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (f->dir, "key.pem", NULL);
  g_assert_true (sb_durable_write (p, "secret", 6, 0600, &error));
  g_assert_no_error (error);
  struct stat st;
  g_assert_cmpint (g_stat (p, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
}

static void
test_missing_dir_fails_cleanly (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (f->dir, "nope", "state.json", NULL);
  g_assert_false (sb_durable_write (p, "x", 1, 0644, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == SB_ERROR);
}

static void
test_read_file_cap (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (f->dir, "big", NULL);
  g_assert_true (sb_durable_write (p, "0123456789", 10, 0644, &error));
  g_autoptr (GBytes) b = sb_read_file (p, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 10);
  g_autoptr (GBytes) b2 = sb_read_file (p, 9, &error);
  g_assert_null (b2);
  g_assert_error (error, SB_ERROR, SB_ERROR_ENDLESS_DATA);
  g_clear_error (&error);
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  g_autoptr (GBytes) b3 = sb_read_file (missing, 9, &error);
  g_assert_null (b3);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

/* A FIFO where a state file (install.json, counters.json, the cmdline) belongs is refused at
 * once: open() must not wait for a writer, which hung the boot. A FIFO with a writer and data
 * in it is refused just the same, and so are a directory and a symbolic link. */
static void
test_read_file_refuses_non_regular (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fifo = g_build_filename (f->dir, "counters.json", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_autoptr (GBytes) b = sb_read_file (fifo, 1024, &error);
  g_assert_null (b);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_clear_error (&error);

  int writer = open (fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (writer, >=, 0);
  g_assert_cmpint (write (writer, "{}", 2), ==, 2);
  g_autoptr (GBytes) b2 = sb_read_file (fifo, 1024, &error);
  g_assert_null (b2);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_clear_error (&error);
  g_assert_cmpint (close (writer), ==, 0);

  g_autoptr (GBytes) b3 = sb_read_file (f->dir, 1024, &error);
  g_assert_null (b3);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_clear_error (&error);

  g_autofree char *real = g_build_filename (f->dir, "install.json", NULL);
  g_autofree char *link = g_build_filename (f->dir, "link.json", NULL);
  g_assert_true (sb_durable_write (real, "{}", 2, 0644, &error));
  g_assert_cmpint (symlink (real, link), ==, 0);
  g_autoptr (GBytes) b4 = sb_read_file (link, 1024, &error);
  g_assert_null (b4);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
}

static void
test_unlink_and_mkdir (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *d = g_build_filename (f->dir, "a", NULL);
  g_autofree char *dd = g_build_filename (d, "b", NULL);
  g_assert_true (sb_durable_mkdir_p (dd, 0700, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (dd, G_FILE_TEST_IS_DIR));
  g_assert_cmpint (g_rmdir (dd), ==, 0);
  g_assert_cmpint (g_rmdir (d), ==, 0);
  g_autofree char *p = g_build_filename (f->dir, "x", NULL);
  g_assert_true (sb_durable_write (p, "x", 1, 0644, &error));
  g_assert_true (sb_durable_unlink (p, &error));
  g_assert_false (g_file_test (p, G_FILE_TEST_EXISTS));
  /* Removing what is already gone is not an error. */
  g_assert_true (sb_durable_unlink (p, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/durable/write/replaces-contents", Fixture, NULL, setup, test_replaces_contents,
              teardown);
  g_test_add ("/durable/write/failed-dir-fsync-after-rename", Fixture, NULL, setup,
              test_failed_dir_fsync, teardown);
  g_test_add ("/durable/write/secret-mode-0600", Fixture, NULL, setup, test_secret_mode, teardown);
  g_test_add ("/durable/write/missing-dir-fails", Fixture, NULL, setup,
              test_missing_dir_fails_cleanly, teardown);
  g_test_add ("/durable/read/cap-and-missing", Fixture, NULL, setup, test_read_file_cap, teardown);
  g_test_add ("/durable/read/non-regular-refused", Fixture, NULL, setup,
              test_read_file_refuses_non_regular, teardown);
  g_test_add ("/durable/unlink-and-mkdir", Fixture, NULL, setup, test_unlink_and_mkdir, teardown);
  return g_test_run ();
}
