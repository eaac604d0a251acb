/* sb-fetcher-transfer.c: one download, upload or redirect chain of the fetcher
 * (sb-fetcher-private.h): the URL policy applied to every hop, libcurl's callbacks, and the
 * retries. See sb-fetcher.c for why redirects and the speed check are done here.
 */
#include "config.h"

#include "net/sb-fetcher.h"
#include "net/sb-fetcher-private.h"
#include "core/sb-error.h"
#include "net/sb-url-policy.h"

#include <curl/curl.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURLU, curl_url_cleanup)

static char *
url_part (CURLU *u, CURLUPart part, unsigned int flags)
{
  char *s = NULL;
  if (curl_url_get (u, part, &s, flags) != CURLUE_OK)
    return NULL;
  char *copy = g_strdup (s);
  curl_free (s);
  return copy;
}

/* ---- libcurl callbacks ---- */

static void
abort_with (Transfer *t, SbErrorCode code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
abort_with (Transfer *t, SbErrorCode code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (t->abort_error == NULL)
    g_set_error (&t->abort_error, SB_ERROR, code, "%s: %s", t->url, msg);
}

static void
report_progress (Transfer *t)
{
  if (t->f->progress != NULL)
    t->f->progress (t->url, t->pos, t->total, t->f->progress_data);
}

/* A body from offset @rstart begins (@declared bytes long, or -1; of a resource of @total
 * bytes, or -1). Fixes where the sink's stream starts on the first body, and refuses a body
 * that would leave a gap or, by its declared size, exceed the cap (TUF §5.2.2: endless data is
 * cut off before it is read). */
static gboolean
begin_body (Transfer *t, guint64 rstart, gint64 declared, gint64 total, gboolean whole)
{
  if (!t->started)
    {
      /* A server that ignores our Range sends the resource from byte 0: the caller must
       * restart what it accumulated, so say so before the first byte reaches the sink. */
      guint64 start = (whole && t->requested > 0) ? 0 : t->requested;
      t->started = TRUE;
      t->pos = start;
      t->result->start_offset = start;
      t->result->restarted = start != t->requested;
    }
  if (rstart > t->pos)
    {
      abort_with (t, SB_ERROR_DOWNLOAD,
                  "the server sent data from byte %" G_GUINT64_FORMAT
                  " where byte %" G_GUINT64_FORMAT " was asked for",
                  rstart, t->pos);
      return FALSE;
    }
  if ((declared >= 0 && (guint64) declared > t->max_length - MIN (rstart, t->max_length))
      || (total >= 0 && (guint64) total > t->max_length))
    {
      abort_with (t, SB_ERROR_ENDLESS_DATA,
                  "%" G_GUINT64_FORMAT " bytes declared, more than the %" G_GUINT64_FORMAT
                  " allowed",
                  total >= 0 ? (guint64) total : rstart + (guint64) declared, t->max_length);
      return FALSE;
    }
  t->resp_pos = rstart;
  t->total = total >= 0 ? (guint64) total : declared >= 0 ? rstart + (guint64) declared : 0;
  t->body = BODY_DELIVER;
  return TRUE;
}

/* Content-Range: bytes S-E/T, with S-E or T possibly a star (RFC 9110 §14.4). */
static void
parse_content_range (Transfer *t, const char *v)
{
  guint64 s, e, total;
  char *end = NULL;

  if (g_ascii_strncasecmp (v, "bytes ", 6) != 0)
    return;
  v += 6;
  while (*v == ' ')
    v++;
  if (*v == '*')
    v++;
  else
    {
      s = g_ascii_strtoull (v, &end, 10);
      if (end == v || *end != '-')
        return;
      v = end + 1;
      e = g_ascii_strtoull (v, &end, 10);
      if (end == v || e < s)
        return;
      v = end;
      t->range_start = (gint64) s;
      t->range_end = (gint64) e;
    }
  if (*v != '/')
    return;
  v++;
  if (*v == '*')
    return;
  total = g_ascii_strtoull (v, &end, 10);
  if (end != v && total <= G_MAXINT64)
    t->range_total = (gint64) total;
}

static void
reset_response (Transfer *t)
{
  t->status = 0;
  g_clear_pointer (&t->reason, g_free);
  t->content_length = -1;
  t->range_start = t->range_end = t->range_total = -1;
  t->body = BODY_NONE;
}

/* The headers of one response are complete: decide what its body is. */
static gboolean
headers_done (Transfer *t)
{
  if (t->status / 100 == 1)
    return TRUE; /* an interim response; the real one follows */
  if (t->upload == NULL && t->status == 200)
    return begin_body (t, 0, t->content_length, -1, TRUE);
  if (t->upload == NULL && t->status == 206)
    {
      /* We always ask for an open-ended range, so the answer must run to the end. */
      if (t->range_start < 0
          || (t->range_total >= 0 && t->range_end != t->range_total - 1))
        {
          abort_with (t, SB_ERROR_DOWNLOAD, "HTTP 206 with a Content-Range other than asked for");
          return FALSE;
        }
      return begin_body (t, (guint64) t->range_start, t->content_length, t->range_total, FALSE);
    }
  t->body = BODY_DISCARD;
  return TRUE;
}

static size_t
header_cb (char *buffer, size_t size, size_t nitems, void *user_data)
{
  Transfer *t = user_data;
  size_t n = size * nitems;
  g_autofree char *line = g_strndup (buffer, n);

  g_strchomp (line);
  if (g_str_has_prefix (line, "HTTP/"))
    {
      reset_response (t);
      const char *p = strchr (line, ' ');
      if (p == NULL)
        return n;
      char *end = NULL;
      guint64 code = g_ascii_strtoull (p + 1, &end, 10);
      t->status = (long) MIN (code, 999);
      if (end != NULL && *end == ' ')
        t->reason = g_strdup (end + 1);
      return n;
    }
  if (t->body != BODY_NONE)
    return n; /* trailers */
  if (*line == '\0')
    return headers_done (t) ? n : 0;

  char *colon = strchr (line, ':');
  if (colon == NULL)
    return n;
  *colon = '\0';
  const char *value = colon + 1;
  while (*value == ' ' || *value == '\t')
    value++;
  if (g_ascii_strcasecmp (line, "Content-Length") == 0)
    {
      char *end = NULL;
      guint64 v = g_ascii_strtoull (value, &end, 10);
      if (end != value && *end == '\0' && v <= G_MAXINT64)
        t->content_length = (gint64) v;
    }
  else if (g_ascii_strcasecmp (line, "Content-Range") == 0)
    parse_content_range (t, value);
  return n;
}

/* file:// has no headers: the body starts where libcurl seeked to. */
static gboolean
begin_file_body (Transfer *t)
{
  curl_off_t size = -1;

  if (curl_easy_getinfo (t->f->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &size) != CURLE_OK)
    size = -1;
  return begin_body (t, t->from, size, -1, FALSE);
}

static size_t
write_cb (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Transfer *t = user_data;
  size_t n = size * nmemb;

  t->received += n;
  if (t->body == BODY_NONE && t->is_file && !begin_file_body (t))
    return 0;
  if (t->body != BODY_DELIVER)
    {
      if (t->received > ERROR_BODY_MAX)
        {
          t->error_body_too_long = TRUE;
          return 0;
        }
      return n;
    }

  /* Count what arrives, whatever the server declared (TUF §5.2.2). */
  if (t->resp_pos > t->max_length || n > t->max_length - t->resp_pos)
    {
      abort_with (t, SB_ERROR_ENDLESS_DATA, "more than %" G_GUINT64_FORMAT " bytes received",
                  t->max_length);
      return 0;
    }
  guint64 abs = t->resp_pos;
  t->resp_pos += n;
  if (t->resp_pos <= t->pos)
    return n; /* the sink already has these bytes (a resumed transfer sent more than asked) */
  gsize skip = (gsize) (t->pos > abs ? t->pos - abs : 0);
  GError *sink_error = NULL;
  if (!t->sink ((const guint8 *) ptr + skip, n - skip, t->sink_data, &sink_error))
    {
      if (sink_error == NULL)
        g_set_error (&sink_error, SB_ERROR, SB_ERROR_FAILED, "%s: the receiver refused the data",
                     t->url);
      if (t->abort_error == NULL)
        t->abort_error = sink_error;
      else
        g_error_free (sink_error);
      return 0;
    }
  t->pos = t->resp_pos;
  t->result->length += n - skip;
  report_progress (t);
  return n;
}

static size_t
read_cb (char *buffer, size_t size, size_t nitems, void *user_data)
{
  Transfer *t = user_data;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (t->upload, &len);
  gsize n = MIN (size * nitems, len - t->upload_pos);

  memcpy (buffer, data + t->upload_pos, n);
  t->upload_pos += n;
  return n;
}

/* libcurl rewinds an upload when it must resend it on a fresh connection. */
static int
seek_cb (void *user_data, curl_off_t offset, int origin)
{
  Transfer *t = user_data;
  if (t->upload == NULL || origin != SEEK_SET || offset < 0
      || (guint64) offset > g_bytes_get_size (t->upload))
    return CURL_SEEKFUNC_CANTSEEK;
  t->upload_pos = (gsize) offset;
  return CURL_SEEKFUNC_OK;
}

/* Called by libcurl at least once a second, also while nothing arrives. The average speed is
 * measured over whole windows of low_speed_time, so a server cannot stay alive with a short
 * burst now and then (TUF §5.2.2, slow retrieval). */
static int
xferinfo_cb (void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow)
{
  Transfer *t = user_data;
  const SbFetcherOptions *o = &t->f->opts;
  gint64 now = g_get_monotonic_time ();
  gint64 elapsed = now - t->window_start_us;
  guint64 moved = t->received + (guint64) MAX (ulnow, 0);

  if (elapsed < (gint64) o->low_speed_time * G_USEC_PER_SEC)
    return 0;
  double rate = (double) (moved - t->window_start_bytes) * G_USEC_PER_SEC / (double) elapsed;
  if (rate < (double) o->low_speed_limit)
    {
      abort_with (t, SB_ERROR_SLOW_RETRIEVAL,
                  "slower than %u bytes/s over %u s (%.0f bytes/s): slow retrieval",
                  o->low_speed_limit, o->low_speed_time, rate);
      return 1;
    }
  t->window_start_us = now;
  t->window_start_bytes = moved;
  return 0;
}

/* ---- one request ---- */

static gboolean
curl_code_is_transient (CURLcode rc)
{
  switch (rc)
    {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT: /* only the connect timeout: the speed check is ours */
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TRUE;
    default:
      return FALSE;
    }
}

static Outcome
transport_failure (Transfer *t, CURLcode rc, GError **error)
{
  SbFetcher *f = t->f;
  /* libcurl's own text for the code, and its detail, which is sometimes about a side issue. */
  g_autofree char *why = f->errbuf[0] != '\0'
                             ? g_strdup_printf ("%s: %s", curl_easy_strerror (rc), f->errbuf)
                             : g_strdup (curl_easy_strerror (rc));

  switch (rc)
    {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      sb_throw (error, SB_ERROR_DOWNLOAD, "%s: the server certificate is not trusted (%s)",
                t->url, why);
      return OUTCOME_FATAL;
    case CURLE_SSL_CACERT_BADFILE:
      sb_throw (error, SB_ERROR_DOWNLOAD, "%s: the CA certificate file %s is unusable (%s)",
                t->url, f->ca_file ? f->ca_file : "(system store)", why);
      return OUTCOME_FATAL;
    case CURLE_SSL_CERTPROBLEM:
      sb_throw (error, SB_ERROR_DOWNLOAD,
                "%s: the client certificate %s or its key is unusable (%s)", t->url,
                f->client_cert ? f->client_cert : "(none)", why);
      return OUTCOME_FATAL;
    case CURLE_FILE_COULDNT_READ_FILE:
      {
        g_autoptr (CURLU) u = curl_url ();
        g_autofree char *path = NULL;
        if (u != NULL && curl_url_set (u, CURLUPART_URL, t->url, 0) == CURLUE_OK)
          path = url_part (u, CURLUPART_PATH, CURLU_URLDECODE);
        if (path != NULL && g_access (path, F_OK) < 0 && errno == ENOENT)
          sb_throw (error, SB_ERROR_NOT_ON_SERVER, "%s: no such file", t->url);
        else
          sb_throw (error, SB_ERROR_DOWNLOAD, "%s: %s", t->url, why);
        return OUTCOME_FATAL;
      }
    case CURLE_OUT_OF_MEMORY:
      sb_throw (error, SB_ERROR_FAILED, "%s: out of memory", t->url);
      return OUTCOME_FATAL;
    default:
      {
        /* A server that requires a client certificate (mutual TLS) often just drops the
         * connection during or right after the handshake; say what that likely means. */
        const char *hint = "";
        if (t->status == 0 && g_ascii_strncasecmp (t->url, "https:", 6) == 0
            && (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR
                || rc == CURLE_GOT_NOTHING))
          hint = f->client_cert != NULL
                     ? " (TLS: the server may have refused the client certificate)"
                     : " (TLS: the server may require a client certificate)";
        sb_throw (error, SB_ERROR_DOWNLOAD, "%s: %s%s", t->url, why, hint);
        return curl_code_is_transient (rc) ? OUTCOME_RETRY : OUTCOME_FATAL;
      }
    }
}

static Outcome
request_once (Transfer *t, const char *url, GError **error)
{
  SbFetcher *f = t->f;
  g_autofree char *range = NULL;

  t->url = url;
  t->is_file = g_ascii_strncasecmp (url, "file:", 5) == 0;
  t->from = t->started ? t->pos : t->requested;
  reset_response (t);
  t->received = 0;
  t->error_body_too_long = FALSE;
  t->window_start_us = g_get_monotonic_time ();
  t->window_start_bytes = 0;
  t->upload_pos = 0;
  if (t->from > 0)
    range = g_strdup_printf ("%" G_GUINT64_FORMAT "-", t->from);

  f->errbuf[0] = '\0';
  CURLcode rc;
  if (t->upload != NULL)
    {
      rc = curl_easy_setopt (f->curl, CURLOPT_UPLOAD, 1L);
      if (rc == CURLE_OK)
        rc = curl_easy_setopt (f->curl, CURLOPT_INFILESIZE_LARGE,
                               (curl_off_t) g_bytes_get_size (t->upload));
    }
  else /* also turns an earlier upload off */
    rc = curl_easy_setopt (f->curl, CURLOPT_HTTPGET, 1L);
  if (rc != CURLE_OK || curl_easy_setopt (f->curl, CURLOPT_URL, url) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_RANGE, range) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_HTTPHEADER, t->headers) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_WRITEDATA, t) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_HEADERDATA, t) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_READDATA, t) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_SEEKDATA, t) != CURLE_OK
      || curl_easy_setopt (f->curl, CURLOPT_XFERINFODATA, t) != CURLE_OK)
    {
      sb_throw (error, SB_ERROR_FAILED, "%s: setting up the request failed", url);
      return OUTCOME_FATAL;
    }
  rc = curl_easy_perform (f->curl);

  if (t->abort_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&t->abort_error));
      return OUTCOME_FATAL;
    }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t->error_body_too_long))
    return transport_failure (t, rc, error);

  if (t->is_file)
    {
      /* An empty remainder produces no write: the body still "began" at the offset. */
      if (t->body == BODY_NONE && !begin_file_body (t))
        {
          g_propagate_error (error, g_steal_pointer (&t->abort_error));
          return OUTCOME_FATAL;
        }
      return OUTCOME_OK;
    }

  long status = t->status;
  const char *reason = t->reason != NULL ? t->reason : "";
  if (t->upload != NULL && status / 100 == 2)
    return OUTCOME_OK;
  if (t->upload != NULL && status / 100 == 3)
    {
      /* Re-sending a signed manifest to wherever a server points is not ours to decide. */
      sb_throw (error, SB_ERROR_DOWNLOAD, "%s: HTTP %ld %s: uploads do not follow redirects", url,
                status, reason);
      return OUTCOME_FATAL;
    }
  switch (status)
    {
    case 200:
    case 206:
      return OUTCOME_OK;
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
      return OUTCOME_REDIRECT;
    case 416:
      /* Asked for bytes from the very end: nothing is missing. */
      if (t->from > 0 && t->range_start < 0 && t->range_total == (gint64) t->from)
        {
          if (!t->started)
            {
              t->started = TRUE;
              t->pos = t->result->start_offset = t->from;
            }
          return OUTCOME_OK;
        }
      sb_throw (error, SB_ERROR_DOWNLOAD, "%s: HTTP 416 %s (asked from byte %" G_GUINT64_FORMAT ")",
                url, reason, t->from);
      return OUTCOME_FATAL;
    case 404:
    case 410:
      sb_throw (error, SB_ERROR_NOT_ON_SERVER, "%s: not found (HTTP %ld %s)", url, status, reason);
      return OUTCOME_FATAL;
    default:
      sb_throw (error, SB_ERROR_DOWNLOAD, "%s: HTTP %ld %s", url, status, reason);
      return (status == 408 || status == 429 || status / 100 == 5) ? OUTCOME_RETRY : OUTCOME_FATAL;
    }
}

