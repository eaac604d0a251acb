/* repo-targets.c: `add-target` and `remove-target`. */
#include "config.h"

#include "repo-cli.h"
#include "repo-roles.h"
#include "repo-targets.h"
#include "repo-files.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <stdio.h>
#include <string.h>

JsonObject *
sb_repo_parse_custom (const char *text, GError **error)
{
  g_autoptr (JsonNode) node = sb_json_parse ((const guint8 *)text, strlen (text), error);
  if (node == NULL)
    {
      g_prefix_error (error, "--custom: ");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--custom must be a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (node));
}

gboolean
sb_repo_add_target (SbRepo *repo, const char *file, const char *name, const char *role,
                    JsonObject *custom, char **out_role, GError **error)
{
  if (!sb_repo_check_target_name (name, error))
    return FALSE;
  g_autofree char *dest_role = sb_repo_role_for_target (repo, role, name, error);
  if (dest_role == NULL)
    return FALSE;
  JsonObject *signed_obj = sb_repo_edit_signed (repo, dest_role, error);
  if (signed_obj == NULL)
    return FALSE;

  /* A client takes the first role in search order that lists a path (TUF §5.6.7), so a copy
   * left in another role could shadow this one. */
  g_autoptr (GPtrArray) roles = sb_repo_list_targets_roles (repo, error);
  if (roles == NULL)
    return FALSE;
  for (guint i = 0; i < roles->len; i++)
    {
      if (strcmp (roles->pdata[i], dest_role) == 0)
        continue;
      JsonObject *other = sb_repo_get_signed (repo, roles->pdata[i], error);
      if (other == NULL)
        return FALSE;
      JsonObject *targets = sb_repo_object_member (other, "targets");
      if (targets != NULL && json_object_has_member (targets, name))
        {
          JsonObject *edit = sb_repo_edit_signed (repo, roles->pdata[i], error);
          if (edit == NULL)
            return FALSE;
          json_object_remove_member (sb_repo_object_member (edit, "targets"), name);
          g_printerr ("note: target %s moved from role %s to role %s\n", name,
                      (const char *)roles->pdata[i], dest_role);
        }
    }

  JsonObject *info = sb_repo_stage_target_file (repo, name, file, error);
  if (info == NULL)
    return FALSE;
  if (custom != NULL)
    json_object_set_object_member (info, "custom", json_object_ref (custom));
  if (!json_object_has_member (signed_obj, "targets"))
    json_object_set_object_member (signed_obj, "targets", json_object_new ());
  json_object_set_object_member (sb_repo_object_member (signed_obj, "targets"), name, info);
  if (out_role != NULL)
    *out_role = g_steal_pointer (&dest_role);
  return TRUE;
}

