/* repo-publish.c: signing and publishing new metadata versions (see repo-publish.h). */
#include "config.h"

#include "repo-publish.h"

#include "repo-roles.h"
#include "repo-files.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-key-file.h"
#include "core/sb-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

JsonNode *
sb_repo_sign (JsonObject *signed_obj, GPtrArray *signers, GError **error)
{
  JsonNode *signed_node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (signed_node, signed_obj);
  g_autoptr (JsonNode) owned = signed_node;
  g_autoptr (GBytes) canonical = sb_json_canonical (signed_node, error);
  if (canonical == NULL)
    return NULL;

  JsonArray *sigs = json_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < signers->len; i++)
    {
      SbSigner *signer = signers->pdata[i];
      const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));
      if (!g_hash_table_add (seen, (gpointer)keyid))
        continue;
      gsize len;
      const guint8 *data = g_bytes_get_data (canonical, &len);
      g_autofree char *sig = sb_signer_sign (signer, data, len, error);
      if (sig == NULL)
        {
          json_array_unref (sigs);
          return NULL;
        }
      JsonObject *s = json_object_new ();
      json_object_set_string_member (s, "keyid", keyid);
      json_object_set_string_member (s, "sig", sig);
      json_array_add_object_element (sigs, s);
    }
  JsonObject *env = json_object_new ();
  json_object_set_array_member (env, "signatures", sigs);
  json_object_set_member (env, "signed", json_node_ref (signed_node));
  JsonNode *out = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (out, env);
  return out;
}

GBytes *
sb_repo_encode (JsonNode *envelope)
{
  char *text = sb_json_pretty (envelope);
  return g_bytes_new_take (text, strlen (text));
}

/* {"version": V, "length": L, "hashes": {"sha256": H}} for a METAFILES entry (TUF §4.4). */
static JsonObject *
meta_entry (gint64 version, GBytes *bytes)
{
  JsonObject *e = json_object_new ();
  json_object_set_int_member (e, "version", version);
  json_object_set_int_member (e, "length", (gint64)g_bytes_get_size (bytes));
  JsonObject *hashes = json_object_new ();
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);
  g_autofree char *h = sb_sha256_hex (data, len);
  json_object_set_string_member (hashes, "sha256", h);
  json_object_set_object_member (e, "hashes", hashes);
  return e;
}

typedef struct
{
  char *role;
  JsonObject *signed_obj; /* borrowed from the repository's staged copy */
  JsonNode *envelope;
  GBytes *bytes;
  gint64 version;
} Pending;

static void
pending_free (Pending *p)
{
  g_free (p->role);
  g_clear_pointer (&p->envelope, json_node_unref);
  g_clear_pointer (&p->bytes, g_bytes_unref);
  g_free (p);
}

/* The signers for @role, and a refusal when they cannot meet @entry's threshold. */
static gboolean
add_signers (SbRepo *repo, const char *role, JsonObject *entry, const char *whose,
             GPtrArray *signers, GError **error)
{
  if (entry == NULL)
    return sb_throw (error, SB_ERROR_NOT_FOUND, "%s lists no keys for role %s", whose, role);
  g_autoptr (GPtrArray) found = sb_repo_entry_signers (repo, entry, error);
  if (found == NULL)
    return FALSE;
  gint64 threshold = sb_repo_entry_threshold (entry);
  if ((gint64)found->len < threshold)
    return sb_throw (error, SB_ERROR_THRESHOLD,
                     "cannot sign role %s: %s gives it threshold %" G_GINT64_FORMAT
                     ", and %s/keys holds only %u of its private keys",
                     role, whose, threshold, sb_repo_get_dir (repo), found->len);
  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add (signers, sb_signer_ref (found->pdata[i]));
  return TRUE;
}

