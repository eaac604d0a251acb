/* repo-uptane.c: the Uptane commands: `uptane-add-image`, `uptane-assign`, `uptane-clear` and
 * `register-ecu` (design.md §3). */
#include "config.h"

#include "repo-cli.h"
#include "repo-roles.h"
#include "repo-targets.h"
#include "repo-uptane.h"
#include "repo-files.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-key-file.h"
#include "core/sb-json.h"

#include <stdio.h>
#include <string.h>

static SbRepo *
open_part (const char *dir, const char *part, GError **error)
{
  if (!sb_repo_dir_is_uptane (dir))
    {
      /* The repository itself may be named, as long as it is the right kind. */
      g_autoptr (SbRepo) repo = sb_repo_open (dir, error);
      if (repo == NULL)
        return NULL;
      if (strcmp (sb_repo_kind_name (sb_repo_get_kind (repo)), part) != 0)
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                    "%s is not an Uptane repository pair (create one with uptane-init)", dir);
          return NULL;
        }
      return g_steal_pointer (&repo);
    }
  g_autofree char *sub = g_build_filename (dir, part, NULL);
  return sb_repo_open (sub, error);
}

/* The Director of the pair that @dir or its parent is. */
static char *
director_dir_of (const char *dir)
{
  if (sb_repo_dir_is_uptane (dir))
    return g_build_filename (dir, "director", NULL);
  return g_strdup (dir);
}

int
sb_repo_cmd_uptane_add_image (int argc, char **argv)
{
  g_autofree char *name = NULL, *hwids = NULL, *format = NULL, *version = NULL;
  g_autofree char *uri = NULL, *commit = NULL, *custom_text = NULL;
  gint64 counter = -1;
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Target name (default: the file's base name)",
      "NAME" },
    { "hardware-id", 0, 0, G_OPTION_ARG_STRING, &hwids,
      "Hardware ids the image is released for (custom.hardwareIds)", "HW[,HW...]" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "custom.targetFormat: BINARY (default) or OSTREE", "FORMAT" },
    { "commit", 0, 0, G_OPTION_ARG_STRING, &commit,
      "OSTREE: the commit checksum (the target's sha256; no FILE, length 0)", "SHA256" },
    { "version", 0, 0, G_OPTION_ARG_STRING, &version, "custom.version (informational)", "V" },
    { "release-counter", 0, 0, G_OPTION_ARG_INT64, &counter,
      "custom.releaseCounter, for image rollback protection", "N" },
    { "uri", 0, 0, G_OPTION_ARG_STRING, &uri, "custom.uri, where clients download it", "URI" },
    { "custom", 0, 0, G_OPTION_ARG_STRING, &custom_text, "More custom fields (a JSON object)",
      "JSON" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "uptane-add-image", "DIR [FILE] --hardware-id HW",
      "Adds an image to the Image repository of the Uptane pair DIR (or the Image repository\n"
      "DIR), with custom {hardwareIds, targetFormat, version, releaseCounter} (design.md §3).\n"
      "An OSTREE image has no file: give its commit with --commit.",
      "Examples:\n"
      "  switchback-repo uptane-add-image uptane rootfs.img --name rootfs-2.img \\\n"
      "      --hardware-id board-a --version 2.0 --release-counter 2\n"
      "  switchback-repo uptane-add-image uptane --format OSTREE --commit 4f1c...e2 \\\n"
      "      --name os-2 --hardware-id board-a --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "uptane-add-image", &argc, &argv))
    return SB_REPO_EXIT_USAGE;

  const char *cmd = "uptane-add-image";
  gboolean ostree = format != NULL && strcmp (format, "OSTREE") == 0;
  if (format != NULL && !ostree && strcmp (format, "BINARY") != 0)
    return sb_repo_cli_usage (cmd, "--format must be BINARY or OSTREE");
  if (ostree ? argc != 2 : argc != 3)
    return sb_repo_cli_usage (cmd, ostree ? "expected DIR (an OSTREE image has no file)"
                                          : "expected DIR and FILE");
  if (ostree && (commit == NULL || strlen (commit) != 64 || !sb_hex_digest_equal (commit, commit)))
    return sb_repo_cli_usage (cmd, "an OSTREE image needs --commit with a 64-digit checksum");
  if (hwids == NULL)
    return sb_repo_cli_usage (cmd, "--hardware-id is required");
  if (ostree && name == NULL)
    return sb_repo_cli_usage (cmd, "an OSTREE image needs --name");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) repo = open_part (argv[1], "image", &error);
  if (repo == NULL)
    return sb_repo_cli_fail (cmd, error);
  g_autoptr (JsonObject) custom
      = custom_text != NULL ? sb_repo_parse_custom (custom_text, &error) : json_object_new ();
  if (custom == NULL)
    return sb_repo_cli_fail (cmd, error);
  JsonArray *hw = json_array_new ();
  g_auto (GStrv) hwlist = g_strsplit (hwids, ",", -1);
  for (char **h = hwlist; *h != NULL; h++)
    if (**h != '\0')
      json_array_add_string_element (hw, *h);
  json_object_set_array_member (custom, "hardwareIds", hw);
  json_object_set_string_member (custom, "targetFormat", ostree ? "OSTREE" : "BINARY");
  if (version != NULL)
    json_object_set_string_member (custom, "version", version);
  if (counter >= 0)
    json_object_set_int_member (custom, "releaseCounter", counter);
  if (uri != NULL)
    json_object_set_string_member (custom, "uri", uri);

  g_autofree char *base = ostree ? NULL : g_path_get_basename (argv[2]);
  const char *target = name != NULL ? name : base;
  g_autofree char *role = NULL;
  if (ostree)
    {
      /* design.md §5: an OSTree target's sha256 is the commit checksum; nothing is stored. */
      if (!sb_repo_check_target_name (target, &error))
        return sb_repo_cli_fail (cmd, error);
      role = sb_repo_role_for_target (repo, NULL, target, &error);
      JsonObject *signed_obj = role != NULL ? sb_repo_edit_signed (repo, role, &error) : NULL;
      if (signed_obj == NULL)
        return sb_repo_cli_fail (cmd, error);
      JsonObject *info = json_object_new ();
      json_object_set_int_member (info, "length", 0);
      JsonObject *hashes = json_object_new ();
      g_autofree char *lower = g_ascii_strdown (commit, -1);
      json_object_set_string_member (hashes, "sha256", lower);
      json_object_set_object_member (info, "hashes", hashes);
      json_object_set_object_member (info, "custom", json_object_ref (custom));
      if (!json_object_has_member (signed_obj, "targets"))
        json_object_set_object_member (signed_obj, "targets", json_object_new ());
      json_object_set_object_member (sb_repo_object_member (signed_obj, "targets"), target, info);
    }
  else if (!sb_repo_add_target (repo, argv[2], target, NULL, custom, &role, &error))
    {
      g_prefix_error (&error, "image %s: ", target);
      return sb_repo_cli_fail (cmd, error);
    }
  printf ("added image %s (%s, hardware %s) to role %s\n", target, ostree ? "OSTREE" : "BINARY",
          hwids, role);
  if (!sb_repo_cli_commit (repo, publish, &error))
    return sb_repo_cli_fail (cmd, error);
  return SB_REPO_EXIT_OK;
}

