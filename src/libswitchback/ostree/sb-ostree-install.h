/* sb-ostree-install.h: an OSTREE target installed into the inactive slot (design.md §5), the
 * OSTree counterpart of sb-install.h, so that the update cycle, GRUB's counted trial boot,
 * switchback-boot, mark-good and rollback treat both kinds of target the same way.
 *
 * The transaction, in the order that keeps a power cut harmless:
 *  1. Before anything changes: the target has the shape of an OSTree target (its sha256 is the
 *     commit checksum, its length 0: sb_ostree_check_target), and the slot to write is not the
 *     fallback of an unconfirmed boot (the same rules as sb_install_raw).
 *  2. install.json "downloading" (slot, target, format, length 0, hashes, release counter),
 *     then sb_boot_context_prepare_slot(): the slot's release counter is forgotten and its tries
 *     set to 0, so GRUB never falls back into a deployment that is being replaced.
 *  3. The commit is pulled by checksum (sb_ostree_pull) from the target's custom.uri, else
 *     [ostree] ostree-url, with the [tls] files of the repositories, and verified.
 *  4. It is deployed into the slot (sb_ostree_deploy): the slot table and the GRUB fragment
 *     name the new deployment.
 *  5. install.json "written". Staging (counters, grubenv, install.json "staged") is the
 *     caller's next step, sb_boot_context_stage_install, exactly as for raw images.
 *
 * The commit checksum is the target's sha256, so images.json and the manifest report the
 * commit as the installed image with no OSTree-specific code in the cycle.
 *
 * Failures: a pull that fails on the way leaves install.json "downloading" and libostree's
 * staged objects, so the next cycle resumes it (docs/ostree.md). A commit that does not verify
 * (SB_ERROR_HASH_MISMATCH) ends the transaction (install.json idle): the slot keeps no tries. *
 * The install and the settling run inside the OSTree module, loaded on first use
 * (sb-ostree-module.h); a missing or mismatched module is SB_ERROR_UNSUPPORTED before anything
 * changed.
 */
#pragma once

#include <gio/gio.h>

#include "install/sb-bootchooser.h"
#include "state/sb-config.h"
#include "install/sb-install.h"

G_BEGIN_DECLS

#define SB_INSTALL_FORMAT_OSTREE "OSTREE"

/* TRUE when @target's custom.targetFormat is "OSTREE". */
gboolean sb_ostree_install_is_ostree (const SbInstallTarget *target);

/* TRUE when @config describes an OSTree system: no [slots] disk. Such a system has no
 * partitions to load for raw images. */
gboolean sb_ostree_install_is_configured (const SbConfig *config);

/* Installs the OSTREE @target into the slot that is not booted (@ctx->inputs.booted), as
 * described above, and leaves @ctx->state "written" for it (already "written" or "staged" for
 * the same target and slot: returns at once, out_stats->already_written). @target->url is the
 * target's custom.uri, or NULL for [ostree] ostree-url. @out_stats may be NULL; only its slot
 * and already_written are filled in.
 *
 * Errors: SB_ERROR_UNSUPPORTED (not an OSTREE target), SB_ERROR_PARSE or
 * SB_ERROR_LENGTH_MISMATCH (not the shape of one), SB_ERROR_SLOT_BUSY (the booted slot awaits
 * confirmation, or another process holds the sysroot), SB_ERROR_CONFIG (no URL to pull from),
 * before anything changed; then sb_ostree_pull's errors (SB_ERROR_HASH_MISMATCH ends the
 * install) and sb_ostree_deploy's; the state files' errors. Messages name the target and the
 * slot. */
gboolean sb_ostree_install (SbBootContext *ctx, const SbConfig *config,
                            const SbInstallTarget *target, SbInstallStats *out_stats,
                            GCancellable *cancellable, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* TRUE when sb_ostree_install_settle has work: an OSTree system with a slot table, idle, with a
 * committed slot. Needs no libostree. */
gboolean sb_ostree_install_needs_settle (const SbConfig *config, const SbInstallState *state);

/* After a trial ended (committed or rolled back, install.json idle with a committed slot):
 * libostree's deployment list is brought in line with the slots and the repository pruned
 * (sb_ostree_prune with the committed slot). Does nothing, successfully, when @config is not an
 * OSTree system, when no OSTree slot table exists yet, or while an install is in flight. */
gboolean sb_ostree_install_settle (const SbConfig *config, const SbInstallState *state,
                                   GCancellable *cancellable,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
