/* switchback daemon: the update cycle every [uptane] poll-interval seconds until SIGTERM or
 * SIGINT. A cycle is `switchback update` (sb-update-cycle.h): report, verify both repositories,
 * install the assigned image into the inactive slot and stage it; the reboot is left to the
 * operator. Without [slots] disk (or with --check-only) a cycle reports and verifies only, as
 * `switchback check` does. A failed or refused cycle is logged and the next one runs on
 * schedule: nothing a repository serves stops the daemon. With --once, one cycle runs and its
 * exit status is that of `switchback update` (or `check`) (design.md §8). With the global --json,
 * a failed cycle is also written as a JSON error object on stdout (sb_cli_fail).
 *
 * Under systemd (switchback-daemon.service, Type=notify) the daemon says READY=1 once it has
 * loaded its identity, and, when the unit sets WatchdogSec=, pings the watchdog (WATCHDOG=1)
 * every half interval for as long as it shows signs of life: the main loop running between
 * cycles, the start of a cycle, and the download's progress. A daemon that stops showing them
 * for a whole interval (a wedged main loop, a download that stalls past the fetcher's own
 * limits) stops pinging, and systemd kills and restarts it (docs/health-checks.md). */
#include "config.h"

#include "sb-builtins.h"
#include "sb-cli-uptane.h"
#include "core/sb-error.h"
#include "uptane/sb-sd-notify.h"
#include "uptane/sb-update-cycle.h"

#include <glib-unix.h>
#include <signal.h>

static gboolean opt_once;
static gboolean opt_check_only;

static GOptionEntry entries[] = {
  { "once", 0, 0, G_OPTION_ARG_NONE, &opt_once, "Run one cycle and exit with its status", NULL },
  { "check-only", 0, 0, G_OPTION_ARG_NONE, &opt_check_only,
    "Report and verify only; install nothing", NULL },
  { NULL }
};

typedef struct {
  GMainLoop *loop;
  gboolean stop;
} Waiter;

/* The watchdog keeper: a thread that pings while the main thread's last sign of life is
 * younger than the watchdog interval. A thread, because a cycle blocks the main thread for as
 * long as a download takes. */
typedef struct {
  guint64 interval_usec;
  gint64 last_life; /* g_get_monotonic_time () of the last sign of life, under lock */
  GMutex lock;
  GCond cond;
  gboolean quit;
  GThread *thread;
} Watchdog;

static void
watchdog_alive (Watchdog *wd)
{
  if (wd == NULL)
    return;
  g_mutex_lock (&wd->lock);
  wd->last_life = g_get_monotonic_time ();
  g_mutex_unlock (&wd->lock);
}

static void
notify_or_warn (const char *state)
{
  g_autoptr (GError) error = NULL;
  if (!sb_sd_notify (state, NULL, &error))
    g_printerr ("switchback: warning: %s\n", error->message);
}

static gpointer
watchdog_thread (gpointer data)
{
  Watchdog *wd = data;
  g_mutex_lock (&wd->lock);
  while (!wd->quit)
    {
      gint64 now = g_get_monotonic_time ();
      if (now - wd->last_life < (gint64) wd->interval_usec)
        notify_or_warn ("WATCHDOG=1");
      g_cond_wait_until (&wd->cond, &wd->lock, now + (gint64) wd->interval_usec / 2);
    }
  g_mutex_unlock (&wd->lock);
  return NULL;
}

static Watchdog *
watchdog_start (guint64 interval_usec)
{
  Watchdog *wd = g_new0 (Watchdog, 1);
  wd->interval_usec = interval_usec;
  wd->last_life = g_get_monotonic_time ();
  g_mutex_init (&wd->lock);
  g_cond_init (&wd->cond);
  wd->thread = g_thread_new ("sb-watchdog", watchdog_thread, wd);
  return wd;
}

static void
watchdog_stop (Watchdog *wd)
{
  if (wd == NULL)
    return;
  g_mutex_lock (&wd->lock);
  wd->quit = TRUE;
  g_cond_signal (&wd->cond);
  g_mutex_unlock (&wd->lock);
  g_thread_join (wd->thread);
  g_mutex_clear (&wd->lock);
  g_cond_clear (&wd->cond);
  g_free (wd);
}

static void
on_install_progress (SbInstallStep step, guint64 done, guint64 total, gpointer user_data)
{
  watchdog_alive (user_data);
}

static gboolean
on_heartbeat (gpointer user_data)
{
  watchdog_alive (user_data);
  return G_SOURCE_CONTINUE;
}

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

/* A check-only cycle; returns its exit status. */
static int
run_check_cycle (SbCli *cli, SbUptane *uptane)
{
  g_autoptr (GError) error = NULL;
  guint reports_sent = 0;
  g_autoptr (SbSlotImage) booted = sb_cli_booted_image (sb_uptane_get_config (uptane));
  if (!sb_cli_send_manifest (uptane, booted, &reports_sent, &error))
    {
      g_printerr ("switchback: warning: %s\n", error->message);
      g_clear_error (&error);
    }
  else if (reports_sent > 0)
    g_printerr ("switchback: reported %u install result(s) to the Director\n", reports_sent);

  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (uptane, &error);
  if (update == NULL)
    return sb_cli_fail (cli, "cycle", error);
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
                  " bytes, release counter %s, correlation id %s); %s\n",
                  t->ecu_serial, t->name, t->format != NULL ? t->format : "format not given",
                  t->length, counter,
                  update->correlation_id != NULL ? update->correlation_id : "none",
                  sb_cli_target_is_booted (t, booted) ? "already running"
                                                      : "not installed (check only)");
    }
  return SB_EXIT_OK;
}

