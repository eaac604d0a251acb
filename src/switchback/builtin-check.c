/* switchback check: the start of an update cycle without the install. Sends the vehicle version
 * manifest (a failure is a warning), runs the full Uptane verification of both repositories,
 * and prints what would be installed: for which ECU, which target, its format, size and release
 * counter. A refused verification exits 3 (design.md §8) and changes nothing on disk. */
#include "config.h"

#include "sb-builtins.h"
#include "sb-cli-uptane.h"

#include <stdio.h>

static gboolean opt_json;

static GOptionEntry entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Machine-readable output on stdout", NULL },
  { NULL }
};

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
add_target_json (JsonBuilder *b, SbUptane *uptane, SbUptaneUpdate *update, SbUptaneTarget *t,
                 const SbSlotImage *booted)
{
  json_builder_begin_object (b);
  add_string_or_null (b, "ecu_serial", t->ecu_serial);
  add_string_or_null (b, "hardware_id", t->hardware_id);
  add_string_or_null (b, "target", t->name);
  add_string_or_null (b, "format", t->format);
  json_builder_set_member_name (b, "length");
  json_builder_add_int_value (b, (gint64) t->length);
  json_builder_set_member_name (b, "release_counter");
  if (t->has_release_counter)
    json_builder_add_int_value (b, (gint64) t->release_counter);
  else
    json_builder_add_null_value (b);
  add_string_or_null (b, "version", t->version);
  add_string_or_null (b, "correlation_id", update->correlation_id);
  json_builder_set_member_name (b, "hashes");
  json_builder_add_value (b, json_node_init_object (json_node_alloc (), t->image->hashes));
  g_autofree char *url = sb_uptane_target_url (uptane, t);
  add_string_or_null (b, "url", url);
  json_builder_set_member_name (b, "running");
  json_builder_add_boolean_value (b, sb_cli_target_is_booted (t, booted));
  json_builder_end_object (b);
}

static void
print_json (SbUptane *uptane, SbUptaneUpdate *update, const SbSlotImage *booted,
            const GError *manifest_error, guint reports_sent)
{
  SbIdentity *identity = sb_uptane_get_identity (uptane);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string_or_null (b, "ecu_serial", sb_identity_get_ecu_serial (identity));
  add_string_or_null (b, "hardware_id", sb_identity_get_hardware_id (identity));
  add_string_or_null (b, "vehicle_id", sb_identity_get_vehicle_id (identity));
  json_builder_set_member_name (b, "director_targets_version");
  json_builder_add_int_value (b, update->director_targets_version);
  add_string_or_null (b, "correlation_id", update->correlation_id);
  json_builder_set_member_name (b, "update_available");
  json_builder_add_boolean_value (b, update->targets->len > 0);
  json_builder_set_member_name (b, "targets");
  json_builder_begin_array (b);
  for (guint i = 0; i < update->targets->len; i++)
    add_target_json (b, uptane, update, update->targets->pdata[i], booted);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "manifest");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sent");
  json_builder_add_boolean_value (b, manifest_error == NULL);
  json_builder_set_member_name (b, "results_reported");
  json_builder_add_int_value (b, reports_sent);
  add_string_or_null (b, "error", manifest_error != NULL ? manifest_error->message : NULL);
  json_builder_end_object (b);
  add_string_or_null (b, "clock_problem", sb_uptane_get_clock_problem (uptane));
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  sb_cli_print_json (root);
}

static void
print_text (SbUptane *uptane, SbUptaneUpdate *update, const SbSlotImage *booted)
{
  if (update->targets->len == 0)
    {
      printf ("No update: the Director assigns nothing to this vehicle (Director targets "
              "version %" G_GINT64_FORMAT ").\n",
              update->director_targets_version);
      return;
    }
  for (guint i = 0; i < update->targets->len; i++)
    {
      SbUptaneTarget *t = update->targets->pdata[i];
      g_autofree char *url = sb_uptane_target_url (uptane, t);
      const char *sha256 = sb_uptane_target_get_sha256 (t);
      if (sb_cli_target_is_booted (t, booted))
        printf ("Assigned to ECU %s (hardware id %s), already running:\n", t->ecu_serial,
                t->hardware_id);
      else
        printf ("Update for ECU %s (hardware id %s):\n", t->ecu_serial, t->hardware_id);
      printf ("  target           %s\n", t->name);
      printf ("  format           %s\n", t->format != NULL ? t->format : "(not given)");
      printf ("  length           %" G_GUINT64_FORMAT " bytes\n", t->length);
      if (t->has_release_counter)
        printf ("  release counter  %" G_GUINT64_FORMAT "\n", t->release_counter);
      else
        printf ("  release counter  (none)\n");
      if (t->version != NULL)
        printf ("  version          %s\n", t->version);
      printf ("  correlation id   %s\n",
              update->correlation_id != NULL ? update->correlation_id : "(none)");
      if (sha256 != NULL)
        printf ("  sha256           %s\n", sha256);
      if (url != NULL)
        printf ("  from             %s\n", url);
    }
  printf ("Verified against Director targets version %" G_GINT64_FORMAT " and the Image "
          "repository.\n",
          update->director_targets_version);
}

int
sb_builtin_check (SbCli *cli, int argc, char **argv)
{
  if (!sb_cli_parse_options (
          "- verify the Director and Image repositories and show the update", entries,
          &argc, &argv))
    return SB_EXIT_USAGE;
  cli->json = cli->json || opt_json;

  g_autoptr (GError) error = NULL;
  /* Nothing is written (not even the ECU key) before the configuration is known to be usable. */
  if (!sb_uptane_check_config (cli->config, &error))
    return sb_cli_fail (cli, "check", error);
  g_autoptr (SbIdentity) identity =
      sb_identity_load_or_create (cli->config, SB_KEY_TYPE_ED25519, &error);
  if (identity == NULL)
    return sb_cli_fail (cli, "ECU identity", error);
  g_autoptr (SbUptane) uptane = sb_uptane_new (cli->config, identity, &error);
  if (uptane == NULL)
    return sb_cli_fail (cli, "check", error);

  /* Uptane §5.4.2: the cycle starts by reporting; the Director's answer never depends on it,
   * so a failure is only a warning. */
  g_autoptr (GError) manifest_error = NULL;
  guint reports_sent = 0;
  g_autoptr (SbSlotImage) booted = sb_cli_booted_image (cli->config);
  if (!sb_cli_send_manifest (uptane, booted, &reports_sent, &manifest_error))
    g_printerr ("switchback: warning: %s\n", manifest_error->message);

  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (uptane, &error);
  if (update == NULL)
    return sb_cli_fail (cli, "check", error);
  if (sb_uptane_get_clock_problem (uptane) != NULL)
    g_printerr ("switchback: warning: %s\n", sb_uptane_get_clock_problem (uptane));

  if (cli->json)
    print_json (uptane, update, booted, manifest_error, reports_sent);
  else
    print_text (uptane, update, booted);
  return SB_EXIT_OK;
}
