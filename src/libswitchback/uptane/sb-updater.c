/* sb-updater.c: the TUF client workflow (TUF §5) with fetching and persisting around the
 * pure SbTrustedSet, after python-tuf's ngclient Updater. */
#include "config.h"

#include "uptane/sb-updater.h"

#include "core/sb-delegation.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-file-hash.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct _SbUpdater {
  SbUpdaterOptions opts;
  char *metadata_dir;
  char *metadata_url; /* with a trailing slash */
  char *targets_url;  /* with a trailing slash, or NULL */
  SbFetcher *fetcher; /* borrowed */
  GBytes *root_bytes; /* the local trusted root the set starts from */
  SbTrustedSet *ts;   /* created by refresh */
  gboolean refreshed;
};

void
sb_updater_options_init (SbUpdaterOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->root_max_length = SB_UPDATER_ROOT_MAX_LENGTH;
  opts->timestamp_max_length = SB_UPDATER_TIMESTAMP_MAX_LENGTH;
  opts->snapshot_max_length = SB_UPDATER_SNAPSHOT_MAX_LENGTH;
  opts->targets_max_length = SB_UPDATER_TARGETS_MAX_LENGTH;
  opts->prefix_targets_with_hash = TRUE;
}

static char *
with_trailing_slash (const char *url)
{
  if (url == NULL)
    return NULL;
  if (g_str_has_suffix (url, "/"))
    return g_strdup (url);
  return g_strconcat (url, "/", NULL);
}

/* Role names come from metadata: percent-encode every reserved character so that a name like
 * "../x" or "a/b" is one plain file name and one URL path segment (as python-tuf does). */
static char *
encode_role (const char *role)
{
  return g_uri_escape_string (role, NULL, FALSE);
}

static char *
role_file_path (SbUpdater *u, const char *role)
{
  g_autofree char *enc = encode_role (role);
  g_autofree char *name = g_strconcat (enc, ".json", NULL);
  return g_build_filename (u->metadata_dir, name, NULL);
}

SbUpdater *
sb_updater_new (const SbUpdaterOptions *opts, SbFetcher *fetcher, GError **error)
{
  g_return_val_if_fail (opts != NULL && opts->metadata_dir != NULL, NULL);
  g_return_val_if_fail (opts->metadata_url != NULL, NULL);
  g_return_val_if_fail (fetcher != NULL, NULL);

  g_autoptr (SbUpdater) u = g_new0 (SbUpdater, 1);
  u->opts = *opts;
  u->metadata_dir = g_strdup (opts->metadata_dir);
  u->metadata_url = with_trailing_slash (opts->metadata_url);
  u->targets_url = with_trailing_slash (opts->targets_url);
  u->opts.metadata_dir = u->metadata_dir;
  u->opts.metadata_url = u->metadata_url;
  u->opts.targets_url = u->targets_url;
  u->fetcher = fetcher;

  /* TUF §5.2: the locally trusted root is the anchor; it must at least verify against itself,
   * which the trusted set checks when the refresh starts. Reading it now reports a missing
   * root before any network traffic. */
  g_autofree char *root_path = role_file_path (u, SB_ROLE_ROOT);
  u->root_bytes = sb_read_file (root_path, u->opts.root_max_length, error);
  if (u->root_bytes == NULL)
    {
      g_prefix_error (error, "Loading the trusted root: ");
      return NULL;
    }
  return g_steal_pointer (&u);
}

void
sb_updater_free (SbUpdater *u)
{
  if (u == NULL)
    return;
  g_clear_pointer (&u->ts, sb_trusted_set_free);
  g_clear_pointer (&u->root_bytes, g_bytes_unref);
  g_free (u->metadata_dir);
  g_free (u->metadata_url);
  g_free (u->targets_url);
  g_free (u);
}

SbTrustedSet *
sb_updater_get_trusted_set (SbUpdater *u)
{
  return u->ts;
}

