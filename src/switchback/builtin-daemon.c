/* switchback daemon: the update cycle every [uptane] poll-interval seconds until SIGTERM or
 * SIGINT. A cycle sends the vehicle version manifest (a failure is a warning) and runs the full
 * Uptane verification; what the Director assigns is logged. A failed or refused cycle is logged
 * and the next one runs on schedule: nothing a repository serves stops the daemon. With --once,
 * one cycle runs and its exit status is that of `switchback check` (DESIGN §8). */
#include "config.h"

#include "sb-builtins.h"
#include "sb-error.h"
#include "sb-uptane.h"

#include <glib-unix.h>
#include <signal.h>

static gboolean opt_once;

static GOptionEntry entries[] = {
  { "once", 0, 0, G_OPTION_ARG_NONE, &opt_once, "Run one cycle and exit with its status", NULL },
  { NULL }
};

typedef struct {
  GMainLoop *loop;
  gboolean stop;
} Waiter;

static gboolean
on_signal (gpointer user_data)
{
  Waiter *w = user_data;
  w->stop = TRUE;
  g_main_loop_quit (w->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Waiter *w = user_data;
  g_main_loop_quit (w->loop);
  return G_SOURCE_REMOVE;
}

/* One cycle; returns its exit status. */
static int
run_cycle (SbCli *cli, SbUptane *uptane)
{
  g_autoptr (GError) error = NULL;
  guint reports_sent = 0;
  if (!sb_uptane_send_manifest (uptane, NULL, &reports_sent, &error))
    {
      g_printerr ("switchback: warning: %s\n", error->message);
      g_clear_error (&error);
    }
  else if (reports_sent > 0)
    g_printerr ("switchback: reported %u install result(s) to the Director\n", reports_sent);

  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (uptane, &error);
  if (update == NULL)
    return sb_cli_fail (NULL, "cycle", error);
  if (sb_uptane_get_clock_problem (uptane) != NULL)
    g_printerr ("switchback: warning: %s\n", sb_uptane_get_clock_problem (uptane));
  if (update->targets->len == 0)
    {
      g_printerr ("switchback: no update (Director targets version %" G_GINT64_FORMAT ")\n",
                  update->director_targets_version);
      return SB_EXIT_OK;
    }
  for (guint i = 0; i < update->targets->len; i++)
    {
      SbUptaneTarget *t = update->targets->pdata[i];
      g_autofree char *counter =
          t->has_release_counter ? g_strdup_printf ("%" G_GUINT64_FORMAT, t->release_counter)
                                 : g_strdup ("none");
      g_printerr ("switchback: update verified for ECU %s: %s (%s, %" G_GUINT64_FORMAT
                  " bytes, release counter %s, correlation id %s)\n",
                  t->ecu_serial, t->name, t->format != NULL ? t->format : "format not given",
                  t->length, counter,
                  update->correlation_id != NULL ? update->correlation_id : "none");
    }
  return SB_EXIT_OK;
}

int
sb_builtin_daemon (SbCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- check for updates every poll-interval seconds");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_cli_parse_options (ctx, &argc, &argv))
    return SB_EXIT_USAGE;
  if (argc > 1)
    {
      g_printerr ("switchback: daemon takes no arguments\n");
      return SB_EXIT_USAGE;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (SbIdentity) identity =
      sb_identity_load_or_create (cli->config, SB_KEY_TYPE_ED25519, &error);
  if (identity == NULL)
    return sb_cli_fail (cli, "ECU identity", error);
  g_autoptr (SbUptane) uptane = sb_uptane_new (cli->config, identity, &error);
  if (uptane == NULL)
    return sb_cli_fail (cli, "daemon", error);

  if (opt_once)
    return run_cycle (cli, uptane);

  g_autoptr (GMainContext) context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  g_autoptr (GMainLoop) loop = g_main_loop_new (context, FALSE);
  Waiter waiter = { loop, FALSE };
  const int signals[] = { SIGTERM, SIGINT };
  guint signal_ids[G_N_ELEMENTS (signals)];
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      g_autoptr (GSource) source = g_unix_signal_source_new (signals[i]);
      g_source_set_callback (source, on_signal, &waiter, NULL);
      signal_ids[i] = g_source_attach (source, context);
    }

  g_printerr ("switchback: daemon started (ECU %s, every %u s)\n",
              sb_identity_get_ecu_serial (identity), cli->config->poll_interval);
  while (!waiter.stop)
    {
      (void) run_cycle (cli, uptane);
      /* A signal that arrived during the cycle is already pending and ends the wait at once. */
      g_autoptr (GSource) timer = g_timeout_source_new_seconds (cli->config->poll_interval);
      g_source_set_callback (timer, on_timeout, &waiter, NULL);
      g_source_attach (timer, context);
      g_main_loop_run (loop);
      g_source_destroy (timer);
    }
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    g_source_destroy (g_main_context_find_source_by_id (context, signal_ids[i]));
  g_main_context_pop_thread_default (context);
  g_printerr ("switchback: daemon stopped\n");
  return SB_EXIT_OK;
}
