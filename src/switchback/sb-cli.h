/* sb-cli.h: what every `switchback` subcommand shares.
 *
 * The CLI only parses, calls the library and prints (one file per subcommand, builtin-*.c).
 * Exit status (design.md §8): 0 done or nothing to do, 1 error, 2 usage, 3 verification refused
 * (security), 4 download failed, 5 install failed, 10 installed and a reboot is needed.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "state/sb-config.h"

G_BEGIN_DECLS

typedef enum {
  SB_EXIT_OK = 0,
  SB_EXIT_ERROR = 1,
  SB_EXIT_USAGE = 2,
  SB_EXIT_REFUSED = 3,
  SB_EXIT_DOWNLOAD = 4,
  SB_EXIT_INSTALL = 5,
  SB_EXIT_REBOOT_NEEDED = 10,
} SbExitCode;

typedef struct {
  const char *config_path; /* --config, or NULL for the default */
  gboolean json;           /* --json: machine-readable output on stdout */
  gboolean verbose;        /* --verbose: debug messages on stderr */
  SbConfig *config;        /* loaded by main before the subcommand runs */
} SbCli;

typedef int (*SbBuiltinFunc) (SbCli *cli, int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary;
  SbBuiltinFunc func;
  gboolean needs_config; /* FALSE only for commands that must work without a valid config */
} SbBuiltin;

/* The exit status for a failure of class @error (design.md §8): security refusals 3, transport 4,
 * slot and disk failures 5, anything else 1. */
SbExitCode sb_cli_exit_code (const GError *error);

/* Prints "switchback: WHAT: message [class]" on stderr (or a JSON error object on stdout with
 * --json) and returns sb_cli_exit_code (@error). */
int sb_cli_fail (SbCli *cli, const char *what, const GError *error);

/* Parses a subcommand's own options (@entries may be NULL; @summary is --help's line). No
 * subcommand takes arguments: any left over is a usage error too. Prints the error and returns
 * FALSE on a usage error. */
gboolean sb_cli_parse_options (const char *summary, const GOptionEntry *entries, int *argc,
                               char ***argv);

/* Prints @node as pretty JSON on stdout. */
void sb_cli_print_json (JsonNode *node);

G_END_DECLS