static GBytes *
download_metadata (SbUpdater *u, const char *role, gsize max_length, gint64 version,
                   GError **error)
{
  g_autofree char *enc = encode_role (role);
  g_autofree char *url = NULL;
  const char *dir = "";

  if (u->opts.delegations_subdir && !sb_role_is_top_level (role))
    dir = "delegations/";
  if (version > 0)
    url = g_strdup_printf ("%s%s%" G_GINT64_FORMAT ".%s.json", u->metadata_url, dir, version, enc);
  else
    url = g_strdup_printf ("%s%s%s.json", u->metadata_url, dir, enc);
  return sb_fetcher_get (u->fetcher, url, max_length, error);
}

static GBytes *
load_local (SbUpdater *u, const char *role, gsize max_length)
{
  g_autofree char *path = role_file_path (u, role);
  g_autoptr (GError) local_error = NULL;
  GBytes *b = sb_read_file (path, max_length, &local_error);
  if (b == NULL && !g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
    g_debug ("Ignoring local %s: %s", path, local_error->message);
  return b;
}

/* TUF §5: each file is written as soon as it is trusted, with exactly the verified bytes. */
static gboolean
persist (SbUpdater *u, const char *role, GBytes *data, GError **error)
{
  g_autofree char *path = role_file_path (u, role);
  if (!sb_durable_write_bytes (path, data, 0644, error))
    {
      g_prefix_error (error, "Storing trusted %s metadata: ", role);
      return FALSE;
    }
  return TRUE;
}

static gboolean
remove_local (SbUpdater *u, const char *role, GError **error)
{
  g_autofree char *path = role_file_path (u, role);
  return sb_durable_unlink (path, error);
}

/* What each step of the refresh is for, in plain words, for the errors a person reads: "Fetching
 * timestamp" alone means little to someone who has not read the TUF specification. */
#define STEP_ROOT "checking for a new root of trust"
#define STEP_TIMESTAMP "checking that the repository has something new"
#define STEP_SNAPSHOT "checking which versions of the metadata are current"
#define STEP_TARGETS "reading the list of images and their hashes"
#define STEP_DELEGATED "reading a delegated part of the list of images"

static const char *
targets_step (const char *role)
{
  return g_str_equal (role, SB_ROLE_TARGETS) ? STEP_TARGETS : STEP_DELEGATED;
}

/* TUF §5.3: fetch N+1.root.json until the repository has no newer one. */
static gboolean
load_root (SbUpdater *u, GError **error)
{
  gint64 lower = sb_metadata_get_version (sb_trusted_set_get_root (u->ts)) + 1;

  for (gint64 next = lower; next < lower + SB_MAX_ROOT_ROTATIONS; next++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GBytes) data =
          download_metadata (u, SB_ROLE_ROOT, u->opts.root_max_length, next, &local_error);
      if (data == NULL)
        {
          /* A missing N+1.root.json means the current root is the newest (TUF §5.3.3). */
          if (g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_ON_SERVER))
            return TRUE;
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Fetching root version %" G_GINT64_FORMAT " (" STEP_ROOT "): ",
                                      next);
          return FALSE;
        }
      if (!sb_trusted_set_update_root (u->ts, data, error))
        {
          g_prefix_error (error, "Root version %" G_GINT64_FORMAT " (" STEP_ROOT "): ", next);
          return FALSE;
        }
      if (!persist (u, SB_ROLE_ROOT, data, error))
        return FALSE;
    }
  return TRUE;
}