static gboolean
sign_pending (SbRepo *repo, Pending *p, GError **error)
{
  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func ((GDestroyNotify)sb_signer_unref);
  g_autofree char *delegator = sb_repo_find_delegator (repo, p->role, error);
  if (delegator == NULL)
    return FALSE;
  JsonObject *dsigned = sb_repo_get_signed (repo, delegator, error);
  if (dsigned == NULL)
    return FALSE;
  g_autofree char *whose = g_strdup_printf ("role %s", delegator);
  if (!add_signers (repo, p->role, sb_repo_role_entry (dsigned, delegator, p->role), whose, signers,
                    error))
    return FALSE;

  /* TUF §5.3.4: a new root must be signed by a threshold of the previous root's root keys as
   * well as its own, so clients can walk the chain of trust from the root they hold. */
  if (strcmp (p->role, SB_ROLE_ROOT) == 0)
    {
      JsonNode *old = sb_repo_get_published (repo, SB_ROLE_ROOT, error);
      if (old != NULL)
        {
          JsonObject *old_signed = sb_repo_object_member (json_node_get_object (old), "signed");
          if (!add_signers (repo, p->role,
                            sb_repo_role_entry (old_signed, SB_ROLE_ROOT, SB_ROLE_ROOT),
                            "the published root", signers, error))
            return FALSE;
        }
    }

  p->envelope = sb_repo_sign (p->signed_obj, signers, error);
  if (p->envelope == NULL)
    {
      g_prefix_error (error, "signing role %s: ", p->role);
      return FALSE;
    }
  p->bytes = sb_repo_encode (p->envelope);
  return TRUE;
}

static gboolean
prepare (SbRepo *repo, const char *role, gint64 now, GHashTable *pending, GError **error)
{
  JsonObject *signed_obj = sb_repo_edit_signed (repo, role, error);
  if (signed_obj == NULL)
    return FALSE;
  gint64 expires;
  if (!sb_repo_compute_expires (repo, role, now, &expires, error))
    return FALSE;
  Pending *p = g_new0 (Pending, 1);
  p->role = g_strdup (role);
  p->signed_obj = signed_obj;
  p->version = sb_repo_get_published_version (repo, role) + 1;
  g_autofree char *exp = sb_metadata_format_time (expires);
  json_object_set_int_member (signed_obj, "version", p->version);
  json_object_set_string_member (signed_obj, "expires", exp);
  g_hash_table_insert (pending, p->role, p);
  return TRUE;
}

/* Adds to @set the roles delegated by @delegator whose keys or threshold differ between its
 * published and staged versions: they must be signed again by their new keys. */
static gboolean
add_rekeyed_children (SbRepo *repo, const char *delegator, GPtrArray *children, GHashTable *set,
                      GError **error)
{
  JsonObject *new_signed = sb_repo_get_signed (repo, delegator, error);
  if (new_signed == NULL)
    return FALSE;
  JsonNode *old = sb_repo_get_published (repo, delegator, error);
  JsonObject *old_signed
      = old != NULL ? sb_repo_object_member (json_node_get_object (old), "signed") : NULL;
  for (guint i = 0; i < children->len; i++)
    {
      const char *child = children->pdata[i];
      JsonObject *now_entry = sb_repo_role_entry (new_signed, delegator, child);
      if (now_entry == NULL)
        continue;
      JsonObject *was_entry = sb_repo_role_entry (old_signed, delegator, child);
      if (!sb_repo_entries_equal (now_entry, was_entry) && sb_repo_has_role (repo, child))
        g_hash_table_add (set, g_strdup (child));
    }
  return TRUE;
}

static gboolean
write_metadata (SbRepo *repo, Pending *p, gboolean versioned, GError **error)
{
  gsize len;
  const void *data = g_bytes_get_data (p->bytes, &len);
  if (versioned)
    {
      g_autofree char *name = sb_repo_role_file_name (p->role, p->version);
      g_autofree char *path = g_build_filename (sb_repo_get_dir (repo), "metadata", name, NULL);
      if (!sb_durable_write (path, data, len, 0644, error))
        return FALSE;
    }
  g_autofree char *name = sb_repo_role_file_name (p->role, 0);
  g_autofree char *path = g_build_filename (sb_repo_get_dir (repo), "metadata", name, NULL);
  return sb_durable_write (path, data, len, 0644, error);
}

