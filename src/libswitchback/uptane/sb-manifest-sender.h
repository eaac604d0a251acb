/* sb-manifest-sender.h: reporting to the Director (Uptane §5.4.2.1, design.md §2, §3, §6).
 *
 * Each update cycle starts by sending the vehicle version manifest with
 * `PUT {director-url}/manifest`, and sends one again after each install result. Results wait in
 * the report queue (sb-report-queue.h) until the Director has accepted a manifest carrying
 * them: one manifest per result, oldest first, each removed from the queue only after a 2xx
 * answer, so every result is sent once, in order, and survives restarts until then. A failed
 * PUT stops the sending; the results not sent stay queued for the next cycle. Callers treat a
 * failure as a warning: reporting never blocks an update.
 *
 * The last result the Director accepted is kept in <state-dir>/last-result.json for
 * `switchback status`:
 *   {"result": <the queued result, as sb_report_to_json>, "reported_at": "2024-05-01T12:00:00Z"}
 */
#pragma once

#include <glib.h>

#include "net/sb-fetcher.h"
#include "state/sb-identity.h"
#include "uptane/sb-manifest.h"
#include "state/sb-report-queue.h"

G_BEGIN_DECLS

#define SB_LAST_RESULT_FILE_NAME "last-result.json"

/* The image reported when the installed one is not known (a factory image that switchback did
 * not install): "unknown", length 0, the sha256 of no bytes, as aktualizr reports it. */
void sb_installed_image_unknown (SbInstalledImage *out);

/* {director_url}/manifest, whether or not @director_url ends in "/". */
char *sb_manifest_url (const char *director_url);

/* Sends the manifests of one cycle (see above) for @identity, reporting @installed (NULL:
 * sb_installed_image_unknown). *@out_reports_sent (may be NULL) counts the queued results the
 * Director accepted, also when a later PUT fails. Errors are the fetcher's (SB_ERROR_DOWNLOAD,
 * SB_ERROR_NOT_FOUND, ...) prefixed with the URL, or the state directory's. */
gboolean sb_manifest_sender_send (SbFetcher *fetcher, SbIdentity *identity, const char *state_dir,
                                  const char *director_url, const SbInstalledImage *installed,
                                  guint *out_reports_sent, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The last result the Director accepted and when, or FALSE with both NULL when there is none
 * yet. A damaged file is SB_ERROR_STATE. */
gboolean sb_manifest_sender_load_last_result (const char *state_dir, SbReport **out_report,
                                              char **out_reported_at, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
