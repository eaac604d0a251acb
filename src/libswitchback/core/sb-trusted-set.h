/* sb-trusted-set.h: the verified state of one TUF repository during an update.
 *
 * An SbTrustedSet holds the root, timestamp, snapshot and targets metadata (and delegated
 * targets) that passed every check of the TUF client workflow (TUF §5.2 to §5.6), in that
 * order. It is a pure state machine after python-tuf's ngclient TrustedMetadataSet: bytes go
 * in, a verdict comes out. It never fetches, stores or reads the clock; the updater around it
 * does, and persists each file after the set accepted it.
 *
 * Loading order: root, root updates, timestamp, snapshot, targets, delegated targets. A step
 * cannot be taken before the one it depends on, nor after a later one (that is
 * SB_ERROR_INVALID_ARGUMENT, a bug in the caller).
 *
 * "Intermediate" metadata (python-tuf's term): a timestamp or snapshot that verifies but is
 * expired, or a snapshot whose version is not the one the timestamp lists, is still kept when
 * the update function fails with SB_ERROR_EXPIRED or SB_ERROR_VERSION_MISMATCH. It then
 * serves only as the reference for the rollback checks of the next file of that role (a
 * locally stored copy is loaded first, then the new one from the repository), and it blocks
 * every later step until a valid one replaces it.
 *
 * Typical use by an updater (fetching and storing are the updater's):
 *   ts = sb_trusted_set_new (local_root, now, &error);
 *   for (i = 0; i < SB_MAX_ROOT_ROTATIONS; i++)           // TUF §5.3.3
 *     fetch N+1.root.json; stop on 404; sb_trusted_set_update_root (); persist
 *   if (sb_trusted_set_fast_forward_recovery_needed (ts))  // TUF §5.3.11
 *     delete the stored timestamp and snapshot, and do not load them
 *   else
 *     sb_trusted_set_update_timestamp (ts, local timestamp) (errors ignored)
 *   sb_trusted_set_update_timestamp (ts, remote, &unchanged); persist unless unchanged
 *   sb_trusted_set_update_snapshot (ts, local, TRUE) (errors ignored) or remote, FALSE
 *   sb_trusted_set_update_targets (); then SbTargetSearch (sb-delegation.h) for targets
 */
#pragma once

#include <glib.h>

#include "core/sb-metadata.h"

G_BEGIN_DECLS

/* The most new root versions an updater fetches in one update (TUF §5.3.3, "Y"). */
#define SB_MAX_ROOT_ROTATIONS 256
/* The most delegated roles one target search visits after the top-level targets role
 * (TUF §5.6.7.1), as python-tuf's max_delegations. */
#define SB_MAX_DELEGATIONS 32

typedef struct _SbTrustedSet SbTrustedSet;

/* Starts an update (TUF §5.1, §5.2) from the locally trusted root @root_bytes, which must be
 * signed by a threshold of its own root keys (its expiry does not matter yet: TUF §5.2).
 * @reference_time (Unix seconds) is the fixed update start time that every expiry check of
 * this set uses. */