/* TUF §5.4, with the locally stored timestamp loaded first as the rollback reference. */
static gboolean
load_timestamp (SbUpdater *u, GError **error)
{
  g_autoptr (GBytes) local = load_local (u, SB_ROLE_TIMESTAMP, u->opts.timestamp_max_length);
  if (local != NULL)
    {
      g_autoptr (GError) local_error = NULL;
      if (!sb_trusted_set_update_timestamp (u->ts, local, NULL, &local_error))
        g_debug ("Local timestamp not valid as final: %s", local_error->message);
    }

  g_autoptr (GBytes) data =
      download_metadata (u, SB_ROLE_TIMESTAMP, u->opts.timestamp_max_length, 0, error);
  if (data == NULL)
    {
      g_prefix_error (error, "Fetching timestamp (" STEP_TIMESTAMP "): ");
      return FALSE;
    }
  gboolean unchanged = FALSE;
  if (!sb_trusted_set_update_timestamp (u->ts, data, &unchanged, error))
    {
      g_prefix_error (error, "Timestamp (" STEP_TIMESTAMP "): ");
      return FALSE;
    }
  if (unchanged)
    return TRUE;
  return persist (u, SB_ROLE_TIMESTAMP, data, error);
}

gsize
sb_updater_length_cap (gint64 listed, gsize fallback)
{
  if (listed < 0)
    return fallback;
  return (guint64) listed > (guint64) G_MAXSIZE ? G_MAXSIZE : (gsize) listed;
}

/* TUF §5.5: the local snapshot is used when it is still the one the timestamp lists. */
static gboolean
load_snapshot (SbUpdater *u, GError **error)
{
  SbMetadata *timestamp = sb_trusted_set_get_timestamp (u->ts);
  const SbMetaFile *meta = sb_metadata_get_snapshot_meta (timestamp);
  gsize max = sb_updater_length_cap (meta->length, u->opts.snapshot_max_length);

  /* The local copy is an older version than the one the timestamp describes, so its length
   * may differ: only the general cap applies to it. */
  g_autoptr (GBytes) local = load_local (u, SB_ROLE_SNAPSHOT, u->opts.snapshot_max_length);
  if (local != NULL)
    {
      g_autoptr (GError) local_error = NULL;
      if (sb_trusted_set_update_snapshot (u->ts, local, TRUE, &local_error))
        return TRUE;
      g_debug ("Local snapshot not valid as final: %s", local_error->message);
    }

  gint64 version = sb_trusted_set_get_consistent_snapshot (u->ts) ? meta->version : 0;
  g_autoptr (GBytes) data = download_metadata (u, SB_ROLE_SNAPSHOT, max, version, error);
  if (data == NULL)
    {
      g_prefix_error (error, "Fetching snapshot (" STEP_SNAPSHOT "): ");
      return FALSE;
    }
  if (!sb_trusted_set_update_snapshot (u->ts, data, FALSE, error))
    {
      g_prefix_error (error, "Snapshot (" STEP_SNAPSHOT "): ");
      return FALSE;
    }
  return persist (u, SB_ROLE_SNAPSHOT, data, error);
}

/* TUF §5.6: a targets role, from the local copy when the snapshot still lists that version. */
static gboolean
load_targets (SbUpdater *u, const char *role, const char *delegator, GError **error)
{
  if (sb_trusted_set_get_role (u->ts, role) != NULL)
    return TRUE;

  SbMetadata *snapshot = sb_trusted_set_get_snapshot (u->ts);
  g_autofree char *file = g_strconcat (role, ".json", NULL);
  const SbMetaFile *meta = sb_metadata_get_meta (snapshot, file);
  if (meta == NULL)
    return sb_throw (error, SB_ERROR_NOT_FOUND,
                     "Role %s is delegated by %s but not listed in snapshot", role, delegator);
  gsize max = sb_updater_length_cap (meta->length, u->opts.targets_max_length);

  g_autoptr (GBytes) local = load_local (u, role, u->opts.targets_max_length);
  if (local != NULL)
    {
      g_autoptr (GError) local_error = NULL;
      if (sb_trusted_set_update_delegated_targets (u->ts, local, role, delegator, &local_error))
        return TRUE;
      g_debug ("Local %s not valid: %s", role, local_error->message);
    }

  gint64 version = sb_trusted_set_get_consistent_snapshot (u->ts) ? meta->version : 0;
  g_autoptr (GBytes) data = download_metadata (u, role, max, version, error);
  if (data == NULL)
    {
      g_prefix_error (error, "Fetching %s (%s): ", role, targets_step (role));
      return FALSE;
    }
  if (!sb_trusted_set_update_delegated_targets (u->ts, data, role, delegator, error))
    {
      g_prefix_error (error, "Role %s (%s): ", role, targets_step (role));
      return FALSE;
    }
  return persist (u, role, data, error);
}

