/* sb-manifest-sender.c: PUT the vehicle version manifest, draining the report queue in order
 * (see sb-manifest-sender.h). */
#include "config.h"

#include "uptane/sb-manifest-sender.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

/* The largest last-result.json read back: a queued result plus a few members. */
#define LAST_RESULT_MAX_SIZE (SB_REPORT_MAX_SIZE + 1024)

void
sb_installed_image_unknown (SbInstalledImage *out)
{
  out->filepath = "unknown";
  out->sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  out->length = 0;
}

char *
sb_manifest_url (const char *director_url)
{
  return g_strconcat (director_url, g_str_has_suffix (director_url, "/") ? "" : "/", "manifest",
                      NULL);
}

static gboolean
save_last_result (const char *state_dir, const SbReport *report, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *reported_at = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "result");
  json_builder_add_value (b, sb_report_to_json (report));
  json_builder_set_member_name (b, "reported_at");
  json_builder_add_string_value (b, reported_at);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = sb_json_pretty (root);
  g_autofree char *path = g_build_filename (state_dir, SB_LAST_RESULT_FILE_NAME, NULL);
  return sb_durable_write (path, text, strlen (text), 0644, error);
}

gboolean
sb_manifest_sender_load_last_result (const char *state_dir, SbReport **out_report,
                                     char **out_reported_at, GError **error)
{
  *out_report = NULL;
  *out_reported_at = NULL;
  g_autofree char *path = g_build_filename (state_dir, SB_LAST_RESULT_FILE_NAME, NULL);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) data = sb_read_file (path, LAST_RESULT_MAX_SIZE, &local_error);
  if (data == NULL)
    {
      if (g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        return TRUE;
      return sb_throw (error, SB_ERROR_STATE, "%s: %s", path, local_error->message);
    }
  g_autoptr (JsonNode) root = sb_json_parse_bytes (data, &local_error);
  JsonObject *obj = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root)
                                                                  : NULL;
  JsonObject *result = obj != NULL ? sb_json_get_object (obj, "result", path, &local_error)
                                   : NULL;
  const char *reported_at = result != NULL
                                ? sb_json_get_string (obj, "reported_at", path, &local_error)
                                : NULL;
  if (reported_at == NULL)
    return sb_throw (error, SB_ERROR_STATE, "%s is damaged: %s", path,
                     local_error != NULL ? local_error->message : "not a JSON object");
  /* One parser for results: the queue's. */
  g_autoptr (JsonNode) result_node = json_node_init_object (json_node_alloc (), result);
  g_autofree char *result_text = sb_json_pretty (result_node);
  g_autoptr (GBytes) result_bytes = g_bytes_new (result_text, strlen (result_text));
  SbReport *report = sb_report_from_bytes (result_bytes, 0, &local_error);
  if (report == NULL)
    return sb_throw (error, SB_ERROR_STATE, "%s is damaged: %s", path, local_error->message);
  *out_report = report;
  *out_reported_at = g_strdup (reported_at);
  return TRUE;
}

/* The fetcher's errors name @url. */
static gboolean
put_manifest (SbFetcher *fetcher, SbIdentity *identity, const char *state_dir, const char *url,
              const SbInstalledImage *installed, const SbReport *result, GError **error)
{
  g_autoptr (GBytes) body = sb_manifest_assemble (identity, state_dir, installed, result, error);
  if (body == NULL)
    return FALSE;
  if (!sb_fetcher_put (fetcher, url, body, "application/json", error))
    {
      g_prefix_error (error, "Sending the vehicle version manifest: ");
      return FALSE;
    }
  return TRUE;
}

gboolean
sb_manifest_sender_send (SbFetcher *fetcher, SbIdentity *identity, const char *state_dir,
                         const char *director_url, const SbInstalledImage *installed,
                         guint *out_reports_sent, GError **error)
{
  g_return_val_if_fail (fetcher != NULL && identity != NULL && state_dir != NULL, FALSE);
  g_return_val_if_fail (director_url != NULL, FALSE);

  SbInstalledImage unknown;
  if (installed == NULL)
    {
      sb_installed_image_unknown (&unknown);
      installed = &unknown;
    }
  if (out_reports_sent != NULL)
    *out_reports_sent = 0;

  g_autofree char *url = sb_manifest_url (director_url);
  g_autoptr (SbReportQueue) queue = sb_report_queue_open (state_dir, error);
  if (queue == NULL)
    return FALSE;
  /* The queue as it is now: results queued while sending wait for the next cycle, which
   * bounds this loop. */
  g_autoptr (GPtrArray) results = sb_report_queue_list (queue, error);
  if (results == NULL)
    return FALSE;
  if (results->len == 0)
    return put_manifest (fetcher, identity, state_dir, url, installed, NULL, error);

  for (guint i = 0; i < results->len; i++)
    {
      SbReport *result = results->pdata[i];
      if (!put_manifest (fetcher, identity, state_dir, url, installed, result, error))
        return FALSE;
      /* Accepted: remember it for status, then take it off the queue, so a power cut in
       * between at worst sends it once more, and never loses it. */
      if (!save_last_result (state_dir, result, error)
          || !sb_report_queue_remove (queue, result->seq, error))
        return FALSE;
      if (out_reports_sent != NULL)
        (*out_reports_sent)++;
    }
  return TRUE;
}
