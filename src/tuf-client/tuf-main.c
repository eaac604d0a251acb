/* switchback-tuf: a plain TUF client speaking the tuf-conformance client-under-test CLI.
 *
 *   switchback-tuf --metadata-dir DIR init TRUSTED_ROOT
 *   switchback-tuf --metadata-dir DIR --metadata-url URL refresh
 *   switchback-tuf --metadata-dir DIR --metadata-url URL --target-name PATH [--target-name PATH…]
 *                  --target-base-url URL --target-dir DIR download
 *
 * Exit status 0 on full success, 1 otherwise, 2 on a usage error. Options may come in any
 * order, before or after the command.
 */
#include "config.h"

#include "core/sb-error.h"
#include "net/sb-fetcher.h"
#include "uptane/sb-updater.h"

#include <locale.h>
#include <stdio.h>

static char *opt_metadata_dir;
static char *opt_metadata_url;
static char **opt_target_names;
static char *opt_target_base_url;
static char *opt_target_dir;
static gboolean opt_verbose;

static GOptionEntry entries[] = {
  { "metadata-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_metadata_dir,
    "Directory of the trusted metadata", "DIR" },
  { "metadata-url", 0, 0, G_OPTION_ARG_STRING, &opt_metadata_url,
    "Base URL of the repository metadata", "URL" },
  { "target-name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_target_names,
    "Target path to download (repeatable; processed in order)", "PATH" },
  { "target-base-url", 0, 0, G_OPTION_ARG_STRING, &opt_target_base_url,
    "Base URL of the repository targets", "URL" },
  { "target-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_target_dir,
    "Directory for verified downloads", "DIR" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Log each step", NULL },
  { NULL }
};

static int
fail (const char *what, GError *error)
{
  g_printerr ("switchback-tuf: %s: %s [%s]\n", what, error->message,
              error->domain == SB_ERROR ? sb_error_code_name (error->code) : "error");
  return 1;
}

static SbUpdater *
make_updater (SbFetcher **out_fetcher, GError **error)
{
  SbFetcherOptions fopts;
  sb_fetcher_options_init (&fopts);
  /* The conformance harness serves from loopback and answers immediately; keep retries short. */
  fopts.retry_base_ms = 100;
  g_autoptr (SbFetcher) fetcher = sb_fetcher_new (&fopts, error);
  if (fetcher == NULL)
    return NULL;

  SbUpdaterOptions uopts;
  sb_updater_options_init (&uopts);
  uopts.metadata_dir = opt_metadata_dir;
  uopts.metadata_url = opt_metadata_url;
  uopts.targets_url = opt_target_base_url;
  SbUpdater *u = sb_updater_new (&uopts, fetcher, error);
  if (u == NULL)
    return NULL;
  *out_fetcher = g_steal_pointer (&fetcher);
  return u;
}

static int
cmd_download (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbFetcher) fetcher = NULL;

  if (opt_target_names == NULL || opt_target_dir == NULL || opt_target_base_url == NULL)
    {
      g_printerr ("switchback-tuf: download needs --target-name, --target-dir and "
                  "--target-base-url\n");
      return 2;
    }
  g_autoptr (SbUpdater) u = make_updater (&fetcher, &error);
  if (u == NULL)
    return fail ("download", error);
  if (!sb_updater_refresh (u, &error))
    return fail ("refresh", error);

  for (char **name = opt_target_names; *name != NULL; name++)
    {
      g_autoptr (SbTargetInfo) info = sb_updater_get_targetinfo (u, *name, &error);
      if (info == NULL)
        return fail (*name, error);
      g_autofree char *cached = sb_updater_find_cached_target (u, info, opt_target_dir, &error);
      if (error != NULL)
        return fail (*name, error);
      if (cached != NULL)
        {
          if (opt_verbose)
            g_printerr ("switchback-tuf: %s is up to date in %s\n", *name, cached);
          continue;
        }
      g_autofree char *path = sb_updater_download_target (u, info, opt_target_dir, NULL, &error);
      if (path == NULL)
        return fail (*name, error);
      if (opt_verbose)
        g_printerr ("switchback-tuf: downloaded %s to %s\n", *name, path);
    }
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  setlocale (LC_ALL, "");

  g_autoptr (GOptionContext) ctx = g_option_context_new ("init TRUSTED_ROOT | refresh | download");
  g_option_context_set_summary (ctx, "A TUF client (tuf-conformance client-under-test CLI).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("switchback-tuf: %s\n", error->message);
      return 2;
    }
  if (argc < 2 || opt_metadata_dir == NULL)
    {
      g_printerr ("switchback-tuf: a command and --metadata-dir are required (see --help)\n");
      return 2;
    }
  const char *cmd = argv[1];

  if (g_str_equal (cmd, "init"))
    {
      if (argc != 3)
        {
          g_printerr ("switchback-tuf: usage: init TRUSTED_ROOT\n");
          return 2;
        }
      if (!sb_updater_init_metadata_dir (opt_metadata_dir, argv[2], &error))
        return fail ("init", error);
      return 0;
    }
  if (opt_metadata_url == NULL)
    {
      g_printerr ("switchback-tuf: %s needs --metadata-url\n", cmd);
      return 2;
    }
  if (g_str_equal (cmd, "refresh"))
    {
      g_autoptr (SbFetcher) fetcher = NULL;
      g_autoptr (SbUpdater) u = make_updater (&fetcher, &error);
      if (u == NULL || !sb_updater_refresh (u, &error))
        return fail ("refresh", error);
      return 0;
    }
  if (g_str_equal (cmd, "download"))
    return cmd_download ();

  g_printerr ("switchback-tuf: unknown command %s\n", cmd);
  return 2;
}
