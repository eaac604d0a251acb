/* repo-cli.h: what every switchback-repo subcommand shares.
 *
 * One file per subcommand (or per family of subcommands) parses its options, calls the
 * repository model (repo-store.h, repo-roles.h, repo-publish.h) and prints. Exit status: 0 done,
 * 1 error, 2 usage, 3 verification failed (`verify`).
 */
#pragma once

#include <glib.h>

#include "repo-store.h"

G_BEGIN_DECLS

typedef enum
{
  SB_REPO_EXIT_OK = 0,
  SB_REPO_EXIT_ERROR = 1,
  SB_REPO_EXIT_USAGE = 2,
  SB_REPO_EXIT_REFUSED = 3,
} SbRepoExit;

typedef int (*SbRepoCommandFunc) (int argc, char **argv);

typedef struct
{
  const char *name;
  const char *synopsis; /* the arguments, for the overall help */
  const char *summary;
  SbRepoCommandFunc func;
} SbRepoCommand;

/* The commands, NULL-terminated by name (repo-main.c). */
extern const SbRepoCommand sb_repo_commands[];

/* An option context for subcommand @cmd: "Usage: switchback-repo CMD [OPTION…] @params",
 * with @summary above the options and @description (examples) below. */
GOptionContext *sb_repo_cli_context (const char *cmd, const char *params, const char *summary,
                                     const char *description);
/* Parses; on a usage error prints it with a hint and returns FALSE. */
gboolean sb_repo_cli_parse (GOptionContext *ctx, const char *cmd, int *argc, char ***argv);
/* Prints "switchback-repo CMD: MESSAGE" and the hint to run --help; returns SB_REPO_EXIT_USAGE. */
int sb_repo_cli_usage (const char *cmd, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* Prints "switchback-repo CMD: message [class]" and returns the exit status for @error:
 * SB_REPO_EXIT_USAGE for SB_ERROR_INVALID_ARGUMENT, else SB_REPO_EXIT_ERROR. */
int sb_repo_cli_fail (const char *cmd, const GError *error);

/* Opens the TUF repository @dir for command @cmd. For an Uptane pair directory, @uptane_part
 * ("director" or "image") picks the repository when not NULL; otherwise the pair is refused
 * with a hint to name DIR/director or DIR/image. */
SbRepo *sb_repo_cli_open (const char *dir, const char *uptane_part,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Saves the edits of @repo; when @publish, publishes and prints what was written. Without
 * @publish, prints a reminder that the changes wait for `publish`. */
gboolean sb_repo_cli_commit (SbRepo *repo, gboolean publish,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Prints each "ROLE vN" of @published as "published ROLE vN (DIR)". */
void sb_repo_cli_print_published (SbRepo *repo, GPtrArray *published);

/* The commands (one function each). */
int sb_repo_cmd_init (int argc, char **argv);
int sb_repo_cmd_keygen (int argc, char **argv);
int sb_repo_cmd_add_target (int argc, char **argv);
int sb_repo_cmd_remove_target (int argc, char **argv);
int sb_repo_cmd_delegate (int argc, char **argv);
int sb_repo_cmd_delegate_hashbins (int argc, char **argv);
int sb_repo_cmd_delegate_succinct (int argc, char **argv);
int sb_repo_cmd_rotate (int argc, char **argv);
int sb_repo_cmd_expire (int argc, char **argv);
int sb_repo_cmd_publish (int argc, char **argv);
int sb_repo_cmd_sign (int argc, char **argv);
int sb_repo_cmd_resign (int argc, char **argv);
int sb_repo_cmd_status (int argc, char **argv);
int sb_repo_cmd_verify (int argc, char **argv);
int sb_repo_cmd_uptane_init (int argc, char **argv);
int sb_repo_cmd_uptane_add_image (int argc, char **argv);
int sb_repo_cmd_uptane_add_ostree (int argc, char **argv);
int sb_repo_cmd_uptane_assign (int argc, char **argv);
int sb_repo_cmd_uptane_clear (int argc, char **argv);
int sb_repo_cmd_register_ecu (int argc, char **argv);
int sb_repo_cmd_serve (int argc, char **argv);

G_END_DECLS
