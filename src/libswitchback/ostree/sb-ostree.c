/* sb-ostree.c: pull, verify, deploy and prune OSTree commits named by Uptane targets. */
#include "config.h"

#include "ostree/sb-ostree.h"

#include "core/sb-error.h"
#include "net/sb-url-policy.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct _SbOstree
{
  char *sysroot_path;
  char *osname;
  char *slots_path;
  char *grub_path;
  OstreeSysroot *sysroot;
  OstreeRepo *repo;
  SbOstreeSlots *slots;
};

/* ---- opening ---- */

static char *
only_stateroot (const char *sysroot_path)
{
  g_autofree char *dir = g_build_filename (sysroot_path, "ostree", "deploy", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return NULL;
  const char *name, *found = NULL;
  guint n = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        {
          found = name;
          n++;
        }
    }
  return n == 1 ? g_strdup (found) : NULL;
}

SbOstree *
sb_ostree_open (const char *sysroot_path, const char *osname, const char *state_dir,
                GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (sysroot_path != NULL && state_dir != NULL, NULL);

  g_autofree char *repo_path = g_build_filename (sysroot_path, "ostree", "repo", NULL);
  if (!g_file_test (repo_path, G_FILE_TEST_IS_DIR))
    return sb_throw (error, SB_ERROR_NOT_FOUND,
                     "%s is not an OSTree sysroot: it has no ostree/repo", sysroot_path),
           NULL;

  g_autoptr (SbOstree) self = g_new0 (SbOstree, 1);
  self->sysroot_path = g_strdup (sysroot_path);
  g_autoptr (GFile) path = g_file_new_for_path (sysroot_path);
  self->sysroot = ostree_sysroot_new (path);
  g_autoptr (GError) local_error = NULL;
  if (!ostree_sysroot_load (self->sysroot, cancellable, &local_error)
      || !ostree_sysroot_get_repo (self->sysroot, &self->repo, cancellable, &local_error))
    return sb_throw (error, SB_ERROR_STATE, "OSTree sysroot %s: %s", sysroot_path,
                     local_error->message),
           NULL;

  if (osname != NULL)
    self->osname = g_strdup (osname);
  else
    {
      OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (self->sysroot);
      g_autoptr (GPtrArray) all = ostree_sysroot_get_deployments (self->sysroot);
      if (booted != NULL)
        self->osname = g_strdup (ostree_deployment_get_osname (booted));
      else if (all->len > 0)
        self->osname = g_strdup (ostree_deployment_get_osname (all->pdata[0]));
      else
        self->osname = only_stateroot (sysroot_path);
      if (self->osname == NULL)
        return sb_throw (error, SB_ERROR_CONFIG,
                         "OSTree sysroot %s: no deployment and not exactly one stateroot to "
                         "deploy to; set [ostree] osname",
                         sysroot_path),
               NULL;
    }
  if (*self->osname == '\0' || strchr (self->osname, '/') != NULL || g_str_equal (self->osname, ".")
      || g_str_equal (self->osname, ".."))
    return sb_throw (error, SB_ERROR_CONFIG, "OSTree osname '%s' is not a stateroot name",
                     self->osname),
           NULL;
  g_autofree char *osdir = g_build_filename (sysroot_path, "ostree", "deploy", self->osname, NULL);
  if (!g_file_test (osdir, G_FILE_TEST_IS_DIR))
    return sb_throw (error, SB_ERROR_NOT_FOUND,
                     "OSTree sysroot %s has no stateroot '%s' (ostree admin os-init)", sysroot_path,
                     self->osname),
           NULL;

  self->slots_path = g_build_filename (state_dir, SB_OSTREE_SLOTS_FILE, NULL);
  self->grub_path = g_build_filename (sysroot_path, SB_OSTREE_SLOTS_GRUB_FILE, NULL);
  self->slots = sb_ostree_slots_load (self->slots_path, error);
  if (self->slots == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

SbOstree *
sb_ostree_open_config (const SbConfig *config, GCancellable *cancellable, GError **error)
{
  return sb_ostree_open (config->ostree_sysroot, config->ostree_osname, config->state_dir,
                         cancellable, error);
}

void
sb_ostree_free (SbOstree *self)
{
  if (self == NULL)
    return;
  g_free (self->sysroot_path);
  g_free (self->osname);
  g_free (self->slots_path);
  g_free (self->grub_path);
  g_clear_object (&self->repo);
  g_clear_object (&self->sysroot);
  sb_ostree_slots_free (self->slots);
  g_free (self);
}

const char *
sb_ostree_get_osname (SbOstree *self)
{
  return self->osname;
}

OstreeSysroot *
sb_ostree_get_sysroot (SbOstree *self)
{
  return self->sysroot;
}

OstreeRepo *
sb_ostree_get_repo (SbOstree *self)
{
  return self->repo;
}

SbOstreeSlots *
sb_ostree_get_slots (SbOstree *self)
{
  return self->slots;
}

const char *
sb_ostree_get_slots_path (SbOstree *self)
{
  return self->slots_path;
}

const char *
sb_ostree_get_grub_path (SbOstree *self)
{
  return self->grub_path;
}

/* ---- targets and URLs ---- */

gboolean
sb_ostree_check_target (const char *target_name, const char *sha256, gint64 length, GError **error)
{
  if (sha256 == NULL || !ostree_validate_checksum_string (sha256, NULL))
    return sb_throw (error, SB_ERROR_PARSE,
                     "OSTree target '%s': sha256 '%s' is not a commit checksum (64 lowercase hex "
                     "digits)",
                     target_name, sha256 ? sha256 : "(none)");
  /* An OSTree target's bytes are the commit's objects, fetched and checked by libostree one by
   * one; the length Uptane lists for it is 0 by convention (OTA-CE, aktualizr). */
  if (length != 0)
    return sb_throw (error, SB_ERROR_LENGTH_MISMATCH,
                     "OSTree target '%s' lists length %" G_GINT64_FORMAT "; an OSTree commit "
                     "target has length 0",
                     target_name, length);
  return TRUE;
}

/* design.md §2, one policy with the fetcher (sb-url-policy.h): plain http only to loopback or when
 * the config allows it; a target's custom.uri is never file://. */
static gboolean
check_url (const SbOstreePullOptions *opts, GError **error)
{
  if (opts->url == NULL || *opts->url == '\0')
    return sb_throw (error, SB_ERROR_CONFIG,
                     "no OSTree repository URL: set [ostree] ostree-url or give the target a "
                     "custom.uri");
  if (!sb_url_policy_check (opts->url,
                            opts->url_from_metadata ? SB_URL_FROM_METADATA : SB_URL_FROM_CONFIG,
                            opts->allow_http, NULL, NULL, error))
    {
      g_prefix_error (error, "OSTree repository URL: ");
      return FALSE;
    }
  return TRUE;
}

void
sb_ostree_pull_options_init (SbOstreePullOptions *opts, const SbConfig *config,
                             const char *custom_uri)
{
  memset (opts, 0, sizeof *opts);
  opts->url_from_metadata = custom_uri != NULL && *custom_uri != '\0';
  opts->url = opts->url_from_metadata ? custom_uri : config->ostree_url;
  opts->tls_ca = config->tls_ca;
  opts->tls_cert = config->tls_cert;
  opts->tls_key = config->tls_key;
  opts->allow_http = config->allow_http;
  opts->progress = isatty (STDERR_FILENO);
}

/* ---- pull ---- */

static gboolean
configure_remote (SbOstree *self, const SbOstreePullOptions *opts, GCancellable *cancellable,
                  GError **error)
{
  g_auto (GVariantBuilder) b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  /* The Uptane metadata signs the commit checksum; that is the trust anchor, not GPG. */
  g_variant_builder_add (&b, "{sv}", "gpg-verify", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&b, "{sv}", "gpg-verify-summary", g_variant_new_boolean (FALSE));
  if (opts->tls_ca != NULL)
    g_variant_builder_add (&b, "{sv}", "tls-ca-path", g_variant_new_string (opts->tls_ca));
  if (opts->tls_cert != NULL)
    g_variant_builder_add (&b, "{sv}", "tls-client-cert-path",
                           g_variant_new_string (opts->tls_cert));
  if (opts->tls_key != NULL)
    g_variant_builder_add (&b, "{sv}", "tls-client-key-path", g_variant_new_string (opts->tls_key));
  g_autoptr (GVariant) options = g_variant_ref_sink (g_variant_builder_end (&b));

  g_autoptr (GError) local_error = NULL;
  if (!ostree_repo_remote_change (self->repo, NULL, OSTREE_REPO_REMOTE_CHANGE_REPLACE,
                                  SB_OSTREE_REMOTE, opts->url, options, cancellable, &local_error))
    return sb_throw (error, SB_ERROR_IO, "configuring OSTree remote '%s' for %s: %s",
                     SB_OSTREE_REMOTE, opts->url, local_error->message);
  return TRUE;
}

static void
progress_changed (OstreeAsyncProgress *progress, gpointer user_data)
{
  guint fetched = 0, requested = 0;
  guint64 bytes = 0;
  ostree_async_progress_get (progress, "fetched", "u", &fetched, "requested", "u", &requested,
                             "bytes-transferred", "t", &bytes, NULL);
  g_autofree char *size = g_format_size (bytes);
  /* One line, rewritten in place; the caller ends it. */
  g_printerr ("\rostree: %u of %u objects, %s received   ", fetched, requested, size);
}

/* libostree reports most failures as G_IO_ERROR_FAILED with a fixed wording; the classes a
 * caller must tell apart are recognised here. A reserve or a full disk is reported as such and
 * not as a download failure, so no caller retries it. */
static gboolean
throw_pull_error (GError **error, GError *local, const char *checksum, const char *url,
                  gboolean commit_stage)
{
  const char *msg = local->message;
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NO_SPACE)
      || strstr (msg, "min-free-space") != NULL || strstr (msg, "free space") != NULL)
    return sb_throw (error, SB_ERROR_NO_SPACE, "not enough space to pull OSTree commit %s: %s",
                     checksum, msg);
  if (strstr (msg, "checksum expected=") != NULL)
    return sb_throw (error, SB_ERROR_HASH_MISMATCH,
                     "OSTree commit %s from %s: an object does not match its checksum: %s",
                     checksum, url, msg);
  /* Remote, so exit 4 like an HTTP 404 of an image (design.md §8), not a local "not found". */
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) && commit_stage)
    return sb_throw (error, SB_ERROR_NOT_ON_SERVER,
                     "OSTree commit %s is not on the server at %s: %s", checksum, url, msg);
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)
      || g_error_matches (local, G_IO_ERROR, G_IO_ERROR_READ_ONLY))
    return sb_throw (error, SB_ERROR_IO, "pulling OSTree commit %s: %s", checksum, msg);
  return sb_throw (error, SB_ERROR_DOWNLOAD, "pulling OSTree commit %s from %s failed: %s",
                   checksum, url, msg);
}

