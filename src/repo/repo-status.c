/* repo-status.c: `status`, what a repository holds and what waits to be published. */
#include "config.h"

#include "repo-cli.h"
#include "repo-roles.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <stdio.h>
#include <string.h>

/* One role's status as a JSON object. */
static JsonObject *
role_status (SbRepo *repo, const char *role, gint64 now, GError **error)
{
  JsonObject *signed_obj = sb_repo_get_signed (repo, role, error);
  if (signed_obj == NULL)
    return NULL;
  g_autofree char *delegator = sb_repo_find_delegator (repo, role, error);
  if (delegator == NULL)
    return NULL;
  JsonObject *dsigned = sb_repo_get_signed (repo, delegator, error);
  if (dsigned == NULL)
    return NULL;
  JsonObject *entry = sb_repo_role_entry (dsigned, delegator, role);

  JsonObject *st = json_object_new ();
  json_object_set_string_member (st, "name", role);
  json_object_set_string_member (st, "delegator", delegator);
  json_object_set_int_member (st, "version", sb_repo_get_published_version (repo, role));
  JsonNode *published = sb_repo_get_published (repo, role, NULL);
  JsonObject *psigned = published != NULL
                            ? sb_repo_object_member (json_node_get_object (published), "signed")
                            : NULL;
  const char *expires = sb_repo_string_member (psigned, "expires");
  gint64 exp = 0;
  json_object_set_string_member (st, "expires", expires != NULL ? expires : "");
  json_object_set_boolean_member (
      st, "expired", expires != NULL && sb_metadata_parse_time (expires, &exp, NULL) && now >= exp);
  json_object_set_boolean_member (st, "staged", sb_repo_is_staged (repo, role));
  json_object_set_int_member (st, "threshold", sb_repo_entry_threshold (entry));
  JsonArray *keyids = json_array_new ();
  JsonArray *held = json_array_new ();
  JsonArray *ids = entry != NULL && json_object_has_member (entry, "keyids")
                       ? json_object_get_array_member (entry, "keyids")
                       : NULL;
  for (guint i = 0; ids != NULL && i < json_array_get_length (ids); i++)
    {
      const char *k = json_array_get_string_element (ids, i);
      if (k == NULL)
        continue;
      json_array_add_string_element (keyids, k);
      g_autoptr (SbSigner) s = sb_repo_load_key (repo, k, NULL);
      if (s != NULL)
        json_array_add_string_element (held, k);
    }
  json_object_set_array_member (st, "keyids", keyids);
  json_object_set_array_member (st, "private_keys_held", held);
  JsonObject *targets = sb_repo_object_member (signed_obj, "targets");
  if (sb_repo_is_targets_role (role))
    json_object_set_int_member (st, "targets",
                                targets != NULL ? json_object_get_size (targets) : 0);
  return st;
}

static JsonObject *
repo_status (SbRepo *repo, GError **error)
{
  gint64 now = sb_repo_now ();
  JsonObject *out = json_object_new ();
  json_object_set_string_member (out, "dir", sb_repo_get_dir (repo));
  json_object_set_string_member (out, "kind", sb_repo_kind_name (sb_repo_get_kind (repo)));
  json_object_set_boolean_member (out, "consistent_snapshot",
                                  sb_repo_get_consistent_snapshot (repo));
  JsonArray *roles = json_array_new ();
  json_object_set_array_member (out, "roles", roles);

  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (names, g_strdup (SB_ROLE_ROOT));
  g_ptr_array_add (names, g_strdup (SB_ROLE_TIMESTAMP));
  g_ptr_array_add (names, g_strdup (SB_ROLE_SNAPSHOT));
  g_autoptr (GPtrArray) targets_roles = sb_repo_list_targets_roles (repo, error);
  if (targets_roles == NULL)
    {
      json_object_unref (out);
      return NULL;
    }
  for (guint i = 0; i < targets_roles->len; i++)
    g_ptr_array_add (names, g_strdup (targets_roles->pdata[i]));
  for (guint i = 0; i < names->len; i++)
    {
      JsonObject *st = role_status (repo, names->pdata[i], now, error);
      if (st == NULL)
        {
          json_object_unref (out);
          return NULL;
        }
      json_array_add_object_element (roles, st);
    }
  return out;
}

