/* sb-test-io-spy.h: records the order of rename() and fsync() calls, and fails a directory
 * fsync on request, for tests of the ordering that durability relies on (design.md §4: a state
 * file is renamed, then its directory fsynced).
 *
 * It defines rename() and fsync() themselves: the test program's definitions take precedence
 * over libc's for every caller in the process, and forward to libc's through dlsym(RTLD_NEXT).
 * Include it in exactly one source file of a test program.
 */
#pragma once

/* config.h, included first, defines _GNU_SOURCE (for RTLD_NEXT). */
#include <dlfcn.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* While not NULL, each call appends "rename BASENAME-OF-NEW" or "fsync-dir" (directories only). */
static GPtrArray *sb_test_io_log;
/* While TRUE, fsync of a directory fails with EIO (after the log entry). */
static gboolean sb_test_io_fail_dir_fsync;
/* While TRUE, pwrite fails with EROFS, as on a filesystem mounted read-only (the grubenv on the
 * ESP is written with pwrite, and nothing else is). */
static gboolean sb_test_io_fail_pwrite;

int
rename (const char *oldpath, const char *newpath)
{
  static int (*real) (const char *, const char *);
  if (real == NULL)
    real = (int (*) (const char *, const char *)) dlsym (RTLD_NEXT, "rename");
  int r = real (oldpath, newpath);
  if (r == 0 && sb_test_io_log != NULL)
    g_ptr_array_add (sb_test_io_log, g_strdup_printf ("rename %s", strrchr (newpath, '/') != NULL
                                                                       ? strrchr (newpath, '/') + 1
                                                                       : newpath));
  return r;
}

int
fsync (int fd)
{
  static int (*real) (int);
  if (real == NULL)
    real = (int (*) (int)) dlsym (RTLD_NEXT, "fsync");
  struct stat st;
  gboolean is_dir = fstat (fd, &st) == 0 && S_ISDIR (st.st_mode);
  if (is_dir && sb_test_io_log != NULL)
    g_ptr_array_add (sb_test_io_log, g_strdup ("fsync-dir"));
  if (is_dir && sb_test_io_fail_dir_fsync)
    {
      errno = EIO;
      return -1;
    }
  return real (fd);
}

/* With 64-bit file offsets on a 32-bit system, <unistd.h> renames this definition to pwrite64,
 * and libc's matching function has that name too. */
ssize_t
pwrite (int fd, const void *buf, size_t count, off_t offset)
{
  static ssize_t (*real) (int, const void *, size_t, off_t);
  if (real == NULL)
    real = (ssize_t (*) (int, const void *, size_t, off_t)) dlsym (
        RTLD_NEXT, sizeof (off_t) > sizeof (long) ? "pwrite64" : "pwrite");
  if (sb_test_io_fail_pwrite)
    {
      errno = EROFS;
      return -1;
    }
  return real (fd, buf, count, offset);
}

static inline void
sb_test_io_log_start (void)
{
  g_clear_pointer (&sb_test_io_log, g_ptr_array_unref);
  sb_test_io_log = g_ptr_array_new_with_free_func (g_free);
}

/* The log so far, joined with ", ", and the log stopped. */
static inline char *
sb_test_io_log_stop (void)
{
  g_ptr_array_add (sb_test_io_log, NULL);
  char *joined = g_strjoinv (", ", (char **) sb_test_io_log->pdata);
  g_clear_pointer (&sb_test_io_log, g_ptr_array_unref);
  return joined;
}