/* Moves staged/targets/REL into targets/REL, for every file below @rel. */
static gboolean
move_staged_targets (SbRepo *repo, const char *rel, GError **error)
{
  g_autofree char *src_dir
      = g_build_filename (sb_repo_get_dir (repo), "staged", "targets", rel, NULL);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (src_dir, 0, &local_error);
  if (d == NULL)
    return TRUE;
  g_autofree char *dst_dir = g_build_filename (sb_repo_get_dir (repo), "targets", rel, NULL);
  if (!sb_durable_mkdir_p (dst_dir, 0755, error))
    return FALSE;
  const char *entry;
  gboolean moved = FALSE;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *src = g_build_filename (src_dir, entry, NULL);
      g_autofree char *sub = g_build_filename (rel, entry, NULL);
      if (g_file_test (src, G_FILE_TEST_IS_DIR))
        {
          if (!move_staged_targets (repo, sub, error))
            return FALSE;
          continue;
        }
      g_autofree char *dst = g_build_filename (dst_dir, entry, NULL);
      if (rename (src, dst) != 0)
        return sb_throw_errno (error, SB_ERROR_IO, "moving %s to %s", src, dst);
      moved = TRUE;
    }
  if (moved && (!sb_fsync_dir (dst_dir, error) || !sb_fsync_dir (src_dir, error)))
    return FALSE;
  return TRUE;
}

/* TUF §5.7.3: with consistent snapshots a target is also served as DIRNAME/HASH.BASENAME, for
 * each hash the metadata lists. Hard links: the content is the same, and a name that embeds
 * the hash never needs to change once made. */
static gboolean
link_hashed_target (SbRepo *repo, const char *name, JsonObject *info, GError **error)
{
  g_autofree char *path = g_build_filename (sb_repo_get_dir (repo), "targets", name, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || !json_object_has_member (info, "hashes"))
    return TRUE;
  JsonObject *hashes = sb_repo_object_member (info, "hashes");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr (GList) algos = hashes != NULL ? json_object_get_members (hashes) : NULL;
  gboolean linked = FALSE;
  for (GList *l = algos; l != NULL; l = l->next)
    {
      const char *hex = json_object_get_string_member (hashes, l->data);
      if (hex == NULL || strchr (hex, '/') != NULL)
        continue;
      g_autofree char *hashed_name = g_strconcat (hex, ".", base, NULL);
      g_autofree char *hashed = g_build_filename (dir, hashed_name, NULL);
      if (link (path, hashed) != 0 && errno != EEXIST)
        return sb_throw_errno (error, SB_ERROR_IO, "linking %s to %s", hashed, path);
      linked = TRUE;
    }
  return !linked || sb_fsync_dir (dir, error);
}

static void
collect_target_names (JsonObject *signed_obj, GHashTable *names)
{
  if (signed_obj == NULL || !json_object_has_member (signed_obj, "targets"))
    return;
  JsonObject *targets = sb_repo_object_member (signed_obj, "targets");
  g_autoptr (GList) members = targets != NULL ? json_object_get_members (targets) : NULL;
  for (GList *l = members; l != NULL; l = l->next)
    g_hash_table_add (names, g_strdup (l->data));
}

/* Removes the files of targets no role lists any more: the plain name only, since hash-named
 * copies may still be what clients holding the previous snapshot fetch. Staged files of
 * targets that were added and removed again before publishing go too. */
