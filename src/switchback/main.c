/* switchback: the Uptane update client for a Linux primary ECU (design.md §8).
 *
 *   switchback [--config FILE] [--json] [--verbose] COMMAND [OPTIONS]
 *
 * The global options (--config, --json, --verbose) are accepted before and after COMMAND.
 *
 * main only finds the subcommand, loads the configuration and maps errors to exit statuses;
 * each subcommand lives in its own builtin-*.c over libswitchback.
 */
#include "config.h"

#include "sb-cli.h"
#include "sb-builtins.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const SbBuiltin builtins[] = {
  SB_BUILTINS
  { NULL, NULL, NULL, FALSE }
};

/* Each status means one thing (design.md §8, docs/errors.md): 3 the metadata or a URL it chose was
 * refused for security, 4 the server or the network failed, 5 the slot or disk failed, 1 a local
 * problem (configuration, state, a missing local file or partition, a bug). 2, usage, is only
 * ever the command line's: no library error is the user's typing. */
SbExitCode
sb_cli_exit_code (const GError *error)
{
  if (error == NULL || error->domain != SB_ERROR)
    return SB_EXIT_ERROR;
  switch ((SbErrorCode) error->code)
    {
    case SB_ERROR_PARSE:
    case SB_ERROR_BAD_TYPE:
    case SB_ERROR_SPEC_VERSION:
    case SB_ERROR_BAD_SIGNATURE:
    case SB_ERROR_THRESHOLD:
    case SB_ERROR_EXPIRED:
    case SB_ERROR_ROLLBACK:
    case SB_ERROR_VERSION_MISMATCH:
    case SB_ERROR_LENGTH_MISMATCH:
    case SB_ERROR_HASH_MISMATCH:
    case SB_ERROR_UNSAFE_PATH:
    case SB_ERROR_TOO_MANY:
    case SB_ERROR_BAD_HARDWARE_ID:
    case SB_ERROR_BAD_ECU_ID:
    case SB_ERROR_MISMATCH:
    case SB_ERROR_REPLAY:
    case SB_ERROR_URL_REFUSED:
      return SB_EXIT_REFUSED;
    case SB_ERROR_ENDLESS_DATA:
    case SB_ERROR_SLOW_RETRIEVAL:
    case SB_ERROR_DOWNLOAD:
    case SB_ERROR_NOT_ON_SERVER:
      return SB_EXIT_DOWNLOAD;
    case SB_ERROR_NO_SPACE:
    case SB_ERROR_SLOT_BUSY:
    case SB_ERROR_INSTALL:
      return SB_EXIT_INSTALL;
    case SB_ERROR_FAILED:
    case SB_ERROR_INVALID_ARGUMENT:
    case SB_ERROR_IO:
    case SB_ERROR_UNSUPPORTED:
    case SB_ERROR_NOT_FOUND:
    case SB_ERROR_CONFIG:
    case SB_ERROR_STATE:
      return SB_EXIT_ERROR;
    }
  return SB_EXIT_ERROR;
}

void
sb_cli_print_json (JsonNode *node)
{
  g_autofree char *text = sb_json_pretty (node);
  fputs (text, stdout);
  if (!g_str_has_suffix (text, "\n"))
    fputc ('\n', stdout);
  fflush (stdout);
}

int
sb_cli_fail (SbCli *cli, const char *what, const GError *error)
{
  const char *klass = error->domain == SB_ERROR ? sb_error_code_name (error->code) : "error";
  SbExitCode code = sb_cli_exit_code (error);
  if (cli != NULL && cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "what");
      json_builder_add_string_value (b, what);
      json_builder_set_member_name (b, "class");
      json_builder_add_string_value (b, klass);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, error->message);
      json_builder_set_member_name (b, "exit_status");
      json_builder_add_int_value (b, code);
      json_builder_end_object (b);
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      sb_cli_print_json (root);
    }
  g_printerr ("switchback: %s: %s [%s]\n", what, error->message, klass);
  return code;
}

gboolean
sb_cli_parse_options (const char *summary, const GOptionEntry *entries, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (summary);
  g_option_context_set_description (
      ctx, "Global options, before or after the command:\n"
           "  --config FILE     Configuration file (default " SB_CONFIG_DEFAULT_PATH ")\n"
           "  --json            Machine-readable output on stdout\n"
           "  -v, --verbose     Debug messages on stderr\n");
  if (entries != NULL)
    g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("switchback: %s\n", error->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_printerr ("switchback: %s takes no arguments\n", (*argv)[0]);
      return FALSE;
    }
  return TRUE;
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: switchback [--config FILE] [--json] [--verbose] COMMAND [OPTIONS]\n"
                "The global options may also follow COMMAND.\n\n"
                "Commands:\n");
  for (const SbBuiltin *b = builtins; b->name != NULL; b++)
    fprintf (out, "  %-10s %s\n", b->name, b->summary);
  fprintf (out, "\nExit status: 0 done or nothing to do, 1 error, 2 usage, 3 verification "
                "refused,\n4 download failed, 5 install failed, 10 installed, reboot needed.\n"
                "`switchback COMMAND --help` describes each command.\n");
}

