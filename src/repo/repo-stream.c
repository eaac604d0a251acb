/* repo-stream.c: streaming files to HTTP clients, faults applied (see repo-stream.h). */
#include "config.h"

#include "repo-stream.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Throttled bodies go out in ten steps a second. */
#define THROTTLE_STEPS_PER_SEC 10

typedef struct
{
  SoupServerMessage *msg;
  SbRepoStreamSpec spec;
  goffset pos;        /* next file byte to read */
  goffset remaining;  /* file bytes still to send */
  goffset sent;       /* body bytes handed to libsoup */
  goffset corrupt_at; /* body offset of the flipped byte, -1: none */
  gsize chunk;
  guint interval_ms; /* pause between chunks (throttle), 0: none */
  guint timer;
  gulong wrote_id, finished_id;
  gboolean started;
  char *path;        /* pause-after: the request's path, for the fault table */
  gboolean held;     /* stopped at pause-after, waiting for a release */
  gboolean released; /* the pause is over: send the rest */
} Stream;

static GBytes *
spaces (void)
{
  static GBytes *block;
  if (g_once_init_enter (&block))
    {
      guint8 *data = g_malloc (SB_REPO_STREAM_CHUNK);
      memset (data, ' ', SB_REPO_STREAM_CHUNK);
      g_once_init_leave (&block, g_bytes_new_take (data, SB_REPO_STREAM_CHUNK));
    }
  return block;
}

static void
stream_free (Stream *st)
{
  if (st->timer != 0)
    g_source_remove (st->timer);
  if (st->wrote_id != 0)
    g_signal_handler_disconnect (st->msg, st->wrote_id);
  if (st->finished_id != 0)
    g_signal_handler_disconnect (st->msg, st->finished_id);
  if (st->spec.fd >= 0)
    close (st->spec.fd);
  if (st->held && st->spec.events != NULL)
    sb_fault_table_forget_paused (st->spec.events, st);
  g_object_unref (st->msg);
  g_free (st->path);
  g_free (st);
}

static void stream_release (gpointer data, SbFaultRelease how);

/* pause-after: bytes that may still go out before the pause (G_MAXINT64: no limit). */
static goffset
before_pause (Stream *st)
{
  if (st->spec.fault.pause_after < 0 || st->released)
    return G_MAXINT64;
  return MAX (st->spec.fault.pause_after - st->sent, 0);
}

/* Hands libsoup the next chunk, or ends the body. At the pause-after point it hands over
 * nothing, so libsoup stops writing, and the pause is counted: every byte before it has been
 * written (this runs after the last chunk was). */
static void
append_next (Stream *st)
{
  SoupMessageBody *body = soup_server_message_get_response_body (st->msg);
  GBytes *bytes = NULL;

  if (before_pause (st) == 0 && (st->remaining > 0 || st->spec.fault.endless))
    {
      if (!st->held)
        {
          st->held = TRUE;
          sb_fault_table_paused (st->spec.events, st->path, stream_release, st);
        }
      return;
    }
  if (st->remaining > 0)
    {
      gsize want = (gsize)MIN (MIN ((goffset)st->chunk, st->remaining), before_pause (st));
      guint8 *buf = g_malloc (want);
      gsize got = 0;
      while (got < want)
        {
          ssize_t n = pread (st->spec.fd, buf + got, want - got, st->pos + (goffset)got);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          got += (gsize)n;
        }
      if (got == 0)
        {
          /* The file shrank under us: what was promised cannot be sent. */
          g_free (buf);
          g_warning ("%s: read failed at offset %" G_GOFFSET_FORMAT ", ending the body early",
                     g_uri_get_path (soup_server_message_get_uri (st->msg)), st->pos);
          st->remaining = 0;
          soup_message_body_complete (body);
          return;
        }
      st->pos += (goffset)got;
      st->remaining -= (goffset)got;
      if (st->corrupt_at >= st->sent && st->corrupt_at < st->sent + (goffset)got)
        buf[st->corrupt_at - st->sent] ^= 0xff;
      bytes = g_bytes_new_take (buf, got);
    }
  else if (st->spec.fault.endless)
    bytes = g_bytes_new_from_bytes (spaces (), 0,
                                    (gsize)MIN ((goffset)st->chunk, before_pause (st)));
  else
    {
      soup_message_body_complete (body);
      return;
    }
  st->sent += (goffset)g_bytes_get_size (bytes);
  soup_message_body_append_bytes (body, bytes);
  g_bytes_unref (bytes);
}

