/* repo-rotate.c: `rotate`, key rotation of any role (TUF §6.1). */
#include "config.h"

#include "repo-cli.h"
#include "repo-roles.h"
#include "core/sb-delegation.h"
#include "core/sb-error.h"
#include "state/sb-key-file.h"

#include <stdio.h>
#include <string.h>

/* A succinct delegation is rotated as a whole: ROLE may name it by its name_prefix. */
static char *
resolve_role (SbRepo *repo, const char *role, GError **error)
{
  if (sb_repo_has_role (repo, role))
    return g_strdup (role);
  g_autoptr (GPtrArray) roles = sb_repo_list_targets_roles (repo, error);
  if (roles == NULL)
    return NULL;
  for (guint i = 0; i < roles->len; i++)
    {
      JsonObject *signed_obj = sb_repo_get_signed (repo, roles->pdata[i], error);
      if (signed_obj == NULL)
        return NULL;
      JsonObject *delegations = sb_repo_object_member (signed_obj, "delegations");
      JsonObject *succinct = sb_repo_object_member (delegations, "succinct_roles");
      if (succinct == NULL)
        continue;
      g_autoptr (SbRole) s = sb_succinct_roles_new_from_json (succinct, "succinct_roles", NULL);
      if (s != NULL && g_strcmp0 (s->name, role) == 0)
        return sb_succinct_bin_name (s, 0);
    }
  sb_throw (error, SB_ERROR_NOT_FOUND, "role %s does not exist in %s", role,
            sb_repo_get_dir (repo));
  return NULL;
}

/* A new key of type @spec, or the private key in the PEM file @spec, kept under keys/. */
static SbSigner *
obtain_key (SbRepo *repo, const char *spec, GError **error)
{
  SbKeyType type;
  if (g_str_has_suffix (spec, ".pem") && g_file_test (spec, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr (SbSigner) signer = sb_signer_load (spec, error);
      if (signer == NULL)
        return NULL;
      const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));
      g_autofree char *file = g_strconcat (keyid, ".pem", NULL);
      g_autofree char *path = g_build_filename (sb_repo_get_dir (repo), "keys", file, NULL);
      if (!sb_signer_save (signer, path, error))
        return NULL;
      return g_steal_pointer (&signer);
    }
  if (!sb_repo_parse_key_type (spec, &type, error))
    {
      g_prefix_error (error, "--add-key %s: not a key type nor a .pem file: ", spec);
      return NULL;
    }
  return sb_repo_new_key (repo, type, error);
}

/* Removes the keyid @spec (or the one keyid it is a unique prefix of) from @keyids. */
static gboolean
remove_keyid (JsonArray *keyids, const char *spec, const char *role, GError **error)
{
  gint found = -1;
  for (guint i = 0; i < json_array_get_length (keyids); i++)
    {
      const char *k = json_array_get_string_element (keyids, i);
      if (k == NULL || !g_str_has_prefix (k, spec))
        continue;
      if (found >= 0 && strcmp (k, spec) != 0)
        return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                         "--remove-key %s: more than one key of role %s starts so", spec, role);
      found = (gint)i;
      if (strcmp (k, spec) == 0)
        break;
    }
  if (found < 0)
    return sb_throw (error, SB_ERROR_NOT_FOUND, "--remove-key %s: role %s has no such key", spec,
                     role);
  json_array_remove_element (keyids, (guint)found);
  return TRUE;
}