static gboolean
pull_once (SbOstree *self, const char *checksum, const SbOstreePullOptions *opts,
           gboolean commit_only, GCancellable *cancellable, GError **error)
{
  g_auto (GVariantBuilder) b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  /* Pulling by checksum, not by ref: the server's refs are not signed by Uptane. */
  const char *refs[] = { checksum, NULL };
  g_variant_builder_add (&b, "{sv}", "refs", g_variant_new_strv (refs, -1));
  int flags = commit_only ? OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY : OSTREE_REPO_PULL_FLAGS_NONE;
  g_variant_builder_add (&b, "{sv}", "flags", g_variant_new_int32 (flags));
  if (opts->network_retries > 0)
    g_variant_builder_add (&b, "{sv}", "n-network-retries",
                           g_variant_new_uint32 (opts->network_retries));
  g_autoptr (GVariant) options = g_variant_ref_sink (g_variant_builder_end (&b));

  /* libostree iterates the thread-default main context until the pull ends; a context of its
   * own keeps the caller's sources (a daemon's timers, D-Bus) from running inside the pull. */
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  g_autoptr (OstreeAsyncProgress) progress = NULL;
  if (opts->progress && !commit_only)
    progress = ostree_async_progress_new_and_connect (progress_changed, NULL);

  g_autoptr (GError) local_error = NULL;
  gboolean ok = ostree_repo_pull_with_options (self->repo, SB_OSTREE_REMOTE, options, progress,
                                               cancellable, &local_error);
  if (progress != NULL)
    {
      ostree_async_progress_finish (progress);
      g_printerr ("\n");
    }
  g_clear_object (&progress);
  g_main_context_pop_thread_default (ctx);
  if (!ok)
    return throw_pull_error (error, local_error, checksum, opts->url, commit_only);
  return TRUE;
}

