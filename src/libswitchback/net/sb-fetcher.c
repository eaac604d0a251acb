/* sb-fetcher.c: HTTP(S) and file:// downloads on one libcurl easy handle.
 *
 * Redirects are followed here rather than by libcurl so that every hop passes the same URL
 * policy (no https -> http, no plain http to remote hosts) before a connection is made. The
 * minimum-speed check is ours too: libcurl reports its own low-speed abort and a connect
 * timeout with the same code, and only the first is a slow-retrieval attack (TUF §5.2.2).
 */
#include "config.h"

#include "net/sb-fetcher.h"
#include "net/sb-fetcher-private.h"
#include "core/sb-error.h"

#include <curl/curl.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
sb_fetcher_options_init (SbFetcherOptions *opts)
{
  g_return_if_fail (opts != NULL);
  *opts = (SbFetcherOptions){
    .low_speed_limit = SB_FETCHER_DEFAULT_LOW_SPEED_LIMIT,
    .low_speed_time = SB_FETCHER_DEFAULT_LOW_SPEED_TIME,
    .connect_timeout = SB_FETCHER_DEFAULT_CONNECT_TIMEOUT,
    .max_redirects = SB_FETCHER_DEFAULT_MAX_REDIRECTS,
    .max_retries = SB_FETCHER_DEFAULT_MAX_RETRIES,
    .retry_base_ms = SB_FETCHER_DEFAULT_RETRY_BASE_MS,
  };
}

/* ---- public API ---- */

static gboolean
append_sink (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  g_byte_array_append (user_data, data, (guint) len);
  return TRUE;
}

