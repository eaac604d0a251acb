/* switchback status: what this ECU is and what it trusts, without touching the network: the
 * identity, the trusted metadata of both repositories (version and expiry), the counters, the
 * install transaction, the image the booted slot runs, and the results waiting to be reported
 * or reported last. A damaged state file is shown and makes the exit status 1; everything
 * readable is still shown. Nothing here loads libostree: on an OSTree system the booted commit
 * comes from the kernel command line and the slot table (sb-ostree-slots.h). */
#include "config.h"

#include "sb-builtins.h"
#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "core/sb-metadata.h"
#include "ostree/sb-ostree-install.h"
#include "ostree/sb-ostree-slots.h"
#include "uptane/sb-update-cycle.h"
#include "uptane/sb-uptane-freshness.h"
#include "uptane/sb-uptane.h"

#include <stdio.h>
#include <time.h>

static gboolean opt_json;

static GOptionEntry entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Machine-readable output on stdout", NULL },
  { NULL }
};

typedef struct {
  SbConfig *config;
  gint64 now;
  gboolean damaged; /* a state file could not be read */
  SbIdentity *identity;
  char *identity_error;
  gboolean no_key; /* no ECU key yet: the first check, update or daemon run creates it */
  GPtrArray *repos[2]; /* SbTrustedRole, director then image */
  SbCounters *counters;
  char *counters_error;
  SbInstallState *install;
  char *install_error;
  gboolean booted_known; /* switchback.slot= on the kernel command line */
  SbSlotId booted;
  SbSlotImage *slot_images[2]; /* what the update cycle wrote into each slot, or NULL */
  char *images_error;
  char *installed_sha256;     /* the image the booted slot runs, or NULL when unknown */
  char *installed_target;     /* its target name, or NULL */
  const char *installed_from; /* "cmdline", "slot-table" or "update-record" */
  char *installed_error;
  GPtrArray *queued; /* SbReport */
  char *queue_error;
  SbReport *last;
  char *last_reported_at;
  char *last_error;
} Status;

static const char *const repo_names[] = { SB_UPTANE_DIRECTOR, SB_UPTANE_IMAGE };

static void
status_clear (Status *s)
{
  g_clear_pointer (&s->identity, sb_identity_unref);
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&s->repos[i], g_ptr_array_unref);
  g_clear_pointer (&s->counters, sb_counters_free);
  g_clear_pointer (&s->install, sb_install_state_free);
  for (guint i = 0; i < 2; i++)
    g_clear_pointer (&s->slot_images[i], sb_slot_image_free);
  g_free (s->images_error);
  g_free (s->installed_sha256);
  g_free (s->installed_target);
  g_free (s->installed_error);
  g_clear_pointer (&s->queued, g_ptr_array_unref);
  g_clear_pointer (&s->last, sb_report_free);
  g_free (s->identity_error);
  g_free (s->counters_error);
  g_free (s->install_error);
  g_free (s->queue_error);
  g_free (s->last_reported_at);
  g_free (s->last_error);
}

static char *
take_message (GError *error, gboolean *damaged)
{
  *damaged = TRUE;
  return g_strdup (error->message);
}

/* The image the booted slot runs, as the version report names it (Uptane's installed_image).
 * On an OSTree system it is the booted deployment's commit, whatever the update cycle last
 * wrote (a factory deployment was never installed by it); otherwise what the update cycle
 * wrote into the booted slot. */
