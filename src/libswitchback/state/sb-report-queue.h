/* sb-report-queue.h: install results waiting to be reported to the Director (design.md §6).
 *
 * Each result is one JSON file in <state-dir>/reports/, named by a zero-padded sequence number
 * ("0000000000000042.json") that grows with every result, so name order is arrival order:
 *
 *   {"correlation_id": "...", "target": "...", "success": true, "result_code": "OK",
 *    "description": "...", "time": "2024-05-01T12:00:00Z"}
 *
 * switchback-boot queues its trial-boot verdicts here and the updater its own results; the
 * updater sends the oldest in its next vehicle version manifest and removes it once the Director
 * accepted the manifest. Files are written with sb_durable_write and removed with
 * sb_durable_unlink, so a result survives a power cut until it is sent, and is sent at most once
 * after the removal. A file that does not parse is moved aside as NAME.bad with a warning, so one
 * damaged file never blocks the results behind it.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SB_REPORT_QUEUE_DIR_NAME "reports"
/* Digits of the sequence number in a queue file name. */
#define SB_REPORT_QUEUE_SEQ_DIGITS 16
/* The largest queue file read; a larger one is damaged. */
#define SB_REPORT_MAX_SIZE (64 * 1024)

/* Result codes of an installation report (aktualizr's data::ResultCode names). */
#define SB_RESULT_OK "OK"
#define SB_RESULT_ALREADY_PROCESSED "ALREADY_PROCESSED"
#define SB_RESULT_VERIFICATION_FAILED "VERIFICATION_FAILED"
#define SB_RESULT_INSTALL_FAILED "INSTALL_FAILED"
#define SB_RESULT_DOWNLOAD_FAILED "DOWNLOAD_FAILED"
#define SB_RESULT_INTERNAL_ERROR "INTERNAL_ERROR"
#define SB_RESULT_GENERAL_ERROR "GENERAL_ERROR"
#define SB_RESULT_NEED_COMPLETION "NEED_COMPLETION"
#define SB_RESULT_OPERATION_CANCELLED "OPERATION_CANCELLED"

/* One install result. */
typedef struct {
  guint64 seq; /* its place in the queue; 0 until queued */
  char *correlation_id;
  char *target;      /* the target name the result is about ("" when none) */
  gboolean success;
  char *result_code; /* SB_RESULT_* or another upper-case code */
  char *description; /* for people: what happened and why */
  char *time;        /* RFC 3339 UTC, e.g. "2024-05-01T12:00:00Z" */
} SbReport;

/* A new result stamped with @time (NULL: now). NULL strings become "". */
SbReport *sb_report_new (const char *correlation_id, const char *target, gboolean success,
                         const char *result_code, const char *description, GDateTime *time);
SbReport *sb_report_copy (const SbReport *report);
void sb_report_free (SbReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbReport, sb_report_free)

/* The queue file's JSON object for @report. */
JsonNode *sb_report_to_json (const SbReport *report);
/* Parses a queue file. SB_ERROR_PARSE when a member is missing or has the wrong type, or the
 * result code is empty. @seq is stored in the result. */
SbReport *sb_report_from_bytes (GBytes *bytes, guint64 seq, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

typedef struct _SbReportQueue SbReportQueue;

/* Opens the queue under @state_dir, creating reports/ when missing. */
SbReportQueue *sb_report_queue_open (const char *state_dir, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
void sb_report_queue_free (SbReportQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbReportQueue, sb_report_queue_free)

const char *sb_report_queue_get_dir (SbReportQueue *queue);

/* Appends @report durably behind every queued result (also those moved aside), and sets
 * report->seq. Writers of one state directory are serialised with a lock on reports/.
 * A report without a result code is SB_ERROR_INVALID_ARGUMENT. */
gboolean sb_report_queue_enqueue (SbReportQueue *queue, SbReport *report, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The queued results, oldest first (a GPtrArray of SbReport, owning them). Damaged files are
 * moved aside and left out. */
GPtrArray *sb_report_queue_list (SbReportQueue *queue, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The oldest queued result, in *@out_report, or NULL there when the queue is empty. */
gboolean sb_report_queue_peek (SbReportQueue *queue, SbReport **out_report, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Removes the result @seq durably, after the Director accepted it. An absent @seq is not an
 * error (it was removed before a power cut). */
gboolean sb_report_queue_remove (SbReportQueue *queue, guint64 seq, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
