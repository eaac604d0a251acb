/* sb-uptane.c: the Uptane primary's full verification (see sb-uptane.h). */
#include "config.h"

#include "uptane/sb-uptane.h"
#include "state/sb-state-lock.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "state/sb-metadata-stage.h"
#include "uptane/sb-uptane-freshness.h"
#include "net/sb-url-policy.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct _SbUptane {
  SbConfig *config;     /* borrowed */
  SbIdentity *identity; /* referenced */
  SbFetcher *fetcher;
  char *metadata_root;  /* <state>/metadata */
  char *director_dir;
  char *image_dir;
  gint64 reference_time;
  char *clock_problem;
  SbUpdater *director; /* of the last check */
  SbUpdater *image;    /* of the last check, when it reached the Image repository */
};

void
sb_uptane_update_free (SbUptaneUpdate *update)
{
  if (update == NULL)
    return;
  g_free (update->correlation_id);
  g_clear_pointer (&update->targets, g_ptr_array_unref);
  g_free (update);
}

char *
sb_uptane_metadata_dir (const char *state_dir, const char *repo)
{
  return g_build_filename (state_dir, SB_UPTANE_METADATA_DIR_NAME, repo, NULL);
}

void
sb_uptane_fetcher_options (SbConfig *config, SbFetcherOptions *opts)
{
  sb_fetcher_options_init (opts);
  opts->ca_file = config->tls_ca;
  opts->client_cert = config->tls_cert;
  opts->client_key = config->tls_key;
  opts->allow_http = config->allow_http;
  opts->low_speed_limit = config->low_speed_limit;
  opts->low_speed_time = config->low_speed_time;
  opts->connect_timeout = config->connect_timeout;
  opts->max_retries = config->retries;
  opts->retry_base_ms = config->retry_delay_ms;
}

static gboolean
check_urls (const SbConfig *config, GError **error)
{
  if (config->director_url == NULL || *config->director_url == '\0')
    return sb_config_throw_unset (config, "uptane", "director-url", NULL, error);
  if (config->image_url == NULL || *config->image_url == '\0')
    return sb_config_throw_unset (config, "uptane", "image-url", NULL, error);
  return TRUE;
}

gboolean
sb_uptane_check_config (SbConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  if (!check_urls (config, error))
    return FALSE;

  /* The shipped root is read only while nothing is trusted yet (open_stage). */
  const char *repos[] = { SB_UPTANE_DIRECTOR, SB_UPTANE_IMAGE };
  const char *keys[] = { "director-root", "image-root" };
  const char *roots[] = { config->director_root, config->image_root };
  for (guint i = 0; i < G_N_ELEMENTS (repos); i++)
    {
      g_autofree char *dir = sb_uptane_metadata_dir (config->state_dir, repos[i]);
      g_autofree char *trusted = g_build_filename (dir, "root.json", NULL);
      if (g_file_test (trusted, G_FILE_TEST_EXISTS))
        continue;
      if (roots[i] == NULL || *roots[i] == '\0')
        return sb_config_throw_unset (config, "uptane", keys[i],
                                      "nothing is trusted yet, so the first check needs the "
                                      "initial trusted root",
                                      error);
      if (!g_file_test (roots[i], G_FILE_TEST_IS_REGULAR))
        return sb_throw (error, SB_ERROR_CONFIG,
                         "%s: [uptane] %s: the initial trusted root %s is not a readable file",
                         config->path != NULL ? config->path : SB_CONFIG_DEFAULT_PATH, keys[i],
                         roots[i]);
    }

  /* The fetcher checks the [tls] and [network] settings. */
  SbFetcherOptions fopts;
  sb_uptane_fetcher_options (config, &fopts);
  g_autoptr (SbFetcher) fetcher = sb_fetcher_new (&fopts, error);
  return fetcher != NULL;
}