/* An update cycle; returns its exit status. */
static int
run_update_cycle (SbCli *cli, SbIdentity *identity, Watchdog *wd)
{
  SbUpdateOptions opts;
  sb_update_options_init (&opts);
  if (wd != NULL)
    {
      opts.install.progress = on_install_progress;
      opts.install.progress_data = wd;
    }
  SbUpdateResult result = { 0 };
  g_autoptr (GError) error = NULL;
  gboolean ok = sb_update_cycle_run (cli->config, identity, &opts, &result, &error);
  if (result.recorded_failure != NULL)
    g_printerr ("switchback: %s\n", result.recorded_failure);
  if (result.manifest_problem != NULL)
    g_printerr ("switchback: warning: %s\n", result.manifest_problem);
  else if (result.reports_sent > 0)
    g_printerr ("switchback: reported %u install result(s) to the Director\n",
                result.reports_sent);
  if (result.clock_problem != NULL)
    g_printerr ("switchback: warning: %s\n", result.clock_problem);
  if (!ok)
    {
      if (result.queued_result != NULL)
        g_printerr ("switchback: %s queued for the Director\n", result.queued_result);
      sb_update_result_clear (&result);
      return sb_cli_fail (cli, "update cycle", error);
    }

  int status = SB_EXIT_OK;
  const char *slot = sb_slot_id_name (result.slot);
  switch (result.outcome)
    {
    case SB_UPDATE_NO_UPDATE:
      g_printerr ("switchback: no update\n");
      break;
    case SB_UPDATE_UP_TO_DATE:
      g_printerr ("switchback: up to date (slot %s runs %s)\n", sb_slot_id_name (result.booted),
                  result.target);
      break;
    case SB_UPDATE_SKIPPED_FAILED:
      g_printerr ("switchback: not installing %s again: its trial boot failed before\n",
                  result.target);
      break;
    case SB_UPDATE_STAGED:
      g_printerr ("switchback: installed %s into slot %s; reboot to try it\n", result.target,
                  slot);
      status = SB_EXIT_REBOOT_NEEDED;
      break;
    case SB_UPDATE_ALREADY_STAGED:
      g_printerr ("switchback: %s is staged in slot %s, waiting for a reboot\n", result.target,
                  slot);
      status = SB_EXIT_REBOOT_NEEDED;
      break;
    }
  sb_update_result_clear (&result);
  return status;
}

static int
run_cycle (SbCli *cli, SbIdentity *identity, SbUptane *uptane, gboolean check_only, Watchdog *wd)
{
  watchdog_alive (wd);
  return check_only ? run_check_cycle (cli, uptane) : run_update_cycle (cli, identity, wd);
}

int
sb_builtin_daemon (SbCli *cli, int argc, char **argv)
{
  if (!sb_cli_parse_options (
          "- check for updates every poll-interval seconds", entries,
          &argc, &argv))
    return SB_EXIT_USAGE;

  g_autoptr (GError) error = NULL;
  gboolean check_only = opt_check_only || cli->config->disk == NULL;
  /* Nothing is written (not even the ECU key) before the configuration is known to be usable. */
  if (!(check_only ? sb_uptane_check_config (cli->config, &error)
                   : sb_update_cycle_check_config (cli->config, &error)))
    return sb_cli_fail (cli, "daemon", error);
  g_autoptr (SbIdentity) identity =
      sb_identity_load_or_create (cli->config, SB_KEY_TYPE_ED25519, &error);
  if (identity == NULL)
    return sb_cli_fail (cli, "ECU identity", error);
  g_autoptr (SbUptane) uptane = sb_uptane_new (cli->config, identity, &error);
  if (uptane == NULL)
    return sb_cli_fail (cli, "daemon", error);

  if (opt_once)
    return run_cycle (cli, identity, uptane, check_only, NULL);

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

  guint64 watchdog_usec = sb_sd_watchdog_usec ();
  Watchdog *wd = watchdog_usec > 0 ? watchdog_start (watchdog_usec) : NULL;
  guint heartbeat_id = 0;
  if (wd != NULL)
    {
      /* The main loop's own sign of life while it waits for the next cycle. */
      g_autoptr (GSource) beat = g_timeout_source_new (MAX (watchdog_usec / 4000, 1));
      g_source_set_callback (beat, on_heartbeat, wd, NULL);
      heartbeat_id = g_source_attach (beat, context);
    }
  notify_or_warn ("READY=1");
  g_printerr ("switchback: daemon started (ECU %s, every %u s%s)\n",
              sb_identity_get_ecu_serial (identity), cli->config->poll_interval,
              !check_only       ? ""
              : opt_check_only ? ", check only"
                               : ", check only: no [slots] disk is configured");
  while (!waiter.stop)
    {
      (void) run_cycle (cli, identity, uptane, check_only, wd);
      /* A signal that arrived during the cycle is already pending and ends the wait at once. */
      g_autoptr (GSource) timer = g_timeout_source_new_seconds (cli->config->poll_interval);
      g_source_set_callback (timer, on_timeout, &waiter, NULL);
      g_source_attach (timer, context);
      g_main_loop_run (loop);
      g_source_destroy (timer);
    }
  notify_or_warn ("STOPPING=1");
  if (heartbeat_id != 0)
    g_source_destroy (g_main_context_find_source_by_id (context, heartbeat_id));
  watchdog_stop (wd);
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    g_source_destroy (g_main_context_find_source_by_id (context, signal_ids[i]));
  g_main_context_pop_thread_default (context);
  g_printerr ("switchback: daemon stopped\n");
  return SB_EXIT_OK;
}
