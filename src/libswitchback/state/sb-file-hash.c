/* sb-file-hash.c: hashing a file in bounded memory. */
#include "config.h"

#include "state/sb-file-hash.h"
#include "core/sb-error.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

gboolean
sb_hasher_update_file (SbHasher *hasher, const char *path, guint64 max_len, guint64 *out_len,
                       GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      SbErrorCode code = sb_error_code_from_errno (errsv, SB_ERROR_IO);
      errno = errsv;
      return sb_throw_errno (error, code, "opening %s", path);
    }
  const gsize chunk = 1024 * 1024;
  g_autofree guint8 *buf = g_malloc (chunk);
  guint64 total = 0;
  for (;;)
    {
      ssize_t n = read (fd, buf, chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          (void) close (fd);
          errno = errsv;
          return sb_throw_errno (error, SB_ERROR_IO, "reading %s", path);
        }
      if (n == 0)
        break;
      total += (guint64) n;
      if (total > max_len)
        {
          (void) close (fd);
          return sb_throw (error, SB_ERROR_LENGTH_MISMATCH,
                           "%s is longer than %" G_GUINT64_FORMAT " bytes", path, max_len);
        }
      sb_hasher_update (hasher, buf, (gsize) n);
    }
  (void) close (fd);
  if (out_len != NULL)
    *out_len = total;
  return sb_hasher_check (hasher, error);
}