/* Each ECU has one assignment: drops @serial from every other Director target, and targets
 * left with no ECU. */
static void
unassign_ecu (JsonObject *targets, const char *serial, const char *except)
{
  g_autoptr (GList) names = json_object_get_members (targets);
  for (GList *l = names; l != NULL; l = l->next)
    {
      if (strcmp (l->data, except) == 0)
        continue;
      JsonObject *info = sb_repo_object_member (targets, l->data);
      JsonObject *ecus
          = sb_repo_object_member (sb_repo_object_member (info, "custom"), "ecuIdentifiers");
      if (ecus == NULL || !json_object_has_member (ecus, serial))
        continue;
      json_object_remove_member (ecus, serial);
      if (json_object_get_size (ecus) == 0)
        json_object_remove_member (targets, l->data);
    }
}

int
sb_repo_cmd_uptane_assign (int argc, char **argv)
{
  g_autofree char *name = NULL, *serial = NULL, *hwid = NULL, *correlation = NULL;
  g_autofree char *vin = NULL, *format = NULL, *uri = NULL, *sha256 = NULL;
  gint64 counter = -1, length = -1;
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The Image repository target to install", "NAME" },
    { "ecu", 0, 0, G_OPTION_ARG_STRING, &serial, "Serial of the ECU that installs it", "SERIAL" },
    { "hardware-id", 0, 0, G_OPTION_ARG_STRING, &hwid,
      "Hardware id of the ECU (default: as registered with register-ecu)", "HW" },
    { "correlation-id", 0, 0, G_OPTION_ARG_STRING, &correlation,
      "signed.custom.correlationId (default: a new UUID)", "ID" },
    { "vin", 0, 0, G_OPTION_ARG_STRING, &vin, "signed.custom.vin (default: keep the current one)",
      "VIN" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "custom.targetFormat (default: the image's)",
      "FORMAT" },
    { "uri", 0, 0, G_OPTION_ARG_STRING, &uri, "custom.uri", "URI" },
    { "release-counter", 0, 0, G_OPTION_ARG_INT64, &counter,
      "custom.releaseCounter (default: the image's; set it to test a mismatch)", "N" },
    { "length", 0, 0, G_OPTION_ARG_INT64, &length,
      "Length to list instead of the image's (to test a mismatch)", "N" },
    { "sha256", 0, 0, G_OPTION_ARG_STRING, &sha256,
      "sha256 to list instead of the image's hashes (to test a mismatch)", "HEX" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "uptane-assign", "DIR --name NAME --ecu SERIAL [--hardware-id HW]",
      "Assigns the Image repository target NAME to ECU SERIAL in the Director's targets:\n"
      "length and hashes copied from the image, custom.ecuIdentifiers.SERIAL.hardwareId,\n"
      "custom.targetFormat and custom.releaseCounter, and signed.custom.correlationId (and\n"
      "signed.custom.vin). The ECU's previous assignment is dropped (one image per ECU).",
      "Example:\n"
      "  switchback-repo uptane-assign uptane --name rootfs-2.img --ecu ECU1 \\\n"
      "      --hardware-id board-a --correlation-id update-42 --vin VIN123 --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  const char *cmd = "uptane-assign";
  if (!sb_repo_cli_parse (ctx, cmd, &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage (cmd, "expected the Uptane directory");
  if (name == NULL || serial == NULL)
    return sb_repo_cli_usage (cmd, "--name and --ecu are required");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) director = open_part (argv[1], "director", &error);
  g_autofree char *image_dir = NULL;
  if (director != NULL)
    {
      g_autofree char *parent = g_path_get_dirname (sb_repo_get_dir (director));
      image_dir = g_build_filename (parent, "image", NULL);
    }
  g_autoptr (SbRepo) image = director != NULL ? sb_repo_open (image_dir, &error) : NULL;
  if (image == NULL)
    return sb_repo_cli_fail (cmd, error);

  JsonObject *image_info = NULL;
  g_autoptr (GError) lookup_error = NULL;
  image_info = sb_repo_find_target (image, name, NULL, &lookup_error);
  if (image_info == NULL && (length < 0 || sha256 == NULL))
    {
      g_prefix_error (&lookup_error, "image %s: ", name);
      return sb_repo_cli_fail (cmd, lookup_error);
    }
  JsonObject *image_custom = sb_repo_object_member (image_info, "custom");

  if (hwid == NULL)
    {
      g_autoptr (GHashTable) ecus = sb_repo_load_ecus (sb_repo_get_dir (director), &error);
      if (ecus == NULL)
        return sb_repo_cli_fail (cmd, error);
      hwid = g_strdup (sb_repo_string_member (g_hash_table_lookup (ecus, serial), "hardware_id"));
      if (hwid == NULL)
        return sb_repo_cli_usage (cmd,
                                  "--hardware-id is required: ECU %s is not registered "
                                  "with a hardware id",
                                  serial);
    }
  gboolean listed
      = sb_repo_array_has_string (sb_repo_array_member (image_custom, "hardwareIds"), hwid);
  if (!listed)
    g_printerr ("warning: image %s is not released for hardware id %s; clients will refuse "
                "this assignment\n",
                name, hwid);

  JsonObject *signed_obj = sb_repo_edit_signed (director, SB_ROLE_TARGETS, &error);
  if (signed_obj == NULL)
    return sb_repo_cli_fail (cmd, error);
  if (!json_object_has_member (signed_obj, "targets"))
    json_object_set_object_member (signed_obj, "targets", json_object_new ());
  JsonObject *targets = sb_repo_object_member (signed_obj, "targets");
  unassign_ecu (targets, serial, name);

  JsonObject *info = sb_repo_object_member (targets, name);
  if (info == NULL)
    {
      info = json_object_new ();
      json_object_set_object_member (targets, name, info);
    }
  json_object_set_int_member (
      info, "length", length >= 0 ? length : json_object_get_int_member (image_info, "length"));
  if (sha256 != NULL)
    {
      JsonObject *hashes = json_object_new ();
      json_object_set_string_member (hashes, "sha256", sha256);
      json_object_set_object_member (info, "hashes", hashes);
    }
  else
    json_object_set_member (info, "hashes",
                            sb_repo_deep_copy (json_object_get_member (image_info, "hashes")));
  JsonObject *custom = sb_repo_object_member (info, "custom");
  if (custom == NULL)
    {
      custom = json_object_new ();
      json_object_set_object_member (info, "custom", custom);
    }
  JsonObject *ecus = sb_repo_object_member (custom, "ecuIdentifiers");
  if (ecus == NULL)
    {
      ecus = json_object_new ();
      json_object_set_object_member (custom, "ecuIdentifiers", ecus);
    }
  JsonObject *ecu = json_object_new ();
  json_object_set_string_member (ecu, "hardwareId", hwid);
  json_object_set_object_member (ecus, serial, ecu);
  const char *fmt = format != NULL ? format : sb_repo_string_member (image_custom, "targetFormat");
  json_object_set_string_member (custom, "targetFormat", fmt != NULL ? fmt : "BINARY");
  if (uri != NULL)
    json_object_set_string_member (custom, "uri", uri);
  /* design.md §3: both repositories must agree on the release counter. */
  if (counter >= 0)
    json_object_set_int_member (custom, "releaseCounter", counter);
  else if (image_custom != NULL && json_object_has_member (image_custom, "releaseCounter"))
    json_object_set_member (
        custom, "releaseCounter",
        json_node_copy (json_object_get_member (image_custom, "releaseCounter")));
  else
    json_object_remove_member (custom, "releaseCounter");

  JsonObject *scustom = sb_repo_object_member (signed_obj, "custom");
  if (scustom == NULL)
    {
      scustom = json_object_new ();
      json_object_set_object_member (signed_obj, "custom", scustom);
    }
  g_autofree char *cid = correlation != NULL ? g_strdup (correlation) : g_uuid_string_random ();
  json_object_set_string_member (scustom, "correlationId", cid);
  if (vin != NULL)
    json_object_set_string_member (scustom, "vin", vin);

  printf ("assigned %s to ECU %s (hardware %s), correlation id %s\n", name, serial, hwid, cid);
  if (!sb_repo_cli_commit (director, publish, &error))
    return sb_repo_cli_fail (cmd, error);
  return SB_REPO_EXIT_OK;
}

int
sb_repo_cmd_uptane_clear (int argc, char **argv)
{
  g_autofree char *vin = NULL;
  gboolean publish = FALSE;
  GOptionEntry entries[] = {
    { "vin", 0, 0, G_OPTION_ARG_STRING, &vin, "The vehicle id (signed.custom.vin)", "VIN" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "uptane-clear", "DIR --vin VIN",
      "Empties the Director's targets: no image for vehicle VIN. The targets carry\n"
      "signed.custom.vin, without which clients refuse an empty Director targets file as a\n"
      "possible replay (design.md §3).",
      NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "uptane-clear", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage ("uptane-clear", "expected the Uptane directory");
  if (vin == NULL)
    return sb_repo_cli_usage ("uptane-clear", "--vin is required");

  g_autoptr (GError) error = NULL;
  g_autoptr (SbRepo) director = open_part (argv[1], "director", &error);
  JsonObject *signed_obj
      = director != NULL ? sb_repo_edit_signed (director, SB_ROLE_TARGETS, &error) : NULL;
  if (signed_obj == NULL)
    return sb_repo_cli_fail ("uptane-clear", error);
  json_object_set_object_member (signed_obj, "targets", json_object_new ());
  JsonObject *custom = json_object_new ();
  json_object_set_string_member (custom, "vin", vin);
  json_object_set_object_member (signed_obj, "custom", custom);
  printf ("cleared the Director's targets for vehicle %s\n", vin);
  if (!sb_repo_cli_commit (director, publish, &error))
    return sb_repo_cli_fail ("uptane-clear", error);
  return SB_REPO_EXIT_OK;
}

GHashTable *
sb_repo_load_ecus (const char *director_dir, GError **error)
{
  g_autoptr (GHashTable) ecus
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_object_unref);
  g_autofree char *dir = g_build_filename (director_dir, SB_REPO_ECUS_DIR, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *entry;
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (entry, ".json"))
        continue;
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      g_autoptr (GBytes) bytes = sb_read_file (path, 1024 * 1024, error);
      if (bytes == NULL)
        return NULL;
      g_autoptr (JsonNode) node = sb_json_parse_bytes (bytes, error);
      JsonObject *obj
          = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *serial = sb_repo_string_member (obj, "ecu_serial");
      if (serial == NULL || sb_repo_object_member (obj, "public_key") == NULL)
        {
          if (error != NULL && *error == NULL)
            sb_throw (error, SB_ERROR_PARSE, "not an ECU registration (ecu_serial, public_key)");
          g_prefix_error (error, "%s: ", path);
          return NULL;
        }
      g_hash_table_insert (ecus, g_strdup (serial), json_object_ref (obj));
    }
  return g_steal_pointer (&ecus);
}

int
sb_repo_cmd_register_ecu (int argc, char **argv)
{
  g_autofree char *hwid = NULL;
  GOptionEntry entries[] = {
    { "hardware-id", 0, 0, G_OPTION_ARG_STRING, &hwid,
      "The ECU's hardware id (the default of uptane-assign --hardware-id)", "HW" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "register-ecu", "DIR SERIAL PUBKEY",
      "Registers ECU SERIAL with the Director of the Uptane pair DIR: `serve` accepts a vehicle\n"
      "version manifest only when it and each ECU report in it are signed by registered keys.\n"
      "PUBKEY is a TUF public key object (switchback writes one at STATE/ecu/public.json) or a\n"
      "PEM private key (its public half is registered). Registering again replaces the key; a\n"
      "running server sees registrations at once.",
      "Example:\n"
      "  switchback-repo register-ecu uptane ECU1 /var/lib/switchback/ecu/public.json "
      "--hardware-id board-a\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "register-ecu", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 4)
    return sb_repo_cli_usage ("register-ecu", "expected DIR, SERIAL and PUBKEY");

  g_autoptr (GError) error = NULL;
  const char *serial = argv[2], *key_path = argv[3];
  if (*serial == '\0')
    return sb_repo_cli_usage ("register-ecu", "the ECU serial is empty");
  g_autoptr (SbKey) key = NULL;
  g_autoptr (SbSigner) signer = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (key_path, 1024 * 1024, &error);
  if (bytes == NULL)
    return sb_repo_cli_fail ("register-ecu", error);
  /* A JSON key object starts with '{' (its rsa or ecdsa public value holds PEM itself). */
  gsize size;
  const char *text = g_bytes_get_data (bytes, &size);
  gsize lead = 0;
  while (lead < size && g_ascii_isspace (text[lead]))
    lead++;
  if (lead < size && text[lead] != '{')
    {
      signer = sb_signer_load (key_path, &error);
      if (signer == NULL)
        return sb_repo_cli_fail ("register-ecu", error);
      key = sb_key_ref (sb_signer_get_public (signer));
    }
  else
    {
      g_autoptr (JsonNode) node = sb_json_parse_bytes (bytes, &error);
      if (node != NULL)
        key = sb_key_new_from_json (node, &error);
      if (key == NULL)
        {
          g_prefix_error (&error, "%s: ", key_path);
          return sb_repo_cli_fail ("register-ecu", error);
        }
    }

  g_autofree char *director = director_dir_of (argv[1]);
  g_autoptr (SbRepo) repo = sb_repo_open (director, &error);
  if (repo == NULL)
    return sb_repo_cli_fail ("register-ecu", error);
  if (sb_repo_get_kind (repo) != SB_REPO_KIND_DIRECTOR)
    return sb_repo_cli_usage ("register-ecu", "%s is not an Uptane pair or Director repository",
                              argv[1]);
  g_autofree char *dir = g_build_filename (director, SB_REPO_ECUS_DIR, NULL);
  if (!sb_durable_mkdir_p (dir, 0755, &error))
    return sb_repo_cli_fail ("register-ecu", error);

  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "ecu_serial", serial);
  if (hwid != NULL)
    json_object_set_string_member (obj, "hardware_id", hwid);
  json_object_set_member (obj, "public_key", sb_key_to_json (key));
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  g_autofree char *out = sb_json_pretty (node);
  g_autofree char *enc = g_uri_escape_string (serial, NULL, FALSE);
  g_autofree char *file = g_strconcat (enc, ".json", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  if (!sb_durable_write (path, out, strlen (out), 0644, &error))
    return sb_repo_cli_fail ("register-ecu", error);
  printf ("registered ECU %s with key %s\n", serial, sb_key_get_keyid (key));
  return SB_REPO_EXIT_OK;
}
