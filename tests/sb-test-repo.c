/* sb-test-repo.c: a TUF repository in memory (see sb-test-repo.h). */
#include "config.h"

#include "sb-test-repo.h"
#include "core/sb-json.h"
#include "core/sb-metadata.h"

#include <string.h>

typedef struct {
  JsonNode *signed_node;
  GPtrArray *signers;
  char *delegator;     /* NULL for root */
  gboolean succinct;   /* the shared keys of succinct bins, not a role of its own */
} RoleState;

struct _SbTestRepo {
  GHashTable *roles; /* name -> RoleState */
};

static void
role_state_free (RoleState *state)
{
  json_node_unref (state->signed_node);
  g_ptr_array_unref (state->signers);
  g_free (state->delegator);
  g_free (state);
}

static RoleState *
get_state (SbTestRepo *repo, const char *role)
{
  RoleState *state = g_hash_table_lookup (repo->roles, role);
  g_assert_nonnull (state);
  return state;
}

static JsonNode *
new_signed (const char *type, gint64 expires)
{
  JsonObject *obj = json_object_new ();
  g_autofree char *expires_text = sb_metadata_format_time (expires);
  json_object_set_string_member (obj, "_type", type);
  json_object_set_string_member (obj, "spec_version", "1.0.31");
  json_object_set_int_member (obj, "version", 1);
  json_object_set_string_member (obj, "expires", expires_text);
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

static RoleState *
add_role (SbTestRepo *repo, const char *name, JsonNode *signed_node, const char *delegator)
{
  RoleState *state = g_new0 (RoleState, 1);
  state->signed_node = signed_node;
  state->signers = g_ptr_array_new_with_free_func ((GDestroyNotify) sb_signer_unref);
  state->delegator = g_strdup (delegator);
  g_hash_table_replace (repo->roles, g_strdup (name), state);
  return state;
}

static JsonObject *
new_meta_entry (gint64 version)
{
  JsonObject *entry = json_object_new ();
  json_object_set_int_member (entry, "version", version);
  return entry;
}

SbTestRepo *
sb_test_repo_new (void)
{
  SbTestRepo *repo = g_new0 (SbTestRepo, 1);
  repo->roles =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) role_state_free);

  JsonNode *root = new_signed ("root", SB_TEST_NOW + 365 * SB_TEST_DAY);
  JsonObject *root_obj = json_node_get_object (root);
  json_object_set_boolean_member (root_obj, "consistent_snapshot", FALSE);
  json_object_set_object_member (root_obj, "keys", json_object_new ());
  JsonObject *roles = json_object_new ();
  const char *const top[] = { "root", "timestamp", "snapshot", "targets" };
  for (guint i = 0; i < G_N_ELEMENTS (top); i++)
    {
      JsonObject *role = json_object_new ();
      json_object_set_array_member (role, "keyids", json_array_new ());
      json_object_set_int_member (role, "threshold", 1);
      json_object_set_object_member (roles, top[i], role);
    }
  json_object_set_object_member (root_obj, "roles", roles);
  add_role (repo, "root", root, NULL);

  JsonNode *timestamp = new_signed ("timestamp", SB_TEST_NOW + 7 * SB_TEST_DAY);
  JsonObject *ts_meta = json_object_new ();
  json_object_set_object_member (ts_meta, "snapshot.json", new_meta_entry (1));
  json_object_set_object_member (json_node_get_object (timestamp), "meta", ts_meta);
  add_role (repo, "timestamp", timestamp, "root");

  JsonNode *snapshot = new_signed ("snapshot", SB_TEST_NOW + 7 * SB_TEST_DAY);
  JsonObject *snap_meta = json_object_new ();
  json_object_set_object_member (snap_meta, "targets.json", new_meta_entry (1));
  json_object_set_object_member (json_node_get_object (snapshot), "meta", snap_meta);
  add_role (repo, "snapshot", snapshot, "root");

  JsonNode *targets = new_signed ("targets", SB_TEST_NOW + 7 * SB_TEST_DAY);
  json_object_set_object_member (json_node_get_object (targets), "targets", json_object_new ());
  add_role (repo, "targets", targets, "root");

  for (guint i = 0; i < G_N_ELEMENTS (top); i++)
    sb_test_repo_add_key (repo, top[i]);
  return repo;
}

