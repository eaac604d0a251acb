/* repo-ostree.c: `switchback-repo uptane-add-ostree`, an OSTree commit of a local repository
 * published as an Uptane Image target (design.md §5: sha256 = the commit checksum, length 0,
 * custom.targetFormat OSTREE). The commit is read with libostree, so only a commit that exists
 * and is complete in the repository is ever published; the target itself is written by
 * uptane-add-image. */
#include "config.h"

#include "repo-cli.h"
#include "core/sb-error.h"

#include <ostree.h>
#include <stdio.h>

/* The checksum of @rev (a ref or a checksum) in the repository @path, which must hold the whole
 * commit: a partial commit published would be one no client could pull. */
static char *
resolve_commit (const char *path, const char *rev, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (OstreeRepo) repo = ostree_repo_new (file);
  g_autoptr (GError) local = NULL;
  if (!ostree_repo_open (repo, NULL, &local))
    {
      sb_throw (error, SB_ERROR_NOT_FOUND, "%s is not an OSTree repository: %s", path,
                local->message);
      return NULL;
    }
  g_autofree char *checksum = NULL;
  if (!ostree_repo_resolve_rev (repo, rev, FALSE, &checksum, &local))
    {
      sb_throw (error, SB_ERROR_NOT_FOUND, "%s has no commit or ref %s: %s", path, rev,
                local->message);
      return NULL;
    }
  OstreeRepoCommitState state = 0;
  g_autoptr (GVariant) commit = NULL;
  if (!ostree_repo_load_commit (repo, checksum, &commit, &state, &local))
    {
      sb_throw (error, SB_ERROR_NOT_FOUND, "%s: commit %s (%s) cannot be read: %s", path, rev,
                checksum, local->message);
      return NULL;
    }
  if (state & OSTREE_REPO_COMMIT_STATE_PARTIAL)
    {
      sb_throw (error, SB_ERROR_STATE, "%s: commit %s is only partly in the repository", path,
                checksum);
      return NULL;
    }
  return g_steal_pointer (&checksum);
}

int
sb_repo_cmd_uptane_add_ostree (int argc, char **argv)
{
  const char *cmd = "uptane-add-ostree";
  g_autofree char *ostree_repo = NULL, *rev = NULL;
  GOptionEntry entries[] = {
    { "ostree-repo", 0, 0, G_OPTION_ARG_FILENAME, &ostree_repo,
      "The local OSTree repository that holds the commit", "PATH" },
    { "commit", 0, 0, G_OPTION_ARG_STRING, &rev, "The commit: a checksum or a ref",
      "CHECKSUM|REF" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      cmd, "DIR --ostree-repo PATH --commit CHECKSUM|REF --name NAME --hardware-id HW",
      "Adds the OSTree commit CHECKSUM|REF of the repository PATH to the Image repository of\n"
      "the Uptane pair DIR as an OSTREE target (sha256 = the commit checksum, length 0).\n"
      "The other options are those of uptane-add-image (--name, --hardware-id, --version,\n"
      "--release-counter, --uri, --custom, --publish).",
      "Example:\n"
      "  switchback-repo uptane-add-ostree uptane --ostree-repo build/repo \\\n"
      "      --commit testos/main --name os-2 --hardware-id board-a --release-counter 2\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_ignore_unknown_options (ctx, TRUE);
  if (!sb_repo_cli_parse (ctx, cmd, &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (ostree_repo == NULL || rev == NULL)
    return sb_repo_cli_usage (cmd, "--ostree-repo and --commit are required");
  if (argc < 2)
    return sb_repo_cli_usage (cmd, "expected DIR");

  g_autoptr (GError) error = NULL;
  g_autofree char *checksum = resolve_commit (ostree_repo, rev, &error);
  if (checksum == NULL)
    return sb_repo_cli_fail (cmd, error);
  printf ("commit %s of %s is %s\n", rev, ostree_repo, checksum);

  /* uptane-add-image --format OSTREE --commit CHECKSUM with the remaining arguments. */
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_ptr_array_add (args, (char *)"uptane-add-image");
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, (char *)"--format=OSTREE");
  g_autofree char *commit_arg = g_strconcat ("--commit=", checksum, NULL);
  g_ptr_array_add (args, commit_arg);
  g_ptr_array_add (args, NULL);
  g_autofree char **copy = g_memdup2 (args->pdata, sizeof (char *) * args->len);
  return sb_repo_cmd_uptane_add_image ((int)args->len - 1, copy);
}