/* The commit object's bytes must hash to the checksum Uptane names. libostree already checks
 * this on download; checking again here covers a commit that was in the repository before. */
static gboolean
check_commit_object (SbOstree *self, const char *checksum, GVariant **out_commit,
                     OstreeRepoCommitState *out_state, GError **error)
{
  g_autoptr (GVariant) commit = NULL;
  OstreeRepoCommitState state = 0;
  g_autoptr (GError) local_error = NULL;
  if (!ostree_repo_load_commit (self->repo, checksum, &commit, &state, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return sb_throw (error, SB_ERROR_NOT_FOUND, "OSTree commit %s is not in the repository",
                         checksum);
      return sb_throw (error, SB_ERROR_IO, "loading OSTree commit %s: %s", checksum,
                       local_error->message);
    }
  g_autofree char *actual = g_compute_checksum_for_data (
      G_CHECKSUM_SHA256, g_variant_get_data (commit), g_variant_get_size (commit));
  if (!g_str_equal (actual, checksum))
    return sb_throw (error, SB_ERROR_HASH_MISMATCH,
                     "OSTree commit object %s hashes to %s: it is not the commit the target names",
                     checksum, actual);
  if (out_commit)
    *out_commit = g_steal_pointer (&commit);
  if (out_state)
    *out_state = state;
  return TRUE;
}

static gboolean
check_checksum (const char *checksum, GError **error)
{
  if (checksum == NULL || !ostree_validate_checksum_string (checksum, NULL))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "'%s' is not an OSTree commit checksum (64 lowercase hex digits)",
                     checksum ? checksum : "(none)");
  return TRUE;
}

