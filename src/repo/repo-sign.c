/* repo-sign.c: `publish`, `sign`, `resign` and `expire`. */
#include "config.h"

#include "repo-cli.h"
#include "repo-publish.h"
#include "repo-roles.h"
#include "core/sb-error.h"

#include <stdio.h>
#include <string.h>

/* Publishes @dir, or both repositories of an Uptane pair (the Image repository first, so an
 * assignment never names an image that is not published yet). */
static int
publish_dir (const char *cmd, const char *dir, const char *const *force)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  if (sb_repo_dir_is_uptane (dir))
    {
      g_ptr_array_add (dirs, g_build_filename (dir, "image", NULL));
      g_ptr_array_add (dirs, g_build_filename (dir, "director", NULL));
    }
  else
    g_ptr_array_add (dirs, g_strdup (dir));

  for (guint i = 0; i < dirs->len; i++)
    {
      g_autoptr (SbRepo) repo = sb_repo_open (dirs->pdata[i], &error);
      g_autoptr (GPtrArray) published = NULL;
      if (repo == NULL || !sb_repo_publish (repo, force, &published, &error))
        return sb_repo_cli_fail (cmd, error);
      if (published->len == 0)
        printf ("nothing to publish in %s\n", sb_repo_get_dir (repo));
      sb_repo_cli_print_published (repo, published);
    }
  return SB_REPO_EXIT_OK;
}

int
sb_repo_cmd_publish (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "publish", "DIR",
      "Signs a new version of every role with staged changes, of every role whose keys\n"
      "changed, then snapshot and timestamp, and publishes them under DIR/metadata/ in one\n"
      "step (timestamp last). For an Uptane pair, publishes the Image repository, then the\n"
      "Director.",
      NULL);
  if (!sb_repo_cli_parse (ctx, "publish", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage ("publish", "expected one argument, the repository directory");
  return publish_dir ("publish", argv[1], NULL);
}

int
sb_repo_cmd_sign (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "sign", "DIR [ROLE...]",
      "Publishes new versions of the ROLEs (fresh version, expiry and signatures) even when\n"
      "they did not change, along with every staged change; then snapshot and timestamp as\n"
      "needed. Without ROLE, the same as publish. `sign DIR timestamp` refreshes the timestamp.",
      NULL);
  if (!sb_repo_cli_parse (ctx, "sign", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc < 2)
    return sb_repo_cli_usage ("sign", "expected the repository directory");
  if (argc > 2 && sb_repo_dir_is_uptane (argv[1]))
    return sb_repo_cli_usage ("sign", "%s is an Uptane pair: name %s/director or %s/image", argv[1],
                              argv[1], argv[1]);
  g_autoptr (GPtrArray) roles = g_ptr_array_new ();
  for (int i = 2; i < argc; i++)
    g_ptr_array_add (roles, argv[i]);
  g_ptr_array_add (roles, NULL);
  return publish_dir ("sign", argv[1], (const char *const *)roles->pdata);
}

int
sb_repo_cmd_resign (int argc, char **argv)
{
  g_auto (GStrv) keys = NULL;
  GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &keys,
      "Sign with this PEM private key instead of the role's keys (repeatable)", "FILE.pem" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "resign", "DIR ROLE",
      "Re-signs DIR/metadata/ROLE.json exactly as it is on disk, after its \"signed\" part was\n"
      "edited by hand: no version bump, no new snapshot or timestamp. With consistent\n"
      "snapshots (and always for root) N.ROLE.json is rewritten too. This is how tests publish\n"
      "deliberately broken metadata (rollbacks, wrong hashes, wrong keys).",
      "Example:\n"
      "  python3 -c '...edit repo/metadata/timestamp.json...'\n"
      "  switchback-repo resign repo timestamp\n"
      "  switchback-repo resign repo targets --key attacker.pem\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "resign", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 3)
    return sb_repo_cli_usage ("resign", "expected DIR and ROLE");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) repo = sb_repo_cli_open (argv[1], NULL, &error);
  if (repo == NULL || !sb_repo_resign (repo, argv[2], (const char *const *)keys, &error))
    return sb_repo_cli_fail ("resign", error);
  printf ("re-signed %s in %s\n", argv[2], sb_repo_get_dir (repo));
  return SB_REPO_EXIT_OK;
}

int
sb_repo_cmd_expire (int argc, char **argv)
{
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "expire", "DIR ROLE DURATION|DATE",
      "Sets the expiry rule of ROLE and stages the role, so the next publish signs a version\n"
      "that expires accordingly. DURATION counts from each publish (90d, 12h, 30m, 45s, 2w, 1y);\n"
      "a DATE (2030-01-01 or 2030-01-01T00:00:00Z) is fixed, and may lie in the past to publish\n"
      "expired metadata. ROLE \"delegated\" sets the rule of every delegated role without one.",
      "Example:\n"
      "  switchback-repo expire repo timestamp 2000-01-01 --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "expire", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 4)
    return sb_repo_cli_usage ("expire", "expected DIR, ROLE and DURATION or DATE");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) repo = sb_repo_cli_open (argv[1], NULL, &error);
  if (repo == NULL)
    return sb_repo_cli_fail ("expire", error);
  const char *role = argv[2];
  if (strcmp (role, "delegated") != 0 && !sb_repo_has_role (repo, role))
    {
      sb_throw (&error, SB_ERROR_NOT_FOUND, "role %s does not exist in %s", role,
                sb_repo_get_dir (repo));
      return sb_repo_cli_fail ("expire", error);
    }
  if (!sb_repo_set_expiry_rule (repo, role, argv[3], &error))
    return sb_repo_cli_fail ("expire", error);

  if (strcmp (role, "delegated") == 0)
    {
      g_autoptr (GPtrArray) roles = sb_repo_list_targets_roles (repo, &error);
      if (roles == NULL)
        return sb_repo_cli_fail ("expire", error);
      for (guint i = 0; i < roles->len; i++)
        if (!sb_role_is_top_level (roles->pdata[i])
            && !sb_repo_touch (repo, roles->pdata[i], &error))
          return sb_repo_cli_fail ("expire", error);
    }
  else if (!sb_repo_touch (repo, role, &error))
    return sb_repo_cli_fail ("expire", error);
  printf ("expiry rule of role %s: %s\n", role, argv[3]);
  if (!sb_repo_cli_commit (repo, publish, &error))
    return sb_repo_cli_fail ("expire", error);
  return SB_REPO_EXIT_OK;
}
