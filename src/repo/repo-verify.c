/* repo-verify.c: `verify`, the repository checked the way a client checks it.
 *
 * The published files go through SbTrustedSet, the same state machine clients use: from
 * 1.root.json through every root version (TUF §5.3), then timestamp, snapshot and targets
 * (§5.4 to §5.6) and every delegated role (§5.6.7), at the current time. Then every target file
 * is checked against its length and hashes, including the hash-named copies of consistent
 * snapshots (§5.7.3). For an Uptane pair, each Director target must match an Image target
 * (design.md §3).
 */
#include "config.h"

#include "repo-cli.h"
#include "repo-store.h"
#include "repo-expiry.h"
#include "repo-files.h"
#include "core/sb-delegation.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-file-hash.h"
#include "core/sb-json.h"
#include "core/sb-trusted-set.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  guint roots;
  guint delegated;
  guint targets;
  guint files;
} Counts;

static GBytes *
read_meta (const char *dir, const char *role, gint64 version, GError **error)
{
  g_autofree char *name = sb_repo_role_file_name (role, version);
  g_autofree char *path = g_build_filename (dir, "metadata", name, NULL);
  return sb_read_file (path, 512 * 1024 * 1024, error);
}

static gint64
meta_version (SbMetadata *md, const char *role)
{
  g_autofree char *file = g_strconcat (role, ".json", NULL);
  const SbMetaFile *meta = sb_metadata_get_meta (md, file);
  return meta != NULL ? meta->version : 0;
}

static gboolean
load_targets_role (const char *dir, SbTrustedSet *ts, const char *role, const char *delegator,
                   gboolean consistent, GError **error)
{
  gint64 version = consistent ? meta_version (sb_trusted_set_get_snapshot (ts), role) : 0;
  g_autoptr (GBytes) bytes = read_meta (dir, role, version, error);
  gboolean ok = bytes != NULL
                && (delegator == NULL ? sb_trusted_set_update_targets (ts, bytes, error)
                                      : sb_trusted_set_update_delegated_targets (ts, bytes, role,
                                                                                 delegator, error));
  if (!ok)
    g_prefix_error (error, "role %s: ", role);
  return ok;
}

/* Loads every role reachable from targets, breadth first. */
static gboolean
load_delegations (const char *dir, SbTrustedSet *ts, gboolean consistent, GPtrArray *loaded,
                  GError **error)
{
  for (guint i = 0; i < loaded->len; i++)
    {
      const char *delegator = loaded->pdata[i];
      SbMetadata *md = sb_trusted_set_get_role (ts, delegator);
      g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
      guint n = 0;
      const SbRole *const *roles = sb_metadata_get_delegated_roles (md, &n);
      for (guint r = 0; r < n; r++)
        g_ptr_array_add (children, g_strdup (roles[r]->name));
      const SbRole *succinct = sb_metadata_get_succinct_roles (md);
      if (succinct != NULL)
        for (guint64 b = 0; b < ((guint64)1 << succinct->bit_length); b++)
          g_ptr_array_add (children, sb_succinct_bin_name (succinct, (guint32)b));
      for (guint c = 0; c < children->len; c++)
        {
          const char *child = children->pdata[c];
          if (sb_trusted_set_get_role (ts, child) != NULL)
            continue;
          if (!load_targets_role (dir, ts, child, delegator, consistent, error))
            return FALSE;
          g_ptr_array_add (loaded, g_strdup (child));
        }
    }
  return TRUE;
}

