/* sb-ostree.h: OSTree targets (design.md §5): pull a commit, verify it, deploy it into a slot,
 * prune what no slot needs.
 *
 * An Uptane target with custom.targetFormat "OSTREE" names an OSTree commit: its sha256 is the
 * commit checksum and its length is 0. The commit is pulled by that checksum from an
 * archive-mode repository over HTTP(S) ([ostree] ostree-url, or the target's custom.uri) into
 * the sysroot's repository. The Uptane metadata is what vouches for the checksum, so GPG is
 * off; libostree checks every object it fetches against its content address, and the commit
 * object is checked against the target's checksum, so the tree deployed is exactly the one the
 * Director and Image repository signed for.
 *
 * A deployment takes the place of a slot's partition: deploying into the inactive slot
 * replaces the deployment that slot held, keeps the active slot's deployment as it is, and
 * records the mapping in the slot table (sb-ostree-slots.h). GRUB, switchback-boot and
 * `mark-good` then work on slot names exactly as for raw images. The new deployment is written
 * as libostree's second deployment, not its default: which slot boots is GRUB's decision from
 * SB_ORDER and the try counters, and until the trial is committed the committed slot's
 * deployment stays first for every other libostree user (`ostree admin status`, the merge
 * deployment of /etc). docs/ostree.md describes the whole flow.
 *
 * Every write to the sysroot holds libostree's sysroot lock; a second updater is refused with
 * SB_ERROR_SLOT_BUSY rather than waited for.
 */
#pragma once

#include <gio/gio.h>
#include <ostree.h>

#include "state/sb-config.h"
#include "ostree/sb-ostree-slots.h"

G_BEGIN_DECLS

/* The remote switchback configures in the sysroot's repository for its pulls. */
#define SB_OSTREE_REMOTE "switchback"

typedef struct _SbOstree SbOstree;

/* Opens the sysroot at @sysroot_path ("/" on a device) and loads its deployments and the slot
 * table (@state_dir/ostree-slots.json). @osname NULL means the booted deployment's stateroot,
 * or, when the sysroot is not the running system, the stateroot of its first deployment, or
 * the only stateroot in /ostree/deploy. A path that is not an OSTree sysroot is
 * SB_ERROR_NOT_FOUND; an unreadable slot table is SB_ERROR_STATE. */