void
sb_test_repo_free (SbTestRepo *repo)
{
  if (repo == NULL)
    return;
  g_hash_table_unref (repo->roles);
  g_free (repo);
}

JsonObject *
sb_test_repo_signed (SbTestRepo *repo, const char *role)
{
  return json_node_get_object (get_state (repo, role)->signed_node);
}

GPtrArray *
sb_test_repo_signers (SbTestRepo *repo, const char *role)
{
  return get_state (repo, role)->signers;
}

void
sb_test_repo_set_version (SbTestRepo *repo, const char *role, gint64 version)
{
  json_object_set_int_member (sb_test_repo_signed (repo, role), "version", version);
}

gint64
sb_test_repo_get_version (SbTestRepo *repo, const char *role)
{
  return json_object_get_int_member (sb_test_repo_signed (repo, role), "version");
}

void
sb_test_repo_bump (SbTestRepo *repo, const char *role)
{
  sb_test_repo_set_version (repo, role, sb_test_repo_get_version (repo, role) + 1);
}

void
sb_test_repo_set_expires (SbTestRepo *repo, const char *role, gint64 unix_seconds)
{
  g_autofree char *text = sb_metadata_format_time (unix_seconds);
  json_object_set_string_member (sb_test_repo_signed (repo, role), "expires", text);
}

/* Where @role's keys are listed: the key dictionary and the role's keyids array. */
static void
find_key_lists (SbTestRepo *repo, const char *role, JsonObject **out_keys, JsonObject **out_role)
{
  RoleState *state = get_state (repo, role);
  if (state->delegator == NULL || strcmp (role, "timestamp") == 0
      || strcmp (role, "snapshot") == 0 || strcmp (role, "targets") == 0)
    {
      JsonObject *root = sb_test_repo_signed (repo, "root");
      *out_keys = json_object_get_object_member (root, "keys");
      *out_role = json_object_get_object_member (json_object_get_object_member (root, "roles"),
                                                 role);
      return;
    }
  JsonObject *delegations =
      json_object_get_object_member (sb_test_repo_signed (repo, state->delegator), "delegations");
  *out_keys = json_object_get_object_member (delegations, "keys");
  if (state->succinct)
    {
      *out_role = json_object_get_object_member (delegations, "succinct_roles");
      return;
    }
  JsonArray *roles = json_object_get_array_member (delegations, "roles");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    {
      JsonObject *r = json_array_get_object_element (roles, i);
      if (strcmp (json_object_get_string_member (r, "name"), role) == 0)
        {
          *out_role = r;
          return;
        }
    }
  g_assert_not_reached ();
}

