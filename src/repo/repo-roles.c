/* repo-roles.c: the delegation graph of a repository (see repo-roles.h). */
#include "config.h"

#include "repo-roles.h"

#include "core/sb-delegation.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

/* Deeper delegation chains than this are not followed (a cycle guard; clients stop at
 * SB_MAX_DELEGATIONS visited roles anyway). */
#define MAX_DEPTH 64

gboolean
sb_repo_is_targets_role (const char *role)
{
  return strcmp (role, SB_ROLE_ROOT) != 0 && strcmp (role, SB_ROLE_TIMESTAMP) != 0
         && strcmp (role, SB_ROLE_SNAPSHOT) != 0;
}

static JsonObject *
get_delegations (JsonObject *targets_signed)
{
  if (targets_signed == NULL || !json_object_has_member (targets_signed, "delegations"))
    return NULL;
  JsonNode *n = json_object_get_member (targets_signed, "delegations");
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
get_delegated_roles (JsonObject *delegations)
{
  if (delegations == NULL || !json_object_has_member (delegations, "roles"))
    return NULL;
  JsonNode *n = json_object_get_member (delegations, "roles");
  return JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static SbRole *
get_succinct (JsonObject *delegations)
{
  if (delegations == NULL || !json_object_has_member (delegations, "succinct_roles"))
    return NULL;
  JsonNode *n = json_object_get_member (delegations, "succinct_roles");
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  g_autoptr (GError) local_error = NULL;
  return sb_succinct_roles_new_from_json (json_node_get_object (n), "succinct_roles", &local_error);
}

static const char *
entry_name (JsonArray *roles, guint i)
{
  JsonNode *n = json_array_get_element (roles, i);
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  JsonObject *o = json_node_get_object (n);
  if (!json_object_has_member (o, "name"))
    return NULL;
  JsonNode *name = json_object_get_member (o, "name");
  return JSON_NODE_HOLDS_VALUE (name) && json_node_get_value_type (name) == G_TYPE_STRING
             ? json_node_get_string (name)
             : NULL;
}

JsonObject *
sb_repo_role_entry (JsonObject *delegator_signed, const char *delegator, const char *role)
{
  if (delegator_signed == NULL)
    return NULL;
  if (strcmp (delegator, SB_ROLE_ROOT) == 0)
    {
      if (!json_object_has_member (delegator_signed, "roles"))
        return NULL;
      JsonObject *roles = sb_repo_object_member (delegator_signed, "roles");
      if (roles == NULL || !json_object_has_member (roles, role))
        return NULL;
      JsonNode *n = json_object_get_member (roles, role);
      return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
    }

  JsonObject *delegations = get_delegations (delegator_signed);
  JsonArray *roles = get_delegated_roles (delegations);
  for (guint i = 0; roles != NULL && i < json_array_get_length (roles); i++)
    if (g_strcmp0 (entry_name (roles, i), role) == 0)
      return json_array_get_object_element (roles, i);
  g_autoptr (SbRole) succinct = get_succinct (delegations);
  if (succinct != NULL && sb_succinct_has_bin (succinct, role))
    return sb_repo_object_member (delegations, "succinct_roles");
  return NULL;
}

JsonObject *
sb_repo_key_dict (JsonObject *delegator_signed, const char *delegator, gboolean create)
{
  if (strcmp (delegator, SB_ROLE_ROOT) == 0)
    {
      if (!json_object_has_member (delegator_signed, "keys"))
        {
          if (!create)
            return NULL;
          json_object_set_object_member (delegator_signed, "keys", json_object_new ());
        }
      return sb_repo_object_member (delegator_signed, "keys");
    }
  JsonObject *delegations = get_delegations (delegator_signed);
  if (delegations == NULL)
    {
      if (!create)
        return NULL;
      delegations = json_object_new ();
      json_object_set_object_member (delegations, "keys", json_object_new ());
      json_object_set_array_member (delegations, "roles", json_array_new ());
      json_object_set_object_member (delegator_signed, "delegations", delegations);
    }
  if (!json_object_has_member (delegations, "keys"))
    {
      if (!create)
        return NULL;
      json_object_set_object_member (delegations, "keys", json_object_new ());
    }
  return sb_repo_object_member (delegations, "keys");
}

/* Appends the roles @signed_obj delegates to, in search order. */
static void
add_children (JsonObject *signed_obj, GPtrArray *out)
{
  JsonObject *delegations = get_delegations (signed_obj);
  JsonArray *roles = get_delegated_roles (delegations);
  for (guint i = 0; roles != NULL && i < json_array_get_length (roles); i++)
    if (entry_name (roles, i) != NULL)
      g_ptr_array_add (out, g_strdup (entry_name (roles, i)));
  g_autoptr (SbRole) succinct = get_succinct (delegations);
  if (succinct != NULL)
    {
      guint64 n = (guint64)1 << succinct->bit_length;
      for (guint64 b = 0; b < n; b++)
        g_ptr_array_add (out, sb_succinct_bin_name (succinct, (guint32)b));
    }
}

static gboolean
walk (SbRepo *repo, const char *role, guint depth, GHashTable *seen, GPtrArray *out, GError **error)
{
  if (g_hash_table_contains (seen, role) || depth > MAX_DEPTH)
    return TRUE;
  if (!sb_repo_has_role (repo, role))
    return TRUE;
  g_hash_table_add (seen, g_strdup (role));
  g_ptr_array_add (out, g_strdup (role));
  JsonObject *signed_obj = sb_repo_get_signed (repo, role, error);
  if (signed_obj == NULL)
    return FALSE;
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  add_children (signed_obj, children);
  for (guint i = 0; i < children->len; i++)
    if (!walk (repo, children->pdata[i], depth + 1, seen, out, error))
      return FALSE;
  return TRUE;
}

GPtrArray *
sb_repo_list_targets_roles (SbRepo *repo, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!walk (repo, SB_ROLE_TARGETS, 0, seen, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

char *
sb_repo_find_delegator (SbRepo *repo, const char *role, GError **error)
{
  if (sb_role_is_top_level (role))
    return g_strdup (SB_ROLE_ROOT);
  g_autoptr (GPtrArray) roles = sb_repo_list_targets_roles (repo, error);
  if (roles == NULL)
    return NULL;
  for (guint i = 0; i < roles->len; i++)
    {
      JsonObject *signed_obj = sb_repo_get_signed (repo, roles->pdata[i], error);
      if (signed_obj == NULL)
        return NULL;
      if (sb_repo_role_entry (signed_obj, roles->pdata[i], role) != NULL)
        return g_strdup (roles->pdata[i]);
    }
  sb_throw (error, SB_ERROR_NOT_FOUND, "no role of %s delegates to role %s", sb_repo_get_dir (repo),
            role);
  return NULL;
}

static JsonArray *
entry_keyids (JsonObject *entry)
{
  if (entry == NULL || !json_object_has_member (entry, "keyids"))
    return NULL;
  JsonNode *n = json_object_get_member (entry, "keyids");
  return JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

gint64
sb_repo_entry_threshold (JsonObject *entry)
{
  if (entry == NULL || !json_object_has_member (entry, "threshold"))
    return 1;
  JsonNode *n = json_object_get_member (entry, "threshold");
  return sb_json_node_is_int (n) ? json_node_get_int (n) : 1;
}

GPtrArray *
sb_repo_entry_signers (SbRepo *repo, JsonObject *entry, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)sb_signer_unref);
  JsonArray *keyids = entry_keyids (entry);
  for (guint i = 0; keyids != NULL && i < json_array_get_length (keyids); i++)
    {
      const char *keyid = json_array_get_string_element (keyids, i);
      g_autoptr (GError) local_error = NULL;
      SbSigner *signer = keyid != NULL ? sb_repo_load_key (repo, keyid, &local_error) : NULL;
      if (signer != NULL)
        g_ptr_array_add (out, signer);
      else if (local_error != NULL && !g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  return g_steal_pointer (&out);
}

static GHashTable *
keyid_set (JsonObject *entry)
{
  GHashTable *set = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *keyids = entry_keyids (entry);
  for (guint i = 0; keyids != NULL && i < json_array_get_length (keyids); i++)
    {
      const char *k = json_array_get_string_element (keyids, i);
      if (k != NULL)
        g_hash_table_add (set, (gpointer)k);
    }
  return set;
}

gboolean
sb_repo_entries_equal (JsonObject *a, JsonObject *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (sb_repo_entry_threshold (a) != sb_repo_entry_threshold (b))
    return FALSE;
  g_autoptr (GHashTable) sa = keyid_set (a);
  g_autoptr (GHashTable) sb = keyid_set (b);
  if (g_hash_table_size (sa) != g_hash_table_size (sb))
    return FALSE;
  GHashTableIter iter;
  gpointer k;
  g_hash_table_iter_init (&iter, sa);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    if (!g_hash_table_contains (sb, k))
      return FALSE;
  return TRUE;
}

void
sb_repo_entry_add_key (JsonObject *key_dict, JsonObject *entry, SbKey *key)
{
  const char *keyid = sb_key_get_keyid (key);
  json_object_set_member (key_dict, keyid, sb_key_to_json (key));
  if (!json_object_has_member (entry, "keyids"))
    json_object_set_array_member (entry, "keyids", json_array_new ());
  JsonArray *keyids = json_object_get_array_member (entry, "keyids");
  for (guint i = 0; i < json_array_get_length (keyids); i++)
    if (g_strcmp0 (json_array_get_string_element (keyids, i), keyid) == 0)
      return;
  json_array_add_string_element (keyids, keyid);
}

static void
collect_used (JsonObject *entry, GHashTable *used)
{
  JsonArray *keyids = entry_keyids (entry);
  for (guint i = 0; keyids != NULL && i < json_array_get_length (keyids); i++)
    {
      const char *k = json_array_get_string_element (keyids, i);
      if (k != NULL)
        g_hash_table_add (used, g_strdup (k));
    }
}

void
sb_repo_prune_keys (JsonObject *delegator_signed, const char *delegator)
{
  JsonObject *keys = sb_repo_key_dict (delegator_signed, delegator, FALSE);
  if (keys == NULL)
    return;
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (strcmp (delegator, SB_ROLE_ROOT) == 0)
    {
      JsonObject *roles = sb_repo_object_member (delegator_signed, "roles");
      g_autoptr (GList) names = roles != NULL ? json_object_get_members (roles) : NULL;
      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *n = json_object_get_member (roles, l->data);
          if (JSON_NODE_HOLDS_OBJECT (n))
            collect_used (json_node_get_object (n), used);
        }
    }
  else
    {
      JsonObject *delegations = get_delegations (delegator_signed);
      JsonArray *roles = get_delegated_roles (delegations);
      for (guint i = 0; roles != NULL && i < json_array_get_length (roles); i++)
        {
          JsonNode *n = json_array_get_element (roles, i);
          if (JSON_NODE_HOLDS_OBJECT (n))
            collect_used (json_node_get_object (n), used);
        }
      if (delegations != NULL && json_object_has_member (delegations, "succinct_roles"))
        collect_used (sb_repo_object_member (delegations, "succinct_roles"), used);
    }
  g_autoptr (GList) keyids = json_object_get_members (keys);
  for (GList *l = keyids; l != NULL; l = l->next)
    if (!g_hash_table_contains (used, l->data))
      json_object_remove_member (keys, l->data);
}

/* TRUE when @entry (an element of delegations.roles) trusts its role for @target. */
static gboolean
entry_delegates_path (JsonObject *entry, const char *target)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, entry);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SbRole) role = sb_delegated_role_new_from_json (node, "delegated role", &local_error);
  json_node_unref (node);
  return role != NULL && sb_role_delegates_path (role, target);
}

char *
sb_repo_role_for_target (SbRepo *repo, const char *start_role, const char *target, GError **error)
{
  g_autofree char *role = g_strdup (start_role != NULL ? start_role : SB_ROLE_TARGETS);
  if (!sb_repo_is_targets_role (role))
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "role %s cannot list targets", role);
      return NULL;
    }
  if (!sb_repo_has_role (repo, role))
    {
      sb_throw (error, SB_ERROR_NOT_FOUND, "role %s does not exist in %s", role,
                sb_repo_get_dir (repo));
      return NULL;
    }
  if (strcmp (role, SB_ROLE_TARGETS) != 0)
    {
      g_autofree char *delegator = sb_repo_find_delegator (repo, role, error);
      if (delegator == NULL)
        return NULL;
      JsonObject *dsigned = sb_repo_get_signed (repo, delegator, error);
      if (dsigned == NULL)
        return NULL;
      JsonObject *delegations = get_delegations (dsigned);
      g_autoptr (SbRole) succinct = get_succinct (delegations);
      gboolean ok;
      if (succinct != NULL && sb_succinct_has_bin (succinct, role))
        {
          g_autofree char *bin = sb_succinct_bin_for_target (succinct, target);
          ok = strcmp (bin, role) == 0;
        }
      else
        ok = entry_delegates_path (sb_repo_role_entry (dsigned, delegator, role), target);
      if (!ok)
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                    "role %s is not trusted for target %s: %s delegates other paths to it, so "
                    "clients would never find it there",
                    role, target, delegator);
          return NULL;
        }
    }

  /* Down the delegations as a client searches them (TUF §5.6.7): the first delegated role
   * trusted for the path, until none is. A target listed higher up would be found first and
   * make the delegation (hash bins in particular) pointless. */
  for (guint depth = 0; depth < MAX_DEPTH; depth++)
    {
      JsonObject *signed_obj = sb_repo_get_signed (repo, role, error);
      if (signed_obj == NULL)
        return NULL;
      JsonObject *delegations = get_delegations (signed_obj);
      g_autoptr (SbRole) succinct = get_succinct (delegations);
      char *next = NULL;
      if (succinct != NULL)
        next = sb_succinct_bin_for_target (succinct, target);
      else
        {
          JsonArray *roles = get_delegated_roles (delegations);
          for (guint i = 0; roles != NULL && i < json_array_get_length (roles) && next == NULL; i++)
            {
              JsonObject *entry = json_array_get_object_element (roles, i);
              if (entry != NULL && entry_delegates_path (entry, target)
                  && sb_repo_has_role (repo, entry_name (roles, i)))
                next = g_strdup (entry_name (roles, i));
            }
        }
      if (next == NULL)
        break;
      g_free (role);
      role = next;
    }
  return g_steal_pointer (&role);
}

JsonObject *
sb_repo_find_target (SbRepo *repo, const char *target, char **out_role, GError **error)
{
  g_autoptr (GPtrArray) roles = sb_repo_list_targets_roles (repo, error);
  if (roles == NULL)
    return NULL;
  for (guint i = 0; i < roles->len; i++)
    {
      JsonObject *signed_obj = sb_repo_get_signed (repo, roles->pdata[i], error);
      if (signed_obj == NULL)
        return NULL;
      JsonObject *targets = json_object_has_member (signed_obj, "targets")
                                ? sb_repo_object_member (signed_obj, "targets")
                                : NULL;
      if (targets != NULL && json_object_has_member (targets, target))
        {
          if (out_role != NULL)
            *out_role = g_strdup (roles->pdata[i]);
          return sb_repo_object_member (targets, target);
        }
    }
  sb_throw (error, SB_ERROR_NOT_FOUND, "no role of %s lists target %s", sb_repo_get_dir (repo),
            target);
  return NULL;
}