/* One attempt: the request and the redirects it leads to, each checked before it is made. */
static Outcome
attempt_once (Transfer *t, const char *url, const char *scheme, GError **error)
{
  SbFetcher *f = t->f;
  g_autofree char *current = g_strdup (url);
  g_autofree char *current_scheme = g_strdup (scheme);

  for (guint redirects = 0;; redirects++)
    {
      Outcome o = request_once (t, current, error);
      if (o != OUTCOME_REDIRECT)
        return o;

      char *location = NULL;
      if (curl_easy_getinfo (f->curl, CURLINFO_REDIRECT_URL, &location) != CURLE_OK
          || location == NULL)
        {
          sb_throw (error, SB_ERROR_DOWNLOAD, "%s: HTTP %ld redirect without a Location", current,
                    t->status);
          return OUTCOME_FATAL;
        }
      if (redirects >= f->opts.max_redirects)
        {
          sb_throw (error, SB_ERROR_DOWNLOAD, "%s: more than %u redirects (started at %s)",
                    current, f->opts.max_redirects, url);
          return OUTCOME_FATAL;
        }
      g_autofree char *next_scheme = NULL;
      g_autoptr (GError) refusal = NULL;
      if (!sb_url_policy_check (location, SB_URL_FROM_REDIRECT, f->opts.allow_http,
                                current_scheme, &next_scheme, &refusal))
        {
          g_set_error (error, SB_ERROR, refusal->code, "%s: redirect: %s", current,
                       refusal->message);
          return OUTCOME_FATAL;
        }
      g_free (current);
      current = g_strdup (location);
      g_free (current_scheme);
      current_scheme = g_steal_pointer (&next_scheme);
    }
}

