/* Tests for sb-sd-notify: datagrams to a real AF_UNIX socket, filesystem and abstract, and the
 * watchdog environment as sd_watchdog_enabled(3) reads it. */
#include "config.h"

#include "core/sb-error.h"
#include "uptane/sb-sd-notify.h"
#include "sb-test-util.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
  char *dir;
  int fd;
  char *name; /* what NOTIFY_SOCKET would say */
} Fixture;

static void
bind_socket (Fixture *f, gboolean abstract)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  socklen_t len;
  f->fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (f->fd, >=, 0);
  if (abstract)
    {
      f->name = g_strdup_printf ("@sb-test-notify-%d", (int) getpid ());
      gsize n = strlen (f->name);
      memcpy (addr.sun_path, f->name, n);
      addr.sun_path[0] = '\0';
      len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + n);
    }
  else
    {
      f->name = g_build_filename (f->dir, "notify", NULL);
      g_assert_cmpuint (strlen (f->name), <, sizeof addr.sun_path);
      strcpy (addr.sun_path, f->name);
      len = (socklen_t) sizeof addr;
    }
  g_assert_cmpint (bind (f->fd, (struct sockaddr *) &addr, len), ==, 0);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  bind_socket (f, GPOINTER_TO_INT (data));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  close (f->fd);
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->name);
}

/* The next datagram on the fixture's socket (the send has completed: it is queued already). */
static char *
receive (Fixture *f)
{
  char buf[512];
  ssize_t n = recv (f->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  g_assert_cmpint (n, >=, 0);
  buf[n] = '\0';
  return g_strdup (buf);
}

static void
test_sends_datagram (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gboolean sent = FALSE;
  g_assert_true (sb_sd_notify_to (f->name, "READY=1\nSTATUS=up", &sent, &error));
  g_assert_no_error (error);
  g_assert_true (sent);
  g_autofree char *got = receive (f);
  g_assert_cmpstr (got, ==, "READY=1\nSTATUS=up");
  g_assert_true (sb_sd_notify_to (f->name, "WATCHDOG=1", &sent, &error));
  g_autofree char *got2 = receive (f);
  g_assert_cmpstr (got2, ==, "WATCHDOG=1");
}

static void
test_env_socket (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gboolean sent = FALSE;
  g_setenv ("NOTIFY_SOCKET", f->name, TRUE);
  g_assert_true (sb_sd_notify ("WATCHDOG=1", &sent, &error));
  g_unsetenv ("NOTIFY_SOCKET");
  g_assert_true (sent);
  g_autofree char *got = receive (f);
  g_assert_cmpstr (got, ==, "WATCHDOG=1");
}

static void
test_no_socket (void)
{
  g_autoptr (GError) error = NULL;
  gboolean sent = TRUE;
  g_unsetenv ("NOTIFY_SOCKET");
  g_assert_true (sb_sd_notify ("READY=1", &sent, &error));
  g_assert_false (sent);
  sent = TRUE;
  g_assert_true (sb_sd_notify_to ("", "READY=1", &sent, &error));
  g_assert_false (sent);
}

static void
test_bad_socket (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_sd_notify_to ("relative/path", "READY=1", NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_autofree char *longname = g_strnfill (200, 'x');
  longname[0] = '/';
  g_assert_false (sb_sd_notify_to (longname, "READY=1", NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Nobody listens there. */
  g_autofree char *dir = sb_test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "none", NULL);
  g_assert_false (sb_sd_notify_to (missing, "READY=1", NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_IO);
  sb_test_rm_rf (dir);
}

static void
test_watchdog_env (void)
{
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("30000000", NULL, 42), ==, 30000000);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("30000000", "", 42), ==, 30000000);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("30000000", "42", 42), ==, 30000000);
  /* Another process's watchdog: an inherited environment. */
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("30000000", "41", 42), ==, 0);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("30000000", "x", 42), ==, 0);
  g_assert_cmpuint (sb_sd_watchdog_usec_from (NULL, NULL, 42), ==, 0);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("", NULL, 42), ==, 0);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("0", NULL, 42), ==, 0);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("-5", NULL, 42), ==, 0);
  g_assert_cmpuint (sb_sd_watchdog_usec_from ("12s", NULL, 42), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sd-notify/path/sends-datagram", Fixture, GINT_TO_POINTER (FALSE), setup,
              test_sends_datagram, teardown);
  g_test_add ("/sd-notify/abstract/sends-datagram", Fixture, GINT_TO_POINTER (TRUE), setup,
              test_sends_datagram, teardown);
  g_test_add ("/sd-notify/env/socket", Fixture, GINT_TO_POINTER (FALSE), setup, test_env_socket,
              teardown);
  g_test_add_func ("/sd-notify/no-socket/sends-nothing", test_no_socket);
  g_test_add_func ("/sd-notify/bad-socket/refused", test_bad_socket);
  g_test_add_func ("/sd-notify/watchdog/env", test_watchdog_env);
  return g_test_run ();
}
