/* sb-sd-notify.h: the service manager's notification protocol (sd_notify(3)), spoken directly:
 * one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. No
 * libsystemd: the protocol is a documented stable interface of systemd (and of other service
 * managers that implement it), and a datagram is all it takes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sends @state (for example "READY=1", "WATCHDOG=1" or "STATUS=…", several separated by
 * newlines) to the socket named by @socket_path, as sd_notify does with $NOTIFY_SOCKET: a path
 * starting with "/" is a filesystem socket, one starting with "@" an abstract one. A NULL or
 * empty @socket_path means no service manager listens: nothing is sent and *@out_sent is FALSE.
 * @out_sent may be NULL.
 *
 * Errors: SB_ERROR_INVALID_ARGUMENT for a socket path that is neither absolute nor abstract or
 * is too long for sockaddr_un; SB_ERROR_IO when the datagram cannot be sent. */
gboolean sb_sd_notify_to (const char *socket_path, const char *state, gboolean *out_sent,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* sb_sd_notify_to with $NOTIFY_SOCKET. */
gboolean sb_sd_notify (const char *state, gboolean *out_sent,
                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The watchdog interval the service manager expects pings at, from @watchdog_usec and
 * @watchdog_pid (the values of $WATCHDOG_USEC and $WATCHDOG_PID) for the process @self_pid, in
 * microseconds; 0 when no watchdog is asked of this process: @watchdog_usec unset, empty, zero
 * or not a number, or @watchdog_pid set and naming another process (sd_watchdog_enabled(3)). */
guint64 sb_sd_watchdog_usec_from (const char *watchdog_usec, const char *watchdog_pid,
                                  gint64 self_pid);

/* sb_sd_watchdog_usec_from with $WATCHDOG_USEC, $WATCHDOG_PID and getpid(). */
guint64 sb_sd_watchdog_usec (void);

G_END_DECLS