/* A repository without timestamp and snapshot (OTA-CE Director): targets straight from root,
 * with the local copy as the rollback reference. */
static gboolean
load_targets_without_snapshot (SbUpdater *u, GError **error)
{
  g_autoptr (GBytes) local = load_local (u, SB_ROLE_TARGETS, u->opts.targets_max_length);
  if (local != NULL)
    {
      g_autoptr (GError) local_error = NULL;
      if (!sb_trusted_set_update_targets_without_snapshot (u->ts, local, &local_error))
        g_debug ("Local targets not valid as final: %s", local_error->message);
    }
  g_autoptr (GBytes) data =
      download_metadata (u, SB_ROLE_TARGETS, u->opts.targets_max_length, 0, error);
  if (data == NULL)
    {
      g_prefix_error (error, "Fetching targets (" STEP_TARGETS "): ");
      return FALSE;
    }
  if (!sb_trusted_set_update_targets_without_snapshot (u->ts, data, error))
    {
      g_prefix_error (error, "Targets (" STEP_TARGETS "): ");
      return FALSE;
    }
  return persist (u, SB_ROLE_TARGETS, data, error);
}

gboolean
sb_updater_refresh (SbUpdater *u, GError **error)
{
  g_return_val_if_fail (!u->refreshed, FALSE);
  u->refreshed = TRUE;

  /* The reference time is fixed once per refresh (TUF §5.1); read through libc so that tools
   * like faketime can move it. */
  gint64 now = u->opts.reference_time != 0 ? u->opts.reference_time : (gint64) time (NULL);
  u->ts = sb_trusted_set_new_full (u->root_bytes, now,
                                   u->opts.ota_ce_metadata ? SB_METADATA_OTA_CE
                                                           : SB_METADATA_FLAGS_NONE,
                                   error);
  if (u->ts == NULL)
    {
      g_prefix_error (error, "Trusted root %s/root.json (the root of trust this ECU starts from): ",
                      u->metadata_dir);
      return FALSE;
    }
  if (!load_root (u, error))
    return FALSE;

  if (u->opts.without_snapshot)
    return load_targets_without_snapshot (u, error);

  /* TUF §5.3.11: after a timestamp or snapshot key rotation, the stored files signed with the
   * old keys must not hold back the recovered repository's versions. */
  if (sb_trusted_set_fast_forward_recovery_needed (u->ts))
    {
      if (sb_trusted_set_keys_rotated (u->ts, SB_ROLE_TIMESTAMP)
          && !remove_local (u, SB_ROLE_TIMESTAMP, error))
        return FALSE;
      if (!remove_local (u, SB_ROLE_SNAPSHOT, error))
        return FALSE;
    }

  if (!load_timestamp (u, error))
    return FALSE;
  if (!load_snapshot (u, error))
    return FALSE;
  return load_targets (u, SB_ROLE_TARGETS, SB_ROLE_ROOT, error);
}

SbTargetInfo *
sb_updater_get_targetinfo (SbUpdater *u, const char *target_path, GError **error)
{
  if (!u->refreshed && !sb_updater_refresh (u, error))
    return NULL;
  if (u->ts == NULL || sb_trusted_set_get_targets (u->ts) == NULL)
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "The metadata refresh did not complete");
      return NULL;
    }

  if (u->opts.without_snapshot)
    {
      SbTargetInfo *info = sb_metadata_get_target (sb_trusted_set_get_targets (u->ts),
                                                   target_path);
      if (info == NULL)
        sb_throw (error, SB_ERROR_NOT_FOUND, "Target %s is not listed in targets", target_path);
      return info;
    }

  g_autoptr (SbTargetSearch) search = sb_target_search_new (u->ts, target_path);
  for (;;)
    {
      const char *role = NULL, *delegator = NULL;
      SbTargetInfo *found = NULL;
      if (!sb_target_search_next (search, &role, &delegator, &found, error))
        {
          g_prefix_error (error, "Looking up target %s: ", target_path);
          return NULL;
        }
      if (found != NULL)
        return found;
      g_autofree char *role_copy = g_strdup (role);
      g_autofree char *delegator_copy = g_strdup (delegator);
      if (!load_targets (u, role_copy, delegator_copy, error))
        {
          g_prefix_error (error, "Looking up target %s: ", target_path);
          return NULL;
        }
    }
}