int
sb_repo_cmd_add_target (int argc, char **argv)
{
  g_autofree char *name = NULL, *role = NULL, *custom_text = NULL;
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      "Target name (default: the file's base name); may contain '/'", "NAME" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role,
      "Role to start from (default targets); the target goes down to the first delegated "
      "role trusted for its name, as clients search",
      "ROLE" },
    { "custom", 0, 0, G_OPTION_ARG_STRING, &custom_text,
      "JSON object to store as the target's \"custom\"", "JSON" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "add-target", "DIR FILE",
      "Copies FILE into the repository and lists it, with its length and hashes, in a targets\n"
      "role. A target already listed by that name is replaced. When the role delegates the name\n"
      "(by paths, hash prefixes, hash bins or succinct bins), the target goes down to the first\n"
      "delegated role trusted for it, as a client would search (TUF §5.6.7).",
      "Examples:\n"
      "  switchback-repo add-target repo build/app.tar --name apps/app-1.2.tar --publish\n"
      "  switchback-repo add-target repo fw.bin --role firmware --custom '{\"v\": 3}'\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "add-target", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 3)
    return sb_repo_cli_usage ("add-target", "expected DIR and FILE");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) repo = sb_repo_cli_open (argv[1], "image", &error);
  if (repo == NULL)
    return sb_repo_cli_fail ("add-target", error);
  if (sb_repo_get_kind (repo) == SB_REPO_KIND_DIRECTOR)
    return sb_repo_cli_usage ("add-target",
                              "%s is a Director repository: its targets are assignments, made "
                              "with uptane-assign",
                              sb_repo_get_dir (repo));
  g_autoptr (JsonObject) custom = NULL;
  if (custom_text != NULL && (custom = sb_repo_parse_custom (custom_text, &error)) == NULL)
    return sb_repo_cli_fail ("add-target", error);
  g_autofree char *base = g_path_get_basename (argv[2]);
  const char *target = name != NULL ? name : base;
  g_autofree char *dest_role = NULL;
  if (!sb_repo_add_target (repo, argv[2], target, role, custom, &dest_role, &error))
    {
      g_prefix_error (&error, "target %s: ", target);
      return sb_repo_cli_fail ("add-target", error);
    }
  printf ("added target %s to role %s\n", target, dest_role);
  if (!sb_repo_cli_commit (repo, publish, &error))
    return sb_repo_cli_fail ("add-target", error);
  return SB_REPO_EXIT_OK;
}

int
sb_repo_cmd_remove_target (int argc, char **argv)
{
  g_autofree char *role = NULL;
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "role", 0, 0, G_OPTION_ARG_STRING, &role,
      "Remove it from this role only (default: every role that lists it)", "ROLE" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "remove-target", "DIR NAME",
      "Stops listing target NAME. Its file under DIR/targets/ is removed when the change is\n"
      "published (hash-named copies stay for clients that still hold the previous snapshot).",
      NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "remove-target", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 3)
    return sb_repo_cli_usage ("remove-target", "expected DIR and NAME");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) repo = sb_repo_cli_open (argv[1], "image", &error);
  if (repo == NULL)
    return sb_repo_cli_fail ("remove-target", error);
  const char *name = argv[2];
  g_autoptr (GPtrArray) roles = sb_repo_list_targets_roles (repo, &error);
  if (roles == NULL)
    return sb_repo_cli_fail ("remove-target", error);
  guint removed = 0;
  for (guint i = 0; i < roles->len; i++)
    {
      if (role != NULL && strcmp (role, roles->pdata[i]) != 0)
        continue;
      JsonObject *signed_obj = sb_repo_get_signed (repo, roles->pdata[i], &error);
      if (signed_obj == NULL)
        return sb_repo_cli_fail ("remove-target", error);
      JsonObject *targets = sb_repo_object_member (signed_obj, "targets");
      if (targets == NULL || !json_object_has_member (targets, name))
        continue;
      JsonObject *edit = sb_repo_edit_signed (repo, roles->pdata[i], &error);
      if (edit == NULL)
        return sb_repo_cli_fail ("remove-target", error);
      json_object_remove_member (sb_repo_object_member (edit, "targets"), name);
      printf ("removed target %s from role %s\n", name, (const char *)roles->pdata[i]);
      removed++;
    }
  if (removed == 0)
    {
      sb_throw (&error, SB_ERROR_NOT_FOUND, "no role%s%s of %s lists target %s",
                role != NULL ? " " : "", role != NULL ? role : "", sb_repo_get_dir (repo), name);
      return sb_repo_cli_fail ("remove-target", error);
    }
  if (sb_repo_check_target_name (name, NULL))
    {
      /* A file added and removed again before publishing must not be published. */
      g_autofree char *staged
          = g_build_filename (sb_repo_get_dir (repo), "staged", "targets", name, NULL);
      if (!sb_durable_unlink (staged, &error))
        return sb_repo_cli_fail ("remove-target", error);
    }
  if (!sb_repo_cli_commit (repo, publish, &error))
    return sb_repo_cli_fail ("remove-target", error);
  return SB_REPO_EXIT_OK;
}