SbUptane *
sb_uptane_new (SbConfig *config, SbIdentity *identity, GError **error)
{
  g_return_val_if_fail (config != NULL && identity != NULL, NULL);

  if (!check_urls (config, error))
    return NULL;

  SbFetcherOptions fopts;
  sb_uptane_fetcher_options (config, &fopts);
  g_autoptr (SbFetcher) fetcher = sb_fetcher_new (&fopts, error);
  if (fetcher == NULL)
    return NULL;

  SbUptane *u = g_new0 (SbUptane, 1);
  u->config = config;
  u->identity = sb_identity_ref (identity);
  u->fetcher = g_steal_pointer (&fetcher);
  u->metadata_root = g_build_filename (config->state_dir, SB_UPTANE_METADATA_DIR_NAME, NULL);
  u->director_dir = sb_uptane_metadata_dir (config->state_dir, SB_UPTANE_DIRECTOR);
  u->image_dir = sb_uptane_metadata_dir (config->state_dir, SB_UPTANE_IMAGE);
  return u;
}

void
sb_uptane_free (SbUptane *u)
{
  if (u == NULL)
    return;
  g_clear_pointer (&u->director, sb_updater_free);
  g_clear_pointer (&u->image, sb_updater_free);
  g_clear_pointer (&u->fetcher, sb_fetcher_free);
  g_clear_pointer (&u->identity, sb_identity_unref);
  g_free (u->metadata_root);
  g_free (u->director_dir);
  g_free (u->image_dir);
  g_free (u->clock_problem);
  g_free (u);
}

void
sb_uptane_set_reference_time (SbUptane *u, gint64 reference_time)
{
  u->reference_time = reference_time;
}

const char *
sb_uptane_get_clock_problem (SbUptane *u)
{
  return u->clock_problem;
}

SbFetcher *
sb_uptane_get_fetcher (SbUptane *u)
{
  return u->fetcher;
}

SbIdentity *
sb_uptane_get_identity (SbUptane *u)
{
  return u->identity;
}

SbConfig *
sb_uptane_get_config (SbUptane *u)
{
  return u->config;
}

SbUpdater *
sb_uptane_get_image_updater (SbUptane *u)
{
  return u->image;
}

char *
sb_uptane_target_url (SbUptane *u, const SbUptaneTarget *target)
{
  if (u->image == NULL || target->image == NULL)
    return NULL;
  if (target->uri != NULL)
    return g_strdup (target->uri);
  return sb_updater_target_url (u->image, target->image, NULL);
}

/* ---- the working copies of the trusted metadata ---- */

static char *
staging_path (SbUptane *u, const char *repo)
{
  g_autofree char *name = g_strdup_printf (".%s.staging", repo);
  return g_build_filename (u->metadata_root, name, NULL);
}

/* A working copy of @repo's trusted directory, with the shipped root added when the directory
 * has none yet (TUF §5.2: the first check starts from the root shipped with the system; it
 * reaches the trusted directory with the rest, once the check passed). */
static SbMetadataStage *
open_stage (SbUptane *u, const char *repo, GError **error)
{
  gboolean director = g_str_equal (repo, SB_UPTANE_DIRECTOR);
  g_autofree char *staging = staging_path (u, repo);
  g_autoptr (SbMetadataStage) stage =
      sb_metadata_stage_open (director ? u->director_dir : u->image_dir, staging, error);
  if (stage == NULL || sb_metadata_stage_was_trusted (stage, "root.json"))
    return g_steal_pointer (&stage);

  const char *key = director ? "director-root" : "image-root";
  const char *root_path = director ? u->config->director_root : u->config->image_root;
  const char *file = u->config->path != NULL ? u->config->path : "the configuration";
  if (root_path == NULL || *root_path == '\0')
    {
      (void) sb_config_throw_unset (u->config, "uptane", key, NULL, error);
      return NULL;
    }
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) root = sb_read_file (root_path, SB_UPDATER_ROOT_MAX_LENGTH, &local_error);
  /* The shipped root is part of the installation, not something to download. */
  if (root == NULL)
    {
      sb_throw (error, SB_ERROR_CONFIG, "%s: [uptane] %s: the initial trusted root: %s", file,
                key, local_error->message);
      return NULL;
    }
  g_autofree char *dest = g_build_filename (staging, "root.json", NULL);
  if (!sb_durable_write_bytes (dest, root, 0644, error))
    return NULL;
  return g_steal_pointer (&stage);
}

