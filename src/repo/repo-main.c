/* switchback-repo: a TUF and Uptane repository tool (design.md §1, §2, §3).
 *
 *   switchback-repo [--help | --version] COMMAND [OPTIONS] ARGS
 *
 * main only finds the subcommand; each lives in its own repo-*.c over the repository model.
 */
#include "config.h"

#include "repo-cli.h"
#include "repo-publish.h"
#include "core/sb-error.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

const SbRepoCommand sb_repo_commands[] = {
  { "init", "DIR", "Create a TUF repository with keys and version 1 of every role",
    sb_repo_cmd_init },
  { "add-target", "DIR FILE", "Add (or replace) a target file", sb_repo_cmd_add_target },
  { "remove-target", "DIR NAME", "Remove a target", sb_repo_cmd_remove_target },
  { "delegate", "DIR --from ROLE --to NAME", "Delegate paths or hash prefixes to a new role",
    sb_repo_cmd_delegate },
  { "delegate-hashbins", "DIR --from ROLE --bins N",
    "Delegate every path to N hash-bin roles (path_hash_prefixes)", sb_repo_cmd_delegate_hashbins },
  { "delegate-succinct", "DIR --from ROLE --bit-length B --name-prefix P",
    "Delegate every path to 2^B succinct hash bins (TAP 15)", sb_repo_cmd_delegate_succinct },
  { "rotate", "DIR ROLE", "Replace, add or remove the keys of a role", sb_repo_cmd_rotate },
  { "expire", "DIR ROLE DURATION|DATE", "Set when a role's metadata expires", sb_repo_cmd_expire },
  { "publish", "DIR", "Sign and publish every staged change", sb_repo_cmd_publish },
  { "sign", "DIR [ROLE...]", "Publish new versions of roles even without changes",
    sb_repo_cmd_sign },
  { "resign", "DIR ROLE", "Re-sign hand-edited published metadata as it is (for tests)",
    sb_repo_cmd_resign },
  { "status", "DIR", "Show roles, versions, expiry, keys and staged changes", sb_repo_cmd_status },
  { "verify", "DIR", "Check the repository as a client would, from 1.root.json on",
    sb_repo_cmd_verify },
  { "keygen", "FILE.pem", "Generate a key pair (e.g. an ECU key)", sb_repo_cmd_keygen },
  { "uptane-init", "DIR", "Create an Uptane Director and Image repository pair",
    sb_repo_cmd_uptane_init },
  { "uptane-add-image", "DIR FILE --name NAME --hardware-id HW",
    "Add an image to the Image repository", sb_repo_cmd_uptane_add_image },
  { "uptane-add-ostree", "DIR --ostree-repo PATH --commit REV --name NAME --hardware-id HW",
    "Add an OSTree commit of a local repository as an OSTREE image",
    sb_repo_cmd_uptane_add_ostree },
  { "uptane-assign", "DIR --name NAME --ecu SERIAL",
    "Assign an image to an ECU in the Director's targets", sb_repo_cmd_uptane_assign },
  { "uptane-clear", "DIR --vin VIN", "Clear the Director's assignments for a vehicle",
    sb_repo_cmd_uptane_clear },
  { "register-ecu", "DIR SERIAL PUBKEY.json", "Register an ECU's public key with the Director",
    sb_repo_cmd_register_ecu },
  { "serve", "DIR --port P", "Serve a repository (or an Uptane pair) over HTTP(S)",
    sb_repo_cmd_serve },
  { NULL, NULL, NULL, NULL },
};

GOptionContext *
sb_repo_cli_context (const char *cmd, const char *params, const char *summary,
                     const char *description)
{
  g_autofree char *prgname = g_strdup_printf ("switchback-repo %s", cmd);
  g_set_prgname (prgname);
  GOptionContext *ctx = g_option_context_new (params);
  g_option_context_set_summary (ctx, summary);
  if (description != NULL)
    g_option_context_set_description (ctx, description);
  return ctx;
}

gboolean
sb_repo_cli_parse (GOptionContext *ctx, const char *cmd, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("switchback-repo %s: %s\nTry `switchback-repo %s --help`.\n", cmd, error->message,
                  cmd);
      return FALSE;
    }
  return TRUE;
}