SbTrustedSet *sb_trusted_set_new (GBytes *root_bytes, gint64 reference_time, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
/* The same, reading every file of the repository as @flags say (SB_METADATA_OTA_CE for
 * [uptane] ota-ce-compat). Every check of the workflow is the same in both modes. */
SbTrustedSet *sb_trusted_set_new_full (GBytes *root_bytes, gint64 reference_time,
                                       SbMetadataFlags flags, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
void sb_trusted_set_free (SbTrustedSet *ts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbTrustedSet, sb_trusted_set_free)

/* Verifies and trusts the next root version (TUF §5.3.4 to §5.3.7): it must be of type root,
 * signed by a threshold of the trusted root's root keys and of its own root keys
 * (SB_ERROR_THRESHOLD), and have version trusted + 1 (SB_ERROR_ROLLBACK when lower or equal,
 * SB_ERROR_VERSION_MISMATCH when it skips versions). Its expiry is not checked here: an
 * intermediate root may be expired (TUF §5.3.6); the final root's expiry is checked when the
 * timestamp is loaded (TUF §5.3.10). Refused once a timestamp is loaded. The caller caps the
 * number of updates at SB_MAX_ROOT_ROTATIONS. */
gboolean sb_trusted_set_update_root (SbTrustedSet *ts, GBytes *bytes, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* TUF §5.3.11: TRUE when the keys or threshold of the timestamp or snapshot role differ
 * between the root this set started from and the current (final) root. The locally stored
 * timestamp and snapshot must then be deleted and not loaded, so that a version inflated by
 * an attacker holding the old keys (a fast-forward attack) no longer blocks the recovered
 * repository's lower versions. Rollback counters kept elsewhere must be reset likewise. */
gboolean sb_trusted_set_fast_forward_recovery_needed (SbTrustedSet *ts);
/* The same question for one role ("timestamp" or "snapshot"). */
gboolean sb_trusted_set_keys_rotated (SbTrustedSet *ts, const char *role);

/* Verifies and trusts a timestamp (TUF §5.4). First the final root must not be expired
 * (TUF §5.3.10, SB_ERROR_EXPIRED). Then: type timestamp, a threshold of root's timestamp
 * keys (§5.4.2), and against the trusted timestamp if one is loaded: its version must not go
 * down (§5.4.3.1, SB_ERROR_ROLLBACK), nor the snapshot version it lists (§5.4.3.2,
 * SB_ERROR_ROLLBACK). A timestamp with the same version as the trusted one means "nothing
 * changed" (§5.4.3.1): it is discarded, the trusted one is kept, *out_unchanged is set and
 * TRUE is returned (so the caller neither persists it nor reports an error). Otherwise the new
 * timestamp is trusted, and then must not be expired (§5.4.4, SB_ERROR_EXPIRED; it stays as
 * intermediate). Refused once a snapshot or targets is loaded. @out_unchanged may be NULL. */
gboolean sb_trusted_set_update_timestamp (SbTrustedSet *ts, GBytes *bytes,
                                          gboolean *out_unchanged, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Verifies and trusts a snapshot (TUF §5.5). The trusted timestamp must be valid (not
 * expired). Then: length and hashes as the timestamp lists them (§5.5.2; skipped when
 * @trusted_local says these bytes are the locally stored copy that this client verified
 * before, which the new timestamp may no longer describe), type snapshot, a threshold of
 * root's snapshot keys (§5.5.3), and against the trusted snapshot if one is loaded: no
 * targets file it lists may disappear (SB_ERROR_ROLLBACK) or go down in version (§5.5.5,
 * SB_ERROR_ROLLBACK). The new snapshot is then trusted, and must have the version the
 * timestamp lists (§5.5.4, SB_ERROR_VERSION_MISMATCH) and not be expired (§5.5.6,
 * SB_ERROR_EXPIRED); if not, it stays as intermediate. Refused once targets is loaded. */
gboolean sb_trusted_set_update_snapshot (SbTrustedSet *ts, GBytes *bytes, gboolean trusted_local,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Verifies and trusts the top-level targets (TUF §5.6): sb_trusted_set_update_delegated_targets
 * for role "targets" delegated by "root". */
gboolean sb_trusted_set_update_targets (SbTrustedSet *ts, GBytes *bytes, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Verifies and trusts targets metadata for @role, delegated by the already trusted
 * @delegator_role (TUF §5.6, applied to delegated roles as §5.6.7 requires). The trusted
 * snapshot must be valid (right version, not expired) and must list ROLE.json
 * (SB_ERROR_NOT_FOUND). Then: length and hashes as the snapshot lists them (§5.6.2), type
 * targets, a threshold of the keys @delegator_role gives @role (§5.6.3), version equal to the
 * one the snapshot lists (§5.6.4, SB_ERROR_VERSION_MISMATCH), not expired (§5.6.5,
 * SB_ERROR_EXPIRED). Only then is it trusted. */
gboolean sb_trusted_set_update_delegated_targets (SbTrustedSet *ts, GBytes *bytes,
                                                  const char *role, const char *delegator_role,
                                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* For a repository that serves no timestamp and snapshot (an OTA Community Edition Director,
 * design.md §2): verifies and trusts top-level targets straight from root. The final root must
 * not be expired (TUF §5.3.10); type targets, a threshold of root's targets keys (§5.6.3);
 * its version must not be lower than the targets already loaded (the locally stored copy,
 * SB_ERROR_ROLLBACK; equal is "unchanged" and accepted). It is then trusted, and must not be
 * expired (§5.6.5, SB_ERROR_EXPIRED; it stays as intermediate for the rollback check of the
 * next copy). Refused once a timestamp or snapshot is loaded. */
gboolean sb_trusted_set_update_targets_without_snapshot (SbTrustedSet *ts, GBytes *bytes,
                                                         GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The trusted metadata (borrowed), or NULL when not loaded. A timestamp or snapshot may be
 * intermediate (see above). */
SbMetadata *sb_trusted_set_get_root (SbTrustedSet *ts);
SbMetadata *sb_trusted_set_get_timestamp (SbTrustedSet *ts);
SbMetadata *sb_trusted_set_get_snapshot (SbTrustedSet *ts);
SbMetadata *sb_trusted_set_get_targets (SbTrustedSet *ts);
/* Any role by name: "root", "timestamp", "snapshot", "targets" or a delegated role. */
SbMetadata *sb_trusted_set_get_role (SbTrustedSet *ts, const char *role);
/* The role that delegated @role when it was loaded ("root" for top-level roles), or NULL. */
const char *sb_trusted_set_get_delegator (SbTrustedSet *ts, const char *role);

/* TUF §5.3.12: whether the trusted root asks for consistent snapshots. */
gboolean sb_trusted_set_get_consistent_snapshot (SbTrustedSet *ts);
/* The fixed update start time given to sb_trusted_set_new. */
gint64 sb_trusted_set_get_reference_time (SbTrustedSet *ts);

G_END_DECLS