static gboolean
remove_dropped_targets (SbRepo *repo, GHashTable *before, GHashTable *after, GError **error)
{
  GHashTableIter iter;
  const char *name;
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    {
      if (g_hash_table_contains (after, name) || !sb_repo_check_target_name (name, NULL))
        continue;
      g_autofree char *path = g_build_filename (sb_repo_get_dir (repo), "targets", name, NULL);
      if (!sb_durable_unlink (path, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
publish_roles (SbRepo *repo, GHashTable *set, GPtrArray *targets_roles, GPtrArray *out,
               GError **error)
{
  gint64 now = sb_repo_now ();
  gboolean consistent = sb_repo_get_consistent_snapshot (repo);
  g_autoptr (GHashTable) pending
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)pending_free);
  g_autoptr (GHashTable) before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) after = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < targets_roles->len; i++)
    {
      const char *role = targets_roles->pdata[i];
      JsonNode *old = sb_repo_get_published (repo, role, error);
      if (old != NULL)
        collect_target_names (sb_repo_object_member (json_node_get_object (old), "signed"), before);
      JsonObject *now_signed = sb_repo_get_signed (repo, role, error);
      if (now_signed == NULL)
        return FALSE;
      collect_target_names (now_signed, after);
    }

  /* Versions and expiry first, for every role: a delegator's signers are read from the
   * staged view, which these edits do not change. */
  GHashTableIter iter;
  const char *role;
  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, (gpointer *)&role, NULL))
    if (!prepare (repo, role, now, pending, error))
      return FALSE;

  /* Signing order: root, targets roles, then snapshot over their bytes, then timestamp over
   * the snapshot's. Nothing is written before everything is signed. */
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  if (g_hash_table_contains (pending, SB_ROLE_ROOT))
    g_ptr_array_add (order, g_hash_table_lookup (pending, SB_ROLE_ROOT));
  for (guint i = targets_roles->len; i > 0; i--)
    {
      /* Leaves before the roles that delegate to them, as a repository is built up. */
      Pending *p = g_hash_table_lookup (pending, targets_roles->pdata[i - 1]);
      if (p != NULL)
        g_ptr_array_add (order, p);
    }
  for (guint i = 0; i < order->len; i++)
    if (!sign_pending (repo, order->pdata[i], error))
      return FALSE;

  Pending *snapshot = g_hash_table_lookup (pending, SB_ROLE_SNAPSHOT);
  if (snapshot != NULL)
    {
      JsonObject *meta = json_object_new ();
      json_object_set_object_member (snapshot->signed_obj, "meta", meta);
      for (guint i = 0; i < targets_roles->len; i++)
        {
          const char *r = targets_roles->pdata[i];
          Pending *p = g_hash_table_lookup (pending, r);
          GBytes *bytes = p != NULL ? p->bytes : sb_repo_get_published_bytes (repo, r);
          gint64 version = p != NULL ? p->version : sb_repo_get_published_version (repo, r);
          if (bytes == NULL)
            return sb_throw (error, SB_ERROR_STATE, "role %s has no published metadata", r);
          g_autofree char *file = g_strconcat (r, ".json", NULL);
          json_object_set_object_member (meta, file, meta_entry (version, bytes));
        }
      if (!sign_pending (repo, snapshot, error))
        return FALSE;
      g_ptr_array_add (order, snapshot);
    }
  Pending *timestamp = g_hash_table_lookup (pending, SB_ROLE_TIMESTAMP);
  if (timestamp != NULL)
    {
      GBytes *bytes = snapshot != NULL ? snapshot->bytes
                                       : sb_repo_get_published_bytes (repo, SB_ROLE_SNAPSHOT);
      gint64 version = snapshot != NULL ? snapshot->version
                                        : sb_repo_get_published_version (repo, SB_ROLE_SNAPSHOT);
      if (bytes == NULL)
        return sb_throw (error, SB_ERROR_STATE, "snapshot has no published metadata");
      JsonObject *meta = json_object_new ();
      json_object_set_object_member (meta, "snapshot.json", meta_entry (version, bytes));
      json_object_set_object_member (timestamp->signed_obj, "meta", meta);
      if (!sign_pending (repo, timestamp, error))
        return FALSE;
      g_ptr_array_add (order, timestamp);
    }

  /* Writing: target files before the metadata that lists them, timestamp last. */
  if (!move_staged_targets (repo, "", error))
    return FALSE;
  if (consistent)
    for (guint i = 0; i < targets_roles->len; i++)
      {
        Pending *p = g_hash_table_lookup (pending, targets_roles->pdata[i]);
        JsonObject *targets = p != NULL && json_object_has_member (p->signed_obj, "targets")
                                  ? sb_repo_object_member (p->signed_obj, "targets")
                                  : NULL;
        g_autoptr (GList) names = targets != NULL ? json_object_get_members (targets) : NULL;
        for (GList *l = names; l != NULL; l = l->next)
          if (sb_repo_check_target_name (l->data, NULL)
              && !link_hashed_target (repo, l->data, sb_repo_object_member (targets, l->data),
                                      error))
            return FALSE;
      }
  for (guint i = 0; i < order->len; i++)
    {
      Pending *p = order->pdata[i];
      /* Root is always kept by version (TUF §5.3.3: clients walk N.root.json); timestamp
       * never is (TUF §5.5: it is the one file fetched by a fixed name). */
      gboolean versioned = strcmp (p->role, SB_ROLE_ROOT) == 0
                           || (consistent && strcmp (p->role, SB_ROLE_TIMESTAMP) != 0);
      if (!write_metadata (repo, p, versioned, error))
        return FALSE;
      sb_repo_mark_published (repo, p->role, p->envelope, p->bytes);
      if (out != NULL)
        g_ptr_array_add (out, g_strdup_printf ("%s v%" G_GINT64_FORMAT, p->role, p->version));
    }
  if (!sb_repo_clear_published_staging (repo, error))
    return FALSE;
  return remove_dropped_targets (repo, before, after, error);
}