int
sb_repo_cli_usage (const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("switchback-repo %s: %s\nTry `switchback-repo %s --help`.\n", cmd, msg, cmd);
  return SB_REPO_EXIT_USAGE;
}

int
sb_repo_cli_fail (const char *cmd, const GError *error)
{
  const char *klass = error->domain == SB_ERROR ? sb_error_code_name (error->code) : "error";
  g_printerr ("switchback-repo %s: %s [%s]\n", cmd, error->message, klass);
  if (g_error_matches (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT))
    return SB_REPO_EXIT_USAGE;
  return SB_REPO_EXIT_ERROR;
}

SbRepo *
sb_repo_cli_open (const char *dir, const char *uptane_part, GError **error)
{
  if (sb_repo_dir_is_uptane (dir))
    {
      if (uptane_part == NULL)
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                    "%s is an Uptane Director and Image repository pair: name one of them "
                    "(%s/director or %s/image)",
                    dir, dir, dir);
          return NULL;
        }
      g_autofree char *sub = g_build_filename (dir, uptane_part, NULL);
      return sb_repo_open (sub, error);
    }
  return sb_repo_open (dir, error);
}

void
sb_repo_cli_print_published (SbRepo *repo, GPtrArray *published)
{
  for (guint i = 0; published != NULL && i < published->len; i++)
    printf ("published %s (%s)\n", (const char *)published->pdata[i], sb_repo_get_dir (repo));
  fflush (stdout);
}

gboolean
sb_repo_cli_commit (SbRepo *repo, gboolean publish, GError **error)
{
  if (!sb_repo_save (repo, error))
    return FALSE;
  if (!publish)
    {
      printf ("staged in %s; run `switchback-repo publish %s` to sign and publish\n",
              sb_repo_get_dir (repo), sb_repo_get_dir (repo));
      fflush (stdout);
      return TRUE;
    }
  g_autoptr (GPtrArray) published = NULL;
  if (!sb_repo_publish (repo, NULL, &published, error))
    return FALSE;
  sb_repo_cli_print_published (repo, published);
  return TRUE;
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: switchback-repo COMMAND [OPTIONS] ARGS\n\n"
                "A TUF and Uptane repository tool: keys, targets, delegations, key rotation,\n"
                "signing, and a development server for repositories and Director/Image pairs.\n\n"
                "Commands:\n");
  for (const SbRepoCommand *c = sb_repo_commands; c->name != NULL; c++)
    fprintf (out, "  %-18s %s\n", c->name, c->summary);
  fprintf (out, "\nEdits are staged; `publish` signs new versions of every changed role, then\n"
                "snapshot and timestamp, in one step (or pass --publish to an editing command).\n"
                "`switchback-repo COMMAND --help` describes each command.\n\n"
                "Quick start:\n"
                "  switchback-repo init repo\n"
                "  switchback-repo add-target repo image.bin --publish\n"
                "  switchback-repo serve repo --port 8080\n\n"
                "Exit status: 0 done, 1 error, 2 usage, 3 verification failed.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      usage (stderr);
      return SB_REPO_EXIT_USAGE;
    }
  const char *cmd = argv[1];
  if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0)
    {
      if (strcmp (cmd, "help") == 0 && argc > 2)
        {
          for (const SbRepoCommand *c = sb_repo_commands; c->name != NULL; c++)
            if (strcmp (c->name, argv[2]) == 0)
              {
                char *help_argv[] = { argv[2], (char *)"--help", NULL };
                return c->func (2, help_argv);
              }
        }
      usage (stdout);
      return SB_REPO_EXIT_OK;
    }
  if (strcmp (cmd, "--version") == 0)
    {
      printf ("switchback-repo %s\n", PACKAGE_VERSION);
      return SB_REPO_EXIT_OK;
    }
  for (const SbRepoCommand *c = sb_repo_commands; c->name != NULL; c++)
    if (strcmp (c->name, cmd) == 0)
      return c->func (argc - 1, argv + 1);

  g_printerr ("switchback-repo: unknown command \"%s\"\n\n", cmd);
  usage (stderr);
  return SB_REPO_EXIT_USAGE;
}
