/* sb-builtins.h: the subcommands of `switchback`, one builtin-NAME.c each.
 * Adding a command: declare its function here and add its row to SB_BUILTINS. */
#pragma once

#include "sb-cli.h"

int sb_builtin_config (SbCli *cli, int argc, char **argv);

#define SB_BUILTINS                                                                               \
  { "config", "Show the effective configuration", sb_builtin_config, TRUE },
