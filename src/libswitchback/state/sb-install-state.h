/* sb-install-state.h: the install transaction (install.json) and the counters (counters.json)
 * in the state directory (design.md §5, §6).
 *
 * install.json records the committed slot and the one install in flight:
 *
 *   {"state": "staged", "committed": "A", "slot": "B", "target": "image-1.2.bin",
 *    "format": "BINARY", "length": 1048576, "hashes": {"sha256": "…"},
 *    "correlation_id": "urn:…", "bytes_done": 1048576, "release_counter": 7}
 *
 * "state" walks idle → downloading → written → staged and back to idle when the boot helper
 * commits or rolls back; "committed" is absent until a boot was committed. Every member but
 * "state" and "committed" is absent when idle. A missing file is an idle transaction with no
 * committed slot (first start).
 *
 * counters.json holds what must never go down (Uptane §5.4.4, TUF §5.3–5.6 rollback checks):
 *
 *   {"director": {"root": 1, "timestamp": 5, "snapshot": 5, "targets": 9},
 *    "image": {"root": 2, "timestamp": 40, "snapshot": 40, "targets": 12, "delegated": 3},
 *    "image-rollback-counter": 6,
 *    "pending-image-rollback-counter": 7,
 *    "slots": {"A": 6, "B": 7}}
 *
 * - "director"/"image": the highest version seen of each role of each repository.
 * - "image-rollback-counter": the release counter (design.md §3 custom.releaseCounter) of the
 *   committed image; no image below it is installed or booted.
 * - "pending-image-rollback-counter": the staged image's release counter, promoted to the
 *   committed one when its trial boot is committed, dropped when it is rolled back. Keeping it
 *   apart is what lets the old slot boot again after a failed trial.
 * - "slots": the release counter of the image each slot holds, recorded when the slot is
 *   written; switchback-boot refuses a slot below the committed counter (design.md §4 case 4). A
 *   slot not listed holds an image of unknown release (as flashed at the factory).
 *
 * Versions and the committed counter never go down: lowering one in memory is refused with
 * SB_ERROR_ROLLBACK, and sb_counters_save() compares with the file on disk again, so a stale
 * copy cannot lower them either; the file is then left unchanged. The pending counter and the
 * slot counters describe slot contents and may go down when a slot is rewritten, but a pending
 * counter below the committed one is refused.
 *
 * Both files are written with sb_durable_write (0644). A file that is not valid JSON of this
 * shape is SB_ERROR_STATE naming the file.
 */
#pragma once

#include <glib.h>

#include "core/sb-slot-id.h"

G_BEGIN_DECLS

#define SB_INSTALL_STATE_FILE "install.json"
#define SB_COUNTERS_FILE "counters.json"

typedef enum {
  SB_INSTALL_IDLE,
  SB_INSTALL_DOWNLOADING, /* writing the image into the slot; bytes_done so far */
  SB_INSTALL_WRITTEN,     /* the whole image is in the slot and its hashes matched */
  SB_INSTALL_STAGED,      /* grubenv points at the slot for a trial boot */
} SbInstallPhase;

/* "idle", "downloading", "written", "staged". */
const char *sb_install_phase_name (SbInstallPhase phase);

typedef struct {
  SbInstallPhase state;
  gboolean has_committed;
  SbSlotId committed;
  /* The install in flight (state != idle). */
  SbSlotId slot;
  char *target;         /* the Uptane target name */
  char *format;         /* custom.targetFormat ("BINARY", "OSTREE") or NULL */
  guint64 length;
  GHashTable *hashes;   /* algorithm name -> lowercase hex; never NULL */
  char *correlation_id; /* or NULL */
  guint64 bytes_done;
  gboolean has_release_counter;
  guint64 release_counter;
} SbInstallState;

/* An idle transaction with no committed slot. */
SbInstallState *sb_install_state_new (void);
void sb_install_state_free (SbInstallState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbInstallState, sb_install_state_free)

/* Reads <state_dir>/install.json; missing means sb_install_state_new(). */
SbInstallState *sb_install_state_load (const char *state_dir, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Persists @state to <state_dir>/install.json durably. A state other than idle without a target
 * is SB_ERROR_INVALID_ARGUMENT (nothing is written). */
gboolean sb_install_state_save (SbInstallState *state, const char *state_dir,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Starts a transaction in memory: state downloading, bytes_done 0, the other members as given
 * (@hashes is copied; @format, @correlation_id may be NULL; @release_counter < 0 means none).
 * "committed" is kept. */
void sb_install_state_begin (SbInstallState *state, SbSlotId slot, const char *target,
                             const char *format, guint64 length, GHashTable *hashes,
                             const char *correlation_id, gint64 release_counter);

/* Ends the transaction in memory: state idle, the in-flight members cleared, "committed" kept. */
void sb_install_state_clear (SbInstallState *state);

/* Records the result of an install for the Director (the queue of design.md §6): one file
 * <state_dir>/reports/NNNNNNNNNNNNNNNN.json (sb-report-queue.h), written durably:
 *   {"correlation_id": "…", "target": "…", "success": false, "result_code": "INSTALL_FAILED",
 *    "description": "…", "time": "2024-05-01T12:00:00Z"}
 * NULL strings are written as "". reports/ is created when missing. */
gboolean sb_install_state_record_result (const char *state_dir, const char *correlation_id,
                                         const char *target, gboolean success,
                                         const char *result_code, const char *description,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* counters.json */
typedef struct _SbCounters SbCounters;

/* No counters (first start). */
SbCounters *sb_counters_new (void);
/* Reads <state_dir>/counters.json; missing means sb_counters_new(). */
SbCounters *sb_counters_load (const char *state_dir, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_counters_free (SbCounters *counters);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbCounters, sb_counters_free)

/* Writes <state_dir>/counters.json durably, after checking against the file on disk that no
 * version and not the committed counter would go down (SB_ERROR_ROLLBACK, file unchanged). */
gboolean sb_counters_save (SbCounters *counters, const char *state_dir,
                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The highest version seen of @role in @repo ("director" or "image"); FALSE when none. */
gboolean sb_counters_get_version (SbCounters *counters, const char *repo, const char *role,
                                  guint64 *out_version);
/* Raises it to @version; a lower one is SB_ERROR_ROLLBACK. @repo other than "director" or
 * "image" is SB_ERROR_INVALID_ARGUMENT. */
gboolean sb_counters_set_version (SbCounters *counters, const char *repo, const char *role,
                                  guint64 version, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The committed image release counter (0 when none was committed). */
guint64 sb_counters_get_rollback_counter (SbCounters *counters);
/* Raises it; a lower value is SB_ERROR_ROLLBACK. */
gboolean sb_counters_set_rollback_counter (SbCounters *counters, guint64 value,
                                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The pending counter of the staged image; FALSE when none. */
gboolean sb_counters_get_pending (SbCounters *counters, guint64 *out_value);
/* Sets the pending counter; below the committed counter is SB_ERROR_ROLLBACK. */
gboolean sb_counters_set_pending (SbCounters *counters, guint64 value,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_counters_clear_pending (SbCounters *counters);
/* Commit: the committed counter becomes the pending one when that is higher; pending is
 * cleared. Nothing happens without a pending counter. */
void sb_counters_promote_pending (SbCounters *counters);

/* The release counter of the image in @slot; FALSE when unknown. */
gboolean sb_counters_get_slot (SbCounters *counters, SbSlotId slot, guint64 *out_value);
void sb_counters_set_slot (SbCounters *counters, SbSlotId slot, guint64 value);
void sb_counters_clear_slot (SbCounters *counters, SbSlotId slot);

G_END_DECLS
