/* sb-trusted-set.c: the TUF client workflow (TUF §5.2 to §5.6) as a pure state machine.
 *
 * Each update function performs the checks of its section of the specification in order,
 * each commented with its step. Where python-tuf's ngclient keeps "intermediate" metadata
 * (see sb-trusted-set.h), the checks that only decide whether a file is final run after it
 * is stored, so that it can still protect the next file of its role against rollback.
 */
#include "config.h"

#include "core/sb-trusted-set.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

struct _SbTrustedSet {
  gint64 reference_time;
  SbMetadataFlags flags; /* how every file of this repository is read */
  /* The root this update started from, to tell whether keys rotated (TUF §5.3.11). */
  SbMetadata *initial_root;
  SbMetadata *root;
  SbMetadata *timestamp;
  SbMetadata *snapshot;
  GHashTable *targets;    /* role name -> SbMetadata: "targets" and delegated roles */
  GHashTable *delegators; /* role name -> name of the role it was verified against */
};

static gboolean
throw_expired (GError **error, SbMetadata *md, const char *role, gint64 reference_time)
{
  g_autofree char *expires = sb_metadata_format_time (sb_metadata_get_expires (md));
  g_autofree char *now = sb_metadata_format_time (reference_time);
  return sb_throw (error, SB_ERROR_EXPIRED,
                   "%s version %" G_GINT64_FORMAT " expired at %s (update started at %s)", role,
                   sb_metadata_get_version (md), expires, now);
}

SbTrustedSet *
sb_trusted_set_new (GBytes *root_bytes, gint64 reference_time, GError **error)
{
  return sb_trusted_set_new_full (root_bytes, reference_time, SB_METADATA_FLAGS_NONE, error);
}

SbTrustedSet *
sb_trusted_set_new_full (GBytes *root_bytes, gint64 reference_time, SbMetadataFlags flags,
                         GError **error)
{
  g_return_val_if_fail (root_bytes != NULL, NULL);

  g_autoptr (SbMetadata) root =
      sb_metadata_new_from_bytes_full (root_bytes, SB_METADATA_ROOT, flags, error);
  if (root == NULL)
    {
      g_prefix_error (error, "trusted root: ");
      return NULL;
    }
  /* TUF §5.2: the trusted root is the source of all trust; it need only be signed by itself.
   * Its expiry does not matter yet: a newer root may follow (§5.3.10 checks the final one). */
  if (!sb_metadata_verify_delegate (root, SB_ROLE_ROOT, root, error))
    {
      g_prefix_error (error, "trusted root: ");
      return NULL;
    }

  SbTrustedSet *ts = g_new0 (SbTrustedSet, 1);
  ts->reference_time = reference_time;
  ts->flags = flags;
  ts->initial_root = sb_metadata_ref (root);
  ts->root = g_steal_pointer (&root);
  ts->targets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) sb_metadata_unref);
  ts->delegators = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return ts;
}

void
sb_trusted_set_free (SbTrustedSet *ts)
{
  if (ts == NULL)
    return;
  g_clear_pointer (&ts->initial_root, sb_metadata_unref);
  g_clear_pointer (&ts->root, sb_metadata_unref);
  g_clear_pointer (&ts->timestamp, sb_metadata_unref);
  g_clear_pointer (&ts->snapshot, sb_metadata_unref);
  g_clear_pointer (&ts->targets, g_hash_table_unref);
  g_clear_pointer (&ts->delegators, g_hash_table_unref);
  g_free (ts);
}

/* ---- TUF §5.3: root ---- */

