/* sb-test-httpd.c: loopback HTTP(S) test server with fault modes (libsoup-3.0).
 *
 * Well-behaved answers come from SoupServer, which also handles Range on a complete body.
 * Faulty answers need control below HTTP (a connection closed mid-body, a body that never
 * ends, one byte a second), so for those the handler takes the connection from libsoup and a
 * writer thread speaks raw HTTP/1.1 on it. Writers stop when the server is freed.
 */
#include "config.h"

#include "sb-test-httpd.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  SbTestFault fault;
  char *redirect_to;
  guint statuses_sent;
  guint drops_done;
} Fault;

struct _SbTestHttpd {
  GMutex lock;
  GCond cond;
  GHashTable *files;  /* path -> GBytes */
  GHashTable *faults; /* path -> Fault */
  GHashTable *hits;   /* path -> count */
  GHashTable *ranges; /* path -> Range header of the last request */
  GHashTable *peers;  /* client port -> itself */
  GHashTable *bodies; /* path -> body of the last PUT */

  char *cert_file, *key_file, *client_ca_file;
  GThread *thread;
  GMainContext *ctx;
  GMainLoop *loop;
  gboolean ready;
  GError *start_error;
  char *base_url;

  GPtrArray *writers; /* GThread */
  guint held;         /* writers waiting at their hold_after byte */
  gboolean released;  /* sb_test_httpd_release() was called */
  gboolean stopping;
  GCancellable *cancellable;
};

typedef struct {
  SbTestHttpd *h;
  GIOStream *stream;
  GBytes *body;
  SbTestFault fault;
} Writer;

static void
fault_free (gpointer p)
{
  Fault *f = p;
  g_free (f->redirect_to);
  g_free (f);
}

/* Waits @ms or until the server stops; FALSE when it stops. */
static gboolean
writer_wait (SbTestHttpd *h, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  g_mutex_lock (&h->lock);
  while (!h->stopping && g_cond_wait_until (&h->cond, &h->lock, end))
    ;
  gboolean go_on = !h->stopping;
  g_mutex_unlock (&h->lock);
  return go_on;
}

static gboolean
writer_send (Writer *w, const void *data, gsize len)
{
  GOutputStream *out = g_io_stream_get_output_stream (w->stream);
  return g_output_stream_write_all (out, data, len, NULL, w->h->cancellable, NULL);
}

static void
write_endless (Writer *w)
{
  static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  guint8 chunk[16384 + 16];
  int n = g_snprintf ((char *) chunk, 16, "%x\r\n", 16384u);

  memset (chunk + n, 'x', 16384);
  memcpy (chunk + n + 16384, "\r\n", 2);
  if (!writer_send (w, head, strlen (head)))
    return;
  while (!g_atomic_int_get (&w->h->stopping) && writer_send (w, chunk, (gsize) n + 16384 + 2))
    ;
}

static void
write_body (Writer *w)
{
  const SbTestFault *ft = &w->fault;
  gsize len = g_bytes_get_size (w->body);
  const guint8 *body = g_bytes_get_data (w->body, NULL);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT
                                           "\r\nConnection: close\r\n\r\n",
                                           len);

  if (!writer_send (w, head, strlen (head)))
    return;
  gsize limit = ft->drop ? MIN (ft->drop_after, len) : len;
  gsize step = ft->throttle_bytes > 0 ? ft->throttle_bytes : MAX (limit, 1);
  for (gsize off = 0; off < limit; off += step)
    {
      if (ft->hold_after > 0 && off < ft->hold_after && off + step > ft->hold_after)
        step = ft->hold_after - off;
      if (ft->hold_after > 0 && off == ft->hold_after)
        {
          /* The test is told, and this writer goes on once the test releases it. */
          g_mutex_lock (&w->h->lock);
          w->h->held++;
          g_cond_broadcast (&w->h->cond);
          while (!w->h->released && !w->h->stopping)
            g_cond_wait (&w->h->cond, &w->h->lock);
          w->h->held--;
          gboolean stop = w->h->stopping;
          g_mutex_unlock (&w->h->lock);
          if (stop)
            return;
          step = ft->throttle_bytes > 0 ? ft->throttle_bytes : MAX (limit - off, 1);
        }
      if (!writer_send (w, body + off, MIN (step, limit - off)))
        return;
      if (ft->throttle_bytes > 0 && off + step < limit && !writer_wait (w->h, ft->throttle_ms))
        return;
    }
}

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;

  if (w->fault.delay_ms == 0 || writer_wait (w->h, w->fault.delay_ms))
    {
      if (w->fault.endless)
        write_endless (w);
      else
        write_body (w);
    }
  (void) g_io_stream_close (w->stream, NULL, NULL);
  g_object_unref (w->stream);
  g_clear_pointer (&w->body, g_bytes_unref);
  g_free (w);
  return NULL;
}