/* Runs @t to its end: attempts, redirects, backoff between retries. */
gboolean
sb_fetcher_transfer_run (Transfer *t, const char *url, GError **error)
{
  SbFetcher *f = t->f;
  SbFetchResult *result = t->result;
  g_autofree char *scheme = NULL;
  /* The caller's URL is a configured base or built from one: URLs that metadata chose were
   * checked as such before they got here (sb-url-policy.h). */
  if (!sb_url_policy_check (url, SB_URL_FROM_CONFIG, f->opts.allow_http, NULL, &scheme, error))
    return FALSE;
  if (t->upload != NULL && g_str_equal (scheme, "file"))
    return sb_throw (error, SB_ERROR_URL_REFUSED, "%s: refused: uploads go to http:// or https:// only",
                     url);

  *result = (SbFetchResult){ 0 };
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      Outcome o = attempt_once (t, url, scheme, &local_error);
      g_clear_pointer (&t->reason, g_free);
      if (o == OUTCOME_OK)
        return TRUE;
      if (o != OUTCOME_RETRY || attempt >= f->opts.max_retries)
        {
          if (attempt > 0)
            {
              char *msg = g_strdup_printf ("%s (after %u attempts)", local_error->message,
                                           attempt + 1);
              g_free (local_error->message);
              local_error->message = msg;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      guint64 delay_ms = MIN ((guint64) f->opts.retry_base_ms << MIN (attempt, 16),
                              RETRY_DELAY_MAX_MS);
      /* A wait with the server down must not be silent: say what failed and when the next of
       * the bounded attempts comes. */
      g_printerr ("switchback: %s; attempt %u of %u failed, next in %.1f s\n",
                  local_error->message, attempt + 1, f->opts.max_retries + 1,
                  (double) delay_ms / 1000.0);
      g_usleep (delay_ms * 1000);
      result->retries++;
    }
}

#define SETOPT(opt, val)                                                                          \
  do                                                                                              \
    {                                                                                             \
      CURLcode rc_ = curl_easy_setopt (f->curl, opt, val);                                        \
      if (rc_ != CURLE_OK)                                                                        \
        return sb_throw (error, SB_ERROR_FAILED, "libcurl refused %s: %s", #opt,                  \
                         curl_easy_strerror (rc_));                                               \
    }                                                                                             \
  while (0)

gboolean
sb_fetcher_configure_handle (SbFetcher *f, GError **error)
{
  const SbFetcherOptions *o = &f->opts;

  SETOPT (CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT (CURLOPT_PROTOCOLS_STR, "http,https,file");
#else
  SETOPT (CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
#endif
  SETOPT (CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT (CURLOPT_USERAGENT, "switchback/" PACKAGE_VERSION);
  SETOPT (CURLOPT_ERRORBUFFER, f->errbuf);
  SETOPT (CURLOPT_CONNECTTIMEOUT, (long) o->connect_timeout);
  SETOPT (CURLOPT_TCP_KEEPALIVE, 1L);
  /* Lengths and hashes are of the bytes as served: no content decoding (TUF §5.2.2 caps would
   * otherwise count the compressed size). */
  SETOPT (CURLOPT_HTTP_CONTENT_DECODING, 0L);
  f->headers = curl_slist_append (NULL, "Accept-Encoding: identity");
  if (f->headers == NULL)
    return sb_throw (error, SB_ERROR_FAILED, "out of memory");
  SETOPT (CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SETOPT (CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT (CURLOPT_SSL_VERIFYHOST, 2L);
  SETOPT (CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
  if (f->ca_file != NULL)
    {
      /* Only the configured CAs: a public CA must not vouch for the repository. */
      SETOPT (CURLOPT_CAINFO, f->ca_file);
      SETOPT (CURLOPT_CAPATH, (char *) NULL);
    }
  if (f->client_cert != NULL)
    {
      SETOPT (CURLOPT_SSLCERT, f->client_cert);
      SETOPT (CURLOPT_SSLCERTTYPE, "PEM");
      SETOPT (CURLOPT_SSLKEY, f->client_key);
      SETOPT (CURLOPT_SSLKEYTYPE, "PEM");
    }
  SETOPT (CURLOPT_WRITEFUNCTION, write_cb);
  SETOPT (CURLOPT_READFUNCTION, read_cb);
  SETOPT (CURLOPT_SEEKFUNCTION, seek_cb);
  SETOPT (CURLOPT_HEADERFUNCTION, header_cb);
  SETOPT (CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  SETOPT (CURLOPT_NOPROGRESS, 0L);
  return TRUE;
}

