/* sb-install.h: a raw (BINARY) image streamed into the inactive slot (design.md §5, the
 * idle → downloading → written part of the install transaction).
 *
 * One pass over the network: the fetcher's thread copies the body into a small ring of buffers,
 * one thread hashes each buffer (every algorithm the target lists, SbHasher) while another
 * pwrites it into the slot, and a third makes the slot durable at checkpoints. Download,
 * hashing and disk writes overlap, and memory stays at the ring (SB_INSTALL_DEFAULT_BUFFERS of
 * SB_INSTALL_DEFAULT_BUFFER_SIZE bytes) whatever the size of the image.
 *
 * The transaction, in the order that keeps a power cut harmless:
 *  1. Before anything changes: the target must be a raw image (format "BINARY" or not given),
 *     every hash it lists must be computable, the slot must not be the booted or a mounted one,
 *     and the image must fit the slot (SB_ERROR_NO_SPACE, before the first byte is written).
 *  2. install.json "downloading" (slot, target, length, hashes, bytes_done), then
 *     sb_boot_context_prepare_slot(): the slot's release counter is forgotten and its tries set
 *     to 0, so GRUB never falls back into a half-written slot.
 *  3. The image streams into the slot. Every checkpoint interval, the slot is fsynced and only
 *     then install.json "bytes_done" raised to what the fsync covered: bytes_done never claims
 *     data that is not on the disk. The checkpoints run beside the writes, and the writer waits
 *     when it gets two intervals ahead, so a power cut costs at most that much download.
 *  4. The whole image is in: the slot is fsynced, the length and every hash are checked
 *     (sb_target_info_verify_hasher), and install.json becomes "written".
 * Staging (grubenv) is the caller's next step (sb_boot_context_stage_install).
 *
 * Resuming (design.md §5): an OpenSSL digest state cannot be stored, so an install found
 * "downloading" for the same target and slot re-hashes its first bytes_done bytes from the slot
 * (sb_slot_writer_read_back) and asks the server for the rest with an HTTP Range request. A
 * server that ignores the Range sends the image from byte 0; the install then starts over from
 * there (SbFetchResult.restarted). If a resumed image does not verify, the bytes kept from the
 * earlier run may be to blame, so it is fetched once more from byte 0 before it is declared bad.
 *
 * Failures: a transport failure leaves install.json "downloading" with the bytes made durable,
 * so the next run resumes. An image that does not verify (length or hash) ends the transaction
 * (install.json idle): nothing of it is staged, and the slot keeps no tries. The caller reports
 * the result (sb-update-cycle.h).
 */
#pragma once

#include <glib.h>

#include "install/sb-bootchooser.h"
#include "net/sb-fetcher.h"
#include "core/sb-metadata.h"
#include "install/sb-slots.h"
#include "state/sb-test-hooks.h"

G_BEGIN_DECLS

#define SB_INSTALL_FORMAT_BINARY "BINARY"

/* The ring: buffers in flight between the download, the hasher and the writer. */
#define SB_INSTALL_DEFAULT_BUFFER_SIZE (128 * 1024)
#define SB_INSTALL_DEFAULT_BUFFERS 4
/* Checkpoints: one every 1/16 of the image, at least 1 MiB and at most 64 MiB apart. */
#define SB_INSTALL_CHECKPOINTS_PER_IMAGE 16
#define SB_INSTALL_MIN_CHECKPOINT_INTERVAL (1024 * 1024)
#define SB_INSTALL_MAX_CHECKPOINT_INTERVAL (64 * 1024 * 1024)

/* The image to install, as verification vouched for it. Everything is borrowed. */
typedef struct
{
  const char *name;           /* the Uptane target name (messages, install.json) */
  const SbTargetInfo *info;   /* the verified length and hashes */
  const char *url;            /* where the image is fetched from */
  const char *format;         /* custom.targetFormat, or NULL */
  const char *correlation_id; /* the Director's, or NULL */
  gboolean has_release_counter;
  guint64 release_counter;
} SbInstallTarget;

typedef enum
{
  SB_INSTALL_STEP_REHASH,   /* re-hashing the bytes an interrupted run left in the slot */
  SB_INSTALL_STEP_DOWNLOAD, /* streaming into the slot */
  SB_INSTALL_STEP_VERIFY,   /* final fsync and hash check */
} SbInstallStep;

/* "re-hashing", "downloading", "verifying". */
const char *sb_install_step_name (SbInstallStep step);

/* @done of @total bytes of the image handled in @step. Called from the calling thread, at most
 * a few times a second, and once at the end of each step. */
