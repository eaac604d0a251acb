/* sb-fetcher.h: the one HTTP(S) and file:// fetcher of switchback (design.md §2).
 *
 * Every download (metadata, raw images, targets) goes through an SbFetcher. It enforces what
 * TUF §5 asks of a client's transport, whatever the server does:
 *  - a length cap counted on the bytes as they arrive, so an endless or oversized answer is cut
 *    off (SB_ERROR_ENDLESS_DATA); a Content-Length over the cap is refused before the body;
 *  - a minimum average speed, so a server that trickles is cut off (SB_ERROR_SLOW_RETRIEVAL);
 *  - certificates always verified, mutual TLS when configured, and plain http:// only to
 *    loopback unless the configuration allows it;
 *  - bounded retries with exponential backoff on 5xx, 429 and connection errors, never on
 *    other 4xx, and never after an endless-data or slow-retrieval outcome, which are attacks.
 *
 * One SbFetcher keeps one connection cache, so thousands of small metadata fetches from one
 * server reuse one connection. An SbFetcher is not thread-safe: use one per thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SbFetcher SbFetcher;

typedef struct {
  /* PEM bundle of the CAs trusted for https://; NULL: the system store. When set, only these
   * CAs are trusted (the system store is not consulted). */
  const char *ca_file;
  /* Client certificate and key (PEM) for mutual TLS; both or neither. The key file must not be
   * accessible to group or others. */
  const char *client_cert;
  const char *client_key;
  /* Allow plain http:// to hosts other than loopback (127.0.0.0/8, ::1, localhost). */
  gboolean allow_http;
  /* Each request is measured in consecutive windows of low_speed_time seconds from its start
   * (connecting and waiting for headers included); a window whose average stays below
   * low_speed_limit bytes per second cuts the transfer off. Both must be > 0. */
  guint low_speed_limit;
  guint low_speed_time;
  /* Seconds allowed for establishing a connection (TCP and TLS), > 0. */
  guint connect_timeout;
  /* Redirects followed per request; https:// never redirects to http://. */
  guint max_redirects;
  /* Retries after the first attempt, and the first backoff delay; each further delay doubles
   * (capped at one minute). */
  guint max_retries;
  guint retry_base_ms;
} SbFetcherOptions;

#define SB_FETCHER_DEFAULT_LOW_SPEED_LIMIT 1024
#define SB_FETCHER_DEFAULT_LOW_SPEED_TIME 30
#define SB_FETCHER_DEFAULT_CONNECT_TIMEOUT 30
#define SB_FETCHER_DEFAULT_MAX_REDIRECTS 5
#define SB_FETCHER_DEFAULT_MAX_RETRIES 3
#define SB_FETCHER_DEFAULT_RETRY_BASE_MS 1000

/* Fills @opts with the defaults above: system CAs, no client certificate, no plain http to
 * remote hosts. Callers start from this and change what their configuration says. */
void sb_fetcher_options_init (SbFetcherOptions *opts);

/* Creates a fetcher. @opts may be NULL for the defaults; it is copied. Checks the TLS files up
 * front so a bad configuration fails here, naming the file: a CA file, certificate or key that
 * cannot be read, a certificate without a key (or the reverse), or a key file that group or
 * others can access, is SB_ERROR_CONFIG. Zero speed or timeout values are
 * SB_ERROR_INVALID_ARGUMENT. */
SbFetcher *sb_fetcher_new (const SbFetcherOptions *opts, GError **error) G_GNUC_WARN_UNUSED_RESULT;

void sb_fetcher_free (SbFetcher *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbFetcher, sb_fetcher_free)

/* Progress of a transfer: @done bytes of the resource are in hand (counted from byte 0, so a
 * resumed download starts above 0), of @total, or @total 0 when the size is unknown. Called
 * from within sb_fetcher_get/sb_fetcher_stream as data arrives. */