gboolean
sb_trusted_set_update_root (SbTrustedSet *ts, GBytes *bytes, GError **error)
{
  if (ts->timestamp != NULL || g_hash_table_size (ts->targets) > 0)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "root cannot be updated after timestamp or targets were loaded");

  g_autoptr (SbMetadata) new_root =
      sb_metadata_new_from_bytes_full (bytes, SB_METADATA_ROOT, ts->flags, error);
  if (new_root == NULL)
    return FALSE;
  gint64 trusted_version = sb_metadata_get_version (ts->root);
  gint64 new_version = sb_metadata_get_version (new_root);

  /* TUF §5.3.4: signed by a threshold of the trusted root's root keys (continuity of trust) and
   * by a threshold of its own root keys (the new keys accept their role). */
  if (!sb_metadata_verify_delegate (ts->root, SB_ROLE_ROOT, new_root, error))
    {
      g_prefix_error (error,
                      "root version %" G_GINT64_FORMAT ", keys of trusted version %" G_GINT64_FORMAT
                      ": ",
                      new_version, trusted_version);
      return FALSE;
    }
  if (!sb_metadata_verify_delegate (new_root, SB_ROLE_ROOT, new_root, error))
    {
      g_prefix_error (error, "root version %" G_GINT64_FORMAT ", its own keys: ", new_version);
      return FALSE;
    }

  /* TUF §5.3.5: exactly the next version. Lower (or the same) is a rollback; a skipped version
   * would break the chain of signatures that §5.3.4 checks link by link. */
  if (new_version <= trusted_version)
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "root version %" G_GINT64_FORMAT
                     " is not newer than trusted version %" G_GINT64_FORMAT,
                     new_version, trusted_version);
  if (new_version != trusted_version + 1)
    return sb_throw (error, SB_ERROR_VERSION_MISMATCH,
                     "root version %" G_GINT64_FORMAT
                     " skips versions after trusted version %" G_GINT64_FORMAT,
                     new_version, trusted_version);

  /* TUF §5.3.6: its expiry does not matter yet. §5.3.7: it becomes the trusted root. */
  g_clear_pointer (&ts->root, sb_metadata_unref);
  ts->root = g_steal_pointer (&new_root);
  return TRUE;
}

static gboolean
role_keys_equal (SbMetadata *a, SbMetadata *b, const char *role_name)
{
  const SbRole *ra = sb_metadata_get_role (a, role_name);
  const SbRole *rb = sb_metadata_get_role (b, role_name);
  if (ra->threshold != rb->threshold || ra->n_keyids != rb->n_keyids)
    return FALSE;
  JsonObject *keys_a = json_object_get_object_member (sb_metadata_get_signed (a), "keys");
  JsonObject *keys_b = json_object_get_object_member (sb_metadata_get_signed (b), "keys");
  for (guint i = 0; i < ra->n_keyids; i++)
    {
      const char *keyid = ra->keyids[i];
      if (!g_strv_contains ((const char *const *) rb->keyids, keyid))
        return FALSE;
      /* The same key id must also name the same key. */
      JsonNode *ka = json_object_get_member (keys_a, keyid);
      JsonNode *kb = json_object_get_member (keys_b, keyid);
      if ((ka == NULL) != (kb == NULL) || (ka != NULL && !json_node_equal (ka, kb)))
        return FALSE;
    }
  return TRUE;
}

gboolean
sb_trusted_set_keys_rotated (SbTrustedSet *ts, const char *role)
{
  g_return_val_if_fail (
      g_strcmp0 (role, SB_ROLE_TIMESTAMP) == 0 || g_strcmp0 (role, SB_ROLE_SNAPSHOT) == 0, FALSE);
  return !role_keys_equal (ts->initial_root, ts->root, role);
}

gboolean
sb_trusted_set_fast_forward_recovery_needed (SbTrustedSet *ts)
{
  /* TUF §5.3.11: a rotation of either role invalidates both stored files. */
  return sb_trusted_set_keys_rotated (ts, SB_ROLE_TIMESTAMP)
         || sb_trusted_set_keys_rotated (ts, SB_ROLE_SNAPSHOT);
}

/* TUF §5.3.10: the final root must not be expired. It is final once anything else loads. */
static gboolean
check_final_root (SbTrustedSet *ts, GError **error)
{
  if (sb_metadata_is_expired (ts->root, ts->reference_time))
    return throw_expired (error, ts->root, "final root", ts->reference_time);
  return TRUE;
}

/* ---- TUF §5.4: timestamp ---- */

