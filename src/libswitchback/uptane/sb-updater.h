/* sb-updater.h: the TUF client workflow with its I/O (TUF §5), around SbTrustedSet.
 *
 * An SbUpdater refreshes one repository's metadata: it fetches each file with SbFetcher, hands
 * the bytes to the trusted set (which does every check, in the specification's order), and
 * persists each file as soon as the set has accepted it, as TUF §5 orders. It then finds
 * targets through the delegation graph and downloads them, verifying length and every hash
 * before a file is moved into place.
 *
 * Local metadata lives in one directory as ROLE.json files (the role name percent-encoded), with
 * exactly the bytes that were verified. Nothing else is kept there.
 */
#pragma once

#include <glib.h>

#include "net/sb-fetcher.h"
#include "core/sb-metadata.h"
#include "core/sb-trusted-set.h"

G_BEGIN_DECLS

/* Default caps on metadata downloads (design.md §2). Snapshot and targets take the length their
 * parent lists when it lists one. */
#define SB_UPDATER_ROOT_MAX_LENGTH (64 * 1024)
#define SB_UPDATER_TIMESTAMP_MAX_LENGTH (64 * 1024)
#define SB_UPDATER_SNAPSHOT_MAX_LENGTH (8 * 1024 * 1024)
#define SB_UPDATER_TARGETS_MAX_LENGTH (8 * 1024 * 1024)

typedef struct {
  /* Directory of the trusted metadata; it must hold root.json. */
  const char *metadata_dir;
  /* Base URL of the metadata (ROLE.json, N.root.json, N.ROLE.json under it). */
  const char *metadata_url;
  /* Base URL of targets; may be NULL when nothing is downloaded. */
  const char *targets_url;
  gsize root_max_length;
  gsize timestamp_max_length;
  gsize snapshot_max_length;
  gsize targets_max_length;
  /* With consistent snapshots, fetch targets as HASH.NAME (TUF §5.7.3). Default TRUE. */
  gboolean prefix_targets_with_hash;
  /* The repository serves only root and targets, no timestamp or snapshot (an OTA Community
   * Edition Director, design.md §2). Delegations are then not followed. */
  gboolean without_snapshot;
  /* Delegated roles live under delegations/ROLE.json (OTA Community Edition, design.md §2). */
  gboolean delegations_subdir;
  /* Read metadata as OTA Community Edition and aktualizr write it (SB_METADATA_OTA_CE,
   * docs/ota-ce.md). */
  gboolean ota_ce_metadata;
  /* Unix time every expiry is checked against; 0 means the time when the refresh starts. */
  gint64 reference_time;
} SbUpdaterOptions;

/* Fills @opts with the defaults above (pointers NULL). */
void sb_updater_options_init (SbUpdaterOptions *opts);

typedef struct _SbUpdater SbUpdater;

/* Creates an updater. Loads metadata_dir/root.json as the trusted root (TUF §5.2), which must
 * verify against itself; a missing or bad root is an error naming the file. @fetcher is
 * borrowed and must outlive the updater. Strings in @opts are copied. */
SbUpdater *sb_updater_new (const SbUpdaterOptions *opts, SbFetcher *fetcher, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
void sb_updater_free (SbUpdater *updater);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbUpdater, sb_updater_free)

/* Runs the top-level part of the client workflow: root rotations (TUF §5.3, at most
 * SB_MAX_ROOT_ROTATIONS), fast-forward recovery (§5.3.11), timestamp (§5.4), snapshot (§5.5)
 * and top-level targets (§5.6). Each verified file is persisted before the next is fetched, so
 * what was verified before a failure is kept. Can be called once per updater. The error is the
 * trusted set's or the fetcher's, prefixed with the role and URL. */
gboolean sb_updater_refresh (SbUpdater *updater, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Finds @target_path through the delegation graph (TUF §5.6.7), loading delegated roles as
 * needed; refreshes first if that was not done. NULL with SB_ERROR_NOT_FOUND when no trusted
 * role lists it. */
SbTargetInfo *sb_updater_get_targetinfo (SbUpdater *updater, const char *target_path,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The file name under which @info is stored in a target directory: the target path
 * percent-encoded so it is one safe path component ("/" becomes %2F). A path that is empty,
 * "." or "..", or that holds control characters, is SB_ERROR_UNSAFE_PATH: a target name is
 * never trusted as a path. */
char *sb_updater_target_file_name (const char *target_path, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The full path of @info in @target_dir when a file there already matches its length and every
 * hash (a cached download), else NULL (no error). */
char *sb_updater_find_cached_target (SbUpdater *updater, const SbTargetInfo *info,
                                     const char *target_dir, GError **error);

/* Downloads @info into @target_dir (from @targets_url, or the options' targets_url when NULL),
 * streaming to a temporary file in that directory and hashing as it arrives; at most
 * info->length bytes are accepted (SB_ERROR_ENDLESS_DATA beyond). Length and every hash are
 * checked (SB_ERROR_LENGTH_MISMATCH, SB_ERROR_HASH_MISMATCH) before the file is fsynced and
 * renamed to its safe name; on any failure nothing is left behind. Returns the final path. */
char *sb_updater_download_target (SbUpdater *updater, const SbTargetInfo *info,
                                  const char *target_dir, const char *targets_url,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The URL @info is fetched from (consistent-snapshot prefix applied, path percent-encoded). */
char *sb_updater_target_url (SbUpdater *updater, const SbTargetInfo *info,
                             const char *targets_url);

/* The trusted set of this refresh (borrowed). */
SbTrustedSet *sb_updater_get_trusted_set (SbUpdater *updater);

/* Copies the root file @root_path into @metadata_dir as root.json (durably), creating the
 * directory. No check is made: the root is trusted by whoever installs it (TUF §5.2). A file
 * over SB_UPDATER_ROOT_MAX_LENGTH, the cap every later load of a root applies, is refused. */
gboolean sb_updater_init_metadata_dir (const char *metadata_dir, const char *root_path,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The download cap for a metadata file whose parent role lists @listed bytes (TUF §5.5.2,
 * §5.6.2), or @fallback when it lists none (@listed negative). A length beyond what gsize holds
 * (over 4 GiB on a 32-bit ECU) is capped at G_MAXSIZE, never wrapped to a few bytes. */
gsize sb_updater_length_cap (gint64 listed, gsize fallback);

G_END_DECLS