int
sb_repo_cmd_rotate (int argc, char **argv)
{
  g_auto (GStrv) add = NULL;
  g_auto (GStrv) remove = NULL;
  gint threshold = 0;
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "add-key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &add,
      "Add a new key of TYPE (ed25519, rsa, ecdsa), or the private key in FILE.pem "
      "(repeatable)",
      "TYPE|FILE.pem" },
    { "remove-key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &remove,
      "Remove the key with this id or unique id prefix (repeatable)", "KEYID" },
    { "threshold", 0, 0, G_OPTION_ARG_INT, &threshold, "New threshold of the role", "N" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "rotate", "DIR ROLE",
      "Changes the keys of ROLE where its delegator lists them (root for the top-level roles).\n"
      "With none of --add-key, --remove-key and --threshold, replaces every key by as many\n"
      "new ones as the threshold needs. At publish, the role is signed by its new keys; a new\n"
      "root is signed by the old root keys and the new ones (TUF §5.3.4), so clients follow\n"
      "the rotation. ROLE may be a succinct delegation's name prefix: all its bins share the\n"
      "keys. Old private keys stay under DIR/keys/.",
      "Examples:\n"
      "  switchback-repo rotate repo root --publish\n"
      "  switchback-repo rotate repo timestamp --add-key ecdsa --remove-key 3f2a --publish\n"
      "  switchback-repo rotate uptane/director targets --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "rotate", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 3)
    return sb_repo_cli_usage ("rotate", "expected DIR and ROLE");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) repo = sb_repo_cli_open (argv[1], NULL, &error);
  if (repo == NULL)
    return sb_repo_cli_fail ("rotate", error);
  g_autofree char *role = resolve_role (repo, argv[2], &error);
  g_autofree char *delegator = role != NULL ? sb_repo_find_delegator (repo, role, &error) : NULL;
  JsonObject *dsigned = delegator != NULL ? sb_repo_edit_signed (repo, delegator, &error) : NULL;
  if (dsigned == NULL)
    return sb_repo_cli_fail ("rotate", error);
  JsonObject *entry = sb_repo_role_entry (dsigned, delegator, role);
  JsonObject *keys = sb_repo_key_dict (dsigned, delegator, TRUE);
  if (entry == NULL || !json_object_has_member (entry, "keyids"))
    {
      sb_throw (&error, SB_ERROR_PARSE, "%s lists no keyids for role %s", delegator, role);
      return sb_repo_cli_fail ("rotate", error);
    }
  JsonArray *keyids = json_object_get_array_member (entry, "keyids");
  gint64 new_threshold = threshold > 0 ? threshold : sb_repo_entry_threshold (entry);

  if ((add == NULL || add[0] == NULL) && (remove == NULL || remove[0] == NULL) && threshold <= 0)
    {
      /* A plain rotation: every key replaced. */
      while (json_array_get_length (keyids) > 0)
        json_array_remove_element (keyids, 0);
      for (gint64 i = 0; i < new_threshold; i++)
        {
          g_autoptr (SbSigner) s = sb_repo_new_key (repo, sb_repo_get_key_type (repo), &error);
          if (s == NULL)
            return sb_repo_cli_fail ("rotate", error);
          sb_repo_entry_add_key (keys, entry, sb_signer_get_public (s));
        }
    }
  else
    {
      for (char **r = remove; r != NULL && *r != NULL; r++)
        if (!remove_keyid (keyids, *r, role, &error))
          return sb_repo_cli_fail ("rotate", error);
      for (char **a = add; a != NULL && *a != NULL; a++)
        {
          g_autoptr (SbSigner) s = obtain_key (repo, *a, &error);
          if (s == NULL)
            return sb_repo_cli_fail ("rotate", error);
          sb_repo_entry_add_key (keys, entry, sb_signer_get_public (s));
        }
    }
  if (new_threshold < 1 || (gint64)json_array_get_length (keyids) < new_threshold)
    {
      sb_throw (&error, SB_ERROR_INVALID_ARGUMENT,
                "role %s would have %u keys for threshold %" G_GINT64_FORMAT
                ": add keys with --add-key or lower --threshold",
                role, json_array_get_length (keyids), new_threshold);
      return sb_repo_cli_fail ("rotate", error);
    }
  json_object_set_int_member (entry, "threshold", new_threshold);
  sb_repo_prune_keys (dsigned, delegator);
  if (!sb_repo_touch (repo, role, &error))
    return sb_repo_cli_fail ("rotate", error);

  printf ("role %s (listed by %s), threshold %" G_GINT64_FORMAT ", keys:\n", argv[2], delegator,
          new_threshold);
  for (guint i = 0; i < json_array_get_length (keyids); i++)
    printf ("  %s\n", json_array_get_string_element (keyids, i));
  if (!sb_repo_cli_commit (repo, publish, &error))
    return sb_repo_cli_fail ("rotate", error);
  return SB_REPO_EXIT_OK;
}