gboolean
sb_trusted_set_update_timestamp (SbTrustedSet *ts, GBytes *bytes, gboolean *out_unchanged,
                                 GError **error)
{
  if (out_unchanged)
    *out_unchanged = FALSE;
  if (ts->snapshot != NULL || g_hash_table_size (ts->targets) > 0)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "timestamp cannot be updated after snapshot or targets were loaded");

  if (!check_final_root (ts, error))
    return FALSE;

  g_autoptr (SbMetadata) new_ts =
      sb_metadata_new_from_bytes_full (bytes, SB_METADATA_TIMESTAMP, ts->flags, error);
  if (new_ts == NULL)
    return FALSE;

  /* TUF §5.4.2: signed by a threshold of root's timestamp keys. */
  if (!sb_metadata_verify_delegate (ts->root, SB_ROLE_TIMESTAMP, new_ts, error))
    return FALSE;

  if (ts->timestamp != NULL)
    {
      gint64 old_version = sb_metadata_get_version (ts->timestamp);
      gint64 new_version = sb_metadata_get_version (new_ts);
      /* TUF §5.4.3.1: the version must not go down ... */
      if (new_version < old_version)
        return sb_throw (error, SB_ERROR_ROLLBACK,
                         "timestamp version %" G_GINT64_FORMAT
                         " is older than trusted version %" G_GINT64_FORMAT,
                         new_version, old_version);
      /* ... and the same version means nothing changed: keep the trusted one. */
      if (new_version == old_version)
        {
          if (out_unchanged)
            *out_unchanged = TRUE;
          if (sb_metadata_is_expired (ts->timestamp, ts->reference_time))
            return throw_expired (error, ts->timestamp, "timestamp", ts->reference_time);
          return TRUE;
        }
      /* TUF §5.4.3.2: nor may the snapshot version it lists. */
      gint64 old_snap = sb_metadata_get_snapshot_meta (ts->timestamp)->version;
      gint64 new_snap = sb_metadata_get_snapshot_meta (new_ts)->version;
      if (new_snap < old_snap)
        return sb_throw (error, SB_ERROR_ROLLBACK,
                         "timestamp version %" G_GINT64_FORMAT
                         " lists snapshot version %" G_GINT64_FORMAT
                         ", older than trusted snapshot version %" G_GINT64_FORMAT,
                         new_version, new_snap, old_snap);
    }

  g_clear_pointer (&ts->timestamp, sb_metadata_unref);
  ts->timestamp = g_steal_pointer (&new_ts);

  /* TUF §5.4.4: a freeze attack replays an old, valid timestamp. An expired one stays loaded
   * as intermediate: it still guards the next timestamp against rollback. */
  if (sb_metadata_is_expired (ts->timestamp, ts->reference_time))
    return throw_expired (error, ts->timestamp, "timestamp", ts->reference_time);
  return TRUE;
}

/* ---- TUF §5.5: snapshot ---- */

static gboolean
check_final_timestamp (SbTrustedSet *ts, GError **error)
{
  if (ts->timestamp == NULL)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "no timestamp is loaded");
  /* TUF §5.4.4, for an intermediate timestamp. */
  if (sb_metadata_is_expired (ts->timestamp, ts->reference_time))
    return throw_expired (error, ts->timestamp, "timestamp", ts->reference_time);
  return TRUE;
}

gboolean
sb_trusted_set_update_snapshot (SbTrustedSet *ts, GBytes *bytes, gboolean trusted_local,
                                GError **error)
{
  if (g_hash_table_size (ts->targets) > 0)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "snapshot cannot be updated after targets were loaded");
  if (!check_final_timestamp (ts, error))
    return FALSE;

  const SbMetaFile *meta = sb_metadata_get_snapshot_meta (ts->timestamp);

  /* TUF §5.5.2: length and hashes as the timestamp lists them (mix-and-match). The locally
   * stored copy was checked when it was new; the current timestamp may describe a newer one. */
  if (!trusted_local && !sb_meta_file_verify (meta, "snapshot.json", bytes, error))
    return FALSE;

  g_autoptr (SbMetadata) new_snap =
      sb_metadata_new_from_bytes_full (bytes, SB_METADATA_SNAPSHOT, ts->flags, error);
  if (new_snap == NULL)
    return FALSE;

  /* TUF §5.5.3: signed by a threshold of root's snapshot keys. */
  if (!sb_metadata_verify_delegate (ts->root, SB_ROLE_SNAPSHOT, new_snap, error))
    return FALSE;

  /* TUF §5.5.5 (checked before §5.5.4, which only decides whether the file is final): every
   * targets file the trusted snapshot lists must still be listed, at no lower version. */
  if (ts->snapshot != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;
      g_hash_table_iter_init (&iter, sb_metadata_get_meta_files (ts->snapshot));
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          const char *filename = key;
          const SbMetaFile *old_meta = value;
          const SbMetaFile *new_meta = sb_metadata_get_meta (new_snap, filename);
          if (new_meta == NULL)
            return sb_throw (error, SB_ERROR_ROLLBACK,
                             "snapshot version %" G_GINT64_FORMAT " no longer lists %s",
                             sb_metadata_get_version (new_snap), filename);
          if (new_meta->version < old_meta->version)
            return sb_throw (
                error, SB_ERROR_ROLLBACK,
                "snapshot version %" G_GINT64_FORMAT " lists %s version %" G_GINT64_FORMAT
                ", older than trusted version %" G_GINT64_FORMAT,
                sb_metadata_get_version (new_snap), filename, new_meta->version, old_meta->version);
        }
    }

  g_clear_pointer (&ts->snapshot, sb_metadata_unref);
  ts->snapshot = g_steal_pointer (&new_snap);

  /* TUF §5.5.4 and §5.5.6: whether this snapshot is final. If not, it stays as intermediate. */
  if (sb_metadata_get_version (ts->snapshot) != meta->version)
    return sb_throw (error, SB_ERROR_VERSION_MISMATCH,
                     "snapshot version %" G_GINT64_FORMAT " is not version %" G_GINT64_FORMAT
                     " that the timestamp lists",
                     sb_metadata_get_version (ts->snapshot), meta->version);
  if (sb_metadata_is_expired (ts->snapshot, ts->reference_time))
    return throw_expired (error, ts->snapshot, "snapshot", ts->reference_time);
  return TRUE;
}