gboolean
sb_ostree_verify_commit (SbOstree *self, const char *checksum, GCancellable *cancellable,
                         GError **error)
{
  if (!check_checksum (checksum, error))
    return FALSE;
  OstreeRepoCommitState state = 0;
  if (!check_commit_object (self, checksum, NULL, &state, error))
    return FALSE;
  if (state & (OSTREE_REPO_COMMIT_STATE_PARTIAL | OSTREE_REPO_COMMIT_STATE_FSCK_PARTIAL))
    return sb_throw (error, SB_ERROR_STATE,
                     "OSTree commit %s is only partly in the repository (an interrupted pull)",
                     checksum);
  return TRUE;
}

gboolean
sb_ostree_check_space (SbOstree *self, const char *checksum, guint64 *out_needed, GError **error)
{
  g_autoptr (GVariant) commit = NULL;
  if (!check_commit_object (self, checksum, &commit, NULL, error))
    return FALSE;

  g_autoptr (GPtrArray) sizes = NULL;
  g_autoptr (GError) local_error = NULL;
  if (!ostree_commit_get_object_sizes (commit, &sizes, &local_error))
    {
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return sb_throw (error, SB_ERROR_PARSE, "OSTree commit %s: bad ostree.sizes: %s", checksum,
                         local_error->message);
      g_debug ("OSTree commit %s has no ostree.sizes; space is checked by libostree", checksum);
      if (out_needed)
        *out_needed = G_MAXUINT64;
      return TRUE;
    }

  int dfd = ostree_repo_get_dfd (self->repo);
  struct statvfs st;
  if (fstatvfs (dfd, &st) < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "statvfs of the OSTree repository in %s",
                           self->sysroot_path);
  guint64 reserved = 0;
  if (!ostree_repo_get_min_free_space_bytes (self->repo, &reserved, &local_error))
    return sb_throw (error, SB_ERROR_STATE, "OSTree repository in %s: %s", self->sysroot_path,
                     local_error->message);
  guint64 bsize = st.f_bsize > 0 ? st.f_bsize : 4096;
  /* The figure libostree itself compares against (root may use the blocks kept for root). */
  guint64 free_bytes = (guint64)(getuid () == 0 ? st.f_bfree : st.f_bavail) * bsize;
  guint64 usable = free_bytes > reserved ? free_bytes - reserved : 0;

  guint64 needed = 0;
  for (guint i = 0; i < sizes->len; i++)
    {
      OstreeCommitSizesEntry *e = sizes->pdata[i];
      gboolean have = FALSE;
      if (!ostree_repo_has_object (self->repo, e->objtype, e->checksum, &have, NULL, &local_error))
        return sb_throw (error, SB_ERROR_IO, "OSTree repository in %s: %s", self->sysroot_path,
                         local_error->message);
      if (!have)
        needed += (e->unpacked + bsize - 1) / bsize * bsize;
    }
  if (out_needed)
    *out_needed = needed;
  if (needed > usable)
    {
      g_autofree char *n = g_format_size (needed);
      g_autofree char *f = g_format_size (free_bytes);
      g_autofree char *r = g_format_size (reserved);
      return sb_throw (error, SB_ERROR_NO_SPACE,
                       "OSTree commit %s needs %s more in the repository of %s, but only %s are "
                       "free and libostree keeps %s free (min-free-space)",
                       checksum, n, self->sysroot_path, f, r);
    }
  return TRUE;
}