/* Takes the connection from libsoup and answers @msg by hand. Called with the lock held. */
static void
start_writer (SbTestHttpd *h, SoupServerMessage *msg, GBytes *body, const SbTestFault *fault)
{
  Writer *w = g_new0 (Writer, 1);
  GSocket *sock = soup_server_message_get_socket (msg);

  if (sock != NULL)
    g_socket_set_blocking (sock, TRUE);
  w->h = h;
  w->body = body != NULL ? g_bytes_ref (body) : NULL;
  w->fault = *fault;
  w->stream = soup_server_message_steal_connection (msg);
  g_ptr_array_add (h->writers, g_thread_new ("sb-test-httpd-writer", writer_thread, w));
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  SbTestHttpd *h = user_data;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *range = soup_message_headers_get_one (req, "Range");
  GSocketAddress *peer = soup_server_message_get_remote_address (msg);

  g_mutex_lock (&h->lock);
  g_hash_table_replace (h->hits, g_strdup (path),
                        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (h->hits, path))
                                          + 1));
  if (range != NULL)
    g_hash_table_replace (h->ranges, g_strdup (path), g_strdup (range));
  else
    g_hash_table_remove (h->ranges, path);
  if (G_IS_INET_SOCKET_ADDRESS (peer))
    {
      guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (peer));
      g_hash_table_add (h->peers, GUINT_TO_POINTER (port));
    }

  GBytes *body = g_hash_table_lookup (h->files, path);
  Fault *f = g_hash_table_lookup (h->faults, path);
  SbTestFault *ft = f != NULL ? &f->fault : NULL;

  if (ft != NULL && f->redirect_to != NULL)
    {
      g_autofree char *loc = f->redirect_to[0] == '/'
                                 ? g_strconcat (h->base_url, f->redirect_to, NULL)
                                 : g_strdup (f->redirect_to);
      soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, loc);
    }
  else if (ft != NULL && ft->status != 0
           && (ft->status_times == 0 || f->statuses_sent < ft->status_times))
    {
      f->statuses_sent++;
      soup_server_message_set_status (msg, ft->status, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "fault\n", 6);
    }
  else if (soup_server_message_get_method (msg) == SOUP_METHOD_PUT)
    {
      g_autoptr (GBytes) got
          = soup_message_body_flatten (soup_server_message_get_request_body (msg));
      g_hash_table_replace (h->bodies, g_strdup (path), g_bytes_ref (got));
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
    }
  else if (ft != NULL && ft->endless)
    start_writer (h, msg, NULL, ft);
  else if (body == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "not found\n",
                                        10);
    }
  else if (ft != NULL
           && (ft->delay_ms > 0 || ft->throttle_bytes > 0 || ft->hold_after > 0
               || (ft->drop && (ft->drop_times == 0 || f->drops_done < ft->drop_times))))
    {
      SbTestFault one = *ft;
      if (one.drop && one.drop_times > 0 && f->drops_done >= one.drop_times)
        one.drop = FALSE;
      if (one.drop)
        f->drops_done++;
      start_writer (h, msg, body, &one);
    }
  else
    {
      if (ft != NULL && ft->ignore_range)
        soup_message_headers_remove (req, "Range");
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                             "application/octet-stream", NULL);
      soup_message_body_append_bytes (soup_server_message_get_response_body (msg), body);
    }
  g_mutex_unlock (&h->lock);
}