typedef void (*SbFetchProgress) (const char *url, guint64 done, guint64 total, gpointer user_data);

/* Sets (or with NULL clears) the progress callback for the following transfers. */
void sb_fetcher_set_progress (SbFetcher *f, SbFetchProgress progress, gpointer user_data);

/* Receives the body of a stream. Returning FALSE with @error set aborts the transfer, and
 * sb_fetcher_stream returns that error as is (e.g. SB_ERROR_NO_SPACE from a disk write). */
typedef gboolean (*SbFetchSink) (const guint8 *data, gsize len, gpointer user_data,
                                 GError **error);

typedef struct {
  /* Offset in the resource of the first byte given to the sink: the requested offset when the
   * server honoured the range, 0 when it sent the whole resource instead. */
  guint64 start_offset;
  /* TRUE when an offset > 0 was asked for and the server restarted from byte 0: the caller
   * must restart whatever it accumulates (hash, file position) from the beginning. */
  gboolean restarted;
  /* Bytes given to the sink. */
  guint64 length;
  /* Attempts beyond the first that this transfer needed. */
  guint retries;
} SbFetchResult;

/* Fetches @url (http://, https:// or file://) and returns the whole body, of at most
 * @max_length bytes. For metadata: the body is held in memory.
 *
 * Errors: HTTP 404/410 or a missing file is SB_ERROR_NOT_ON_SERVER; more than @max_length bytes
 * (declared or received) SB_ERROR_ENDLESS_DATA; a server below the minimum speed
 * SB_ERROR_SLOW_RETRIEVAL; any other HTTP status, TLS or transport failure (after the
 * retries) SB_ERROR_DOWNLOAD, naming the URL and the status or reason. A URL the policy
 * refuses (sb-url-policy.h: unknown scheme, plain http to a remote host without allow_http,
 * malformed; on a redirect also file:// and https:// to http://) is SB_ERROR_URL_REFUSED,
 * before any connection to it is made. @url itself is taken as a configured URL (file://
 * allowed): a URL that metadata chose must pass sb_url_policy_check (SB_URL_FROM_METADATA)
 * first. */
GBytes *sb_fetcher_get (SbFetcher *f, const char *url, gsize max_length, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Streams @url to @sink. For images and targets: memory stays bounded whatever the size.
 *
 * @offset > 0 asks for the resource from that byte on (an HTTP Range request, a seek for
 * file://). Whether the server honoured it is in @out_result, which is filled in (start_offset,
 * restarted) before the first call to @sink, so the sink can check it on its first call. With
 * @offset > 0, @out_result is required.
 *
 * @max_length caps the size of the whole resource, counted from byte 0: bytes beyond it abort
 * the transfer with SB_ERROR_ENDLESS_DATA, and a declared length beyond it is refused before
 * the body is read.
 *
 * A transfer cut by a connection error is retried with a Range request from the first byte
 * the sink has not received yet; if the server then sends more than asked for, the bytes the
 * sink already has are dropped. The sink therefore sees each byte of the resource at most once
 * and in order, beginning at out_result->start_offset. Errors are as for sb_fetcher_get, plus
 * the sink's own error. */
gboolean sb_fetcher_stream (SbFetcher *f, const char *url, guint64 offset, guint64 max_length,
                            SbFetchSink sink, gpointer user_data, SbFetchResult *out_result,
                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Sends @body to @url (http:// or https://) with HTTP PUT and @content_type, under the same TLS
 * and URL policy as downloads: for the Uptane vehicle version manifest (design.md §2). Any 2xx
 * answer is success; its body is dropped. 5xx, 429 and connection errors are retried as for
 * downloads; a redirect is not followed (SB_ERROR_DOWNLOAD), nor is a 4xx retried (404/410 are
 * SB_ERROR_NOT_ON_SERVER). */
gboolean sb_fetcher_put (SbFetcher *f, const char *url, GBytes *body, const char *content_type,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