/* The fault table ends a pause: the rest of the body follows, or the connection is shut down
 * under libsoup, whose next write then fails and finishes the message. */
static void
stream_release (gpointer data, SbFaultRelease how)
{
  Stream *st = data;
  st->held = FALSE;
  st->released = TRUE;
  if (how == SB_FAULT_RELEASE_CUT)
    {
      GSocket *sock = soup_server_message_get_socket (st->msg);
      if (sock != NULL)
        (void)g_socket_shutdown (sock, TRUE, TRUE, NULL);
    }
  append_next (st);
  soup_server_message_unpause (st->msg);
}

static gboolean
on_throttle_timer (gpointer data)
{
  Stream *st = data;
  st->timer = 0;
  append_next (st);
  soup_server_message_unpause (st->msg);
  return G_SOURCE_REMOVE;
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer data)
{
  Stream *st = data;
  if (st->interval_ms > 0 && (st->remaining > 0 || st->spec.fault.endless))
    {
      if (st->timer == 0)
        st->timer = g_timeout_add (st->interval_ms, on_throttle_timer, st);
    }
  else
    append_next (st);
}

static void
on_finished (SoupServerMessage *msg, gpointer data)
{
  stream_free (data);
}

static void
begin_body (Stream *st)
{
  st->started = TRUE;
  if (st->spec.head)
    {
      soup_message_body_complete (soup_server_message_get_response_body (st->msg));
      return;
    }
  soup_message_body_set_accumulate (soup_server_message_get_response_body (st->msg), FALSE);
  st->wrote_id = g_signal_connect (st->msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), st);
  append_next (st);
}

static gboolean
on_delay_timer (gpointer data)
{
  Stream *st = data;
  st->timer = 0;
  begin_body (st);
  soup_server_message_unpause (st->msg);
  return G_SOURCE_REMOVE;
}

/* drop-connection-after: libsoup never sends less than it declared, so the connection is
 * taken from it and the answer written by hand, then cut. */
typedef struct
{
  GIOStream *io;
  GBytes *data;
  guint delay_ms;
} Dropper;

static void
dropper_closed (GObject *source, GAsyncResult *res, gpointer data)
{
  Dropper *d = data;
  (void)g_io_stream_close_finish (G_IO_STREAM (source), res, NULL);
  g_object_unref (d->io);
  g_bytes_unref (d->data);
  g_free (d);
}

static void
dropper_written (GObject *source, GAsyncResult *res, gpointer data)
{
  Dropper *d = data;
  (void)g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, NULL);
  g_io_stream_close_async (d->io, G_PRIORITY_DEFAULT, NULL, dropper_closed, d);
}

static gboolean
dropper_start (gpointer data)
{
  Dropper *d = data;
  gsize len;
  const void *buf = g_bytes_get_data (d->data, &len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (d->io), buf, len,
                                   G_PRIORITY_DEFAULT, NULL, dropper_written, d);
  return G_SOURCE_REMOVE;
}