SbSigner *
sb_test_repo_add_key (SbTestRepo *repo, const char *role)
{
  g_autoptr (GError) error = NULL;
  SbSigner *signer = sb_signer_generate (SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  SbKey *key = sb_signer_get_public (signer);

  JsonObject *keys, *role_obj;
  find_key_lists (repo, role, &keys, &role_obj);
  json_object_set_member (keys, sb_key_get_keyid (key), sb_key_to_json (key));
  json_array_add_string_element (json_object_get_array_member (role_obj, "keyids"),
                                 sb_key_get_keyid (key));
  g_ptr_array_add (get_state (repo, role)->signers, signer);
  return signer;
}

SbSigner *
sb_test_repo_rotate_keys (SbTestRepo *repo, const char *role)
{
  JsonObject *keys, *role_obj;
  find_key_lists (repo, role, &keys, &role_obj);
  json_object_set_array_member (role_obj, "keyids", json_array_new ());
  g_ptr_array_set_size (get_state (repo, role)->signers, 0);
  return sb_test_repo_add_key (repo, role);
}

void
sb_test_repo_add_target (SbTestRepo *repo, const char *role, const char *path,
                         const char *content)
{
  JsonObject *targets = json_object_get_object_member (sb_test_repo_signed (repo, role), "targets");
  JsonObject *entry = json_object_new ();
  JsonObject *hashes = json_object_new ();
  g_autofree char *digest = sb_sha256_hex (content, strlen (content));
  json_object_set_string_member (hashes, "sha256", digest);
  json_object_set_int_member (entry, "length", (gint64) strlen (content));
  json_object_set_object_member (entry, "hashes", hashes);
  json_object_set_object_member (targets, path, entry);
}

static JsonObject *
ensure_delegations (SbTestRepo *repo, const char *delegator)
{
  JsonObject *signed_obj = sb_test_repo_signed (repo, delegator);
  if (!json_object_has_member (signed_obj, "delegations"))
    {
      JsonObject *delegations = json_object_new ();
      json_object_set_object_member (delegations, "keys", json_object_new ());
      json_object_set_object_member (signed_obj, "delegations", delegations);
    }
  return json_object_get_object_member (signed_obj, "delegations");
}

static JsonArray *
string_array (const char *const *strings)
{
  JsonArray *array = json_array_new ();
  for (guint i = 0; strings[i]; i++)
    json_array_add_string_element (array, strings[i]);
  return array;
}

static JsonNode *
new_targets_signed (void)
{
  JsonNode *node = new_signed ("targets", SB_TEST_NOW + 7 * SB_TEST_DAY);
  json_object_set_object_member (json_node_get_object (node), "targets", json_object_new ());
  return node;
}

void
sb_test_repo_delegate (SbTestRepo *repo, const char *delegator, const char *name,
                       const char *const *paths, const char *const *hash_prefixes,
                       gboolean terminating)
{
  JsonObject *delegations = ensure_delegations (repo, delegator);
  if (!json_object_has_member (delegations, "roles"))
    json_object_set_array_member (delegations, "roles", json_array_new ());
  JsonObject *role = json_object_new ();
  json_object_set_string_member (role, "name", name);
  json_object_set_array_member (role, "keyids", json_array_new ());
  json_object_set_int_member (role, "threshold", 1);
  json_object_set_boolean_member (role, "terminating", terminating);
  if (paths != NULL)
    json_object_set_array_member (role, "paths", string_array (paths));
  else
    json_object_set_array_member (role, "path_hash_prefixes", string_array (hash_prefixes));
  json_array_add_object_element (json_object_get_array_member (delegations, "roles"), role);

  add_role (repo, name, new_targets_signed (), delegator);
  sb_test_repo_add_key (repo, name);
}

void
sb_test_repo_delegate_succinct (SbTestRepo *repo, const char *delegator, guint bit_length,
                                const char *name_prefix)
{
  JsonObject *delegations = ensure_delegations (repo, delegator);
  JsonObject *succinct = json_object_new ();
  json_object_set_array_member (succinct, "keyids", json_array_new ());
  json_object_set_int_member (succinct, "threshold", 1);
  json_object_set_int_member (succinct, "bit_length", bit_length);
  json_object_set_string_member (succinct, "name_prefix", name_prefix);
  json_object_set_object_member (delegations, "succinct_roles", succinct);

  RoleState *state = add_role (repo, name_prefix, new_targets_signed (), delegator);
  state->succinct = TRUE;
  sb_test_repo_add_key (repo, name_prefix);
}

void
sb_test_repo_add_bin (SbTestRepo *repo, const char *name_prefix, const char *bin_name)
{
  RoleState *shared = get_state (repo, name_prefix);
  RoleState *state = add_role (repo, bin_name, new_targets_signed (), shared->delegator);
  for (guint i = 0; i < shared->signers->len; i++)
    g_ptr_array_add (state->signers, sb_signer_ref (shared->signers->pdata[i]));
}

JsonNode *
sb_test_repo_sign (SbTestRepo *repo, const char *role)
{
  g_autoptr (GError) error = NULL;
  RoleState *state = get_state (repo, role);
  g_autoptr (GBytes) canonical = sb_json_canonical (state->signed_node, &error);
  g_assert_no_error (error);
  gsize len;
  const guint8 *data = g_bytes_get_data (canonical, &len);

  JsonArray *signatures = json_array_new ();
  for (guint i = 0; i < state->signers->len; i++)
    {
      SbSigner *signer = state->signers->pdata[i];
      g_autofree char *sig = sb_signer_sign (signer, data, len, &error);
      g_assert_no_error (error);
      JsonObject *entry = json_object_new ();
      json_object_set_string_member (entry, "keyid",
                                     sb_key_get_keyid (sb_signer_get_public (signer)));
      json_object_set_string_member (entry, "sig", sig);
      json_array_add_object_element (signatures, entry);
    }
  JsonObject *envelope = json_object_new ();
  json_object_set_array_member (envelope, "signatures", signatures);
  json_object_set_member (envelope, "signed", sb_test_deep_copy (state->signed_node));
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, envelope);
  return node;
}

