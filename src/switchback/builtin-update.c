/* switchback update: the whole update cycle (sb-update-cycle.h). Reports to the Director,
 * verifies both repositories, streams the assigned raw image into the inactive slot, stages it
 * for a trial boot, and exits 10 when a reboot is needed (design.md §8). Progress goes to stderr
 * when it is a terminal. */
#include "config.h"

#include "sb-builtins.h"
#include "uptane/sb-update-cycle.h"

#include <stdio.h>
#include <unistd.h>

static gboolean opt_json;
static gboolean opt_retry_failed;
static gboolean opt_no_progress;

static GOptionEntry entries[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Machine-readable output on stdout", NULL },
        { "retry-failed", 0, 0, G_OPTION_ARG_NONE, &opt_retry_failed,
          "Install the assigned image even if its trial boot failed before", NULL },
        { "no-progress", 0, 0, G_OPTION_ARG_NONE, &opt_no_progress, "Print no progress on stderr",
          NULL },
        { NULL } };

typedef struct
{
  SbInstallStep step;
  gboolean open_line; /* a progress line without its newline is on stderr */
  gint64 start_us;
  guint64 start_done;
} Progress;

static void
on_progress (SbInstallStep step, guint64 done, guint64 total, gpointer user_data)
{
  Progress *p = user_data;
  gint64 now = g_get_monotonic_time ();
  if (!p->open_line || step != p->step)
    {
      if (p->open_line)
        fputc ('\n', stderr);
      p->step = step;
      p->start_us = now;
      p->start_done = done;
    }
  double mib = 1024.0 * 1024.0;
  if (step == SB_INSTALL_STEP_VERIFY)
    {
      fprintf (stderr, "\rswitchback: verifying: fsync, length and hashes of %.1f MiB   ",
               (double)total / mib);
      p->open_line = TRUE;
      fflush (stderr);
      return;
    }
  double secs = (double)(now - p->start_us) / G_USEC_PER_SEC;
  double rate = secs > 0.05 ? (double)(done - p->start_done) / mib / secs : 0.0;
  fprintf (stderr, "\rswitchback: %s: %.1f of %.1f MiB (%3.0f%%), %.0f MiB/s   ",
           sb_install_step_name (step), (double)done / mib, (double)total / mib,
           total > 0 ? 100.0 * (double)done / (double)total : 100.0, rate);
  p->open_line = TRUE;
  fflush (stderr);
}

static void
end_progress (Progress *p)
{
  if (p->open_line)
    fputc ('\n', stderr);
  p->open_line = FALSE;
}

