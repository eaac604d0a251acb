/* repo-stream.h: answering one request with a file streamed from disk, faults applied.
 *
 * The body goes out in chunks of SB_REPO_STREAM_CHUNK bytes read with pread as libsoup asks for
 * them (SoupServerMessage::wrote-chunk), so memory stays bounded whatever the file size and a
 * fast client gets big writes. Faults (repo-faults.h) shape the answer: delay, throttle,
 * truncate, corrupt, endless, drop-connection-after, pause-after.
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include "repo-faults.h"

G_BEGIN_DECLS

#define SB_REPO_STREAM_CHUNK (512 * 1024)

typedef struct
{
  int fd;                 /* taken (closed when done); -1: no file (endless only) */
  goffset offset;         /* first byte to send */
  goffset length;         /* bytes to send from @offset */
  goffset total;          /* the file's size (for Content-Range) */
  gboolean partial;       /* answer 206 with Content-Range (a Range request) */
  gboolean accept_ranges; /* say "Accept-Ranges: bytes" */
  gboolean head;          /* HEAD: headers only */
  const char *content_type;
  SbFault fault;
  /* pause-after: where the pause is counted and released, under the request's @path. */
  SbFaultTable *events;
  const char *path;
} SbRepoStreamSpec;

/* Answers @msg as @spec says. Returns at once; the body follows from the main loop. */
void sb_repo_stream_respond (SoupServerMessage *msg, const SbRepoStreamSpec *spec);

/* Answers @msg with @status and a short text body, after @delay_ms. */
void sb_repo_stream_respond_text (SoupServerMessage *msg, guint status, const char *text,
                                  guint delay_ms);

G_END_DECLS
