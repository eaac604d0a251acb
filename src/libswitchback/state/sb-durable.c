/* sb-durable.c: temporary file, fsync, rename, directory fsync. */
#include "config.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
sb_fsync_dir (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "opening directory %s", path);
  if (fsync (fd) < 0)
    {
      int errsv = errno;
      (void) close (fd);
      errno = errsv;
      return sb_throw_errno (error, SB_ERROR_IO, "fsync of directory %s", path);
    }
  if (close (fd) < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "closing directory %s", path);
  return TRUE;
}

static gboolean
write_all (int fd, const guint8 *p, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
sb_durable_write (const char *path, const void *data, gsize len, mode_t mode, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);

  /* g_mkstemp_full creates with @mode, so a 0600 secret is never briefly world-readable. */
  int fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, (int) (mode & 07777));
  if (fd < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "creating temporary file in %s", dir);
  /* umask may have narrowed the mode; state files need exactly what was asked. */
  if (fchmod (fd, mode & 07777) < 0 || !write_all (fd, data, len) || fsync (fd) < 0)
    {
      int errsv = errno;
      (void) close (fd);
      (void) unlink (tmpl);
      errno = errsv;
      return sb_throw_errno (error, SB_ERROR_IO, "writing %s", path);
    }
  if (close (fd) < 0)
    {
      int errsv = errno;
      (void) unlink (tmpl);
      errno = errsv;
      return sb_throw_errno (error, SB_ERROR_IO, "closing %s", tmpl);
    }
  if (rename (tmpl, path) < 0)
    {
      int errsv = errno;
      (void) unlink (tmpl);
      errno = errsv;
      return sb_throw_errno (error, SB_ERROR_IO, "renaming %s to %s", tmpl, path);
    }
  /* Without this the rename may be lost on a power cut, resurrecting the old file. */
  if (!sb_fsync_dir (dir, error))
    {
      g_prefix_error (error, "%s is replaced, but a power cut may bring back its old contents: ",
                      path);
      return FALSE;
    }
  return TRUE;
}

gboolean
sb_durable_write_bytes (const char *path, GBytes *bytes, mode_t mode, GError **error)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (bytes, &len);
  return sb_durable_write (path, data != NULL ? data : "", len, mode, error);
}

gboolean
sb_durable_unlink (const char *path, GError **error)
{
  if (unlink (path) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return sb_throw_errno (error, SB_ERROR_IO, "removing %s", path);
    }
  g_autofree char *dir = g_path_get_dirname (path);
  return sb_fsync_dir (dir, error);
}

gboolean
sb_durable_mkdir_p (const char *path, mode_t mode, GError **error)
{
  struct stat st;
  if (stat (path, &st) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        return sb_throw (error, SB_ERROR_IO, "%s exists and is not a directory", path);
      return TRUE;
    }
  g_autofree char *parent = g_path_get_dirname (path);
  if (g_strcmp0 (parent, path) != 0 && !sb_durable_mkdir_p (parent, mode, error))
    return FALSE;
  if (mkdir (path, mode) < 0 && errno != EEXIST)
    return sb_throw_errno (error, SB_ERROR_IO, "creating directory %s", path);
  return sb_fsync_dir (parent, error);
}

GBytes *
sb_read_file (const char *path, gsize max_len, GError **error)
{
  /* O_NONBLOCK: open() of a FIFO put where a state file belongs would wait for a writer
   * forever, and hang the boot; it is refused below instead. O_NOFOLLOW: a state file is the
   * file itself, never a link elsewhere. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == ELOOP)
        {
          sb_throw (error, SB_ERROR_STATE, "reading %s: it is a symbolic link, not a file", path);
          return NULL;
        }
      SbErrorCode code = sb_error_code_from_errno (errsv, SB_ERROR_IO);
      errno = errsv;
      sb_throw_errno (error, code, "reading %s", path);
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;
      (void) close (fd);
      errno = errsv;
      sb_throw_errno (error, SB_ERROR_IO, "stat of %s", path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      (void) close (fd);
      sb_throw (error, SB_ERROR_STATE, "reading %s: it is not a regular file", path);
      return NULL;
    }
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[16384];
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          int errsv = errno;
          (void) close (fd);
          errno = errsv;
          sb_throw_errno (error, SB_ERROR_IO, "reading %s", path);
          return NULL;
        }
      if (n == 0)
        break;
      if (buf->len + (gsize) n > max_len)
        {
          (void) close (fd);
          sb_throw (error, SB_ERROR_ENDLESS_DATA, "%s is larger than the limit of %" G_GSIZE_FORMAT
                    " bytes", path, max_len);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
  (void) close (fd);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}
