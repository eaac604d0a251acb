/* Tests for sb-state-lock: nested holds in one thread, other threads and other descriptors
 * (as another process would hold it) kept out. */
#include "config.h"

#include "core/sb-error.h"
#include "state/sb-state-lock.h"
#include "sb-test-util.h"

#include <fcntl.h>
#include <sys/file.h>
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

static gpointer
try_lock (gpointer data)
{
  Fixture *f = data;
  GError *error = NULL;
  SbStateLock *lock = sb_state_lock_take (f->dir, SB_STATE_LOCK_FILE, FALSE, &error);
  sb_state_lock_release (lock);
  return error;
}

/* What another process sees: a descriptor of its own, flock'ed without waiting. */
static gboolean
free_for_others (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, SB_STATE_LOCK_FILE, NULL);
  int fd = open (path, O_RDWR | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  gboolean free = flock (fd, LOCK_EX | LOCK_NB) == 0;
  g_assert_cmpint (close (fd), ==, 0);
  return free;
}

static void
test_nested (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbStateLock) outer = sb_state_lock_acquire (f->dir, &error);
  g_assert_no_error (error);
  g_assert_true (sb_state_lock_is_held (f->dir, SB_STATE_LOCK_FILE));
  /* Another spelling of the same directory nests too, instead of waiting for itself. */
  g_autofree char *other_spelling = g_strconcat (f->dir, "/.", NULL);
  g_autoptr (SbStateLock) inner = sb_state_lock_acquire (other_spelling, &error);
  g_assert_no_error (error);
  g_assert_false (free_for_others (f));

  GError *thread_error = g_thread_join (g_thread_new ("other", try_lock, f));
  g_assert_error (thread_error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  g_clear_error (&thread_error);

  g_clear_pointer (&inner, sb_state_lock_release);
  g_assert_true (sb_state_lock_is_held (f->dir, SB_STATE_LOCK_FILE));
  g_assert_false (free_for_others (f));
  g_clear_pointer (&outer, sb_state_lock_release);
  g_assert_false (sb_state_lock_is_held (f->dir, SB_STATE_LOCK_FILE));
  g_assert_true (free_for_others (f));
  thread_error = g_thread_join (g_thread_new ("other", try_lock, f));
  g_assert_no_error (thread_error);
}

static void
test_other_holder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "update.lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  SbStateLock *lock = sb_state_lock_take (f->dir, "update.lock", FALSE, &error);
  g_assert_null (lock);
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  g_clear_error (&error);
  g_assert_cmpint (close (fd), ==, 0);
  lock = sb_state_lock_take (f->dir, "update.lock", FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lock);
  sb_state_lock_release (lock);
}

static void
test_unusable_dir (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_build_filename (f->dir, "state", NULL);
  g_assert_true (g_file_set_contents (file, "not a directory", -1, NULL));
  g_assert_null (sb_state_lock_acquire (file, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_IO);
  g_assert_false (sb_state_lock_is_held (file, SB_STATE_LOCK_FILE));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/state-lock/nested-in-one-thread-excludes-others", test_nested);
  ADD ("/state-lock/another-holder-is-slot-busy", test_other_holder);
  ADD ("/state-lock/unusable-directory-is-io-error", test_unusable_dir);
#undef ADD
  return g_test_run ();
}