gboolean
sb_repo_publish (SbRepo *repo, const char *const *force_roles, GPtrArray **out_published,
                 GError **error)
{
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) staged = sb_repo_list_staged (repo);
  for (guint i = 0; i < staged->len; i++)
    g_hash_table_add (set, g_strdup (staged->pdata[i]));
  for (const char *const *r = force_roles; r != NULL && *r != NULL; r++)
    {
      if (!sb_repo_has_role (repo, *r))
        return sb_throw (error, SB_ERROR_NOT_FOUND, "role %s does not exist in %s", *r,
                         sb_repo_get_dir (repo));
      g_hash_table_add (set, g_strdup (*r));
    }

  g_autoptr (GPtrArray) targets_roles = sb_repo_list_targets_roles (repo, error);
  if (targets_roles == NULL)
    return FALSE;

  /* Roles whose keys changed must be signed by the new keys (a rotation). */
  if (g_hash_table_contains (set, SB_ROLE_ROOT))
    {
      g_autoptr (GPtrArray) top = g_ptr_array_new ();
      g_ptr_array_add (top, (gpointer)SB_ROLE_TIMESTAMP);
      g_ptr_array_add (top, (gpointer)SB_ROLE_SNAPSHOT);
      g_ptr_array_add (top, (gpointer)SB_ROLE_TARGETS);
      if (!add_rekeyed_children (repo, SB_ROLE_ROOT, top, set, error))
        return FALSE;
    }
  for (guint i = 0; i < targets_roles->len; i++)
    {
      const char *role = targets_roles->pdata[i];
      if (!g_hash_table_contains (set, role))
        continue;
      g_autoptr (GPtrArray) children = g_ptr_array_new ();
      for (guint j = 0; j < targets_roles->len; j++)
        g_ptr_array_add (children, targets_roles->pdata[j]);
      if (!add_rekeyed_children (repo, role, children, set, error))
        return FALSE;
    }

  /* TUF §5.5, §5.4: snapshot covers every targets role, timestamp covers snapshot. */
  for (guint i = 0; i < targets_roles->len; i++)
    if (g_hash_table_contains (set, targets_roles->pdata[i]))
      g_hash_table_add (set, g_strdup (SB_ROLE_SNAPSHOT));
  if (g_hash_table_contains (set, SB_ROLE_SNAPSHOT))
    g_hash_table_add (set, g_strdup (SB_ROLE_TIMESTAMP));

  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  if (g_hash_table_size (set) > 0 && !publish_roles (repo, set, targets_roles, out, error))
    return FALSE;
  if (out_published != NULL)
    *out_published = g_steal_pointer (&out);
  return TRUE;
}