static void
status_load_installed (Status *s)
{
  const SbSlotImage *rec = s->booted_known ? s->slot_images[s->booted] : NULL;
  if (!sb_ostree_install_is_configured (s->config))
    {
      if (rec != NULL)
        {
          s->installed_sha256 = g_strdup (rec->sha256);
          s->installed_target = g_strdup (rec->target);
          s->installed_from = "update-record";
        }
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *commit = NULL;
  g_autofree char *target = NULL;
  if (!sb_ostree_slots_booted_commit (s->config->state_dir, s->config->cmdline_file,
                                      s->booted_known ? sb_slot_id_name (s->booted) : NULL, &commit,
                                      &target, &s->installed_from, &error))
    {
      s->installed_error = take_message (error, &s->damaged);
      return;
    }
  if (commit == NULL)
    return;
  /* The slot table names what the cycle deployed; the cycle's record names the same commit
   * when the table was written before the target name was known. */
  if (target == NULL && rec != NULL && g_strcmp0 (rec->sha256, commit) == 0)
    target = g_strdup (rec->target);
  s->installed_sha256 = g_steal_pointer (&commit);
  s->installed_target = g_steal_pointer (&target);
}

static void
status_load (Status *s, SbConfig *config)
{
  const char *state_dir = config->state_dir;
  g_autoptr (GError) error = NULL;

  s->config = config;
  s->now = (gint64) time (NULL);
  /* Read only: a status creates no key, directory or lock (it may run before anything else,
   * and without write access). */
  s->identity = sb_identity_load (config, &error);
  if (s->identity == NULL && g_error_matches (error, SB_ERROR, SB_ERROR_NOT_FOUND))
    s->no_key = TRUE;
  else if (s->identity == NULL)
    s->identity_error = take_message (error, &s->damaged);
  g_clear_error (&error);

  for (guint i = 0; i < 2; i++)
    {
      s->repos[i] = sb_uptane_list_trusted (state_dir, repo_names[i]);
      for (guint j = 0; j < s->repos[i]->len; j++)
        if (((SbTrustedRole *) s->repos[i]->pdata[j])->problem != NULL)
          s->damaged = TRUE;
    }

  s->counters = sb_counters_load (state_dir, &error);
  if (s->counters == NULL)
    s->counters_error = take_message (error, &s->damaged);
  g_clear_error (&error);

  s->install = sb_install_state_load (state_dir, &error);
  if (s->install == NULL)
    s->install_error = take_message (error, &s->damaged);
  g_clear_error (&error);

  /* Not booted through GRUB's slot choice (no switchback.slot=): the booted slot is unknown. */
  s->booted_known = sb_slots_read_cmdline (config->cmdline_file, &s->booted, NULL, NULL);
  for (guint i = 0; i < 2 && s->images_error == NULL; i++)
    {
      s->slot_images[i] = sb_update_get_slot_image (state_dir, (SbSlotId) i, &error);
      if (error != NULL)
        s->images_error = take_message (error, &s->damaged);
      g_clear_error (&error);
    }
  status_load_installed (s);

  /* Listing the queue does not create it: a status must not need write access. */
  g_autofree char *queue_dir = g_build_filename (state_dir, SB_REPORT_QUEUE_DIR_NAME, NULL);
  if (g_file_test (queue_dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (SbReportQueue) queue = sb_report_queue_open (state_dir, &error);
      if (queue != NULL)
        s->queued = sb_report_queue_list (queue, &error);
      if (s->queued == NULL)
        s->queue_error = take_message (error, &s->damaged);
      g_clear_error (&error);
    }
  else
    s->queued = g_ptr_array_new_with_free_func ((GDestroyNotify) sb_report_free);

  if (!sb_manifest_sender_load_last_result (state_dir, &s->last, &s->last_reported_at, &error))
    s->last_error = take_message (error, &s->damaged);
}

static char *
clock_problem (Status *s)
{
  g_autofree char *director = sb_uptane_metadata_dir (s->config->state_dir, SB_UPTANE_DIRECTOR);
  g_autofree char *image = sb_uptane_metadata_dir (s->config->state_dir, SB_UPTANE_IMAGE);
  const char *dirs[] = { director, image, NULL };
  return sb_freshness_clock_problem (s->now, sb_freshness_build_time (),
                                     sb_freshness_newest_mtime (dirs));
}

/* ---- JSON ---- */

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
add_report (JsonBuilder *b, const char *name, const SbReport *report, const char *reported_at)
{
  json_builder_set_member_name (b, name);
  if (report == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  JsonNode *node = sb_report_to_json (report);
  if (reported_at != NULL)
    json_object_set_string_member (json_node_get_object (node), "reported_at", reported_at);
  json_builder_add_value (b, node);
}

static void
add_repos_json (JsonBuilder *b, Status *s)
{
  json_builder_set_member_name (b, "repositories");
  json_builder_begin_object (b);
  for (guint i = 0; i < 2; i++)
    {
      json_builder_set_member_name (b, repo_names[i]);
      json_builder_begin_object (b);
      for (guint j = 0; j < s->repos[i]->len; j++)
        {
          SbTrustedRole *r = s->repos[i]->pdata[j];
          json_builder_set_member_name (b, r->role);
          json_builder_begin_object (b);
          if (r->problem != NULL)
            add_string_or_null (b, "error", r->problem);
          else
            {
              g_autofree char *expires = sb_metadata_format_time (r->expires);
              json_builder_set_member_name (b, "version");
              json_builder_add_int_value (b, r->version);
              add_string_or_null (b, "expires", expires);
              json_builder_set_member_name (b, "expired");
              json_builder_add_boolean_value (b, s->now >= r->expires);
            }
          if (s->counters != NULL)
            {
              guint64 seen = 0;
              json_builder_set_member_name (b, "highest_version_seen");
              if (sb_counters_get_version (s->counters, repo_names[i], r->role, &seen))
                json_builder_add_int_value (b, (gint64) seen);
              else
                json_builder_add_null_value (b);
            }
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
add_install_json (JsonBuilder *b, Status *s)
{
  json_builder_set_member_name (b, "install");
  json_builder_begin_object (b);
  if (s->install == NULL)
    add_string_or_null (b, "error", s->install_error);
  else
    {
      SbInstallState *st = s->install;
      add_string_or_null (b, "state", sb_install_phase_name (st->state));
      add_string_or_null (b, "committed_slot",
                          st->has_committed ? sb_slot_id_name (st->committed) : NULL);
      if (st->state != SB_INSTALL_IDLE)
        {
          add_string_or_null (b, "slot", sb_slot_id_name (st->slot));
          add_string_or_null (b, "target", st->target);
          add_string_or_null (b, "format", st->format);
          add_string_or_null (b, "correlation_id", st->correlation_id);
          json_builder_set_member_name (b, "length");
          json_builder_add_int_value (b, (gint64) st->length);
          json_builder_set_member_name (b, "bytes_done");
          json_builder_add_int_value (b, (gint64) st->bytes_done);
        }
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "slots");
  json_builder_begin_object (b);
  add_string_or_null (b, "booted", s->booted_known ? sb_slot_id_name (s->booted) : NULL);
  for (guint i = 0; i < 2; i++)
    {
      SbSlotImage *im = s->slot_images[i];
      json_builder_set_member_name (b, sb_slot_id_name ((SbSlotId) i));
      if (im == NULL)
        {
          json_builder_add_null_value (b);
          continue;
        }
      json_builder_begin_object (b);
      add_string_or_null (b, "target", im->target);
      add_string_or_null (b, "sha256", im->sha256);
      json_builder_set_member_name (b, "length");
      json_builder_add_int_value (b, (gint64) im->length);
      json_builder_end_object (b);
    }
  if (s->images_error != NULL)
    add_string_or_null (b, "error", s->images_error);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "installed");
  if (s->installed_sha256 != NULL)
    {
      json_builder_begin_object (b);
      add_string_or_null (b, "target", s->installed_target);
      add_string_or_null (b, "sha256", s->installed_sha256);
      add_string_or_null (b, "from", s->installed_from);
      json_builder_end_object (b);
    }
  else if (s->installed_error != NULL)
    {
      json_builder_begin_object (b);
      add_string_or_null (b, "error", s->installed_error);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "counters");
  json_builder_begin_object (b);
  if (s->counters == NULL)
    add_string_or_null (b, "error", s->counters_error);
  else
    {
      guint64 pending = 0;
      json_builder_set_member_name (b, "image_rollback_counter");
      json_builder_add_int_value (b, (gint64) sb_counters_get_rollback_counter (s->counters));
      json_builder_set_member_name (b, "pending_image_rollback_counter");
      if (sb_counters_get_pending (s->counters, &pending))
        json_builder_add_int_value (b, (gint64) pending);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
}

static void
print_json (Status *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);

  json_builder_set_member_name (b, "identity");
  json_builder_begin_object (b);
  if (s->identity != NULL)
    {
      add_string_or_null (b, "ecu_serial", sb_identity_get_ecu_serial (s->identity));
      add_string_or_null (b, "hardware_id", sb_identity_get_hardware_id (s->identity));
      add_string_or_null (b, "vehicle_id", sb_identity_get_vehicle_id (s->identity));
      add_string_or_null (b, "keyid", sb_identity_get_keyid (s->identity));
      add_string_or_null (b, "public_key", sb_identity_get_public_key_path (s->identity));
    }
  else if (s->no_key)
    {
      /* What the configuration says; the key (and the serial it defaults to) comes later. */
      add_string_or_null (b, "ecu_serial", s->config->ecu_serial);
      add_string_or_null (b, "hardware_id", s->config->hardware_id);
      add_string_or_null (b, "vehicle_id", s->config->vehicle_id);
      add_string_or_null (b, "keyid", NULL);
      add_string_or_null (b, "public_key", NULL);
    }
  else
    add_string_or_null (b, "error", s->identity_error);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  add_string_or_null (b, "file", s->config->path);
  add_string_or_null (b, "director_url", s->config->director_url);
  add_string_or_null (b, "image_url", s->config->image_url);
  json_builder_set_member_name (b, "ota_ce_compat");
  json_builder_add_boolean_value (b, s->config->ota_ce_compat);
  json_builder_set_member_name (b, "poll_interval");
  json_builder_add_int_value (b, s->config->poll_interval);
  add_string_or_null (b, "state_dir", s->config->state_dir);
  json_builder_end_object (b);

  add_repos_json (b, s);
  add_install_json (b, s);

  json_builder_set_member_name (b, "queued_results");
  json_builder_begin_array (b);
  for (guint i = 0; s->queued != NULL && i < s->queued->len; i++)
    json_builder_add_value (b, sb_report_to_json (s->queued->pdata[i]));
  json_builder_end_array (b);
  if (s->queue_error != NULL)
    add_string_or_null (b, "queue_error", s->queue_error);
  add_report (b, "last_reported_result", s->last, s->last_reported_at);
  if (s->last_error != NULL)
    add_string_or_null (b, "last_reported_result_error", s->last_error);

  g_autofree char *clock = clock_problem (s);
  add_string_or_null (b, "clock_problem", clock);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  sb_cli_print_json (root);
}

/* ---- text ---- */

static void
print_report (const char *label, const SbReport *r, const char *reported_at)
{
  printf ("  %-14s %s %s (%s) %s%s%s%s\n", label, r->time, r->result_code,
          r->success ? "success" : "failure", r->target,
          *r->correlation_id != '\0' ? ", correlation id " : "", r->correlation_id,
          reported_at != NULL ? "" : ", not yet reported");
  if (*r->description != '\0')
    printf ("  %-14s %s\n", "", r->description);
}

static void
print_text (Status *s)
{
  printf ("Identity\n");
  if (s->identity != NULL)
    {
      printf ("  ECU serial     %s\n", sb_identity_get_ecu_serial (s->identity));
      printf ("  hardware id    %s\n", sb_identity_get_hardware_id (s->identity));
      printf ("  vehicle id     %s\n", sb_identity_get_vehicle_id (s->identity));
      printf ("  key id         %s\n", sb_identity_get_keyid (s->identity));
      printf ("  public key     %s\n", sb_identity_get_public_key_path (s->identity));
    }
  else if (s->no_key)
    {
      g_autofree char *dir = g_build_filename (s->config->state_dir, SB_IDENTITY_DIR_NAME, NULL);
      printf ("  no ECU key yet: the first `switchback check`, `update` or `daemon` creates it in "
              "%s (or install a provisioned key there as private.pem, mode 0600)\n",
              dir);
      if (s->config->ecu_serial != NULL)
        printf ("  ECU serial     %s\n", s->config->ecu_serial);
      if (s->config->hardware_id != NULL)
        printf ("  hardware id    %s\n", s->config->hardware_id);
    }
  else
    printf ("  error: %s\n", s->identity_error);

  printf ("Repositories%s\n", s->config->ota_ce_compat ? " (OTA Community Edition layout)" : "");
  const char *urls[] = { s->config->director_url, s->config->image_url };
  const char *titles[] = { "Director", "Image repository" };
  for (guint i = 0; i < 2; i++)
    {
      printf ("  %s %s\n", titles[i], urls[i] != NULL ? urls[i] : "(no URL configured)");
      if (s->repos[i]->len == 0)
        printf ("    nothing trusted yet (the first check starts from the shipped root)\n");
      for (guint j = 0; j < s->repos[i]->len; j++)
        {
          SbTrustedRole *r = s->repos[i]->pdata[j];
          if (r->problem != NULL)
            {
              printf ("    %-10s error: %s\n", r->role, r->problem);
              continue;
            }
          g_autofree char *expires = sb_metadata_format_time (r->expires);
          printf ("    %-10s version %-6" G_GINT64_FORMAT " expires %s%s\n", r->role, r->version,
                  expires, s->now >= r->expires ? " (EXPIRED)" : "");
        }
    }

  printf ("Install\n");
  if (s->install == NULL)
    printf ("  error: %s\n", s->install_error);
  else
    {
      SbInstallState *st = s->install;
      printf ("  state          %s\n", sb_install_phase_name (st->state));
      printf ("  committed slot %s\n", st->has_committed ? sb_slot_id_name (st->committed)
                                                         : "(none yet)");
      if (st->state != SB_INSTALL_IDLE)
        printf ("  in flight      %s into slot %s (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                " bytes)\n",
                st->target, sb_slot_id_name (st->slot), st->bytes_done, st->length);
    }
  printf ("  booted slot    %s\n", s->booted_known ? sb_slot_id_name (s->booted)
                                                    : "(unknown: no switchback.slot=)");
  for (guint i = 0; i < 2; i++)
    if (s->slot_images[i] != NULL)
      printf ("  slot %s holds   %s (%" G_GUINT64_FORMAT " bytes)\n",
              sb_slot_id_name ((SbSlotId) i), s->slot_images[i]->target,
              s->slot_images[i]->length);
  if (s->images_error != NULL)
    printf ("  error: %s\n", s->images_error);
  if (s->installed_sha256 != NULL)
    printf ("  installed      %s sha256 %s (from the %s)\n",
            s->installed_target != NULL ? s->installed_target : "(no target name)",
            s->installed_sha256,
            g_strcmp0 (s->installed_from, "cmdline") == 0      ? "kernel command line"
            : g_strcmp0 (s->installed_from, "slot-table") == 0 ? "OSTree slot table"
                                                               : "update record");
  else if (s->installed_error != NULL)
    printf ("  installed      error: %s\n", s->installed_error);
  if (s->counters == NULL)
    printf ("  counters error: %s\n", s->counters_error);
  else
    printf ("  release counter committed %" G_GUINT64_FORMAT "\n",
            sb_counters_get_rollback_counter (s->counters));

  printf ("Results\n");
  if (s->queue_error != NULL)
    printf ("  error: %s\n", s->queue_error);
  for (guint i = 0; s->queued != NULL && i < s->queued->len; i++)
    print_report ("queued", s->queued->pdata[i], NULL);
  if (s->last != NULL)
    print_report ("last reported", s->last, s->last_reported_at);
  else if (s->last_error != NULL)
    printf ("  error: %s\n", s->last_error);
  if (s->last == NULL && (s->queued == NULL || s->queued->len == 0))
    printf ("  none yet\n");

  g_autofree char *clock = clock_problem (s);
  if (clock != NULL)
    printf ("Warning: %s\n", clock);
}

int
sb_builtin_status (SbCli *cli, int argc, char **argv)
{
  if (!sb_cli_parse_options (
          "- show the identity, trusted metadata and install state", entries,
          &argc, &argv))
    return SB_EXIT_USAGE;
  cli->json = cli->json || opt_json;

  Status s = { 0 };
  status_load (&s, cli->config);
  if (cli->json)
    print_json (&s);
  else
    print_text (&s);
  gboolean damaged = s.damaged;
  status_clear (&s);
  return damaged ? SB_EXIT_ERROR : SB_EXIT_OK;
}
