/* switchback config: prints the effective configuration, every key with its value, so that
 * what the defaults, the main file and the drop-ins add up to is visible in one place: as
 * GKeyFile text, or with --json as one JSON object (sb_config_to_json). */
#include "config.h"

#include "sb-builtins.h"

#include <stdio.h>

int
sb_builtin_config (SbCli *cli, int argc, char **argv)
{
  if (!sb_cli_parse_options ("- show the effective configuration", NULL, &argc, &argv))
    return SB_EXIT_USAGE;
  if (cli->json)
    {
      g_autoptr (JsonNode) node = sb_config_to_json (cli->config);
      sb_cli_print_json (node);
      return SB_EXIT_OK;
    }
  g_autofree char *text = sb_config_to_string (cli->config);
  fputs (text, stdout);
  return SB_EXIT_OK;
}