static void
respond_dropped (SoupServerMessage *msg, const SbRepoStreamSpec *spec, guint status)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "HTTP/1.1 %u %s\r\n", status, soup_status_get_phrase (status));
  g_string_append_printf (out, "Content-Type: %s\r\n", spec->content_type);
  g_string_append_printf (out, "Content-Length: %" G_GOFFSET_FORMAT "\r\n", spec->length);
  if (spec->partial)
    g_string_append_printf (out,
                            "Content-Range: bytes %" G_GOFFSET_FORMAT "-%" G_GOFFSET_FORMAT
                            "/%" G_GOFFSET_FORMAT "\r\n",
                            spec->offset, spec->offset + spec->length - 1, spec->total);
  g_string_append (out, "Connection: close\r\n\r\n");
  goffset n = MIN (spec->fault.drop_after, spec->length);
  if (!spec->head && n > 0 && spec->fd >= 0)
    {
      gsize start = out->len;
      g_string_set_size (out, start + (gsize)n);
      gsize got = 0;
      while (got < (gsize)n)
        {
          ssize_t r = pread (spec->fd, out->str + start + got, (gsize)n - got,
                             spec->offset + (goffset)got);
          if (r < 0 && errno == EINTR)
            continue;
          if (r <= 0)
            break;
          got += (gsize)r;
        }
      g_string_set_size (out, start + got);
    }
  if (spec->fd >= 0)
    close (spec->fd);

  Dropper *d = g_new0 (Dropper, 1);
  d->io = soup_server_message_steal_connection (msg);
  gsize len = out->len;
  d->data = g_bytes_new_take (g_string_free (g_steal_pointer (&out), FALSE), len);
  if (spec->fault.delay_ms > 0)
    g_timeout_add (spec->fault.delay_ms, dropper_start, d);
  else
    (void)dropper_start (d);
}

void
sb_repo_stream_respond (SoupServerMessage *msg, const SbRepoStreamSpec *spec)
{
  guint status = spec->partial ? SOUP_STATUS_PARTIAL_CONTENT : SOUP_STATUS_OK;
  if (spec->fault.drop_after >= 0)
    {
      respond_dropped (msg, spec, status);
      return;
    }

  Stream *st = g_new0 (Stream, 1);
  st->msg = g_object_ref (msg);
  st->spec = *spec;
  st->pos = spec->offset;
  st->remaining = spec->length;
  if (spec->fault.truncate >= 0 && spec->fault.truncate < st->remaining)
    st->remaining = spec->fault.truncate;
  st->corrupt_at = spec->fault.corrupt && st->remaining > 0 ? st->remaining / 2 : -1;
  st->path = g_strdup (spec->path != NULL ? spec->path : "");
  if (spec->events == NULL)
    st->spec.fault.pause_after = -1;
  st->chunk = SB_REPO_STREAM_CHUNK;
  if (spec->fault.throttle_bps > 0)
    {
      guint64 step = MAX (spec->fault.throttle_bps / THROTTLE_STEPS_PER_SEC, 1);
      st->chunk = (gsize)MIN (step, (guint64)SB_REPO_STREAM_CHUNK);
      st->interval_ms = (guint)MAX ((guint64)st->chunk * 1000 / spec->fault.throttle_bps, 1);
    }

  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_set_content_type (headers, spec->content_type, NULL);
  if (spec->accept_ranges)
    soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  if (spec->fault.endless)
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  else
    {
      soup_message_headers_set_content_length (headers, st->remaining);
      if (spec->partial)
        soup_message_headers_set_content_range (
            headers, spec->offset, spec->offset + MAX (st->remaining, 1) - 1, spec->total);
    }
  st->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), st);

  if (spec->fault.delay_ms > 0)
    {
      soup_server_message_pause (msg);
      st->timer = g_timeout_add (spec->fault.delay_ms, on_delay_timer, st);
    }
  else
    begin_body (st);
}

typedef struct
{
  SoupServerMessage *msg;
  gulong finished_id;
  guint timer;
} Delayed;

static void
delayed_free (Delayed *d)
{
  if (d->timer != 0)
    g_source_remove (d->timer);
  g_signal_handler_disconnect (d->msg, d->finished_id);
  g_object_unref (d->msg);
  g_free (d);
}

static gboolean
on_text_delay (gpointer data)
{
  Delayed *d = data;
  d->timer = 0;
  soup_server_message_unpause (d->msg);
  return G_SOURCE_REMOVE;
}

static void
on_text_finished (SoupServerMessage *msg, gpointer data)
{
  delayed_free (data);
}

void
sb_repo_stream_respond_text (SoupServerMessage *msg, guint status, const char *text, guint delay_ms)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_COPY, text,
                                    strlen (text));
  if (delay_ms == 0)
    return;
  Delayed *d = g_new0 (Delayed, 1);
  d->msg = g_object_ref (msg);
  d->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_text_finished), d);
  soup_server_message_pause (msg);
  d->timer = g_timeout_add (delay_ms, on_text_delay, d);
}
