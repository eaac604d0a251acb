/* sb-test-httpd.h: a loopback HTTP(S) server with fault modes, for C tests.
 *
 * It serves a table of path -> bytes on 127.0.0.1 at a random port, from its own thread and
 * GMainContext, so the code under test may block on it. Each path can be given a fault: an
 * error status (a number of times, or always), a redirect, a delayed, throttled, truncated or
 * endless answer, or an answer that ignores Range. Without a fault a path is served with
 * Range support (206), as a real repository would be, and a PUT is kept and answered 204. The server counts requests per path and
 * remembers the last Range header, so tests can assert what the client did.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SbTestHttpd SbTestHttpd;

typedef struct {
  /* Answer with this HTTP status (and a short error page) ... */
  guint status;
  /* ... for the first status_times requests, then serve normally; 0: every request. */
  guint status_times;
  /* Answer "302 Found" with this Location (an absolute URL, or a path on this server). */
  const char *redirect_to;
  /* The following answer "200 OK" with the whole body, ignoring any Range: */
  /* wait this long before the status line; */
  guint delay_ms;
  /* send throttle_bytes, then wait throttle_ms, and so on (Content-Length is the whole body); */
  gsize throttle_bytes;
  guint throttle_ms;
  /* declare the whole length, send only drop_after bytes and close the connection, for the
   * first drop_times requests (0: every request), then serve normally; */
  gboolean drop;
  gsize drop_after;
  guint drop_times;
  /* send a chunked body that never ends (the path needs no file). */
  gboolean endless;
  /* Answer "200 OK" with the whole body when a Range is asked for. */
  gboolean ignore_range;
  /* send hold_after bytes of the body, then wait for sb_test_httpd_release() (0: no hold). */
  gsize hold_after;
} SbTestFault;

/* Starts a plain-http server. @files (path -> GBytes, may be NULL) is copied. */
SbTestHttpd *sb_test_httpd_new (GHashTable *files);

/* Starts an https server with the PEM certificate and key. When @client_ca_file is not NULL,
 * the server requires a client certificate issued by that CA (mutual TLS). */
SbTestHttpd *sb_test_httpd_new_tls (GHashTable *files, const char *cert_file,
                                    const char *key_file, const char *client_ca_file);

/* Stops the server and its fault writers, and frees it. */
void sb_test_httpd_free (SbTestHttpd *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbTestHttpd, sb_test_httpd_free)

/* "http://127.0.0.1:PORT" (or https), without a trailing slash. */
const char *sb_test_httpd_get_base_url (SbTestHttpd *h);

/* The base URL followed by @path (which starts with '/'). */
char *sb_test_httpd_url (SbTestHttpd *h, const char *path);

/* Serves @body at @path (replacing what was there). */
void sb_test_httpd_set_file (SbTestHttpd *h, const char *path, GBytes *body);

/* Sets the fault of @path (copied; NULL clears it). Its counters start again. */
void sb_test_httpd_set_fault (SbTestHttpd *h, const char *path, const SbTestFault *fault);

/* Requests received for @path so far. */
guint sb_test_httpd_get_hits (SbTestHttpd *h, const char *path);

/* The Range header of the last request for @path, or NULL when it had none. */
char *sb_test_httpd_get_last_range (SbTestHttpd *h, const char *path);

/* The body of the last PUT to @path (answered "204 No Content" unless a fault says otherwise),
 * or NULL. */
GBytes *sb_test_httpd_get_last_put (SbTestHttpd *h, const char *path);

/* Waits until an answer has sent its hold_after bytes and holds there. Tests drive a
 * download to a known byte this way, with no clock involved. */
void sb_test_httpd_wait_held (SbTestHttpd *h);

/* Lets every held answer, and every later one, go on past its hold_after byte. */
void sb_test_httpd_release (SbTestHttpd *h);

/* Distinct client connections accepted so far. */
guint sb_test_httpd_get_connections (SbTestHttpd *h);

/* Writes a test PKI with the openssl command into @dir: ca.pem (a CA), server.pem and
 * server.key (for 127.0.0.1 and localhost), client.pem and client.key (for client
 * authentication); keys are mode 0600. Returns FALSE with G_IO_ERROR_NOT_FOUND when openssl
 * is not installed, so the caller can skip. */
gboolean sb_test_make_tls_files (const char *dir, GError **error);

G_END_DECLS