/* ---- the check ---- */

/* Adds the repository and, for a refusal, the attack class to a TUF client error. */
static void
prefix_refusal (GError **error, const char *repo)
{
  if (error == NULL || *error == NULL)
    return;
  g_prefix_error (error, "%s repository: ", repo);
  const char *attack = (*error)->domain == SB_ERROR ? sb_uptane_attack_name ((*error)->code)
                                                      : NULL;
  if (attack != NULL && strstr ((*error)->message, "attack") == NULL)
    {
      char *message = g_strdup_printf ("%s (%s)", (*error)->message, attack);
      g_free ((*error)->message);
      (*error)->message = message;
    }
}

static SbUpdater *
new_updater (SbUptane *u, const char *staging, gboolean director, gint64 reference_time,
             GError **error)
{
  SbUpdaterOptions opts;
  sb_updater_options_init (&opts);
  g_autofree char *targets_url = NULL;
  opts.metadata_dir = staging;
  opts.reference_time = reference_time;
  opts.ota_ce_metadata = u->config->ota_ce_compat;
  if (director)
    {
      opts.metadata_url = u->config->director_url;
      opts.targets_max_length = SB_UPTANE_DIRECTOR_TARGETS_MAX_LENGTH;
      opts.without_snapshot = u->config->ota_ce_compat;
    }
  else
    {
      targets_url = g_strconcat (u->config->image_url,
                                 g_str_has_suffix (u->config->image_url, "/") ? "" : "/",
                                 "targets", NULL);
      opts.metadata_url = u->config->image_url;
      opts.targets_url = targets_url;
      opts.delegations_subdir = u->config->ota_ce_compat;
    }
  return sb_updater_new (&opts, u->fetcher, error);
}

typedef struct {
  char *role;
  gint64 version;
  gboolean was_present; /* its trusted file existed before this check */
} RoleVersion;

static void
role_version_free (RoleVersion *rv)
{
  g_free (rv->role);
  g_free (rv);
}

/* The roles this check trusted, with their versions: every staged ROLE.json whose role the
 * trusted set holds (file names are the percent-encoded role names, as sb-updater writes). */
static GPtrArray *
trusted_versions (SbMetadataStage *stage, SbTrustedSet *ts, GError **error)
{
  g_autoptr (GHashTable) staged = sb_metadata_stage_list (stage, error);
  if (staged == NULL)
    return NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) role_version_free);
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, staged);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *name = key;
      if (!g_str_has_suffix (name, ".json"))
        continue;
      g_autofree char *encoded = g_strndup (name, strlen (name) - strlen (".json"));
      g_autofree char *role = g_uri_unescape_string (encoded, NULL);
      SbMetadata *md = role != NULL ? sb_trusted_set_get_role (ts, role) : NULL;
      if (md == NULL)
        continue;
      RoleVersion *rv = g_new0 (RoleVersion, 1);
      rv->role = g_steal_pointer (&role);
      rv->version = sb_metadata_get_version (md);
      rv->was_present = sb_metadata_stage_was_trusted (stage, name);
      g_ptr_array_add (out, rv);
    }
  return g_steal_pointer (&out);
}

/* Step 5 of the header: counters.json as the rollback reference of roles whose trusted file
 * was lost. */
