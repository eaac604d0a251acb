/* sb-uptane-verify.h: the Uptane rules a primary applies on top of two verified TUF
 * repositories (Uptane Standard 2.x §5.4.4.2 full verification, §5.4.4.6 Director targets;
 * design.md §3).
 *
 * Pure: the Director's targets metadata and the Image repository's target descriptions come in
 * already verified by their trusted sets, and a verdict comes out. No fetching, no disk, no
 * clock. sb-uptane.h does the I/O around these checks.
 *
 * Director targets (sb_uptane_check_director_targets):
 *  - must not delegate (Uptane §5.4.4.6): SB_ERROR_PARSE;
 *  - signed.custom.vin, when present, must be this vehicle's id; when the targets list no image,
 *    it must be present (a signed "nothing to do" for another vehicle or an old one replayed
 *    would otherwise be accepted), unless ota_ce_compat (OTA Community Edition does not send
 *    it): SB_ERROR_REPLAY;
 *  - every target names its ECUs in custom.ecuIdentifiers; each must be this primary
 *    (SB_ERROR_BAD_ECU_ID; secondaries are not supported) with this hardware id
 *    (SB_ERROR_BAD_HARDWARE_ID), and no ECU may be named by two targets (Uptane §5.4.4.6:
 *    "no ECU identifier is represented more than once"; SB_ERROR_BAD_ECU_ID).
 * Image match (sb_uptane_match_image_target), for each Director target and the Image target of
 * the same name found through delegation resolution:
 *  - length, and every hash algorithm both list, agree; at least one algorithm in common;
 *    custom.targetFormat agrees when both give one: SB_ERROR_MISMATCH (mix-and-match);
 *  - this hardware id is listed in the Image target's custom.hardwareIds:
 *    SB_ERROR_BAD_HARDWARE_ID;
 *  - custom.releaseCounter (a non-negative integer) is equal when either side gives one
 *    (SB_ERROR_MISMATCH), and never below the committed image rollback counter; once a counter
 *    was committed, a target without one is refused too, since it cannot show that it is not
 *    older: SB_ERROR_ROLLBACK.
 * Every message names the target and the attack class the check stops.
 */
#pragma once

#include <glib.h>

#include "core/sb-metadata.h"

G_BEGIN_DECLS

/* Who this primary is, as the checks need it. Strings are borrowed. */
typedef struct {
  const char *ecu_serial;
  const char *hardware_id;
  const char *vehicle_id;
  gboolean ota_ce_compat;
  /* counters.json image-rollback-counter: the release counter of the committed image, 0 when
   * none was committed. */
  guint64 committed_release_counter;
} SbUptanePrimary;

/* One image the Director assigns to an ECU of this vehicle, verified against both
 * repositories. */
typedef struct {
  char *ecu_serial;
  char *hardware_id;
  char *name;        /* the target name */
  guint64 length;
  char *format;      /* custom.targetFormat: "OSTREE", "BINARY", or NULL when neither says */
  char *uri;         /* custom.uri of the Director target, else of the Image target, or NULL */
  gboolean has_release_counter;
  guint64 release_counter;
  char *version;     /* the Image target's custom.version, or NULL */
  SbTargetInfo *director; /* as the Director lists it */
  SbTargetInfo *image;    /* as the Image repository lists it; NULL until matched */
} SbUptaneTarget;

void sb_uptane_target_free (SbUptaneTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbUptaneTarget, sb_uptane_target_free)

/* The sha256 both repositories agree on (lowercase hex), or NULL when they list none. */
const char *sb_uptane_target_get_sha256 (const SbUptaneTarget *target);

/* Applies the Director rules above to the trusted Director targets metadata @targets. Returns
 * the assigned images (a GPtrArray of SbUptaneTarget, in name order; empty when nothing is
 * assigned) with @image still NULL, and the signed.custom.correlationId in @out_correlation_id
 * (NULL when absent; may be NULL). */
GPtrArray *sb_uptane_check_director_targets (SbMetadata *targets, const SbUptanePrimary *primary,
                                             char **out_correlation_id, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Matches @target (from sb_uptane_check_director_targets) with @image, the Image repository's
 * description of the same name, by the rules above. On success @target->image is a copy of
 * @image and the format, uri, version and release counter are filled in; on failure @target is
 * unchanged. */
gboolean sb_uptane_match_image_target (SbUptaneTarget *target, const SbTargetInfo *image,
                                       const SbUptanePrimary *primary, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The attack a failure class stands for, for messages ("freeze attack", "rollback attack",
 * "arbitrary software attack", ...), or NULL for failures that are not attacks. */
const char *sb_uptane_attack_name (int code);

G_END_DECLS