/* GIO's TLS server never accepts a client certificate by itself: accept exactly those that
 * verify against the client CA database. */
static gboolean
accept_certificate (SoupServerMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                    gpointer user_data)
{
  return errors == 0;
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate), NULL);
}

static SoupServer *
make_server (SbTestHttpd *h, GError **error)
{
  g_autoptr (SoupServer) server = NULL;
  SoupServerListenOptions listen = SOUP_SERVER_LISTEN_IPV4_ONLY;

  if (h->cert_file != NULL)
    {
      g_autoptr (GTlsCertificate) cert
          = g_tls_certificate_new_from_files (h->cert_file, h->key_file, error);
      if (cert == NULL)
        return NULL;
      server = soup_server_new ("tls-certificate", cert, NULL);
      if (h->client_ca_file != NULL)
        {
          g_autoptr (GTlsDatabase) db = g_tls_file_database_new (h->client_ca_file, error);
          if (db == NULL)
            return NULL;
          soup_server_set_tls_database (server, db);
          soup_server_set_tls_auth_mode (server, G_TLS_AUTHENTICATION_REQUIRED);
          g_signal_connect (server, "request-started", G_CALLBACK (request_started), NULL);
        }
      listen |= SOUP_SERVER_LISTEN_HTTPS;
    }
  else
    server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, handler, h, NULL);
  if (!soup_server_listen_local (server, 0, listen, error))
    return NULL;

  GSList *uris = soup_server_get_uris (server);
  g_assert_nonnull (uris);
  h->base_url = g_strdup_printf ("%s://127.0.0.1:%d", h->cert_file != NULL ? "https" : "http",
                                 g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return g_steal_pointer (&server);
}

static gpointer
server_thread (gpointer data)
{
  SbTestHttpd *h = data;
  GError *error = NULL;

  g_main_context_push_thread_default (h->ctx);
  SoupServer *server = make_server (h, &error);
  g_mutex_lock (&h->lock);
  h->start_error = error;
  h->ready = TRUE;
  g_cond_broadcast (&h->cond);
  g_mutex_unlock (&h->lock);
  if (server != NULL)
    {
      g_main_loop_run (h->loop);
      soup_server_disconnect (server);
      g_object_unref (server);
      while (g_main_context_iteration (h->ctx, FALSE))
        ;
    }
  g_main_context_pop_thread_default (h->ctx);
  return NULL;
}

static SbTestHttpd *
httpd_start (GHashTable *files, const char *cert_file, const char *key_file,
             const char *client_ca_file)
{
  SbTestHttpd *h = g_new0 (SbTestHttpd, 1);
  GHashTableIter it;
  gpointer k, v;

  g_mutex_init (&h->lock);
  g_cond_init (&h->cond);
  h->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) g_bytes_unref);
  if (files != NULL)
    {
      g_hash_table_iter_init (&it, files);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_hash_table_replace (h->files, g_strdup (k), g_bytes_ref (v));
    }
  h->faults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, fault_free);
  h->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h->ranges = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  h->peers = g_hash_table_new (NULL, NULL);
  h->bodies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) g_bytes_unref);
  h->cert_file = g_strdup (cert_file);
  h->key_file = g_strdup (key_file);
  h->client_ca_file = g_strdup (client_ca_file);
  h->writers = g_ptr_array_new ();
  h->cancellable = g_cancellable_new ();
  h->ctx = g_main_context_new ();
  h->loop = g_main_loop_new (h->ctx, FALSE);
  h->thread = g_thread_new ("sb-test-httpd", server_thread, h);

  g_mutex_lock (&h->lock);
  while (!h->ready)
    g_cond_wait (&h->cond, &h->lock);
  g_mutex_unlock (&h->lock);
  g_assert_no_error (h->start_error);
  return h;
}