gboolean
sb_ostree_pull (SbOstree *self, const char *checksum, const SbOstreePullOptions *opts,
                GCancellable *cancellable, GError **error)
{
  if (!check_checksum (checksum, error))
    return FALSE;
  /* Already complete (a pull finished before a power cut or a restart): nothing to fetch. */
  OstreeRepoCommitState state = 0;
  g_autoptr (GError) local_error = NULL;
  if (check_commit_object (self, checksum, NULL, &state, &local_error)
      && (state & OSTREE_REPO_COMMIT_STATE_PARTIAL) == 0)
    return TRUE;
  if (g_error_matches (local_error, SB_ERROR, SB_ERROR_HASH_MISMATCH))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!check_url (opts, error) || !configure_remote (self, opts, cancellable, error))
    return FALSE;
  if (!pull_once (self, checksum, opts, TRUE, cancellable, error)
      || !check_commit_object (self, checksum, NULL, NULL, error)
      || !sb_ostree_check_space (self, checksum, NULL, error)
      || !pull_once (self, checksum, opts, FALSE, cancellable, error))
    return FALSE;
  return sb_ostree_verify_commit (self, checksum, cancellable, error);
}

/* ---- deployments and slots ---- */

static gboolean
throw_sysroot_error (GError **error, GError *local, const char *what)
{
  SbErrorCode code = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NO_SPACE) ? SB_ERROR_NO_SPACE
                                                                              : SB_ERROR_INSTALL;
  return sb_throw (error, code, "%s: %s", what, local->message);
}

/* libostree's sysroot lock serialises every writer (ostree admin, another switchback). */
static gboolean
lock_and_load (SbOstree *self, GCancellable *cancellable, GError **error)
{
  gboolean acquired = FALSE;
  g_autoptr (GError) local_error = NULL;
  if (!ostree_sysroot_try_lock (self->sysroot, &acquired, &local_error))
    return sb_throw (error, SB_ERROR_IO, "locking OSTree sysroot %s: %s", self->sysroot_path,
                     local_error->message);
  if (!acquired)
    return sb_throw (error, SB_ERROR_SLOT_BUSY,
                     "OSTree sysroot %s is locked by another process (ostree admin or another "
                     "update)",
                     self->sysroot_path);
  if (!ostree_sysroot_load (self->sysroot, cancellable, &local_error))
    {
      ostree_sysroot_unlock (self->sysroot);
      return sb_throw (error, SB_ERROR_STATE, "OSTree sysroot %s: %s", self->sysroot_path,
                       local_error->message);
    }
  return TRUE;
}

/* The deployment the table entry @d names, if it exists. */
static OstreeDeployment *
find_deployment (SbOstree *self, const SbOstreeSlotDeployment *d)
{
  if (d == NULL)
    return NULL;
  g_autoptr (GPtrArray) all = ostree_sysroot_get_deployments (self->sysroot);
  for (guint i = 0; i < all->len; i++)
    {
      OstreeDeployment *dep = all->pdata[i];
      if (g_str_equal (ostree_deployment_get_osname (dep), d->osname)
          && g_str_equal (ostree_deployment_get_csum (dep), d->checksum)
          && ostree_deployment_get_deployserial (dep) == d->deployserial)
        return g_object_ref (dep);
    }
  return NULL;
}

static const char *
find_slot_of (SbOstree *self, OstreeDeployment *dep)
{
  if (dep == NULL)
    return NULL;
  return sb_ostree_slots_find (self->slots, ostree_deployment_get_osname (dep),
                               ostree_deployment_get_csum (dep),
                               ostree_deployment_get_deployserial (dep));
}

/* The kernel arguments of @dep without libostree's ostree= bootlink, which names a
 * bootversion-specific path; the slot's own ostree= replaces it. */
static char **
kargs_without_bootlink (OstreeDeployment *dep)
{
  OstreeBootconfigParser *bc = ostree_deployment_get_bootconfig (dep);
  const char *options = bc ? ostree_bootconfig_parser_get (bc, "options") : NULL;
  g_auto (GStrv) words = g_strsplit (options ? options : "", " ", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  for (char **w = words; *w; w++)
    if (**w != '\0' && !g_str_has_prefix (*w, "ostree="))
      g_ptr_array_add (kept, g_strdup (*w));
  g_ptr_array_add (kept, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&kept), FALSE);
}