GBytes *
sb_fetcher_get (SbFetcher *f, const char *url, gsize max_length, GError **error)
{
  g_return_val_if_fail (f != NULL, NULL);
  g_return_val_if_fail (url != NULL, NULL);

  /* GByteArray lengths are guint. */
  guint64 cap = MIN ((guint64) max_length, (guint64) G_MAXUINT);
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  SbFetchResult result;
  Transfer t = { .f = f, .max_length = cap, .sink = append_sink, .sink_data = buf,
                 .result = &result, .headers = f->headers };
  if (!sb_fetcher_transfer_run (&t, url, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

gboolean
sb_fetcher_stream (SbFetcher *f, const char *url, guint64 offset, guint64 max_length,
                   SbFetchSink sink, gpointer user_data, SbFetchResult *out_result,
                   GError **error)
{
  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (sink != NULL, FALSE);
  g_return_val_if_fail (offset == 0 || out_result != NULL, FALSE);

  SbFetchResult local;
  Transfer t = { .f = f, .requested = offset, .max_length = max_length, .sink = sink,
                 .sink_data = user_data, .result = out_result != NULL ? out_result : &local,
                 .headers = f->headers };
  return sb_fetcher_transfer_run (&t, url, error);
}

static gboolean
discard_sink (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  return TRUE;
}

gboolean
sb_fetcher_put (SbFetcher *f, const char *url, GBytes *body, const char *content_type,
                GError **error)
{
  g_return_val_if_fail (f != NULL, FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (body != NULL, FALSE);
  g_return_val_if_fail (content_type != NULL && strpbrk (content_type, "\r\n") == NULL, FALSE);

  /* No "Expect: 100-continue": the body is small and waiting for the go-ahead costs a second
   * against servers that do not answer it. */
  g_autofree char *ct = g_strconcat ("Content-Type: ", content_type, NULL);
  struct curl_slist *headers = NULL;
  for (struct curl_slist *h = f->headers; h != NULL; h = h->next)
    headers = curl_slist_append (headers, h->data);
  headers = curl_slist_append (headers, ct);
  headers = curl_slist_append (headers, "Expect:");
  if (headers == NULL)
    return sb_throw (error, SB_ERROR_FAILED, "out of memory");
  SbFetchResult result;
  Transfer t = { .f = f, .sink = discard_sink, .result = &result, .headers = headers,
                 .upload = body };
  gboolean ok = sb_fetcher_transfer_run (&t, url, error);
  curl_slist_free_all (headers);
  return ok;
}

void
sb_fetcher_set_progress (SbFetcher *f, SbFetchProgress progress, gpointer user_data)
{
  g_return_if_fail (f != NULL);
  f->progress = progress;
  f->progress_data = user_data;
}

static gboolean
check_readable (const char *what, const char *path, GError **error)
{
  if (g_access (path, R_OK) < 0)
    return sb_throw_errno (error, SB_ERROR_CONFIG, "%s %s", what, path);
  return TRUE;
}

static gboolean
check_tls_files (const SbFetcherOptions *o, GError **error)
{
  if (o->ca_file != NULL && !check_readable ("CA file", o->ca_file, error))
    return FALSE;
  if ((o->client_cert == NULL) != (o->client_key == NULL))
    return sb_throw (error, SB_ERROR_CONFIG,
                     "mutual TLS needs both a client certificate and a key (%s given alone)",
                     o->client_cert != NULL ? o->client_cert : o->client_key);
  if (o->client_cert == NULL)
    return TRUE;
  if (!check_readable ("client certificate", o->client_cert, error)
      || !check_readable ("client key", o->client_key, error))
    return FALSE;
  struct stat st;
  if (g_stat (o->client_key, &st) < 0)
    return sb_throw_errno (error, SB_ERROR_CONFIG, "client key %s", o->client_key);
  /* A key others can read is a key others may already have copied. */
  if ((st.st_mode & 077) != 0)
    return sb_throw (error, SB_ERROR_CONFIG,
                     "client key %s is accessible to group or others (mode %04o); it must be "
                     "mode 0600 or stricter",
                     o->client_key, (unsigned) (st.st_mode & 07777));
  return TRUE;
}

static gboolean
global_init (GError **error)
{
  static gsize once = 0;
  static CURLcode init_rc = CURLE_OK;

  if (g_once_init_enter (&once))
    {
      init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&once, 1);
    }
  if (init_rc != CURLE_OK)
    return sb_throw (error, SB_ERROR_FAILED, "initializing libcurl: %s",
                     curl_easy_strerror (init_rc));
  return TRUE;
}

SbFetcher *
sb_fetcher_new (const SbFetcherOptions *opts, GError **error)
{
  SbFetcherOptions defaults;

  if (opts == NULL)
    {
      sb_fetcher_options_init (&defaults);
      opts = &defaults;
    }
  if (opts->low_speed_limit == 0 || opts->low_speed_time == 0 || opts->connect_timeout == 0)
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                "fetcher options: the minimum speed, its window and the connect timeout must be "
                "> 0 (start from sb_fetcher_options_init)");
      return NULL;
    }
  if (!check_tls_files (opts, error) || !global_init (error))
    return NULL;

  g_autoptr (SbFetcher) f = g_new0 (SbFetcher, 1);
  f->opts = *opts;
  f->ca_file = g_strdup (opts->ca_file);
  f->client_cert = g_strdup (opts->client_cert);
  f->client_key = g_strdup (opts->client_key);
  f->opts.ca_file = f->ca_file;
  f->opts.client_cert = f->client_cert;
  f->opts.client_key = f->client_key;
  f->curl = curl_easy_init ();
  if (f->curl == NULL)
    {
      sb_throw (error, SB_ERROR_FAILED, "creating a libcurl handle failed");
      return NULL;
    }
  if (!sb_fetcher_configure_handle (f, error))
    return NULL;
  return g_steal_pointer (&f);
}

void
sb_fetcher_free (SbFetcher *f)
{
  if (f == NULL)
    return;
  if (f->curl != NULL)
    curl_easy_cleanup (f->curl);
  curl_slist_free_all (f->headers);
  g_free (f->ca_file);
  g_free (f->client_cert);
  g_free (f->client_key);
  g_free (f);
}
