/* switchback mark-good / mark-bad: the verdict of the booted system's health checks, for
 * [boot] confirm=userspace (design.md §4). mark-good commits a trial boot (or resets the booted
 * slot's tries, as a normal boot does); mark-bad takes the booted slot's tries away so that the
 * next boot leaves it. Both only rewrite state and grubenv: rebooting is the caller's. The
 * decisions themselves are sb-bootchooser's. */
#include "config.h"

#include "install/sb-bootchooser.h"
#include "sb-builtins.h"

#include <stdio.h>

static gboolean opt_json;

static GOptionEntry entries[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Machine-readable output on stdout", NULL },
        { NULL } };

static void
print_json (const char *verdict, const char *message, const char *next_slot)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "marked");
  json_builder_add_string_value (b, verdict);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  if (next_slot != NULL)
    {
      json_builder_set_member_name (b, "next_slot");
      json_builder_add_string_value (b, next_slot);
      json_builder_set_member_name (b, "reboot_needed");
      json_builder_add_boolean_value (b, TRUE);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  sb_cli_print_json (root);
}

static gboolean
parse (SbCli *cli, const char *summary, int *argc, char ***argv)
{
  if (!sb_cli_parse_options (summary, entries, argc, argv))
    return FALSE;
  cli->json = cli->json || opt_json;
  return TRUE;
}

int
sb_builtin_mark_good (SbCli *cli, int argc, char **argv)
{
  if (!parse (cli, "- the booted slot passed its health checks: confirm it", &argc, &argv))
    return SB_EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  if (!sb_bootchooser_mark_good (cli->config, &message, &error))
    return sb_cli_fail (cli, "mark-good", error);
  if (cli->json)
    print_json ("good", message, NULL);
  else
    printf ("%s\n", message);
  return SB_EXIT_OK;
}

int
sb_builtin_mark_bad (SbCli *cli, int argc, char **argv)
{
  if (!parse (cli, "- the booted slot failed its health checks: leave it at the next boot", &argc,
              &argv))
    return SB_EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  SbSlotId next;
  if (!sb_bootchooser_mark_bad (cli->config, &next, &message, &error))
    return sb_cli_fail (cli, "mark-bad", error);
  if (cli->json)
    print_json ("bad", message, sb_slot_id_name (next));
  else
    printf ("%s. Reboot to use it.\n", message);
  return SB_EXIT_OK;
}