char *
sb_updater_target_file_name (const char *target_path, GError **error)
{
  if (target_path == NULL || *target_path == '\0' || strcmp (target_path, ".") == 0
      || strcmp (target_path, "..") == 0)
    {
      sb_throw (error, SB_ERROR_UNSAFE_PATH, "Target name \"%s\" cannot be a file name",
                target_path != NULL ? target_path : "");
      return NULL;
    }
  for (const char *p = target_path; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        sb_throw (error, SB_ERROR_UNSAFE_PATH,
                  "Target name contains control character 0x%02x", (guchar) *p);
        return NULL;
      }
  /* Everything but unreserved characters is escaped, "/" included: the name is one path
   * component inside the target directory, whatever the metadata says. */
  return g_uri_escape_string (target_path, NULL, FALSE);
}

static char *
escape_url_path (const char *path)
{
  g_auto (GStrv) segments = g_strsplit (path, "/", -1);
  for (char **s = segments; *s; s++)
    {
      char *escaped;
      /* "." and ".." segments would be collapsed by the URL parser into another path on the
       * server: encode them so the request names exactly this target. */
      if (strcmp (*s, ".") == 0)
        escaped = g_strdup ("%2E");
      else if (strcmp (*s, "..") == 0)
        escaped = g_strdup ("%2E%2E");
      else
        escaped = g_uri_escape_string (*s, "!$&'()*+,;=:@", FALSE);
      g_free (*s);
      *s = escaped;
    }
  return g_strjoinv ("/", segments);
}

char *
sb_updater_target_url (SbUpdater *u, const SbTargetInfo *info, const char *targets_url)
{
  g_autofree char *base = with_trailing_slash (targets_url != NULL ? targets_url : u->targets_url);
  g_autofree char *path = NULL;

  /* TUF §5.7.3: with consistent snapshots the target is fetched as HASH.NAME, using the first
   * hash the metadata lists. */
  if (u->ts != NULL && sb_trusted_set_get_consistent_snapshot (u->ts)
      && u->opts.prefix_targets_with_hash)
    {
      g_autoptr (GList) members = json_object_get_members (info->hashes);
      const char *first = json_object_get_string_member (info->hashes, members->data);
      const char *slash = strrchr (info->path, '/');
      if (slash != NULL)
        path = g_strdup_printf ("%.*s/%s.%s", (int) (slash - info->path), info->path, first,
                                slash + 1);
      else
        path = g_strdup_printf ("%s.%s", first, info->path);
    }
  else
    path = g_strdup (info->path);

  g_autofree char *escaped = escape_url_path (path);
  return g_strconcat (base != NULL ? base : "", escaped, NULL);
}

static gboolean
file_matches (const SbTargetInfo *info, const char *path, GError **error)
{
  guint algos = 0;
  if (!sb_target_info_get_hash_algos (info, &algos, error))
    return FALSE;
  g_autoptr (SbHasher) hasher = sb_hasher_new (algos);
  g_autoptr (GError) local_error = NULL;
  guint64 total = 0;
  /* A missing, unreadable, longer or different file is simply not a cached copy. */
  return sb_hasher_update_file (hasher, path, (guint64) info->length, &total, &local_error)
         && sb_target_info_verify_hasher (info, total, hasher, &local_error);
}