typedef void (*SbInstallProgress) (SbInstallStep step, guint64 done, guint64 total,
                                   gpointer user_data);

typedef struct
{
  gsize buffer_size;           /* bytes per ring buffer, >= 64 KiB */
  guint n_buffers;             /* ring buffers, >= 2 */
  guint64 checkpoint_interval; /* bytes between checkpoints; 0: from the image size (above) */
  SbInstallProgress progress;  /* may be NULL */
  gpointer progress_data;
} SbInstallOptions;

/* The defaults above, no progress callback. */
void sb_install_options_init (SbInstallOptions *opts);

/* What one call did, for logs, tests and the benchmark. */
typedef struct
{
  SbSlotId slot;
  gboolean already_written; /* install.json already said written: nothing was fetched */
  guint64 resumed_from;     /* bytes an interrupted run had made durable, re-hashed and kept */
  gboolean restarted;       /* the server ignored the Range request: fetched from byte 0 */
  gboolean refetched;       /* a resumed image did not verify and was fetched again whole */
  guint64 fetched;          /* bytes received from the server in this call */
  guint checkpoints;        /* durable checkpoints of bytes_done in this call */
} SbInstallStats;

/* The target's hashes as install.json records them: algorithm → lowercase hex digest. */
GHashTable *sb_install_target_hashes (const SbTargetInfo *info);

/* TRUE when the install in flight in @state (not idle) is @target in @slot: same name, same
 * length and the same hashes. */
gboolean sb_install_state_matches (const SbInstallState *state, const SbInstallTarget *target,
                                   SbSlotId slot);

/* Installs @target into the slot that is not booted (@ctx->inputs.booted), as described above,
 * with @fetcher, and leaves @ctx->state "written" for it (already "written" or "staged" for the
 * same target and slot: returns at once, stats->already_written). @ctx is the boot context of
 * this run (sb_boot_context_load); @slots the configured slots; @opts may be NULL for the
 * defaults; @out_stats may be NULL.
 *
 * Errors: SB_ERROR_UNSUPPORTED (not a raw image, or a hash this client cannot compute),
 * SB_ERROR_SLOT_BUSY (also while the booted slot awaits confirmation, since the slot to write
 * is then its fallback), SB_ERROR_NO_SPACE (larger than the slot) before
 * anything changed; the fetcher's errors (SB_ERROR_DOWNLOAD, SB_ERROR_NOT_ON_SERVER,
 * SB_ERROR_ENDLESS_DATA past the target length, SB_ERROR_SLOW_RETRIEVAL) with the install left
 * resumable; SB_ERROR_LENGTH_MISMATCH or SB_ERROR_HASH_MISMATCH when the image does not verify,
 * with the install ended; SB_ERROR_INSTALL or SB_ERROR_IO when the slot cannot be written or
 * read; the state files' errors. Every message names the target and the slot. */
gboolean sb_install_raw (SbBootContext *ctx, SbSlots *slots, SbFetcher *fetcher,
                         const SbInstallTarget *target, const SbInstallOptions *opts,
                         SbInstallStats *out_stats, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* TEST ONLY. Fault injection for the power-cut tests (tests/test-update-kill.sh), honoured only
 * in a build with --enable-test-hooks and never in secure mode (sb-test-hooks.h): when the
 * environment variable SWITCHBACK_TEST_KILL_AT is "POINT", the process kills itself with
 * SIGKILL at the named point, as a power cut or the OOM killer would stop it; when it is
 * "POINT:N", at the first call of POINT with @value >= N. Unset (always, outside tests), these
 * cost one cached lookup. The points:
 *   received:N    the download has handed bytes up to image offset N to the ring
 *   written:N     the slot holds the image up to offset N (not yet durable)
 *   checkpoint:N  the Nth checkpoint of this run is durable in install.json
 *   rehashed      an interrupted run's bytes were re-hashed
 *   begun, prepared, streamed, synced, verified, written-state
 *                 the steps of sb_install_raw, in this order
 *   update-reported, update-verified, update-installed, update-recorded, update-staged
 *                 the steps of the update cycle around it (sb-update-cycle.h)
 *   grubenv-written:N  the Nth grubenv write of this process is in the page cache, not yet
 *                 fsynced (sb-grubenv.c)
 *   apply-counters, apply-state  a boot decision (the hook's, mark-good's) has saved
 *                 counters.json, then install.json, and not yet grubenv (sb-bootchooser.c)
 */
#define SB_INSTALL_TEST_KILL_ENV "SWITCHBACK_TEST_KILL_AT"

G_END_DECLS