/* ---- TUF §5.6: targets ---- */

static gboolean
check_final_snapshot (SbTrustedSet *ts, GError **error)
{
  if (ts->snapshot == NULL)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "no snapshot is loaded");
  if (!check_final_timestamp (ts, error))
    return FALSE;
  /* TUF §5.5.4 and §5.5.6, for an intermediate snapshot. */
  gint64 listed = sb_metadata_get_snapshot_meta (ts->timestamp)->version;
  if (sb_metadata_get_version (ts->snapshot) != listed)
    return sb_throw (error, SB_ERROR_VERSION_MISMATCH,
                     "snapshot version %" G_GINT64_FORMAT " is not version %" G_GINT64_FORMAT
                     " that the timestamp lists",
                     sb_metadata_get_version (ts->snapshot), listed);
  if (sb_metadata_is_expired (ts->snapshot, ts->reference_time))
    return throw_expired (error, ts->snapshot, "snapshot", ts->reference_time);
  return TRUE;
}

gboolean
sb_trusted_set_update_targets (SbTrustedSet *ts, GBytes *bytes, GError **error)
{
  return sb_trusted_set_update_delegated_targets (ts, bytes, SB_ROLE_TARGETS, SB_ROLE_ROOT, error);
}

/* The metadata that may delegate @role: root for "targets", a loaded targets role otherwise. */
static SbMetadata *
get_delegator (SbTrustedSet *ts, const char *role, const char *delegator_role, GError **error)
{
  if (strcmp (role, SB_ROLE_TARGETS) == 0)
    {
      if (strcmp (delegator_role, SB_ROLE_ROOT) != 0)
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "targets is delegated by root, not %s",
                    delegator_role);
          return NULL;
        }
      return ts->root;
    }
  if (sb_role_is_top_level (role))
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "%s is not a targets role", role);
      return NULL;
    }
  SbMetadata *delegator = g_hash_table_lookup (ts->targets, delegator_role);
  if (delegator == NULL)
    sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "delegator %s of role %s is not loaded",
              delegator_role, role);
  return delegator;
}

gboolean
sb_trusted_set_update_delegated_targets (SbTrustedSet *ts, GBytes *bytes, const char *role,
                                         const char *delegator_role, GError **error)
{
  g_return_val_if_fail (role != NULL && delegator_role != NULL, FALSE);

  /* A targets role can only be checked against a final snapshot. */
  if (!check_final_snapshot (ts, error))
    return FALSE;
  SbMetadata *delegator = get_delegator (ts, role, delegator_role, error);
  if (delegator == NULL)
    return FALSE;

  g_autofree char *filename = g_strconcat (role, ".json", NULL);
  const SbMetaFile *meta = sb_metadata_get_meta (ts->snapshot, filename);
  if (meta == NULL)
    return sb_throw (error, SB_ERROR_NOT_FOUND, "snapshot does not list %s", filename);

  /* TUF §5.6.2: length and hashes as the snapshot lists them (mix-and-match). */
  if (!sb_meta_file_verify (meta, filename, bytes, error))
    return FALSE;

  g_autoptr (SbMetadata) new_targets =
      sb_metadata_new_from_bytes_full (bytes, SB_METADATA_TARGETS, ts->flags, error);
  if (new_targets == NULL)
    {
      g_prefix_error (error, "%s: ", filename);
      return FALSE;
    }

  /* TUF §5.6.3: signed by a threshold of the keys the delegator gives this role. */
  if (!sb_metadata_verify_delegate (delegator, role, new_targets, error))
    {
      g_prefix_error (error, "%s (delegated by %s): ", filename, delegator_role);
      return FALSE;
    }

  /* TUF §5.6.4: the version the snapshot lists (mix-and-match). Together with snapshot's own
   * rollback check (§5.5.5) this also refuses a targets rollback. */
  gint64 version = sb_metadata_get_version (new_targets);
  if (version != meta->version)
    return sb_throw (error, SB_ERROR_VERSION_MISMATCH,
                     "%s version %" G_GINT64_FORMAT " is not version %" G_GINT64_FORMAT
                     " that the snapshot lists",
                     filename, version, meta->version);

  /* TUF §5.6.5: freeze attack. */
  if (sb_metadata_is_expired (new_targets, ts->reference_time))
    return throw_expired (error, new_targets, role, ts->reference_time);

  g_hash_table_replace (ts->targets, g_strdup (role), g_steal_pointer (&new_targets));
  g_hash_table_replace (ts->delegators, g_strdup (role), g_strdup (delegator_role));
  return TRUE;
}