/* What the table records of @dep: names, boot entry paths and kernel arguments. */
static SbOstreeSlotDeployment *
describe_deployment (SbOstree *self, OstreeDeployment *dep, const char *target, GError **error)
{
  OstreeBootconfigParser *bc = ostree_deployment_get_bootconfig (dep);
  const char *kernel = bc ? ostree_bootconfig_parser_get (bc, "linux") : NULL;
  if (kernel == NULL)
    return sb_throw (error, SB_ERROR_STATE,
                     "OSTree deployment %s.%d has no boot entry with a kernel",
                     ostree_deployment_get_csum (dep), ostree_deployment_get_deployserial (dep)),
           NULL;

  g_autoptr (SbOstreeSlotDeployment) d = g_new0 (SbOstreeSlotDeployment, 1);
  d->osname = g_strdup (ostree_deployment_get_osname (dep));
  d->checksum = g_strdup (ostree_deployment_get_csum (dep));
  d->deployserial = ostree_deployment_get_deployserial (dep);
  d->bootcsum = g_strdup (ostree_deployment_get_bootcsum (dep));
  d->kernel = g_strdup (kernel);
  d->initrd = g_strdup (ostree_bootconfig_parser_get (bc, "initrd"));
  g_auto (GStrv) kargs = kargs_without_bootlink (dep);
  d->options = g_strjoinv (" ", kargs);
  d->target = g_strdup (target);

  g_autoptr (GVariant) commit = NULL;
  if (ostree_repo_load_commit (self->repo, d->checksum, &commit, NULL, NULL))
    {
      g_autoptr (GVariant) meta = g_variant_get_child_value (commit, 0);
      (void)g_variant_lookup (meta, OSTREE_COMMIT_META_KEY_VERSION, "s", &d->version);
    }
  if (!sb_ostree_slot_deployment_validate (d, error))
    return NULL;
  return g_steal_pointer (&d);
}

static gboolean
save_slots (SbOstree *self, GError **error)
{
  /* The bootlinks the fragment names exist before it does; those it no longer names go after. */
  return sb_ostree_slots_sync_bootlinks (self->slots, self->sysroot_path, FALSE, error)
         && sb_ostree_slots_save (self->slots, self->slots_path, self->grub_path, error)
         && sb_ostree_slots_sync_bootlinks (self->slots, self->sysroot_path, TRUE, error);
}

/* Makes sure @active names the deployment that is running, or, for an offline sysroot,
 * libostree's first deployment of the stateroot (deploy and prune keep the committed one
 * there). Returns it, or NULL when the stateroot has no deployment yet. That deployment
 * being in @slot means @slot is the active slot: refused. */
static gboolean
adopt_active (SbOstree *self, const char *slot, OstreeDeployment **out_dep, GError **error)
{
  const char *active = sb_ostree_slot_other (slot);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (self->sysroot);
  g_autoptr (OstreeDeployment) want = NULL;
  if (booted != NULL && g_str_equal (ostree_deployment_get_osname (booted), self->osname))
    want = g_object_ref (booted);
  else
    want = ostree_sysroot_get_merge_deployment (self->sysroot, self->osname);
  if (want == NULL)
    {
      *out_dep = NULL;
      return TRUE;
    }

  /* design.md §5: the active slot is never written. */
  const char *want_slot = find_slot_of (self, want);
  if (want_slot != NULL && g_str_equal (want_slot, slot))
    return sb_throw (error, SB_ERROR_SLOT_BUSY,
                     "slot %s holds the %s OSTree deployment %s.%d; deploy into slot %s", slot,
                     want == booted ? "booted" : "committed", ostree_deployment_get_csum (want),
                     ostree_deployment_get_deployserial (want), active);

  if (want_slot == NULL)
    {
      const SbOstreeSlotDeployment *cur = sb_ostree_slots_get (self->slots, active);
      gboolean same_commit = cur && g_str_equal (cur->checksum, ostree_deployment_get_csum (want));
      g_autoptr (SbOstreeSlotDeployment) d
          = describe_deployment (self, want, same_commit ? cur->target : NULL, error);
      if (d == NULL || !sb_ostree_slots_set (self->slots, active, d, error)
          || !save_slots (self, error))
        return g_prefix_error (error, "recording the active slot %s: ", active), FALSE;
    }
  *out_dep = g_steal_pointer (&want);
  return TRUE;
}

static GKeyFile *
new_origin (const char *target_name)
{
  GKeyFile *origin = g_key_file_new ();
  /* libostree's way of saying "not updated by ostree admin upgrade": that command prints this
   * text instead of pulling a ref that Uptane never signed. */
  g_key_file_set_string (origin, "origin", "unconfigured-state",
                         "This deployment is updated by switchback (Uptane); "
                         "ostree admin upgrade does not apply.");
  if (target_name != NULL)
    g_key_file_set_string (origin, "switchback", "target", target_name);
  return origin;
}

