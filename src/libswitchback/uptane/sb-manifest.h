/* sb-manifest.h: the vehicle version manifest a primary PUTs to the Director (Uptane §5.4.2.1),
 * in the format aktualizr sends and OTA Community Edition reads (design.md §3).
 *
 * ECU version report (signed by the ECU key):
 *   {"signatures": [{"keyid": K, "method": "ed25519", "sig": BASE64}],
 *    "signed": {"attacks_detected": "", "ecu_serial": S,
 *               "installed_image": {"filepath": NAME,
 *                                   "fileinfo": {"hashes": {"sha256": HEX}, "length": N}},
 *               "previous_timeserver_time": T0, "timeserver_time": T1,
 *               "report_counter": "N", "custom": {...}}}
 * Vehicle version manifest (signed by the primary's ECU key):
 *   {"signatures": [...],
 *    "signed": {"primary_ecu_serial": S, "ecu_version_manifests": {S: <ECU version report>},
 *               "installation_report": {
 *                 "content_type": "application/vnd.com.here.otac.installationReport.v1",
 *                 "report": {"correlation_id": C, "raw_report": TEXT,
 *                            "result": {"success": B, "code": "OK", "description": TEXT},
 *                            "items": [{"ecu": S, "result": {...}}]}}}}
 * As in aktualizr: signatures are base64 over the canonical JSON of "signed", "method" names the
 * scheme ("ed25519", "rsassa-pss-sha256", "ecdsa-sha2-nistp256"), report_counter is a decimal
 * string, and installation_report is present only when there is a result to report. The
 * timeserver times are RFC 3339 UTC: now, and the time of the previous report.
 */
#pragma once

#include "core/sb-crypto.h"
#include "state/sb-identity.h"
#include "state/sb-report-queue.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SB_INSTALLATION_REPORT_CONTENT_TYPE "application/vnd.com.here.otac.installationReport.v1"
/* The persisted report counter, in the state directory. */
#define SB_REPORT_COUNTER_FILE_NAME "report-counter.json"

/* The image an ECU runs now, as its version report states it. */
typedef struct {
  const char *filepath; /* the target name */
  const char *sha256;   /* lowercase hex (for OSTree, the commit checksum) */
  guint64 length;
} SbInstalledImage;

/* Advances the report counter kept in <state_dir>/report-counter.json and returns the new value
 * (1 on the first call), with the time of the previous report ("1970-01-01T00:00:00Z" before the
 * first). The new value is written with sb_durable_write before it is returned, so no two
 * reports ever carry the same counter, even across a power cut. An unreadable counter file is
 * SB_ERROR_STATE. @now NULL means the current time. */
gboolean sb_manifest_next_report_counter (const char *state_dir, GDateTime *now,
                                          guint64 *out_counter, char **out_previous_time,
                                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Wraps @signed_node as {"signatures": [one signature by @signer], "signed": @signed_node},
 * signing its canonical JSON. */
JsonNode *sb_manifest_sign (SbSigner *signer, JsonNode *signed_node, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The signed ECU version report of @identity's ECU. @time NULL means now; @previous_time NULL
 * means the epoch; @custom (may be NULL) is copied into signed.custom. */
JsonNode *sb_manifest_ecu_report_new (SbIdentity *identity, const SbInstalledImage *installed,
                                      guint64 report_counter, GDateTime *time,
                                      const char *previous_time, JsonObject *custom,
                                      GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The installation_report object for @result, reported for the ECU @ecu_serial. */
JsonNode *sb_manifest_installation_report_new (const char *ecu_serial, const SbReport *result);

/* The signed vehicle version manifest: @ecu_report (from sb_manifest_ecu_report_new) under the
 * primary's serial, and @installation_report when not NULL. */
JsonNode *sb_manifest_vehicle_new (SbIdentity *identity, JsonNode *ecu_report,
                                   JsonNode *installation_report, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* One reporting cycle's manifest, ready to PUT: advances the report counter, reports
 * @installed, includes @result (the oldest queued result, or NULL), signs both levels, and
 * encodes it as JSON (sb_json_pretty; signatures are over the canonical form of "signed", which
 * the receiver computes). */
GBytes *sb_manifest_assemble (SbIdentity *identity, const char *state_dir,
                              const SbInstalledImage *installed, const SbReport *result,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Checks a vehicle version manifest as a Director receives it: strict JSON, the structure above,
 * a signature by @primary_key (a TUF key object) over the canonical "signed", and for every
 * nested ECU version report a signature by the key of that ECU and an ecu_serial equal to the name
 * it is listed under. The primary's report uses @primary_key, and must be present; other ECUs'
 * keys come from @ecu_keys (serial -> TUF key object JsonNode; may be NULL).
 * Returns the parsed manifest. Errors: SB_ERROR_PARSE (malformed), SB_ERROR_BAD_SIGNATURE (no
 * signature verifies), SB_ERROR_BAD_ECU_ID (a report under another serial than it names, or for an
 * ECU with no known key), SB_ERROR_UNSUPPORTED (an unusable key). */
JsonNode *sb_manifest_verify_with_keys (GBytes *manifest, JsonNode *primary_key,
                                        GHashTable *ecu_keys, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* sb_manifest_verify_with_keys for a vehicle whose only ECU is the primary (as switchback's). */
JsonNode *sb_manifest_verify (GBytes *manifest, JsonNode *primary_key, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The report_counter of a verified ECU version report's "signed" object (a decimal string as
 * aktualizr sends it, or an integer). */
gboolean sb_manifest_get_report_counter (JsonObject *ecu_signed, guint64 *out, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
