/* repo-faults.h: the fault switches of `serve`, for tests of clients against a hostile or
 * broken repository (TUF §5 threat model: endless data, slow retrieval, mix-and-match, ...).
 *
 * A fault applies to one URL path ("/metadata/timestamp.json") or to every path under a prefix
 * (a path ending in a star; a star alone is every path). Modes, comma-separated, combine:
 *   delay=MS                  wait before answering
 *   throttle=BYTES_PER_SEC    send the body at this rate
 *   truncate=N                answer 200 with only the first N bytes (a complete, short body)
 *   corrupt                   flip one byte in the middle of the body (length unchanged)
 *   endless                   stream the file, then spaces, forever (chunked; no file needed)
 *   status=CODE               answer with this HTTP status (404, 500, ...)
 *   drop-connection-after=N   declare the full length, send N bytes, close the connection
 *   ignore-range              answer 200 with the whole body whatever Range asks
 *   pause-after=N             declare the full length, send N bytes, then hold the connection
 *                             open and send nothing until POST /_control/release
 *   none                      clears the path's faults
 * A fault may be limited to the next @times requests, after which it clears itself.
 *
 * Pauses are events a test can wait on instead of racing a clock: each answer that reaches its
 * N bytes (all of them written to the socket) counts one pause of its path, and a waiter
 * (GET /_control/paused?path=P&count=K) is answered as soon as P has paused K times since the
 * last reset. A paused answer stays paused until it is released (the rest of the body follows,
 * or the connection is cut), until a reset (which resumes it), or until the server stops.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint delay_ms;
  guint64 throttle_bps; /* 0: no throttling */
  gint64 truncate;      /* -1: none */
  gboolean corrupt;
  gboolean endless;
  guint status;      /* 0: none */
  gint64 drop_after; /* -1: none */
  gboolean ignore_range;
  gint64 pause_after; /* -1: none */
} SbFault;

/* A fault that changes nothing. */
void sb_fault_init (SbFault *fault);

/* Applies the comma-separated @modes to @fault (so modes given one at a time accumulate).
 * "none" resets it. An unknown mode or a bad value is SB_ERROR_INVALID_ARGUMENT naming it. */
gboolean sb_fault_parse (const char *modes, SbFault *fault,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The modes of @fault in the syntax above ("none" when it changes nothing). */
char *sb_fault_to_string (const SbFault *fault);

typedef struct _SbFaultTable SbFaultTable;

SbFaultTable *sb_fault_table_new (void);
void sb_fault_table_free (SbFaultTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbFaultTable, sb_fault_table_free)

/* Adds @modes to the fault of @path ("none" removes it); @times > 0 limits it to that many
 * requests. Paths must start with '/' or be "*". */
gboolean sb_fault_table_set (SbFaultTable *table, const char *path, const char *modes, guint times,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Parses a command-line switch "[PATH=]MODES" (no PATH: every path). */
gboolean sb_fault_table_set_from_arg (SbFaultTable *table, const char *arg,
                                      GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Removes every fault. */
void sb_fault_table_clear (SbFaultTable *table);
/* The fault for a request of @path: an exact entry, else the longest matching prefix entry.
 * Counts one use of it. FALSE when no fault applies. */
gboolean sb_fault_table_take (SbFaultTable *table, const char *path, SbFault *out);
/* {PATH: {"modes": "...", "remaining": N (0: unlimited)}} */
JsonNode *sb_fault_table_to_json (SbFaultTable *table);

/* ---- pause events (pause-after=N) ---- */

/* How a paused answer goes on: resumed (the rest of the body is sent) or cut (the connection
 * is closed with the body incomplete). */
typedef enum
{
  SB_FAULT_RELEASE_RESUME,
  SB_FAULT_RELEASE_CUT,
} SbFaultRelease;

typedef void (*SbFaultReleaseFunc) (gpointer data, SbFaultRelease how);

/* An answer of @path has sent its pause-after bytes and stopped: counts one pause of @path,
 * answers the waiters that this satisfies, and keeps @release to be called (once) when the
 * pause is released. */
void sb_fault_table_paused (SbFaultTable *table, const char *path, SbFaultReleaseFunc release,
                            gpointer data);
/* The answer @data is gone (finished or freed): forgets its pause without calling it. */
void sb_fault_table_forget_paused (SbFaultTable *table, gpointer data);
/* Releases every paused answer of @path (NULL: of every path) as @how says. Returns how many. */
guint sb_fault_table_release (SbFaultTable *table, const char *path, SbFaultRelease how);
/* Pauses of @path since the table was made or last reset. */
guint sb_fault_table_get_pauses (SbFaultTable *table, const char *path);

typedef void (*SbFaultWaitFunc) (gpointer data, guint pauses);

/* Calls @done (once, possibly at once) when @path has paused at least @count times. Returns a
 * handle for sb_fault_table_cancel_wait, or 0 when @done was called at once. */
guint sb_fault_table_wait (SbFaultTable *table, const char *path, guint count, SbFaultWaitFunc done,
                           gpointer data);
/* Drops the waiter @handle (its client went away) without calling it. */
void sb_fault_table_cancel_wait (SbFaultTable *table, guint handle);
/* Forgets the pause counts, releases (resumes) every paused answer, and answers every waiter
 * with the count it reached: what POST /_control/reset does besides clearing the faults. */
void sb_fault_table_reset_events (SbFaultTable *table);

G_END_DECLS
