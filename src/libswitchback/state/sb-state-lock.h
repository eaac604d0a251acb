/* sb-state-lock.h: the locks over the state directory, all taken the one way (flock(2) on a
 * file in the directory, released when the descriptor closes, so a killed process never
 * leaves one held).
 *
 * SB_STATE_LOCK_FILE ("state.lock") is the state lock. Every command that writes state holds it
 * from the read of what it changes to the last write: install.json, counters.json, images.json,
 * the report queue, the trusted metadata and grubenv. `switchback update` and `daemon` take it
 * for each step of the cycle, never across a download (so a `mark-bad` or `mark-good` waits for
 * one step, not for an image), and re-read grubenv and install.json under it before staging;
 * `mark-good`, `mark-bad` and `switchback-boot` take it for their whole run. A process holding
 * it may take it again (the holds nest); another thread of the same process waits, as another
 * process does.
 *
 * SB_UPDATE_LOCK_FILE ("update.lock", in sb-update-cycle.h) keeps to one update cycle at a time
 * and is not waited for: the second cycle fails at once with SB_ERROR_SLOT_BUSY. The check
 * lock (".lock" in the metadata directory) keeps to one metadata check at a time, because
 * checks share the working copies of the metadata (sb-metadata-stage.h).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SB_STATE_LOCK_FILE "state.lock"

typedef struct _SbStateLock SbStateLock;

/* Takes the lock file @name in the directory @dir (created, with its parents, when missing).
 * With @wait it waits for another holder; without, another holder is SB_ERROR_SLOT_BUSY naming
 * the file. Any other failure is SB_ERROR_IO naming the file. */
SbStateLock *sb_state_lock_take (const char *dir, const char *name, gboolean wait,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The state lock of the state directory @state_dir (SB_STATE_LOCK_FILE), waited for. */
SbStateLock *sb_state_lock_acquire (const char *state_dir,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Ends this hold; the lock is released with the last nested hold. NULL is ignored. */
void sb_state_lock_release (SbStateLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbStateLock, sb_state_lock_release)

/* TRUE when this thread holds the lock file @name of @dir. */
gboolean sb_state_lock_is_held (const char *dir, const char *name);

G_END_DECLS