SbTestHttpd *
sb_test_httpd_new (GHashTable *files)
{
  return httpd_start (files, NULL, NULL, NULL);
}

SbTestHttpd *
sb_test_httpd_new_tls (GHashTable *files, const char *cert_file, const char *key_file,
                       const char *client_ca_file)
{
  g_return_val_if_fail (cert_file != NULL && key_file != NULL, NULL);
  return httpd_start (files, cert_file, key_file, client_ca_file);
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
sb_test_httpd_free (SbTestHttpd *h)
{
  if (h == NULL)
    return;
  g_mutex_lock (&h->lock);
  g_atomic_int_set (&h->stopping, TRUE);
  g_cond_broadcast (&h->cond);
  g_mutex_unlock (&h->lock);
  g_cancellable_cancel (h->cancellable);

  /* An idle source on the server's context rather than g_main_loop_quit or
   * g_main_context_invoke: both would act at once in this thread if the server thread has not
   * started its loop yet, and the quit would be lost. The source waits for the loop. */
  GSource *quit = g_idle_source_new ();
  g_source_set_callback (quit, quit_loop, h->loop, NULL);
  g_source_attach (quit, h->ctx);
  g_source_unref (quit);
  g_thread_join (h->thread);
  /* No handler runs any more, so no writer is added while these are joined. */
  for (guint i = 0; i < h->writers->len; i++)
    g_thread_join (h->writers->pdata[i]);

  g_ptr_array_unref (h->writers);
  g_object_unref (h->cancellable);
  g_main_loop_unref (h->loop);
  g_main_context_unref (h->ctx);
  g_hash_table_unref (h->files);
  g_hash_table_unref (h->faults);
  g_hash_table_unref (h->hits);
  g_hash_table_unref (h->ranges);
  g_hash_table_unref (h->peers);
  g_hash_table_unref (h->bodies);
  g_free (h->cert_file);
  g_free (h->key_file);
  g_free (h->client_ca_file);
  g_free (h->base_url);
  g_mutex_clear (&h->lock);
  g_cond_clear (&h->cond);
  g_free (h);
}

const char *
sb_test_httpd_get_base_url (SbTestHttpd *h)
{
  return h->base_url;
}

char *
sb_test_httpd_url (SbTestHttpd *h, const char *path)
{
  g_assert (path[0] == '/');
  return g_strconcat (h->base_url, path, NULL);
}

void
sb_test_httpd_set_file (SbTestHttpd *h, const char *path, GBytes *body)
{
  g_mutex_lock (&h->lock);
  g_hash_table_replace (h->files, g_strdup (path), g_bytes_ref (body));
  g_mutex_unlock (&h->lock);
}

void
sb_test_httpd_set_fault (SbTestHttpd *h, const char *path, const SbTestFault *fault)
{
  g_mutex_lock (&h->lock);
  if (fault == NULL)
    g_hash_table_remove (h->faults, path);
  else
    {
      Fault *f = g_new0 (Fault, 1);
      f->fault = *fault;
      f->redirect_to = g_strdup (fault->redirect_to);
      f->fault.redirect_to = NULL;
      g_hash_table_replace (h->faults, g_strdup (path), f);
    }
  g_mutex_unlock (&h->lock);
}

guint
sb_test_httpd_get_hits (SbTestHttpd *h, const char *path)
{
  g_mutex_lock (&h->lock);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (h->hits, path));
  g_mutex_unlock (&h->lock);
  return n;
}

char *
sb_test_httpd_get_last_range (SbTestHttpd *h, const char *path)
{
  g_mutex_lock (&h->lock);
  char *r = g_strdup (g_hash_table_lookup (h->ranges, path));
  g_mutex_unlock (&h->lock);
  return r;
}