static void
print_status (JsonObject *st)
{
  printf ("%s (%s repository), consistent snapshots: %s\n",
          json_object_get_string_member (st, "dir"), json_object_get_string_member (st, "kind"),
          json_object_get_boolean_member (st, "consistent_snapshot") ? "yes" : "no");
  printf ("  %-20s %7s  %-20s  %-9s  %s\n", "ROLE", "VERSION", "EXPIRES", "THRESHOLD",
          "KEYS (* = private key held here)");
  JsonArray *roles = json_object_get_array_member (st, "roles");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    {
      JsonObject *r = json_array_get_object_element (roles, i);
      JsonArray *keyids = json_object_get_array_member (r, "keyids");
      JsonArray *held = json_object_get_array_member (r, "private_keys_held");
      g_autoptr (GString) keys = g_string_new (NULL);
      for (guint k = 0; k < json_array_get_length (keyids); k++)
        {
          const char *id = json_array_get_string_element (keyids, k);
          gboolean have = FALSE;
          for (guint h = 0; h < json_array_get_length (held); h++)
            have = have || strcmp (json_array_get_string_element (held, h), id) == 0;
          g_string_append_printf (keys, "%s%.12s%s", k > 0 ? " " : "", id, have ? "*" : "");
        }
      g_autofree char *threshold
          = g_strdup_printf ("%" G_GINT64_FORMAT "/%u", json_object_get_int_member (r, "threshold"),
                             json_array_get_length (keyids));
      g_autoptr (GString) notes = g_string_new (NULL);
      if (json_object_has_member (r, "targets"))
        g_string_append_printf (notes, "  %" G_GINT64_FORMAT " targets",
                                json_object_get_int_member (r, "targets"));
      if (json_object_get_boolean_member (r, "staged"))
        g_string_append (notes, "  [staged]");
      if (json_object_get_boolean_member (r, "expired"))
        g_string_append (notes, "  [EXPIRED]");
      const char *exp = json_object_get_string_member (r, "expires");
      printf ("  %-20s %7" G_GINT64_FORMAT "  %-20s  %-9s  %s%s\n",
              json_object_get_string_member (r, "name"), json_object_get_int_member (r, "version"),
              *exp != '\0' ? exp : "(unpublished)", threshold, keys->str, notes->str);
    }
}

int
sb_repo_cmd_status (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON (an array for an Uptane pair)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "status", "DIR",
      "Shows every role: published version, expiry, threshold and key ids (marked when the\n"
      "private key is held here), the number of targets, and which roles have staged changes.\n"
      "For an Uptane pair, shows both repositories.",
      NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "status", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage ("status", "expected one argument, the repository directory");

  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  gboolean pair = sb_repo_dir_is_uptane (argv[1]);
  if (pair)
    {
      g_ptr_array_add (dirs, g_build_filename (argv[1], "director", NULL));
      g_ptr_array_add (dirs, g_build_filename (argv[1], "image", NULL));
    }
  else
    g_ptr_array_add (dirs, g_strdup (argv[1]));

  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) all = json_array_new ();
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autoptr (SbRepo) repo = sb_repo_open (dirs->pdata[i], &error);
      JsonObject *st = repo != NULL ? repo_status (repo, &error) : NULL;
      if (st == NULL)
        return sb_repo_cli_fail ("status", error);
      json_array_add_object_element (all, st);
    }
  if (json)
    {
      g_autoptr (JsonNode) node = json_node_new (pair ? JSON_NODE_ARRAY : JSON_NODE_OBJECT);
      if (pair)
        json_node_set_array (node, all);
      else
        json_node_set_object (node, json_array_get_object_element (all, 0));
      g_autofree char *text = sb_json_pretty (node);
      fputs (text, stdout);
    }
  else
    for (guint i = 0; i < json_array_get_length (all); i++)
      print_status (json_array_get_object_element (all, i));
  return SB_REPO_EXIT_OK;
}