gboolean
sb_repo_resign (SbRepo *repo, const char *role, const char *const *key_files, GError **error)
{
  g_autofree char *name = sb_repo_role_file_name (role, 0);
  g_autofree char *path = g_build_filename (sb_repo_get_dir (repo), "metadata", name, NULL);
  g_autoptr (GBytes) bytes = sb_read_file (path, 512 * 1024 * 1024, error);
  if (bytes == NULL)
    return FALSE;
  g_autoptr (JsonNode) env = sb_json_parse_bytes (bytes, error);
  if (env == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  JsonObject *signed_obj
      = JSON_NODE_HOLDS_OBJECT (env)
            ? sb_json_get_object (json_node_get_object (env), "signed", path, error)
            : NULL;
  if (signed_obj == NULL)
    {
      if (error != NULL && *error == NULL)
        sb_throw (error, SB_ERROR_PARSE, "%s is not a metadata envelope", path);
      return FALSE;
    }

  g_autoptr (GPtrArray) signers = g_ptr_array_new_with_free_func ((GDestroyNotify)sb_signer_unref);
  if (key_files != NULL && key_files[0] != NULL)
    {
      for (const char *const *k = key_files; *k != NULL; k++)
        {
          SbSigner *s = sb_signer_load (*k, error);
          if (s == NULL)
            return FALSE;
          g_ptr_array_add (signers, s);
        }
    }
  else
    {
      /* Root is signed by the keys it names itself; other roles by their delegator's. */
      g_autofree char *delegator = sb_repo_find_delegator (repo, role, error);
      if (delegator == NULL)
        return FALSE;
      JsonObject *dsigned = strcmp (role, SB_ROLE_ROOT) == 0
                                ? signed_obj
                                : sb_repo_get_signed (repo, delegator, error);
      if (dsigned == NULL)
        return FALSE;
      g_autoptr (GPtrArray) found
          = sb_repo_entry_signers (repo, sb_repo_role_entry (dsigned, delegator, role), error);
      if (found == NULL)
        return FALSE;
      if (found->len == 0)
        return sb_throw (error, SB_ERROR_THRESHOLD,
                         "cannot sign role %s: %s/keys holds none of its private keys", role,
                         sb_repo_get_dir (repo));
      for (guint i = 0; i < found->len; i++)
        g_ptr_array_add (signers, sb_signer_ref (found->pdata[i]));
    }

  g_autoptr (JsonNode) signed_env = sb_repo_sign (signed_obj, signers, error);
  if (signed_env == NULL)
    return FALSE;
  g_autoptr (GBytes) out = sb_repo_encode (signed_env);
  gsize len;
  const void *data = g_bytes_get_data (out, &len);

  JsonNode *v = json_object_get_member (signed_obj, "version");
  gint64 version = v != NULL && sb_json_node_is_int (v) ? json_node_get_int (v) : 0;
  gboolean versioned
      = strcmp (role, SB_ROLE_ROOT) == 0
        || (sb_repo_get_consistent_snapshot (repo) && strcmp (role, SB_ROLE_TIMESTAMP) != 0);
  if (versioned && version > 0)
    {
      g_autofree char *vname = sb_repo_role_file_name (role, version);
      g_autofree char *vpath = g_build_filename (sb_repo_get_dir (repo), "metadata", vname, NULL);
      if (!sb_durable_write (vpath, data, len, 0644, error))
        return FALSE;
    }
  return sb_durable_write (path, data, len, 0644, error);
}