static gboolean
check_file (const char *path, const SbTargetInfo *info, GError **error)
{
  guint algos = 0;
  if (!sb_target_info_get_hash_algos (info, &algos, error))
    return FALSE;
  g_autoptr (SbHasher) hasher = sb_hasher_new (algos);
  guint64 total = 0;
  if (!sb_hasher_update_file (hasher, path, G_MAXUINT64, &total, error))
    return FALSE;
  if (!sb_target_info_verify_hasher (info, total, hasher, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_ostree (const SbTargetInfo *info)
{
  return g_strcmp0 (sb_repo_string_member (info->custom, "targetFormat"), "OSTREE") == 0;
}

static gboolean
check_target_files (const char *dir, SbMetadata *md, gboolean consistent, Counts *counts,
                    GError **error)
{
  guint n = sb_metadata_get_n_targets (md);
  for (guint i = 0; i < n; i++)
    {
      const char *name = sb_metadata_get_target_path (md, i);
      g_autoptr (SbTargetInfo) info = sb_metadata_get_target (md, name);
      counts->targets++;
      if (info == NULL || is_ostree (info))
        continue;
      if (!sb_repo_check_target_name (name, error))
        return FALSE;
      g_autofree char *path = g_build_filename (dir, "targets", name, NULL);
      if (!check_file (path, info, error))
        return FALSE;
      counts->files++;
      if (!consistent)
        continue;
      struct stat plain;
      if (stat (path, &plain) != 0)
        return sb_throw_errno (error, SB_ERROR_IO, "%s", path);
      g_autofree char *parent = g_path_get_dirname (path);
      g_autofree char *base = g_path_get_basename (path);
      g_autoptr (GList) algos = json_object_get_members (info->hashes);
      for (GList *l = algos; l != NULL; l = l->next)
        {
          const char *hex = json_object_get_string_member (info->hashes, l->data);
          g_autofree char *hashed_name = g_strconcat (hex, ".", base, NULL);
          g_autofree char *hashed = g_build_filename (parent, hashed_name, NULL);
          struct stat st;
          if (stat (hashed, &st) != 0)
            return sb_throw_errno (error, sb_error_code_from_errno (errno, SB_ERROR_IO),
                                   "consistent snapshot copy of target %s", name);
          /* A hard link of the checked file needs no second read. */
          if ((st.st_ino != plain.st_ino || st.st_dev != plain.st_dev)
              && !check_file (hashed, info, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Verifies the repository at @dir; the trusted set holding everything is returned. */
static SbTrustedSet *
verify_repo (const char *dir, gint64 now, gboolean check_files, Counts *counts, GError **error)
{
  g_autoptr (GBytes) first = read_meta (dir, SB_ROLE_ROOT, 1, error);
  if (first == NULL)
    return NULL;
  g_autoptr (SbTrustedSet) ts = sb_trusted_set_new (first, now, error);
  if (ts == NULL)
    {
      g_prefix_error (error, "1.root.json: ");
      return NULL;
    }
  counts->roots = 1;
  for (gint64 v = 2;; v++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GBytes) next = read_meta (dir, SB_ROLE_ROOT, v, &local_error);
      if (next == NULL)
        {
          if (g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
            break;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (!sb_trusted_set_update_root (ts, next, error))
        {
          g_prefix_error (error, "%" G_GINT64_FORMAT ".root.json: ", v);
          return NULL;
        }
      counts->roots++;
    }
  g_autoptr (GBytes) root = read_meta (dir, SB_ROLE_ROOT, 0, error);
  if (root == NULL)
    return NULL;
  if (!g_bytes_equal (root, sb_metadata_get_bytes (sb_trusted_set_get_root (ts))))
    {
      sb_throw (error, SB_ERROR_VERSION_MISMATCH,
                "root.json is not the newest versioned root (%u.root.json)", counts->roots);
      return NULL;
    }

  gboolean consistent = sb_trusted_set_get_consistent_snapshot (ts);
  g_autoptr (GBytes) timestamp = read_meta (dir, SB_ROLE_TIMESTAMP, 0, error);
  if (timestamp == NULL || !sb_trusted_set_update_timestamp (ts, timestamp, NULL, error))
    {
      g_prefix_error (error, "timestamp: ");
      return NULL;
    }
  gint64 sv
      = consistent ? sb_metadata_get_snapshot_meta (sb_trusted_set_get_timestamp (ts))->version : 0;
  g_autoptr (GBytes) snapshot = read_meta (dir, SB_ROLE_SNAPSHOT, sv, error);
  if (snapshot == NULL || !sb_trusted_set_update_snapshot (ts, snapshot, FALSE, error))
    {
      g_prefix_error (error, "snapshot: ");
      return NULL;
    }
  if (!load_targets_role (dir, ts, SB_ROLE_TARGETS, NULL, consistent, error))
    return NULL;
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (loaded, g_strdup (SB_ROLE_TARGETS));
  if (!load_delegations (dir, ts, consistent, loaded, error))
    return NULL;
  counts->delegated = loaded->len - 1;

  for (guint i = 0; i < loaded->len; i++)
    {
      SbMetadata *md = sb_trusted_set_get_role (ts, loaded->pdata[i]);
      if (check_files)
        {
          if (!check_target_files (dir, md, consistent, counts, error))
            {
              g_prefix_error (error, "role %s: ", (const char *)loaded->pdata[i]);
              return NULL;
            }
        }
      else
        counts->targets += sb_metadata_get_n_targets (md);
    }
  return g_steal_pointer (&ts);
}

static gint64
release_counter (const SbTargetInfo *info)
{
  if (info->custom == NULL || !json_object_has_member (info->custom, "releaseCounter"))
    return -1;
  JsonNode *n = json_object_get_member (info->custom, "releaseCounter");
  return sb_json_node_is_int (n) ? json_node_get_int (n) : -2;
}

/* design.md §3: a Director target matches an Image target when name, length and every common hash
 * agree, the hardware ids are listed and the release counters agree. */
static gboolean
match_director_target (SbTrustedSet *image, const SbTargetInfo *d, GError **error)
{
  g_autoptr (SbTargetSearch) search = sb_target_search_new (image, d->path);
  const char *to_load = NULL, *delegator = NULL;
  g_autoptr (SbTargetInfo) i = NULL;
  if (!sb_target_search_next (search, &to_load, &delegator, &i, error))
    {
      g_prefix_error (error, "Director target %s has no Image repository target: ", d->path);
      return FALSE;
    }
  if (i == NULL)
    return sb_throw (error, SB_ERROR_MISMATCH, "Director target %s: Image role %s is not published",
                     d->path, to_load);
  if (i->length != d->length)
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s: length %" G_GINT64_FORMAT " differs from the Image "
                     "repository's %" G_GINT64_FORMAT,
                     d->path, d->length, i->length);
  guint common = 0;
  g_autoptr (GList) algos = json_object_get_members (d->hashes);
  for (GList *l = algos; l != NULL; l = l->next)
    {
      if (!json_object_has_member (i->hashes, l->data))
        continue;
      if (!sb_hex_digest_equal (json_object_get_string_member (d->hashes, l->data),
                                json_object_get_string_member (i->hashes, l->data)))
        return sb_throw (error, SB_ERROR_MISMATCH,
                         "Director target %s: %s differs from the Image repository's", d->path,
                         (const char *)l->data);
      common++;
    }
  if (common == 0)
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s shares no hash with the Image repository's", d->path);
  if (release_counter (d) != release_counter (i))
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s: release counter differs from the Image repository's",
                     d->path);
  JsonObject *ecus = sb_repo_object_member (d->custom, "ecuIdentifiers");
  JsonArray *hwids = sb_repo_array_member (i->custom, "hardwareIds");
  g_autoptr (GList) serials = ecus != NULL ? json_object_get_members (ecus) : NULL;
  if (serials == NULL)
    return sb_throw (error, SB_ERROR_PARSE, "Director target %s names no ECU", d->path);
  for (GList *l = serials; l != NULL; l = l->next)
    {
      const char *hw = sb_repo_string_member (sb_repo_object_member (ecus, l->data), "hardwareId");
      if (!sb_repo_array_has_string (hwids, hw))
        return sb_throw (error, SB_ERROR_BAD_HARDWARE_ID,
                         "Director target %s for ECU %s: the image is not released for "
                         "hardware id %s",
                         d->path, (const char *)l->data, hw != NULL ? hw : "(none)");
    }
  const char *df = sb_repo_string_member (d->custom, "targetFormat"),
             *ifmt = sb_repo_string_member (i->custom, "targetFormat");
  if (df != NULL && ifmt != NULL && strcmp (df, ifmt) != 0)
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s: format %s differs from the Image repository's %s",
                     d->path, df, ifmt);
  return TRUE;
}

static int
verify_exit (const GError *error)
{
  if (error->domain == SB_ERROR)
    switch ((SbErrorCode)error->code)
      {
      case SB_ERROR_PARSE:
      case SB_ERROR_BAD_TYPE:
      case SB_ERROR_SPEC_VERSION:
      case SB_ERROR_BAD_SIGNATURE:
      case SB_ERROR_THRESHOLD:
      case SB_ERROR_EXPIRED:
      case SB_ERROR_ROLLBACK:
      case SB_ERROR_VERSION_MISMATCH:
      case SB_ERROR_LENGTH_MISMATCH:
      case SB_ERROR_HASH_MISMATCH:
      case SB_ERROR_UNSAFE_PATH:
      case SB_ERROR_BAD_HARDWARE_ID:
      case SB_ERROR_MISMATCH:
      case SB_ERROR_REPLAY:
        return SB_REPO_EXIT_REFUSED;
      default:
        break;
      }
  return SB_REPO_EXIT_ERROR;
}

static void
print_ok (const char *dir, SbTrustedSet *ts, const Counts *c)
{
  printf ("ok %s: root v%" G_GINT64_FORMAT " (%u versions), timestamp v%" G_GINT64_FORMAT
          ", snapshot v%" G_GINT64_FORMAT ", targets v%" G_GINT64_FORMAT
          ", %u delegated roles, %u targets (%u files checked)\n",
          dir, sb_metadata_get_version (sb_trusted_set_get_root (ts)), c->roots,
          sb_metadata_get_version (sb_trusted_set_get_timestamp (ts)),
          sb_metadata_get_version (sb_trusted_set_get_snapshot (ts)),
          sb_metadata_get_version (sb_trusted_set_get_targets (ts)), c->delegated, c->targets,
          c->files);
}

int
sb_repo_cmd_verify (int argc, char **argv)
{
  g_autofree char *at = NULL;
  GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at,
      "Check expiry at this time instead of now (2030-01-01 or a duration from now, 30d)", "TIME" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "verify", "DIR",
      "Checks the published repository as a client would: the root chain from 1.root.json,\n"
      "timestamp, snapshot, targets and every delegated role, with signatures, thresholds,\n"
      "versions, lengths, hashes and expiry; then every target file (and its consistent\n"
      "snapshot copies). For an Uptane pair, also that each Director target matches an Image\n"
      "target. Exits 3 when the repository would be refused by clients.",
      NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "verify", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage ("verify", "expected one argument, the repository directory");

  g_autoptr (GError) error = NULL;
  gint64 now = sb_repo_now ();
  if (at != NULL && !sb_repo_parse_expiry (at, now, &now, &error))
    return sb_repo_cli_fail ("verify", error);

  const char *dir = argv[1];
  Counts c = { 0 };
  if (!sb_repo_dir_is_uptane (dir))
    {
      g_autoptr (SbRepo) repo = sb_repo_open (dir, &error);
      g_autoptr (SbTrustedSet) ts
          = repo != NULL ? verify_repo (dir, now, sb_repo_get_kind (repo) != SB_REPO_KIND_DIRECTOR,
                                        &c, &error)
                         : NULL;
      if (ts == NULL)
        {
          g_prefix_error (&error, "%s: ", dir);
          (void)sb_repo_cli_fail ("verify", error);
          return repo != NULL ? verify_exit (error) : SB_REPO_EXIT_ERROR;
        }
      print_ok (dir, ts, &c);
      return SB_REPO_EXIT_OK;
    }

  g_autofree char *image_dir = g_build_filename (dir, "image", NULL);
  g_autofree char *director_dir = g_build_filename (dir, "director", NULL);
  g_autoptr (SbTrustedSet) image = verify_repo (image_dir, now, TRUE, &c, &error);
  if (image == NULL)
    {
      g_prefix_error (&error, "%s: ", image_dir);
      (void)sb_repo_cli_fail ("verify", error);
      return verify_exit (error);
    }
  print_ok (image_dir, image, &c);
  memset (&c, 0, sizeof c);
  g_autoptr (SbTrustedSet) director = verify_repo (director_dir, now, FALSE, &c, &error);
  if (director == NULL)
    {
      g_prefix_error (&error, "%s: ", director_dir);
      (void)sb_repo_cli_fail ("verify", error);
      return verify_exit (error);
    }
  SbMetadata *dt = sb_trusted_set_get_targets (director);
  if (sb_metadata_has_delegations (dt))
    {
      sb_throw (&error, SB_ERROR_PARSE,
                "%s: the Director's targets delegate, which Uptane "
                "forbids",
                director_dir);
      (void)sb_repo_cli_fail ("verify", error);
      return verify_exit (error);
    }
  for (guint i = 0; i < sb_metadata_get_n_targets (dt); i++)
    {
      g_autoptr (SbTargetInfo) d = sb_metadata_get_target (dt, sb_metadata_get_target_path (dt, i));
      if (d != NULL && !match_director_target (image, d, &error))
        {
          (void)sb_repo_cli_fail ("verify", error);
          return verify_exit (error);
        }
    }
  JsonObject *custom = sb_repo_object_member (sb_metadata_get_signed (dt), "custom");
  if (sb_metadata_get_n_targets (dt) == 0
      && (custom == NULL || !json_object_has_member (custom, "vin")))
    g_printerr ("warning: %s: the Director's targets list no image and carry no custom.vin; "
                "clients refuse that as a possible replay unless in OTA-CE mode\n",
                director_dir);
  print_ok (director_dir, director, &c);
  printf ("ok %s: every Director target matches the Image repository\n", dir);
  return SB_REPO_EXIT_OK;
}
