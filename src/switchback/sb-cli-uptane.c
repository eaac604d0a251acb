/* sb-cli-uptane.c: the installed image in check-only cycles (see sb-cli-uptane.h). */
#include "config.h"

#include "sb-cli-uptane.h"

#include "core/sb-crypto.h"

SbSlotImage *
sb_cli_booted_image (SbConfig *config)
{
  SbSlotId booted;
  g_autoptr (GError) error = NULL;
  if (!sb_slots_read_cmdline (config->cmdline_file, &booted, NULL, &error))
    {
      g_debug ("The booted slot is not known: %s", error->message);
      return NULL;
    }
  SbSlotImage *image = sb_update_get_slot_image (config->state_dir, booted, &error);
  if (error != NULL)
    g_debug ("The image in slot %s is not known: %s", sb_slot_id_name (booted), error->message);
  return image;
}

gboolean
sb_cli_send_manifest (SbUptane *uptane, const SbSlotImage *booted_image, guint *out_reports_sent,
                      GError **error)
{
  SbInstalledImage installed = { 0 };
  if (booted_image != NULL && booted_image->sha256 != NULL)
    installed = (SbInstalledImage){ booted_image->target, booted_image->sha256,
                                    booted_image->length };
  return sb_uptane_send_manifest (uptane, installed.filepath != NULL ? &installed : NULL,
                                  out_reports_sent, error);
}

gboolean
sb_cli_target_is_booted (const SbUptaneTarget *target, const SbSlotImage *booted_image)
{
  const char *sha256 = sb_uptane_target_get_sha256 (target);
  return booted_image != NULL && booted_image->sha256 != NULL && sha256 != NULL
         && g_strcmp0 (target->name, booted_image->target) == 0
         && target->length == booted_image->length
         && sb_hex_digest_equal (sha256, booted_image->sha256);
}
