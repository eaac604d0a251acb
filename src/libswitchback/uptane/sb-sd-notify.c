/* sb-sd-notify.c: sd_notify(3) over the $NOTIFY_SOCKET datagram socket. */
#include "config.h"

#include "uptane/sb-sd-notify.h"

#include "core/sb-error.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

gboolean
sb_sd_notify_to (const char *socket_path, const char *state, gboolean *out_sent, GError **error)
{
  g_return_val_if_fail (state != NULL, FALSE);
  if (out_sent != NULL)
    *out_sent = FALSE;
  if (socket_path == NULL || socket_path[0] == '\0')
    return TRUE;

  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  gsize len = strlen (socket_path);
  if (socket_path[0] != '/' && socket_path[0] != '@')
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "notification socket \"%s\" is neither a path nor an abstract name",
                     socket_path);
  if (len >= sizeof addr.sun_path)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "notification socket \"%s\" is longer than %zu bytes", socket_path,
                     sizeof addr.sun_path - 1);
  memcpy (addr.sun_path, socket_path, len);
  /* An abstract socket's name starts with a NUL byte and is not NUL-terminated: its length is
   * the address length. */
  if (socket_path[0] == '@')
    addr.sun_path[0] = '\0';
  socklen_t addr_len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len
                                    + (socket_path[0] == '/' ? 1 : 0));

  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "creating a socket for %s", socket_path);
  gsize state_len = strlen (state);
  ssize_t n;
  do
    n = sendto (fd, state, state_len, MSG_NOSIGNAL, (struct sockaddr *) &addr, addr_len);
  while (n < 0 && errno == EINTR);
  int saved_errno = errno;
  (void) close (fd);
  if (n < 0)
    {
      errno = saved_errno;
      return sb_throw_errno (error, SB_ERROR_IO, "notifying the service manager at %s",
                             socket_path);
    }
  if ((gsize) n != state_len)
    return sb_throw (error, SB_ERROR_IO,
                     "notifying the service manager at %s: %zd of %zu bytes sent", socket_path,
                     n, state_len);
  if (out_sent != NULL)
    *out_sent = TRUE;
  return TRUE;
}

gboolean
sb_sd_notify (const char *state, gboolean *out_sent, GError **error)
{
  return sb_sd_notify_to (g_getenv ("NOTIFY_SOCKET"), state, out_sent, error);
}

static gboolean
parse_u64 (const char *s, guint64 *out)
{
  if (s == NULL || !g_ascii_isdigit (s[0]))
    return FALSE;
  char *end = NULL;
  errno = 0;
  guint64 v = g_ascii_strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0')
    return FALSE;
  *out = v;
  return TRUE;
}

guint64
sb_sd_watchdog_usec_from (const char *watchdog_usec, const char *watchdog_pid, gint64 self_pid)
{
  guint64 usec = 0, pid = 0;
  if (!parse_u64 (watchdog_usec, &usec) || usec == 0)
    return 0;
  /* WATCHDOG_PID names the process the manager watches; a child that inherited the environment
   * must not ping in its parent's place. */
  if (watchdog_pid != NULL && watchdog_pid[0] != '\0'
      && (!parse_u64 (watchdog_pid, &pid) || (gint64) pid != self_pid))
    return 0;
  return usec;
}

guint64
sb_sd_watchdog_usec (void)
{
  return sb_sd_watchdog_usec_from (g_getenv ("WATCHDOG_USEC"), g_getenv ("WATCHDOG_PID"),
                                   (gint64) getpid ());
}
