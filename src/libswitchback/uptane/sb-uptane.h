/* sb-uptane.h: the Uptane primary's full verification (Uptane Standard 2.x §5.4.4.2; design.md §2,
 * §3, §6), around two TUF clients: the Director and the Image repository.
 *
 * One check, in the standard's order:
 *   1. Director: root (rotations), timestamp, snapshot, targets; with [uptane] ota-ce-compat,
 *      root and targets only (an OTA Community Edition Director serves nothing else).
 *   2. The Director rules (sb-uptane-verify.h): no delegations, vehicle id, ECU serials,
 *      hardware ids. When the Director assigns nothing, verification ends here (§5.4.4.2
 *      step 5).
 *   3. Image repository: root, timestamp, snapshot, targets, and each assigned target found
 *      through delegation resolution (TUF §5.6.7; with ota-ce-compat delegated roles come from
 *      delegations/ROLE.json).
 *   4. Each Director target matched with its Image target (sb-uptane-verify.h). If any fails,
 *      the whole update is refused.
 *   5. Rollback reference of last resort: a role whose trusted file was lost (a wiped metadata
 *      directory starts again from the shipped root) may not come back below the version
 *      counters.json recorded, except the timestamp and snapshot after their keys were rotated
 *      (TUF §5.3.11 fast-forward recovery).
 * Only when all of this passed are the newly verified files moved into the trusted metadata
 * directories, and the per-role versions raised in counters.json. The TUF clients work on a
 * working copy of each directory (sb-metadata-stage.h), so a refused update, whatever step
 * refused it, leaves the trusted metadata and counters.json exactly as they were, and the next
 * check starts from the same state.
 *
 * State directory layout: <state-dir>/metadata/director/ and <state-dir>/metadata/image/ hold
 * ROLE.json files (root.json from [uptane] director-root / image-root, installed by the first
 * check that passes), metadata/.lock serialises checks of one state directory (flock), and
 * metadata/.director.staging/, metadata/.image.staging/ exist only during a check.
 *
 * Expiry is checked against the system clock, never earlier than the build time, and an error
 * says when the clock looks wrong (sb-uptane-freshness.h).
 *
 * Errors are the trusted set's, the fetcher's or the Uptane rules' codes, prefixed with the
 * repository, and they name the attack class ("... (freeze attack)"). SB_ERROR_NOT_FOUND for an
 * assigned target the Image repository does not list (or hides behind a terminating
 * delegation) becomes SB_ERROR_MISMATCH: the Director assigned an image the Image repository
 * does not vouch for.
 */
#pragma once

#include <glib.h>

#include "state/sb-config.h"
#include "net/sb-fetcher.h"
#include "state/sb-identity.h"
#include "uptane/sb-manifest-sender.h"
#include "uptane/sb-updater.h"
#include "core/sb-uptane-verify.h"

G_BEGIN_DECLS

#define SB_UPTANE_METADATA_DIR_NAME "metadata"
#define SB_UPTANE_DIRECTOR "director"
#define SB_UPTANE_IMAGE "image"
/* design.md §2: Director targets are capped like root and timestamp. */
#define SB_UPTANE_DIRECTOR_TARGETS_MAX_LENGTH (64 * 1024)

/* Fetcher options from @config: [tls] ca, cert, key, [uptane] allow-http, and [network]
 * low-speed-limit, low-speed-time, connect-timeout, retries, retry-delay-ms. The strings are
 * borrowed from @config. */
void sb_uptane_fetcher_options (SbConfig *config, SbFetcherOptions *opts);

/* <state_dir>/metadata/@repo (@repo is SB_UPTANE_DIRECTOR or SB_UPTANE_IMAGE). */
char *sb_uptane_metadata_dir (const char *state_dir, const char *repo);

/* What the Director assigns to this vehicle, verified against both repositories. */
typedef struct {
  char *correlation_id;            /* Director signed.custom.correlationId, or NULL */
  gint64 director_targets_version; /* the verified Director targets' version */
  GPtrArray *targets;              /* SbUptaneTarget, one per assigned image; may be empty */
} SbUptaneUpdate;

void sb_uptane_update_free (SbUptaneUpdate *update);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbUptaneUpdate, sb_uptane_update_free)