static gboolean
check_counters (SbCounters *counters, const char *repo, GPtrArray *versions, SbTrustedSet *ts,
                GError **error)
{
  gboolean recovered = sb_trusted_set_fast_forward_recovery_needed (ts);
  for (guint i = 0; i < versions->len; i++)
    {
      RoleVersion *rv = versions->pdata[i];
      guint64 seen = 0;
      if (!sb_counters_get_version (counters, repo, rv->role, &seen)
          || (guint64) rv->version >= seen)
        continue;
      gboolean fast_forward = recovered
                              && (g_str_equal (rv->role, SB_ROLE_TIMESTAMP)
                                  || g_str_equal (rv->role, SB_ROLE_SNAPSHOT));
      if (!rv->was_present && !fast_forward)
        return sb_throw (error, SB_ERROR_ROLLBACK,
                         "%s repository: %s version %" G_GINT64_FORMAT " is below version %"
                         G_GUINT64_FORMAT " recorded in %s (rollback attack)",
                         repo, rv->role, rv->version, seen, SB_COUNTERS_FILE);
    }
  return TRUE;
}

/* Raises the recorded versions; never lowers one. A version below the record is only possible
 * after fast-forward recovery (TUF §5.3.11), and then the record stays. */
static gboolean
raise_counters (SbCounters *counters, const char *repo, GPtrArray *versions, GError **error)
{
  for (guint i = 0; i < versions->len; i++)
    {
      RoleVersion *rv = versions->pdata[i];
      guint64 seen = 0;
      if (sb_counters_get_version (counters, repo, rv->role, &seen)
          && (guint64) rv->version <= seen)
        continue;
      if (!sb_counters_set_version (counters, repo, rv->role, (guint64) rv->version, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
match_with_image (SbUptane *u, SbUptaneTarget *target, const SbUptanePrimary *primary,
                  GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SbTargetInfo) info = sb_updater_get_targetinfo (u->image, target->name, &local_error);
  if (info == NULL)
    {
      if (g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        return sb_throw (error, SB_ERROR_MISMATCH,
                         "Director target %s is not in the Image repository (%s) "
                         "(mix-and-match attack)",
                         target->name, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      prefix_refusal (error, "Image");
      return FALSE;
    }
  return sb_uptane_match_image_target (target, info, primary, error);
}

/* A custom.uri is chosen by metadata, signed with the Director's online keys: it must be http(s)
 * under the same plain-http rule as the configured bases, and never a local file or device
 * (sb-url-policy.h). Refused here, the whole update is refused before anything is fetched. */
static gboolean
check_target_uri (SbUptane *u, const SbUptaneTarget *target, GError **error)
{
  if (target->uri == NULL
      || sb_url_policy_check (target->uri, SB_URL_FROM_METADATA, u->config->allow_http, NULL,
                              NULL, error))
    return TRUE;
  g_prefix_error (error, "target %s: custom.uri: ", target->name);
  return FALSE;
}

static SbUptaneUpdate *
verify (SbUptane *u, gint64 reference_time, GError **error)
{
  const char *state_dir = u->config->state_dir;
  g_autoptr (SbCounters) counters = sb_counters_load (state_dir, error);
  if (counters == NULL)
    return NULL;
  SbUptanePrimary primary = {
    .ecu_serial = sb_identity_get_ecu_serial (u->identity),
    .hardware_id = sb_identity_get_hardware_id (u->identity),
    .vehicle_id = sb_identity_get_vehicle_id (u->identity),
    .ota_ce_compat = u->config->ota_ce_compat,
    .committed_release_counter = sb_counters_get_rollback_counter (counters),
  };

  /* Uptane §5.4.4.2 steps 2 to 5: the Director. */
  g_autoptr (SbMetadataStage) director_stage = open_stage (u, SB_UPTANE_DIRECTOR, error);
  if (director_stage == NULL)
    return NULL;
  u->director = new_updater (u, sb_metadata_stage_get_path (director_stage), TRUE,
                             reference_time, error);
  if (u->director == NULL || !sb_updater_refresh (u->director, error))
    {
      prefix_refusal (error, "Director");
      return NULL;
    }
  SbTrustedSet *director_ts = sb_updater_get_trusted_set (u->director);
  SbMetadata *director_targets = sb_trusted_set_get_targets (director_ts);
  g_autoptr (SbUptaneUpdate) update = g_new0 (SbUptaneUpdate, 1);
  update->director_targets_version = sb_metadata_get_version (director_targets);
  update->targets = sb_uptane_check_director_targets (director_targets, &primary,
                                                      &update->correlation_id, error);
  if (update->targets == NULL)
    {
      g_prefix_error (error, "Director repository: ");
      return NULL;
    }

  /* Steps 6 to 10: the Image repository, only when there is something to match. */
  g_autoptr (SbMetadataStage) image_stage = NULL;
  if (update->targets->len > 0)
    {
      image_stage = open_stage (u, SB_UPTANE_IMAGE, error);
      if (image_stage == NULL)
        return NULL;
      u->image = new_updater (u, sb_metadata_stage_get_path (image_stage), FALSE, reference_time,
                              error);
      if (u->image == NULL || !sb_updater_refresh (u->image, error))
        {
          prefix_refusal (error, "Image");
          return NULL;
        }
      for (guint i = 0; i < update->targets->len; i++)
        if (!match_with_image (u, update->targets->pdata[i], &primary, error)
            || !check_target_uri (u, update->targets->pdata[i], error))
          return NULL;
    }

  g_autoptr (GPtrArray) director_versions = trusted_versions (director_stage, director_ts, error);
  if (director_versions == NULL
      || !check_counters (counters, SB_UPTANE_DIRECTOR, director_versions, director_ts, error))
    return NULL;
  g_autoptr (GPtrArray) image_versions = NULL;
  if (image_stage != NULL)
    {
      SbTrustedSet *image_ts = sb_updater_get_trusted_set (u->image);
      image_versions = trusted_versions (image_stage, image_ts, error);
      if (image_versions == NULL
          || !check_counters (counters, SB_UPTANE_IMAGE, image_versions, image_ts, error))
        return NULL;
    }

  /* Everything verified: the new metadata becomes the trusted state, and the versions are
   * recorded over a fresh read of counters.json, so that what another writer (the boot helper,
   * an install) changed meanwhile is kept. */
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (state_dir, error);
  if (lock == NULL || !sb_metadata_stage_commit (director_stage, error)
      || (image_stage != NULL && !sb_metadata_stage_commit (image_stage, error)))
    return NULL;
  g_autoptr (SbCounters) fresh = sb_counters_load (state_dir, error);
  if (fresh == NULL || !raise_counters (fresh, SB_UPTANE_DIRECTOR, director_versions, error)
      || (image_versions != NULL && !raise_counters (fresh, SB_UPTANE_IMAGE, image_versions, error))
      || !sb_counters_save (fresh, state_dir, error))
    return NULL;
  return g_steal_pointer (&update);
}

static void
remove_staging (SbUptane *u)
{
  static const char *const repos[] = { SB_UPTANE_DIRECTOR, SB_UPTANE_IMAGE };
  for (guint i = 0; i < G_N_ELEMENTS (repos); i++)
    {
      g_autofree char *path = staging_path (u, repos[i]);
      g_autoptr (GError) local_error = NULL;
      if (!sb_metadata_stage_discard (path, &local_error))
        g_warning ("%s", local_error->message);
    }
}

SbUptaneUpdate *
sb_uptane_check (SbUptane *u, GError **error)
{
  g_return_val_if_fail (u != NULL, NULL);

  g_clear_pointer (&u->director, sb_updater_free);
  g_clear_pointer (&u->image, sb_updater_free);
  g_clear_pointer (&u->clock_problem, g_free);

  if (!sb_durable_mkdir_p (u->metadata_root, 0755, error))
    return NULL;
  /* One check at a time per state directory (a daemon and a manual check): they share the
   * working copies. */
  g_autoptr (SbStateLock) check_lock = sb_state_lock_take (u->metadata_root, ".lock", TRUE, error);
  if (check_lock == NULL)
    return NULL;

  /* Read through libc, so that faketime and the like move it. */
  gint64 now = (gint64) time (NULL);
  gint64 build = sb_freshness_build_time ();
  const char *dirs[] = { u->director_dir, u->image_dir, NULL };
  u->clock_problem = sb_freshness_clock_problem (now, build, sb_freshness_newest_mtime (dirs));
  gint64 reference = u->reference_time != 0 ? u->reference_time
                                            : sb_freshness_reference_time (now, build);
  SbUptaneUpdate *update = verify (u, reference, error);
  if (update == NULL)
    {
      sb_freshness_annotate_error (error, u->clock_problem);
      /* A refused check leaves no trace; the updaters are of no use after it. */
      g_clear_pointer (&u->director, sb_updater_free);
      g_clear_pointer (&u->image, sb_updater_free);
    }
  remove_staging (u);
  return update;
}

gboolean
sb_uptane_send_manifest (SbUptane *u, const SbInstalledImage *installed, guint *out_reports_sent,
                         GError **error)
{
  return sb_manifest_sender_send (u->fetcher, u->identity, u->config->state_dir,
                                  u->config->director_url, installed, out_reports_sent, error);
}

void
sb_trusted_role_free (SbTrustedRole *role)
{
  if (role == NULL)
    return;
  g_free (role->role);
  g_free (role->problem);
  g_free (role);
}

static int
role_order (const char *role)
{
  static const char *const top[] = { SB_ROLE_ROOT, SB_ROLE_TIMESTAMP, SB_ROLE_SNAPSHOT,
                                     SB_ROLE_TARGETS };
  for (guint i = 0; i < G_N_ELEMENTS (top); i++)
    if (g_str_equal (role, top[i]))
      return (int) i;
  return G_N_ELEMENTS (top);
}

static int
compare_trusted_roles (gconstpointer a, gconstpointer b)
{
  const SbTrustedRole *ra = *(const SbTrustedRole *const *) a;
  const SbTrustedRole *rb = *(const SbTrustedRole *const *) b;
  int oa = role_order (ra->role), ob = role_order (rb->role);
  if (oa != ob)
    return oa - ob;
  return strcmp (ra->role, rb->role);
}

static SbMetadataType
role_type (const char *role)
{
  if (g_str_equal (role, SB_ROLE_ROOT))
    return SB_METADATA_ROOT;
  if (g_str_equal (role, SB_ROLE_TIMESTAMP))
    return SB_METADATA_TIMESTAMP;
  if (g_str_equal (role, SB_ROLE_SNAPSHOT))
    return SB_METADATA_SNAPSHOT;
  return SB_METADATA_TARGETS;
}

GPtrArray *
sb_uptane_list_trusted (const char *state_dir, const char *repo)
{
  g_autoptr (GPtrArray) out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sb_trusted_role_free);
  g_autofree char *dir = sb_uptane_metadata_dir (state_dir, repo);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return g_steal_pointer (&out);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".json") || name[0] == '.')
        continue;
      g_autofree char *encoded = g_strndup (name, strlen (name) - strlen (".json"));
      g_autofree char *role = g_uri_unescape_string (encoded, NULL);
      if (role == NULL)
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      SbTrustedRole *tr = g_new0 (SbTrustedRole, 1);
      tr->role = g_steal_pointer (&role);
      g_ptr_array_add (out, tr);

      g_autoptr (GError) local_error = NULL;
      g_autoptr (GBytes) data = sb_read_file (path, SB_UPDATER_TARGETS_MAX_LENGTH, &local_error);
      /* Only versions and expiry are read, from files verified before they were stored; the
       * OTA-CE reading also lists what an ota-ce-compat setup stored. */
      g_autoptr (SbMetadata) md =
          data != NULL ? sb_metadata_new_from_bytes_full (data, role_type (tr->role),
                                                          SB_METADATA_OTA_CE, &local_error)
                       : NULL;
      if (md == NULL)
        {
          tr->problem = g_strdup_printf ("%s: %s", path, local_error->message);
          continue;
        }
      tr->version = sb_metadata_get_version (md);
      tr->expires = sb_metadata_get_expires (md);
    }
  g_ptr_array_sort (out, compare_trusted_roles);
  return g_steal_pointer (&out);
}