GBytes *
sb_test_httpd_get_last_put (SbTestHttpd *h, const char *path)
{
  g_mutex_lock (&h->lock);
  GBytes *b = g_hash_table_lookup (h->bodies, path);
  if (b != NULL)
    g_bytes_ref (b);
  g_mutex_unlock (&h->lock);
  return b;
}

void
sb_test_httpd_wait_held (SbTestHttpd *h)
{
  g_mutex_lock (&h->lock);
  while (h->held == 0 && !h->stopping)
    g_cond_wait (&h->cond, &h->lock);
  g_mutex_unlock (&h->lock);
}

void
sb_test_httpd_release (SbTestHttpd *h)
{
  g_mutex_lock (&h->lock);
  h->released = TRUE;
  g_cond_broadcast (&h->cond);
  g_mutex_unlock (&h->lock);
}

guint
sb_test_httpd_get_connections (SbTestHttpd *h)
{
  g_mutex_lock (&h->lock);
  guint n = g_hash_table_size (h->peers);
  g_mutex_unlock (&h->lock);
  return n;
}

/* ---- test PKI ---- */

static const char tls_cnf[] = "[req]\n"
                              "distinguished_name = dn\n"
                              "prompt = no\n"
                              "[dn]\n"
                              "CN = switchback test\n"
                              "[ca]\n"
                              "basicConstraints = critical,CA:TRUE\n"
                              "keyUsage = critical,keyCertSign,cRLSign\n"
                              "subjectKeyIdentifier = hash\n"
                              "[server]\n"
                              "basicConstraints = CA:FALSE\n"
                              "keyUsage = critical,digitalSignature\n"
                              "extendedKeyUsage = serverAuth\n"
                              "subjectAltName = IP:127.0.0.1,DNS:localhost\n"
                              "subjectKeyIdentifier = hash\n"
                              "authorityKeyIdentifier = keyid\n"
                              "[client]\n"
                              "basicConstraints = CA:FALSE\n"
                              "keyUsage = critical,digitalSignature\n"
                              "extendedKeyUsage = clientAuth\n"
                              "subjectKeyIdentifier = hash\n"
                              "authorityKeyIdentifier = keyid\n";

static gboolean
run_openssl (const char *dir, const char *const *args, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "openssl");
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                     &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "openssl %s: %s: ", args[0], err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_leaf (const char *dir, const char *name, const char *serial, GError **error)
{
  g_autofree char *key = g_strconcat (name, ".key", NULL);
  g_autofree char *csr = g_strconcat (name, ".csr", NULL);
  g_autofree char *pem = g_strconcat (name, ".pem", NULL);
  g_autofree char *subj = g_strconcat ("/CN=", name, NULL);
  const char *req[] = { "req", "-new", "-config", "tls.cnf", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", subj, NULL };
  const char *sign[] = { "x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key",
                         "-set_serial", serial, "-days", "2", "-extfile", "tls.cnf",
                         "-extensions", name, "-out", pem, NULL };
  g_autofree char *key_path = g_build_filename (dir, key, NULL);

  if (!run_openssl (dir, req, error) || !run_openssl (dir, sign, error))
    return FALSE;
  if (g_chmod (key_path, 0600) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "chmod %s", key_path);
      return FALSE;
    }
  return TRUE;
}

gboolean
sb_test_make_tls_files (const char *dir, GError **error)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  if (openssl == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "openssl is not installed");
      return FALSE;
    }
  g_autofree char *cnf = g_build_filename (dir, "tls.cnf", NULL);
  if (!g_file_set_contents (cnf, tls_cnf, -1, error))
    return FALSE;
  const char *ca[] = { "req", "-x509", "-config", "tls.cnf", "-extensions", "ca", "-newkey", "ec",
                       "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                       "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
                       "/CN=switchback test CA", NULL };
  return run_openssl (dir, ca, error) && make_leaf (dir, "server", "2", error)
         && make_leaf (dir, "client", "3", error);
}