JsonNode *
sb_test_deep_copy (JsonNode *node)
{
  /* Through json-glib's own writer and parser, which escape control characters: canonical JSON
   * writes a PEM key's newlines raw, and the strict parser refuses them. */
  g_autoptr (GError) error = NULL;
  g_autofree char *text = json_to_string (node, FALSE);
  JsonNode *copy = json_from_string (text, &error);
  g_assert_no_error (error);
  return copy;
}

GBytes *
sb_test_encode_escaped (JsonNode *envelope)
{
  gsize len = 0;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, envelope);
  char *text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

GBytes *
sb_test_encode (JsonNode *envelope)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = sb_json_canonical (envelope, &error);
  g_assert_no_error (error);
  return bytes;
}

GBytes *
sb_test_repo_bytes (SbTestRepo *repo, const char *role)
{
  g_autoptr (JsonNode) envelope = sb_test_repo_sign (repo, role);
  return sb_test_encode (envelope);
}

static JsonObject *
meta_entry_for (SbTestRepo *repo, const char *role, gboolean with_hashes)
{
  JsonObject *entry = new_meta_entry (sb_test_repo_get_version (repo, role));
  if (with_hashes)
    {
      g_autoptr (GBytes) bytes = sb_test_repo_bytes (repo, role);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      g_autofree char *digest = sb_sha256_hex (data, len);
      JsonObject *hashes = json_object_new ();
      json_object_set_string_member (hashes, "sha256", digest);
      json_object_set_int_member (entry, "length", (gint64) len);
      json_object_set_object_member (entry, "hashes", hashes);
    }
  return entry;
}

void
sb_test_repo_update_snapshot_meta (SbTestRepo *repo, gboolean with_hashes)
{
  JsonObject *meta = json_object_new ();
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init (&iter, repo->roles);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *name = key;
      RoleState *state = value;
      if (state->succinct || strcmp (name, "root") == 0 || strcmp (name, "timestamp") == 0
          || strcmp (name, "snapshot") == 0)
        continue;
      g_autofree char *filename = g_strconcat (name, ".json", NULL);
      json_object_set_object_member (meta, filename, meta_entry_for (repo, name, with_hashes));
    }
  json_object_set_object_member (sb_test_repo_signed (repo, "snapshot"), "meta", meta);
}

void
sb_test_repo_update_timestamp_meta (SbTestRepo *repo, gboolean with_hashes)
{
  JsonObject *meta = json_object_new ();
  json_object_set_object_member (meta, "snapshot.json",
                                 meta_entry_for (repo, "snapshot", with_hashes));
  json_object_set_object_member (sb_test_repo_signed (repo, "timestamp"), "meta", meta);
}