typedef struct _SbUptane SbUptane;

/* What a check needs of @config, tested before anything is written (no ECU key, no state
 * directory): [uptane] director-url and image-url set; for a repository with nothing trusted
 * yet, its shipped root (director-root, image-root) set and a regular file; and [tls] and
 * [network] settings the fetcher takes. Reads the state directory only to see whether a root is
 * trusted. SB_ERROR_CONFIG naming the section, the key and the file (sb_config_throw_unset), or
 * the fetcher's SB_ERROR_CONFIG. */
gboolean sb_uptane_check_config (SbConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* A primary's verification context: @config and @identity are referenced (the config must
 * outlive the context), one SbFetcher is made from the config and kept across checks, so a
 * daemon reuses its connections. [uptane] director-url and image-url must be set
 * (SB_ERROR_CONFIG otherwise); a bad TLS setting is the fetcher's SB_ERROR_CONFIG. */
SbUptane *sb_uptane_new (SbConfig *config, SbIdentity *identity, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
void sb_uptane_free (SbUptane *uptane);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbUptane, sb_uptane_free)

/* Fixes the reference time (Unix seconds) of the following checks; 0 (the default) means the
 * system clock, raised to the build time when it is earlier (sb-uptane-freshness.h). */
void sb_uptane_set_reference_time (SbUptane *uptane, gint64 reference_time);

/* Runs the full verification above. Can be called again for a new check (the previous
 * check's updaters are dropped). Returns the verified update (possibly with no targets). On
 * error nothing in the state directory has changed. When the clock is implausible the error
 * says so (sb_uptane_get_clock_problem). Initial roots that cannot be read are
 * SB_ERROR_CONFIG naming the config key and file. */
SbUptaneUpdate *sb_uptane_check (SbUptane *uptane, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* After sb_uptane_check: why the system clock looks wrong, or NULL (borrowed). */
const char *sb_uptane_get_clock_problem (SbUptane *uptane);

/* The fetcher every request of this context goes through (borrowed): for target downloads and
 * the manifest. */
SbFetcher *sb_uptane_get_fetcher (SbUptane *uptane);
SbIdentity *sb_uptane_get_identity (SbUptane *uptane);
SbConfig *sb_uptane_get_config (SbUptane *uptane);

/* After a check that returned targets: the Image repository's updater (borrowed), whose trusted
 * set describes the targets, for sb_updater_download_target. Do not look up further targets
 * with it (its metadata directory was the staging copy). NULL when the last check did not
 * reach the Image repository. */
SbUpdater *sb_uptane_get_image_updater (SbUptane *uptane);

/* Where @target's image is fetched from: its custom.uri when set (Director's first), else
 * image-url/targets/NAME (HASH.NAME with consistent snapshots), percent-encoded. NULL when
 * the last check did not reach the Image repository. */
char *sb_uptane_target_url (SbUptane *uptane, const SbUptaneTarget *target);

/* Sends this cycle's vehicle version manifest(s) to the Director with this context's fetcher
 * and identity, reporting @installed (NULL: not known): sb_manifest_sender_send. The start of
 * every cycle and every install result call this; a failure is for the caller to report as a
 * warning, never a reason to stop the cycle. */
gboolean sb_uptane_send_manifest (SbUptane *uptane, const SbInstalledImage *installed,
                                  guint *out_reports_sent, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* One trusted metadata file, as `switchback status` shows it. */
typedef struct {
  char *role;
  gint64 version;  /* 0 when the file cannot be read */
  gint64 expires;  /* Unix seconds; 0 when the file cannot be read */
  char *problem;   /* why the file cannot be read, or NULL */
} SbTrustedRole;

void sb_trusted_role_free (SbTrustedRole *role);

/* The trusted metadata of @repo (SB_UPTANE_DIRECTOR or SB_UPTANE_IMAGE) under @state_dir: root,
 * timestamp, snapshot and targets in that order, then delegated roles by name (a GPtrArray of
 * SbTrustedRole; empty before the first check). The files are parsed, not verified again: they
 * verified when they were stored. A file that does not parse is listed with its problem. */
GPtrArray *sb_uptane_list_trusted (const char *state_dir, const char *repo);

G_END_DECLS