SbOstree *sb_ostree_open (const char *sysroot_path, const char *osname, const char *state_dir,
                          GCancellable *cancellable, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* sb_ostree_open with [ostree] sysroot, osname and [storage] state-dir. */
SbOstree *sb_ostree_open_config (const SbConfig *config, GCancellable *cancellable,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;

void sb_ostree_free (SbOstree *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbOstree, sb_ostree_free)

const char *sb_ostree_get_osname (SbOstree *self);
OstreeSysroot *sb_ostree_get_sysroot (SbOstree *self);
OstreeRepo *sb_ostree_get_repo (SbOstree *self);
/* The slot table as last loaded or written. Owned by @self. */
SbOstreeSlots *sb_ostree_get_slots (SbOstree *self);
/* Where the slot table and the GRUB fragment are written. */
const char *sb_ostree_get_slots_path (SbOstree *self);
const char *sb_ostree_get_grub_path (SbOstree *self);

/* The shape Uptane gives an OSTree target: @sha256 is a commit checksum (64 lowercase hex
 * digits, else SB_ERROR_PARSE) and @length is 0 (else SB_ERROR_LENGTH_MISMATCH). @target_name
 * is only used in messages. */
gboolean sb_ostree_check_target (const char *target_name, const char *sha256, gint64 length,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;

typedef struct
{
  const char *url;       /* base URL of the archive repository */
  const char *tls_ca;    /* CA bundle (PEM) for https; NULL: the system store */
  const char *tls_cert;  /* client certificate for mutual TLS, or NULL */
  const char *tls_key;   /* its key, or NULL */
  gboolean allow_http;   /* plain http:// to a non-loopback host ([uptane] allow-http) */
  gboolean url_from_metadata; /* @url is a target's custom.uri: never file:// */
  gboolean progress;     /* report progress on stderr */
  guint network_retries; /* libostree's retries of a failed transfer; 0: its default (5) */
} SbOstreePullOptions;

/* Fills @opts from @config: [ostree] ostree-url, or @custom_uri (the target's custom.uri) when
 * not NULL; [tls] ca, cert, key; [uptane] allow-http; progress when stderr is a terminal. The
 * strings are borrowed from @config and @custom_uri. */
void sb_ostree_pull_options_init (SbOstreePullOptions *opts, const SbConfig *config,
                                  const char *custom_uri);

/* Pulls commit @checksum and everything it references into the sysroot's repository, then
 * verifies it (sb_ostree_verify_commit). In order:
 * 1. the URL must pass the URL policy (sb-url-policy.h): https, or http to loopback, or http
 *    with @opts->allow_http, or file:// when it is not from metadata (SB_ERROR_URL_REFUSED
 *    otherwise);
 * 2. the remote SB_OSTREE_REMOTE is (re)configured with the URL and the TLS files, GPG off;
 * 3. the commit object alone is fetched and its checksum checked;
 * 4. free space is checked: the commit's `ostree.sizes` metadata, when present, gives the
 *    unpacked size of every object; those not in the repository yet must fit in the free space
 *    of the repository's filesystem above libostree's min-free-space reserve
 *    (SB_ERROR_NO_SPACE, naming both figures, before any content is fetched);
 * 5. the rest is fetched. A pull that was interrupted (process killed, connection lost) left
 *    its objects in libostree's staging directory and a `commitpartial` marker; the next pull
 *    of the same commit in the same boot fetches only what is still missing.
 * Failures: the commit is not on the server: SB_ERROR_NOT_FOUND; an object whose content does
 * not match its checksum (including a commit that is not @checksum): SB_ERROR_HASH_MISMATCH;
 * the filesystem full or libostree's reserve reached: SB_ERROR_NO_SPACE (never retried);
 * anything else on the way, including a 404 for an object the commit needs:
 * SB_ERROR_DOWNLOAD. A commit already complete in the repository is only verified. */
gboolean sb_ostree_pull (SbOstree *self, const char *checksum, const SbOstreePullOptions *opts,
                         GCancellable *cancellable, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Checks that commit @checksum is in the repository, complete (no commitpartial, no missing
 * object per libostree's traversal), and that the commit object's own SHA-256 is @checksum.
 * Missing: SB_ERROR_NOT_FOUND; partial: SB_ERROR_STATE; wrong bytes: SB_ERROR_HASH_MISMATCH. */
gboolean sb_ostree_verify_commit (SbOstree *self, const char *checksum, GCancellable *cancellable,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Step 4 of sb_ostree_pull on its own: @checksum's commit object must be in the repository.
 * Sets @out_needed (may be NULL) to the bytes still to be written, or G_MAXUINT64 when the
 * commit carries no `ostree.sizes` (then nothing is refused here, and libostree's own reserve
 * checks during the pull are what stops it). */
gboolean sb_ostree_check_space (SbOstree *self, const char *checksum, guint64 *out_needed,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Deploys the pulled commit @checksum into slot @slot ("A" or "B"), which must be the
 * inactive slot: the other slot holds the running (or, for an offline sysroot, the
 * committed) deployment. In order, each step durable before the next (a power cut anywhere
 * leaves GRUB a bootable active slot and a table that names only existing deployments):
 * 1. the active slot is adopted into the table if it is not there yet (first start): the
 *    booted deployment, or for an offline sysroot libostree's first deployment of the
 *    stateroot (where deploy and prune keep the committed one); that deployment being in
 *    @slot is SB_ERROR_SLOT_BUSY;
 * 2. @slot is emptied in the table and the GRUB fragment, so GRUB cannot boot what comes next
 *    half-made;
 * 3. the tree is checked out with the active deployment's /etc merged and its kernel
 *    arguments kept (ostree_sysroot_deploy_tree_with_options);
 * 4. the deployment list becomes: the active deployment first, the new one second (not the
 *    default: see the top of this file), deployments of other stateroots and pinned ones as
 *    they were; the deployment @slot held before is dropped
 *    (ostree_sysroot_simple_write_deployment with NOT_DEFAULT, NO_CLEAN);
 * 5. the new deployment goes into @slot in the table and the GRUB fragment;
 * 6. libostree's cleanup removes dropped deployments and prunes the repository.
 * If @slot already holds a deployment of @checksum (a retried install), nothing is done.
 * Staging the slot in grubenv (SB_ORDER, SB_X_TRIES) is the caller's next step, as for raw
 * images. @target_name is recorded in the table (may be NULL).
 * A commit not complete in the repository is SB_ERROR_STATE or NOT_FOUND;
 * a libostree failure is SB_ERROR_INSTALL (SB_ERROR_NO_SPACE for a full filesystem). */
gboolean sb_ostree_deploy (SbOstree *self, const char *checksum, const char *slot,
                           const char *target_name, GCancellable *cancellable,
                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Brings libostree's deployment list in line with the slots after a boot decided things
 * (commit, rollback): @committed_slot's deployment first (libostree's default and merge
 * source), the other slot's deployment second (the pending one during a trial, else the
 * rollback GRUB falls back to), and no other deployment of this stateroot (pinned ones and
 * other stateroots are left alone). Table entries whose deployment no longer exists are
 * dropped. Then libostree's cleanup removes the dropped deployments and prunes the
 * repository. An empty @committed_slot is SB_ERROR_STATE. */
gboolean sb_ostree_prune (SbOstree *self, const char *committed_slot, GCancellable *cancellable,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The commit the running system booted: the booted deployment's checksum. When this sysroot is
 * not the running system (an offline sysroot), the commit of the deployment the table puts in
 * @booted_slot (which may be NULL for: the first deployment of the stateroot). When both a
 * booted deployment and @booted_slot are known and the table says another deployment is in
 * @booted_slot, that is SB_ERROR_STATE (GRUB booted something the table does not describe).
 * No deployment at all is SB_ERROR_NOT_FOUND. */
char *sb_ostree_get_installed_checksum (SbOstree *self, const char *booted_slot,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The slot the table gives the booted deployment, or NULL (not booted from this sysroot, or
 * the booted deployment is in no slot yet). */
const char *sb_ostree_get_booted_slot (SbOstree *self);

G_END_DECLS
