/* sb-update-cycle.h: `switchback update`, the whole update cycle of a primary with A/B slots
 * (design.md §5, §6, §8; Uptane §5.4.2).
 *
 *   1. Report: the vehicle version manifest goes to the Director with the image of the booted
 *      slot (a failure is a warning).
 *   2. Verify: full verification of the Director and the Image repository (sb-uptane.h); the
 *      image the Director assigns to this ECU, verified against both.
 *   3. Install: a raw image (custom.targetFormat BINARY, or none) streams into the inactive
 *      slot's partition (sb-install.h); an OSTREE commit is pulled and deployed into the
 *      inactive slot (sb-ostree-install.h). Either resumes an interrupted install of the same
 *      target. A system without [slots] disk is an OSTree system: it takes OSTREE targets only.
 *   4. Stage: counters.json (the slot's and the pending release counter), grubenv (the slot first
 *      with fresh tries), install.json "staged" (sb_boot_context_stage_install).
 *   5. Result: "installed, reboot needed". The boot helper confirms or rolls back the trial at
 *      the next boot and queues the result for the Director.
 *
 * The cycle remembers, in <state-dir>/images.json (written with sb_durable_write):
 *
 *   {"slots": {"A": {"target": "os-1.img", "length": 4096, "hashes": {"sha256": "…"}}},
 *    "trial": {"slot": "B", "target": "os-2.img", "length": …, "hashes": {…},
 *              "correlation_id": "urn:…"},
 *    "failed": [{"target": "os-3.img", "length": …, "hashes": {…}, "correlation_id": "urn:…",
 *                "time": "2024-05-01T12:00:00Z"}]}
 *
 *  - "slots": the image switchback wrote into each slot (forgotten before the slot is written
 *    again). The booted slot's entry is the installed image the manifest reports.
 *  - "trial": the install handed to GRUB. At the start of the next cycle, once install.json no
 *    longer holds it, it either was committed (install.json "committed" is its slot) or rolled
 *    back, and then it joins "failed" (the SB_UPDATE_MAX_FAILED most recent are kept).
 *  - "failed": installs whose trial boot failed. The same target (same hashes) under the same
 *    correlation id is not installed again automatically (Uptane: a Director that wants it
 *    tried again assigns it anew); SbUpdateOptions.retry_failed overrides that.
 *
 * Results queued for the Director (sb_install_state_record_result) by this cycle: an image that
 * does not verify (VERIFICATION_FAILED), one larger than the slot or that cannot be written
 * (INSTALL_FAILED), and a release counter below the committed one (VERIFICATION_FAILED: the
 * counters never go down, and the write that would lower one is refused). A failed download is
 * not a result: the install stays resumable and the next cycle continues it.
 *
 * One cycle runs at a time per state directory (<state-dir>/update.lock, flock): a second one
 * fails with SB_ERROR_SLOT_BUSY.
 *
 * The test-only kill points of the cycle (sb-install.h, SWITCHBACK_TEST_KILL_AT) are
 * update-reported (manifest sent), update-verified (Uptane check passed), update-installed
 * (install.json written), update-recorded (images.json has the trial) and update-staged.
 */
#pragma once

#include <glib.h>

#include "state/sb-config.h"
#include "net/sb-fetcher.h"
#include "state/sb-identity.h"
#include "install/sb-images.h"
#include "install/sb-install.h"

G_BEGIN_DECLS

#define SB_UPDATE_LOCK_FILE "update.lock"

typedef struct
{
  gboolean retry_failed;    /* install a target even if its trial failed before */
  SbInstallOptions install; /* ring, checkpoints and progress of the download */
} SbUpdateOptions;

/* No retry of failed targets; sb_install_options_init for the install. */
void sb_update_options_init (SbUpdateOptions *opts);

typedef enum
{
  SB_UPDATE_NO_UPDATE,      /* the Director assigns nothing to this ECU */
  SB_UPDATE_UP_TO_DATE,     /* the assigned image is the one in the booted slot */
  SB_UPDATE_SKIPPED_FAILED, /* the assigned image failed its trial boot before; not retried */
  SB_UPDATE_STAGED,         /* installed and staged in this cycle: a reboot is needed */
  SB_UPDATE_ALREADY_STAGED, /* staged by an earlier cycle: still waiting for the reboot */
} SbUpdateOutcome;

/* "no-update", "up-to-date", "skipped-failed", "staged", "already-staged". */
const char *sb_update_outcome_name (SbUpdateOutcome outcome);

typedef struct
{
  SbUpdateOutcome outcome;
  char *target;         /* the assigned target, or NULL with SB_UPDATE_NO_UPDATE */
  char *correlation_id; /* or NULL */
  guint64 length;
  SbSlotId slot; /* the slot written or staged (the inactive one) */
  SbSlotId booted;
  SbInstallStats stats; /* what the install did (zero unless it ran) */
  /* Reporting, which never stops a cycle. */
  guint reports_sent;     /* queued results the Director accepted in this cycle */
  char *manifest_problem; /* why the manifest could not be sent, or NULL */
  char *clock_problem;    /* sb_uptane_get_clock_problem, or NULL */
  char *recorded_failure; /* the trial failure found at the start of the cycle, or NULL */
  char *queued_result;    /* the result code queued for a failed install (SB_RESULT_*), or NULL */
} SbUpdateResult;

void sb_update_result_clear (SbUpdateResult *result);

/* What the cycle installs: a target already verified (by sb-uptane for `switchback update`).
 * Runs steps 3 to 5 above for @target with @fetcher, under the cycle's lock, after checking
 * images.json as described (a trial outcome is recorded first). @result is filled in on
 * success and, as far as known, on failure. Errors are sb_install_raw's, SB_ERROR_ROLLBACK for
 * a release counter below the committed one, and SB_ERROR_SLOT_BUSY when another cycle runs. */
gboolean sb_update_install_target (SbConfig *config, SbFetcher *fetcher,
                                   const SbInstallTarget *target, const SbUpdateOptions *opts,
                                   SbUpdateResult *result,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* What the cycle needs, tested before it writes anything (no ECU key, lock file or state
 * directory is created): sb_uptane_check_config, then the boot context read as the cycle reads
 * it ([boot] cmdline-file with switchback.slot=, grubenv, the state files), and with a [slots]
 * disk, its GPT holding both slots. The errors of those reads (SB_ERROR_CONFIG,
 * SB_ERROR_NOT_FOUND, SB_ERROR_STATE, …). */
gboolean sb_update_cycle_check_config (SbConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The whole cycle (steps 1 to 5) for the primary @identity under @config. Errors are the
 * verification's (sb_uptane_check: nothing changed), more than one image assigned to this ECU
 * (SB_ERROR_BAD_ECU_ID), an OSTree target (SB_ERROR_UNSUPPORTED: raw images only), and
 * sb_update_install_target's. A result queued by a failed install is sent at once (a failure
 * to send is a warning in @result). */
gboolean sb_update_cycle_run (SbConfig *config, SbIdentity *identity, const SbUpdateOptions *opts,
                              SbUpdateResult *result, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