static gboolean
deploy_locked (SbOstree *self, const char *checksum, const char *slot, const char *target_name,
               GCancellable *cancellable, GError **error)
{
  if (!sb_ostree_verify_commit (self, checksum, cancellable, error))
    return FALSE;
  g_autoptr (OstreeDeployment) merge = NULL;
  if (!adopt_active (self, slot, &merge, error))
    return FALSE;

  /* A retry of the same install (say, staging grubenv failed after a deploy): the slot already
   * holds this commit, deployed from the current active slot. */
  const SbOstreeSlotDeployment *cur = sb_ostree_slots_get (self->slots, slot);
  g_autoptr (OstreeDeployment) cur_dep = find_deployment (self, cur);
  if (cur_dep != NULL && g_str_equal (cur->checksum, checksum))
    {
      g_debug ("slot %s already holds OSTree commit %s", slot, checksum);
      return TRUE;
    }

  /* From here until step 5, GRUB must not find anything to boot in @slot. */
  if (sb_ostree_slots_get (self->slots, slot) != NULL)
    {
      sb_ostree_slots_clear (self->slots, slot);
      if (!save_slots (self, error))
        return FALSE;
    }

  g_auto (GStrv) kargs = merge ? kargs_without_bootlink (merge) : NULL;
  OstreeSysrootDeployTreeOpts opts = { .override_kernel_argv = kargs };
  g_autoptr (GKeyFile) origin = new_origin (target_name);
  g_autoptr (OstreeDeployment) new_dep = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *what
      = g_strdup_printf ("deploying OSTree commit %s into slot %s", checksum, slot);
  if (!ostree_sysroot_deploy_tree_with_options (self->sysroot, self->osname, checksum, origin,
                                                merge, &opts, &new_dep, cancellable, &local_error))
    return throw_sysroot_error (error, local_error, what);

  /* Not the default: GRUB's counters pick the slot; for libostree the committed deployment
   * stays first until the trial is committed (sb_ostree_prune then reorders). Without a
   * retain flag libostree drops the other deployments of this stateroot except the booted
   * and the merge one: that is the deployment @slot held before. */
  if (!ostree_sysroot_simple_write_deployment (
          self->sysroot, self->osname, new_dep, merge,
          OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_NOT_DEFAULT
              | OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_NO_CLEAN,
          cancellable, &local_error)
      || !ostree_sysroot_load (self->sysroot, cancellable, &local_error))
    return throw_sysroot_error (error, local_error, what);

  SbOstreeSlotDeployment key = {
    .osname = (char *)ostree_deployment_get_osname (new_dep),
    .checksum = (char *)ostree_deployment_get_csum (new_dep),
    .deployserial = ostree_deployment_get_deployserial (new_dep),
  };
  g_autoptr (OstreeDeployment) written = find_deployment (self, &key);
  if (written == NULL)
    return sb_throw (error, SB_ERROR_INSTALL,
                     "%s: the new deployment %s.%d is not listed after "
                     "writing",
                     what, key.checksum, key.deployserial);
  g_autoptr (SbOstreeSlotDeployment) d = describe_deployment (self, written, target_name, error);
  if (d == NULL || !sb_ostree_slots_set (self->slots, slot, d, error) || !save_slots (self, error))
    return g_prefix_error (error, "%s: ", what), FALSE;

  if (!ostree_sysroot_cleanup (self->sysroot, cancellable, &local_error))
    return throw_sysroot_error (error, local_error, "cleaning up the OSTree sysroot after deploy");
  return TRUE;
}

gboolean
sb_ostree_deploy (SbOstree *self, const char *checksum, const char *slot, const char *target_name,
                  GCancellable *cancellable, GError **error)
{
  if (!sb_ostree_slot_name_valid (slot))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "'%s' is not a slot name (A or B)",
                     slot ? slot : "(none)");
  if (!check_checksum (checksum, error) || !lock_and_load (self, cancellable, error))
    return FALSE;
  gboolean ok = deploy_locked (self, checksum, slot, target_name, cancellable, error);
  ostree_sysroot_unlock (self->sysroot);
  return ok;
}

