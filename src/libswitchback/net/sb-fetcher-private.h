/* sb-fetcher-private.h: what the fetcher's public calls (sb-fetcher.c) and its transfers
 * (sb-fetcher-transfer.c: URL policy, libcurl callbacks, requests, retries) share. */
#pragma once

#include "net/sb-fetcher.h"

#include <curl/curl.h>

G_BEGIN_DECLS

/* Error pages are read (so the connection can be reused) but never kept; a server that sends
 * more than this as an error page is cut off. */
#define ERROR_BODY_MAX (64 * 1024)
#define RETRY_DELAY_MAX_MS 60000

struct _SbFetcher {
  SbFetcherOptions opts;
  char *ca_file;
  char *client_cert;
  char *client_key;
  CURL *curl;
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
  SbFetchProgress progress;
  gpointer progress_data;
};

typedef enum {
  OUTCOME_OK,
  OUTCOME_REDIRECT,
  OUTCOME_RETRY, /* transient: 5xx, 429, connection errors */
  OUTCOME_FATAL,
} Outcome;

typedef enum {
  BODY_NONE,    /* headers not complete yet */
  BODY_DELIVER, /* 200/206 (or file://): bytes go to the sink */
  BODY_DISCARD, /* anything else: read and dropped */
} BodyMode;

/* State of one sb_fetcher_stream call, across its attempts and redirects. */
typedef struct {
  SbFetcher *f;
  guint64 requested;  /* offset the caller asked for */
  guint64 max_length; /* cap on the whole resource, from byte 0 */
  SbFetchSink sink;
  gpointer sink_data;
  SbFetchResult *result;
  struct curl_slist *headers;
  GBytes *upload; /* PUT this instead of a GET */
  gsize upload_pos;
  gboolean started; /* a body began: start is fixed */
  guint64 pos;      /* offset of the next byte the sink expects */
  GError *abort_error; /* why a callback aborted: returned as is, never retried */

  /* The current request. */
  const char *url;
  gboolean is_file;
  guint64 from; /* offset asked for in this request */
  long status;
  char *reason;
  gint64 content_length;
  gint64 range_start, range_end, range_total; /* Content-Range; -1 when absent */
  BodyMode body;
  guint64 resp_pos; /* offset in the resource of the next byte of this response */
  guint64 total;    /* expected size of the resource, 0 when unknown */
  guint64 received; /* body bytes received in this request, delivered or not */
  gboolean error_body_too_long;
  gint64 window_start_us;
  guint64 window_start_bytes;
} Transfer;

/* Carries out @t (its sink, caps and headers set by the caller) on @url: the URL policy on
 * every hop, redirects, bounded retries with backoff, Range resumption; *t->result filled. */
gboolean sb_fetcher_transfer_run (Transfer *t, const char *url,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Sets the options of @f->curl that hold for every transfer (TLS, timeouts, callbacks). */
gboolean sb_fetcher_configure_handle (SbFetcher *f, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