/* Takes the global option at argv[*i] into @cli, advancing *i past its value. Returns FALSE
 * when argv[*i] is not a global option. */
static gboolean
take_global_option (SbCli *cli, int argc, char **argv, int *i, gboolean *missing_value)
{
  const char *a = argv[*i];
  *missing_value = FALSE;
  if (strcmp (a, "--json") == 0)
    cli->json = TRUE;
  else if (strcmp (a, "--verbose") == 0 || strcmp (a, "-v") == 0)
    cli->verbose = TRUE;
  else if (strcmp (a, "--config") == 0)
    {
      if (*i + 1 >= argc)
        {
          *missing_value = TRUE;
          return TRUE;
        }
      cli->config_path = argv[++*i];
    }
  else if (g_str_has_prefix (a, "--config="))
    cli->config_path = a + strlen ("--config=");
  else
    return FALSE;
  return TRUE;
}

int
main (int argc, char **argv)
{
  SbCli cli = { 0 };
  int i;
  gboolean missing_value = FALSE;

  setlocale (LC_ALL, "");

  /* Global options may come before the command ... */
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      if (take_global_option (&cli, argc, argv, &i, &missing_value))
        {
          if (missing_value)
            {
              g_printerr ("switchback: option --config needs a FILE\n");
              return SB_EXIT_USAGE;
            }
        }
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          usage (stdout);
          return SB_EXIT_OK;
        }
      else if (strcmp (a, "--version") == 0)
        {
          printf ("switchback %s\n", PACKAGE_VERSION);
          return SB_EXIT_OK;
        }
      else
        {
          g_printerr ("switchback: unknown option %s\n", a);
          usage (stderr);
          return SB_EXIT_USAGE;
        }
    }
  if (i >= argc)
    {
      usage (stderr);
      return SB_EXIT_USAGE;
    }

  const SbBuiltin *builtin = NULL;
  for (const SbBuiltin *b = builtins; b->name != NULL; b++)
    if (strcmp (b->name, argv[i]) == 0)
      builtin = b;
  if (builtin == NULL)
    {
      g_printerr ("switchback: unknown command %s\n", argv[i]);
      usage (stderr);
      return SB_EXIT_USAGE;
    }

  /* ... or anywhere after it, as users type them (`switchback update --config FILE`): they are
   * taken out here, and the subcommand parses what is left. No subcommand option takes a value,
   * so an argument that looks like a global option is one; "--" ends the scan. */
  g_autoptr (GPtrArray) sub_argv = g_ptr_array_new ();
  g_ptr_array_add (sub_argv, argv[i]);
  for (int j = i + 1; j < argc; j++)
    {
      if (strcmp (argv[j], "--") == 0)
        {
          for (; j < argc; j++)
            g_ptr_array_add (sub_argv, argv[j]);
          break;
        }
      if (take_global_option (&cli, argc, argv, &j, &missing_value))
        {
          if (missing_value)
            {
              g_printerr ("switchback: option --config needs a FILE\n");
              return SB_EXIT_USAGE;
            }
          continue;
        }
      g_ptr_array_add (sub_argv, argv[j]);
    }
  int sub_argc = (int) sub_argv->len;
  g_ptr_array_add (sub_argv, NULL);

  if (cli.verbose)
    g_setenv ("G_MESSAGES_DEBUG", "switchback", FALSE);

  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) config = sb_config_load (cli.config_path, &error);
  if (config == NULL)
    {
      if (builtin->needs_config)
        {
          /* A configuration problem is a local error whatever its class (a missing file is
           * not a failed download). */
          (void) sb_cli_fail (&cli, "configuration", error);
          return SB_EXIT_ERROR;
        }
      g_printerr ("switchback: configuration: %s (using defaults)\n", error->message);
      g_clear_error (&error);
      config = sb_config_new_defaults ();
    }
  cli.config = config;

  /* The subcommand sees argv from its own name on, so its option parser works as usual. */
  return builtin->func (&cli, sub_argc, (char **) sub_argv->pdata);
}