static gboolean
list_equal (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!ostree_deployment_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

static gboolean
prune_locked (SbOstree *self, const char *committed_slot, GCancellable *cancellable, GError **error)
{
  /* Entries whose deployment is gone (removed by hand, or a power cut before the table was
   * rewritten) must not stay bootable in the GRUB fragment. */
  gboolean changed = FALSE;
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "A" : "B";
      g_autoptr (OstreeDeployment) dep
          = find_deployment (self, sb_ostree_slots_get (self->slots, name));
      if (dep == NULL && sb_ostree_slots_get (self->slots, name) != NULL)
        {
          sb_ostree_slots_clear (self->slots, name);
          changed = TRUE;
        }
    }
  if (changed && !save_slots (self, error))
    return FALSE;

  const SbOstreeSlotDeployment *c = sb_ostree_slots_get (self->slots, committed_slot);
  g_autoptr (OstreeDeployment) committed = find_deployment (self, c);
  if (committed == NULL)
    return sb_throw (error, SB_ERROR_STATE,
                     "the committed slot %s has no OSTree deployment; refusing to prune",
                     committed_slot);
  g_autoptr (OstreeDeployment) other = find_deployment (
      self, sb_ostree_slots_get (self->slots, sb_ostree_slot_other (committed_slot)));

  g_autoptr (GPtrArray) current = ostree_sysroot_get_deployments (self->sysroot);
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (keep, g_object_ref (committed));
  if (other != NULL)
    g_ptr_array_add (keep, g_object_ref (other));
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (self->sysroot);
  for (guint i = 0; i < current->len; i++)
    {
      OstreeDeployment *dep = current->pdata[i];
      if (ostree_deployment_equal (dep, committed) || ostree_deployment_equal (dep, other))
        continue;
      /* Not ours to remove: other stateroots, deployments pinned by hand, and the running one
       * (libostree refuses to drop it, and it is what /etc is merged from). */
      if (!g_str_equal (ostree_deployment_get_osname (dep), self->osname)
          || ostree_deployment_is_pinned (dep) || ostree_deployment_equal (dep, booted))
        g_ptr_array_add (keep, g_object_ref (dep));
    }

  g_autoptr (GError) local_error = NULL;
  if (!list_equal (current, keep))
    {
      OstreeSysrootWriteDeploymentsOpts wopts = { .do_postclean = FALSE };
      if (!ostree_sysroot_write_deployments_with_options (self->sysroot, keep, &wopts, cancellable,
                                                          &local_error)
          || !ostree_sysroot_load (self->sysroot, cancellable, &local_error))
        return throw_sysroot_error (error, local_error, "writing the OSTree deployment list");
    }
  if (!ostree_sysroot_cleanup (self->sysroot, cancellable, &local_error))
    return throw_sysroot_error (error, local_error, "cleaning up the OSTree sysroot");
  return TRUE;
}

gboolean
sb_ostree_prune (SbOstree *self, const char *committed_slot, GCancellable *cancellable,
                 GError **error)
{
  if (!sb_ostree_slot_name_valid (committed_slot))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "'%s' is not a slot name (A or B)",
                     committed_slot ? committed_slot : "(none)");
  if (!lock_and_load (self, cancellable, error))
    return FALSE;
  gboolean ok = prune_locked (self, committed_slot, cancellable, error);
  ostree_sysroot_unlock (self->sysroot);
  return ok;
}

/* ---- status ---- */

const char *
sb_ostree_get_booted_slot (SbOstree *self)
{
  return find_slot_of (self, ostree_sysroot_get_booted_deployment (self->sysroot));
}

char *
sb_ostree_get_installed_checksum (SbOstree *self, const char *booted_slot, GError **error)
{
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (self->sysroot);
  const SbOstreeSlotDeployment *d = sb_ostree_slots_get (self->slots, booted_slot);
  if (booted != NULL)
    {
      if (d != NULL && !g_str_equal (ostree_deployment_get_csum (booted), d->checksum))
        return sb_throw (error, SB_ERROR_STATE,
                         "the kernel command line says slot %s, whose OSTree deployment is %s, "
                         "but the booted deployment is %s.%d",
                         booted_slot, d->checksum, ostree_deployment_get_csum (booted),
                         ostree_deployment_get_deployserial (booted)),
               NULL;
      return g_strdup (ostree_deployment_get_csum (booted));
    }
  g_autoptr (OstreeDeployment) dep = find_deployment (self, d);
  if (dep == NULL)
    dep = ostree_sysroot_get_merge_deployment (self->sysroot, self->osname);
  if (dep == NULL)
    return sb_throw (error, SB_ERROR_NOT_FOUND, "OSTree sysroot %s has no deployment of %s",
                     self->sysroot_path, self->osname),
           NULL;
  return g_strdup (ostree_deployment_get_csum (dep));
}
