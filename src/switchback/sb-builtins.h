/* sb-builtins.h: the subcommands of `switchback`, one builtin-NAME.c each.
 * Adding a command: declare its function here and add its row to SB_BUILTINS. */
#pragma once

#include "sb-cli.h"

int sb_builtin_config (SbCli *cli, int argc, char **argv);
int sb_builtin_check (SbCli *cli, int argc, char **argv);
int sb_builtin_status (SbCli *cli, int argc, char **argv);
int sb_builtin_daemon (SbCli *cli, int argc, char **argv);
int sb_builtin_update (SbCli *cli, int argc, char **argv);
int sb_builtin_mark_good (SbCli *cli, int argc, char **argv);
int sb_builtin_mark_bad (SbCli *cli, int argc, char **argv);

#define SB_BUILTINS                                                                               \
  { "config", "Show the effective configuration", sb_builtin_config, TRUE },                     \
  { "check", "Verify both repositories and show the assigned update", sb_builtin_check, TRUE },  \
  { "status", "Show identity, trusted metadata and install state", sb_builtin_status, TRUE },    \
  { "update", "Install the assigned image and stage it for a reboot", sb_builtin_update, TRUE },  \
  { "mark-good", "Confirm the booted slot (confirm=userspace)", sb_builtin_mark_good, TRUE },     \
  { "mark-bad", "Reject the booted slot: the next boot leaves it", sb_builtin_mark_bad, TRUE },   \
  { "daemon", "Run the update cycle every poll-interval seconds", sb_builtin_daemon, TRUE },
