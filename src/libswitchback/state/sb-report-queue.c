/* sb-report-queue.c: the persisted queue of install results not yet reported. */
#include "config.h"

#include "state/sb-report-queue.h"
#include "state/sb-state-lock.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct _SbReportQueue {
  char *state_dir;
  char *dir;
};

static char *
format_time (GDateTime *time)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

SbReport *
sb_report_new (const char *correlation_id, const char *target, gboolean success,
               const char *result_code, const char *description, GDateTime *time)
{
  SbReport *report = g_new0 (SbReport, 1);
  report->correlation_id = g_strdup (correlation_id != NULL ? correlation_id : "");
  report->target = g_strdup (target != NULL ? target : "");
  report->success = success;
  report->result_code = g_strdup (result_code != NULL ? result_code : "");
  report->description = g_strdup (description != NULL ? description : "");
  if (time != NULL)
    report->time = format_time (time);
  else
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      report->time = format_time (now);
    }
  return report;
}

SbReport *
sb_report_copy (const SbReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  SbReport *copy = g_new0 (SbReport, 1);
  copy->seq = report->seq;
  copy->correlation_id = g_strdup (report->correlation_id);
  copy->target = g_strdup (report->target);
  copy->success = report->success;
  copy->result_code = g_strdup (report->result_code);
  copy->description = g_strdup (report->description);
  copy->time = g_strdup (report->time);
  return copy;
}

void
sb_report_free (SbReport *report)
{
  if (report == NULL)
    return;
  g_free (report->correlation_id);
  g_free (report->target);
  g_free (report->result_code);
  g_free (report->description);
  g_free (report->time);
  g_free (report);
}

JsonNode *
sb_report_to_json (const SbReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "correlation_id", report->correlation_id);
  json_object_set_string_member (obj, "target", report->target);
  json_object_set_boolean_member (obj, "success", report->success);
  json_object_set_string_member (obj, "result_code", report->result_code);
  json_object_set_string_member (obj, "description", report->description);
  json_object_set_string_member (obj, "time", report->time);
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

SbReport *
sb_report_from_bytes (GBytes *bytes, guint64 seq, GError **error)
{
  const char *what = "install result";
  g_autoptr (JsonNode) root = sb_json_parse_bytes (bytes, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s is not a JSON object", what);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (root);

  g_autoptr (SbReport) report = g_new0 (SbReport, 1);
  report->seq = seq;
  const char *s;
  if ((s = sb_json_get_string (obj, "correlation_id", what, error)) == NULL)
    return NULL;
  report->correlation_id = g_strdup (s);
  if ((s = sb_json_get_string (obj, "target", what, error)) == NULL)
    return NULL;
  report->target = g_strdup (s);
  if (!sb_json_get_bool (obj, "success", what, &report->success, error))
    return NULL;
  if ((s = sb_json_get_string (obj, "result_code", what, error)) == NULL)
    return NULL;
  if (*s == '\0')
    {
      sb_throw (error, SB_ERROR_PARSE, "%s has an empty result_code", what);
      return NULL;
    }
  report->result_code = g_strdup (s);
  if ((s = sb_json_get_string (obj, "description", what, error)) == NULL)
    return NULL;
  report->description = g_strdup (s);

  /* The time is informational; a writer that counts seconds since the epoch is understood too. */
  JsonNode *time = json_object_get_member (obj, "time");
  if (time != NULL && sb_json_node_is_int (time))
    {
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (json_node_get_int (time));
      if (t == NULL)
        {
          sb_throw (error, SB_ERROR_PARSE, "%s has a time out of range", what);
          return NULL;
        }
      report->time = format_time (t);
    }
  else
    {
      if ((s = sb_json_get_string (obj, "time", what, error)) == NULL)
        return NULL;
      report->time = g_strdup (s);
    }
  return g_steal_pointer (&report);
}

SbReportQueue *
sb_report_queue_open (const char *state_dir, GError **error)
{
  g_return_val_if_fail (state_dir != NULL, NULL);

  g_autofree char *dir = g_build_filename (state_dir, SB_REPORT_QUEUE_DIR_NAME, NULL);
  if (!sb_durable_mkdir_p (dir, 0755, error))
    {
      g_prefix_error (error, "creating the report queue: ");
      return NULL;
    }
  SbReportQueue *queue = g_new0 (SbReportQueue, 1);
  queue->dir = g_steal_pointer (&dir);
  queue->state_dir = g_strdup (state_dir);
  return queue;
}

void
sb_report_queue_free (SbReportQueue *queue)
{
  if (queue == NULL)
    return;
  g_free (queue->dir);
  g_free (queue->state_dir);
  g_free (queue);
}

const char *
sb_report_queue_get_dir (SbReportQueue *queue)
{
  g_return_val_if_fail (queue != NULL, NULL);
  return queue->dir;
}

static char *
queue_file_path (SbReportQueue *queue, guint64 seq)
{
  g_autofree char *name = g_strdup_printf ("%0*" G_GUINT64_FORMAT ".json",
                                           SB_REPORT_QUEUE_SEQ_DIGITS, seq);
  return g_build_filename (queue->dir, name, NULL);
}

/* The sequence number of a queue file name "<digits>.json", optionally followed by @suffix
 * (".bad" for files moved aside). FALSE for any other name, including temporary files. */
static gboolean
parse_name (const char *name, const char *suffix, guint64 *out)
{
  gsize digits = strspn (name, "0123456789");
  if (digits == 0 || digits > 20)
    return FALSE;
  g_autofree char *tail = g_strconcat (".json", suffix, NULL);
  if (!g_str_equal (name + digits, tail))
    return FALSE;
  g_autofree char *number = g_strndup (name, digits);
  return g_ascii_string_to_unsigned (number, 10, 1, G_MAXUINT64, out, NULL);
}

static gint
compare_seq (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* Sequence numbers of the queued files, ascending, and the highest number in use by any file
 * (queued or moved aside). */
static GArray *
scan (SbReportQueue *queue, guint64 *out_max, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (queue->dir, 0, &local_error);
  if (d == NULL)
    {
      sb_throw (error, SB_ERROR_IO, "reading the report queue %s: %s", queue->dir,
                local_error->message);
      return NULL;
    }
  g_autoptr (GArray) seqs = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 max = 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      guint64 seq;
      if (parse_name (name, "", &seq))
        g_array_append_val (seqs, seq);
      else if (!parse_name (name, ".bad", &seq))
        continue;
      max = MAX (max, seq);
    }
  g_array_sort (seqs, compare_seq);
  if (out_max != NULL)
    *out_max = max;
  return g_steal_pointer (&seqs);
}

/* Renames a damaged queue file to NAME.bad, durably, so the queue moves on and the file stays
 * for whoever investigates. */
static gboolean
move_aside (SbReportQueue *queue, const char *path, const GError *why, GError **error)
{
  g_autofree char *bad = g_strconcat (path, ".bad", NULL);
  g_warning ("report queue: %s is damaged (%s); moved aside to %s", path, why->message, bad);
  if (rename (path, bad) < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "moving damaged %s aside", path);
  return sb_fsync_dir (queue->dir, error);
}

/* Reads queue file @seq. NULL with no error set when it was damaged and moved aside, or when it
 * disappeared meanwhile (removed by another process after it was sent). */
static SbReport *
read_one (SbReportQueue *queue, guint64 seq, GError **error)
{
  g_autofree char *path = queue_file_path (queue, seq);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (path, SB_REPORT_MAX_SIZE, &local_error);
  if (bytes == NULL && g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
    return NULL;
  if (bytes == NULL && !g_error_matches (local_error, SB_ERROR, SB_ERROR_ENDLESS_DATA))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "reading the report queue: ");
      return NULL;
    }
  SbReport *report = bytes != NULL ? sb_report_from_bytes (bytes, seq, &local_error) : NULL;
  if (report == NULL)
    (void) move_aside (queue, path, local_error, error);
  return report;
}