char *
sb_updater_find_cached_target (SbUpdater *u, const SbTargetInfo *info, const char *target_dir,
                               GError **error)
{
  g_autofree char *name = sb_updater_target_file_name (info->path, error);
  if (name == NULL)
    return NULL;
  g_autofree char *path = g_build_filename (target_dir, name, NULL);
  if (!file_matches (info, path, error))
    return NULL;
  return g_steal_pointer (&path);
}

typedef struct {
  int fd;
  const char *path;
  SbHasher *hasher;
  guint64 written;
} DownloadSink;

static gboolean
download_sink (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  DownloadSink *s = user_data;
  sb_hasher_update (s->hasher, data, len);
  while (len > 0)
    {
      ssize_t n = write (s->fd, data, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return sb_throw_errno (error, SB_ERROR_IO, "Writing %s", s->path);
        }
      data += n;
      len -= (gsize) n;
      s->written += (guint64) n;
    }
  return TRUE;
}

char *
sb_updater_download_target (SbUpdater *u, const SbTargetInfo *info, const char *target_dir,
                            const char *targets_url, GError **error)
{
  g_autofree char *name = sb_updater_target_file_name (info->path, error);
  if (name == NULL)
    return NULL;
  guint algos = 0;
  if (!sb_target_info_get_hash_algos (info, &algos, error))
    return NULL;
  if (targets_url == NULL && u->targets_url == NULL)
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "No targets URL to download %s from",
                info->path);
      return NULL;
    }
  g_autofree char *url = sb_updater_target_url (u, info, targets_url);
  g_autofree char *final_path = g_build_filename (target_dir, name, NULL);
  g_autofree char *tmp_path = g_build_filename (target_dir, ".download.XXXXXX", NULL);

  int fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      sb_throw_errno (error, SB_ERROR_IO, "Creating a temporary file in %s", target_dir);
      return NULL;
    }
  g_autoptr (SbHasher) hasher = sb_hasher_new (algos);
  DownloadSink sink = { fd, tmp_path, hasher, 0 };
  SbFetchResult result = { 0 };

  /* The metadata's length is the cap: a server sending more is cut off (endless data). */
  gboolean ok = sb_fetcher_stream (u->fetcher, url, 0, (guint64) info->length, download_sink,
                                   &sink, &result, error);
  if (ok && !sb_target_info_verify_hasher (info, sink.written, hasher, error))
    {
      g_prefix_error (error, "Target %s from %s: ", info->path, url);
      ok = FALSE;
    }
  else if (!ok)
    g_prefix_error (error, "Downloading target %s: ", info->path);
  if (ok && fsync (fd) < 0)
    ok = sb_throw_errno (error, SB_ERROR_IO, "fsync of %s", tmp_path);
  if (close (fd) < 0 && ok)
    ok = sb_throw_errno (error, SB_ERROR_IO, "Closing %s", tmp_path);
  if (ok && rename (tmp_path, final_path) < 0)
    ok = sb_throw_errno (error, SB_ERROR_IO, "Moving the download to %s", final_path);
  if (!ok)
    {
      (void) unlink (tmp_path);
      return NULL;
    }
  if (!sb_fsync_dir (target_dir, error))
    return NULL;
  return g_steal_pointer (&final_path);
}

gboolean
sb_updater_init_metadata_dir (const char *metadata_dir, const char *root_path, GError **error)
{
  /* The same cap as every later load of root.json (sb_updater_new, the root chain): a root
   * accepted here but refused at the next refresh would leave the device unable to update. */
  g_autoptr (GBytes) root = sb_read_file (root_path, SB_UPDATER_ROOT_MAX_LENGTH, error);
  if (root == NULL)
    return FALSE;
  if (!sb_durable_mkdir_p (metadata_dir, 0755, error))
    return FALSE;
  g_autofree char *dest = g_build_filename (metadata_dir, "root.json", NULL);
  return sb_durable_write_bytes (dest, root, 0644, error);
}