static void
add_string_or_null (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
print_json (const SbUpdateResult *r)
{
  gboolean reboot = r->outcome == SB_UPDATE_STAGED || r->outcome == SB_UPDATE_ALREADY_STAGED;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string_or_null (b, "outcome", sb_update_outcome_name (r->outcome));
  json_builder_set_member_name (b, "reboot_needed");
  json_builder_add_boolean_value (b, reboot);
  add_string_or_null (b, "target", r->target);
  add_string_or_null (b, "correlation_id", r->correlation_id);
  json_builder_set_member_name (b, "length");
  json_builder_add_int_value (b, (gint64)r->length);
  add_string_or_null (b, "booted_slot", sb_slot_id_name (r->booted));
  add_string_or_null (b, "slot", sb_slot_id_name (r->slot));
  json_builder_set_member_name (b, "install");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resumed_from");
  json_builder_add_int_value (b, (gint64)r->stats.resumed_from);
  json_builder_set_member_name (b, "fetched");
  json_builder_add_int_value (b, (gint64)r->stats.fetched);
  json_builder_set_member_name (b, "restarted");
  json_builder_add_boolean_value (b, r->stats.restarted);
  json_builder_set_member_name (b, "refetched");
  json_builder_add_boolean_value (b, r->stats.refetched);
  json_builder_set_member_name (b, "checkpoints");
  json_builder_add_int_value (b, r->stats.checkpoints);
  json_builder_end_object (b);
  add_string_or_null (b, "previous_trial_failed", r->recorded_failure);
  json_builder_set_member_name (b, "manifest");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sent");
  json_builder_add_boolean_value (b, r->manifest_problem == NULL);
  json_builder_set_member_name (b, "results_reported");
  json_builder_add_int_value (b, r->reports_sent);
  add_string_or_null (b, "error", r->manifest_problem);
  json_builder_end_object (b);
  add_string_or_null (b, "clock_problem", r->clock_problem);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  sb_cli_print_json (root);
}

static void
print_text (const SbUpdateResult *r)
{
  const char *slot = sb_slot_id_name (r->slot);
  switch (r->outcome)
    {
    case SB_UPDATE_NO_UPDATE:
      printf ("No update: the Director assigns nothing to this ECU.\n");
      break;
    case SB_UPDATE_UP_TO_DATE:
      printf ("Up to date: slot %s runs %s.\n", sb_slot_id_name (r->booted), r->target);
      break;
    case SB_UPDATE_SKIPPED_FAILED:
      printf ("Not installing %s: its trial boot failed before (correlation id %s). "
              "`switchback update --retry-failed` installs it anyway.\n",
              r->target, r->correlation_id != NULL ? r->correlation_id : "none");
      break;
    case SB_UPDATE_ALREADY_STAGED:
      printf ("%s is already installed in slot %s. Reboot to try it.\n", r->target, slot);
      break;
    case SB_UPDATE_STAGED:
      printf ("Installed %s into slot %s (%" G_GUINT64_FORMAT " bytes", r->target, slot, r->length);
      if (r->stats.already_written)
        printf (", written by an earlier run");
      else if (r->stats.resumed_from > 0)
        printf (", resumed at byte %" G_GUINT64_FORMAT, r->stats.resumed_from);
      if (r->stats.restarted)
        printf (", the server ignored the resume request");
      printf ("). Reboot to try it.\n");
      break;
    }
}

int
sb_builtin_update (SbCli *cli, int argc, char **argv)
{
  if (!sb_cli_parse_options (
          "- verify, install the assigned image into the inactive slot and stage it", entries,
          &argc, &argv))
    return SB_EXIT_USAGE;
  cli->json = cli->json || opt_json;

  g_autoptr (GError) error = NULL;
  /* Nothing is written (not even the ECU key) before what the cycle needs is known to be there. */
  if (!sb_update_cycle_check_config (cli->config, &error))
    return sb_cli_fail (cli, "update", error);
  g_autoptr (SbIdentity) identity
      = sb_identity_load_or_create (cli->config, SB_KEY_TYPE_ED25519, &error);
  if (identity == NULL)
    return sb_cli_fail (cli, "ECU identity", error);

  SbUpdateOptions opts;
  sb_update_options_init (&opts);
  opts.retry_failed = opt_retry_failed;
  Progress progress = { 0 };
  if (!opt_no_progress && isatty (STDERR_FILENO))
    {
      opts.install.progress = on_progress;
      opts.install.progress_data = &progress;
    }

  SbUpdateResult result = { 0 };
  gboolean ok = sb_update_cycle_run (cli->config, identity, &opts, &result, &error);
  end_progress (&progress);
  if (result.recorded_failure != NULL)
    g_printerr ("switchback: %s\n", result.recorded_failure);
  if (result.manifest_problem != NULL)
    g_printerr ("switchback: warning: %s\n", result.manifest_problem);
  if (result.clock_problem != NULL)
    g_printerr ("switchback: warning: %s\n", result.clock_problem);
  if (!ok)
    {
      if (result.queued_result != NULL)
        g_printerr ("switchback: %s queued for the Director\n", result.queued_result);
      sb_update_result_clear (&result);
      return sb_cli_fail (cli, "update", error);
    }

  if (cli->json)
    print_json (&result);
  else
    print_text (&result);
  gboolean reboot
      = result.outcome == SB_UPDATE_STAGED || result.outcome == SB_UPDATE_ALREADY_STAGED;
  sb_update_result_clear (&result);
  return reboot ? SB_EXIT_REBOOT_NEEDED : SB_EXIT_OK;
}