GPtrArray *
sb_report_queue_list (SbReportQueue *queue, GError **error)
{
  g_return_val_if_fail (queue != NULL, NULL);

  g_autoptr (GArray) seqs = scan (queue, NULL, error);
  if (seqs == NULL)
    return NULL;
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func ((GDestroyNotify) sb_report_free);
  for (guint i = 0; i < seqs->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      SbReport *report = read_one (queue, g_array_index (seqs, guint64, i), &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (report != NULL)
        g_ptr_array_add (reports, report);
    }
  return g_steal_pointer (&reports);
}

gboolean
sb_report_queue_peek (SbReportQueue *queue, SbReport **out_report, GError **error)
{
  g_return_val_if_fail (queue != NULL && out_report != NULL, FALSE);

  *out_report = NULL;
  g_autoptr (GArray) seqs = scan (queue, NULL, error);
  if (seqs == NULL)
    return FALSE;
  for (guint i = 0; i < seqs->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      SbReport *report = read_one (queue, g_array_index (seqs, guint64, i), &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (report != NULL)
        {
          *out_report = report;
          return TRUE;
        }
    }
  return TRUE;
}

gboolean
sb_report_queue_enqueue (SbReportQueue *queue, SbReport *report, GError **error)
{
  g_return_val_if_fail (queue != NULL && report != NULL, FALSE);

  /* The Director reads the code, and the queue's reader refuses a result without one. */
  if (report->result_code == NULL || *report->result_code == '\0')
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "the result of %s has no result code; not queued",
                     report->correlation_id != NULL ? report->correlation_id : "(none)");

  /* The state lock keeps two writers (the daemon and a CLI run) from picking the same number. */
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (queue->state_dir, error);
  if (lock == NULL)
    return FALSE;

  gboolean ok = FALSE;
  guint64 max = 0;
  g_autoptr (GArray) seqs = scan (queue, &max, error);
  if (seqs != NULL)
    {
      guint64 seq = max + 1;
      g_autofree char *path = queue_file_path (queue, seq);
      g_autoptr (JsonNode) node = sb_report_to_json (report);
      g_autofree char *text = sb_json_pretty (node);
      ok = sb_durable_write (path, text, strlen (text), 0644, error);
      if (ok)
        report->seq = seq;
      else
        g_prefix_error (error, "queueing the result of %s: ", report->correlation_id);
    }
  return ok;
}

gboolean
sb_report_queue_remove (SbReportQueue *queue, guint64 seq, GError **error)
{
  g_return_val_if_fail (queue != NULL && seq > 0, FALSE);
  g_autofree char *path = queue_file_path (queue, seq);
  return sb_durable_unlink (path, error);
}