gboolean
sb_trusted_set_update_targets_without_snapshot (SbTrustedSet *ts, GBytes *bytes, GError **error)
{
  if (ts->timestamp != NULL || ts->snapshot != NULL)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "targets without snapshot cannot follow a timestamp or snapshot");
  if (!check_final_root (ts, error))
    return FALSE;

  g_autoptr (SbMetadata) new_targets =
      sb_metadata_new_from_bytes_full (bytes, SB_METADATA_TARGETS, ts->flags, error);
  if (new_targets == NULL)
    return FALSE;

  /* TUF §5.6.3: signed by a threshold of root's targets keys. */
  if (!sb_metadata_verify_delegate (ts->root, SB_ROLE_TARGETS, new_targets, error))
    return FALSE;

  /* With no snapshot to vouch for versions (§5.6.4), the stored copy is the only guard
   * against a rollback. */
  SbMetadata *old = g_hash_table_lookup (ts->targets, SB_ROLE_TARGETS);
  if (old != NULL && sb_metadata_get_version (new_targets) < sb_metadata_get_version (old))
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "targets version %" G_GINT64_FORMAT
                     " is older than trusted version %" G_GINT64_FORMAT,
                     sb_metadata_get_version (new_targets), sb_metadata_get_version (old));

  SbMetadata *stored = new_targets;
  g_hash_table_replace (ts->targets, g_strdup (SB_ROLE_TARGETS), g_steal_pointer (&new_targets));
  g_hash_table_replace (ts->delegators, g_strdup (SB_ROLE_TARGETS), g_strdup (SB_ROLE_ROOT));

  /* TUF §5.6.5; an expired copy stays as intermediate for the next one's rollback check. */
  if (sb_metadata_is_expired (stored, ts->reference_time))
    return throw_expired (error, stored, SB_ROLE_TARGETS, ts->reference_time);
  return TRUE;
}

/* ---- accessors ---- */

SbMetadata *
sb_trusted_set_get_root (SbTrustedSet *ts)
{
  return ts->root;
}

SbMetadata *
sb_trusted_set_get_timestamp (SbTrustedSet *ts)
{
  return ts->timestamp;
}

SbMetadata *
sb_trusted_set_get_snapshot (SbTrustedSet *ts)
{
  return ts->snapshot;
}

SbMetadata *
sb_trusted_set_get_targets (SbTrustedSet *ts)
{
  return g_hash_table_lookup (ts->targets, SB_ROLE_TARGETS);
}

SbMetadata *
sb_trusted_set_get_role (SbTrustedSet *ts, const char *role)
{
  if (g_strcmp0 (role, SB_ROLE_ROOT) == 0)
    return ts->root;
  if (g_strcmp0 (role, SB_ROLE_TIMESTAMP) == 0)
    return ts->timestamp;
  if (g_strcmp0 (role, SB_ROLE_SNAPSHOT) == 0)
    return ts->snapshot;
  return g_hash_table_lookup (ts->targets, role);
}

const char *
sb_trusted_set_get_delegator (SbTrustedSet *ts, const char *role)
{
  if (sb_role_is_top_level (role) && g_strcmp0 (role, SB_ROLE_TARGETS) != 0)
    return sb_trusted_set_get_role (ts, role) ? SB_ROLE_ROOT : NULL;
  return g_hash_table_lookup (ts->delegators, role);
}

gboolean
sb_trusted_set_get_consistent_snapshot (SbTrustedSet *ts)
{
  return sb_metadata_get_consistent_snapshot (ts->root);
}

gint64
sb_trusted_set_get_reference_time (SbTrustedSet *ts)
{
  return ts->reference_time;
}
