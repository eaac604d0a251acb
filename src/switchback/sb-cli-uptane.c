/* sb-cli-uptane.c: the manifest of a check-only cycle (see sb-cli-uptane.h). */
#include "config.h"

#include "sb-cli-uptane.h"

#include "sb-update-cycle.h"

gboolean
sb_cli_send_manifest (SbUptane *uptane, guint *out_reports_sent, GError **error)
{
  SbConfig *config = sb_uptane_get_config (uptane);
  SbSlotId booted;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SbSlotImage) image = NULL;
  if (sb_slots_read_cmdline (config->cmdline_file, &booted, NULL, &local_error))
    image = sb_update_get_slot_image (config->state_dir, booted, &local_error);
  if (local_error != NULL)
    g_debug ("Reporting the installed image as unknown: %s", local_error->message);

  SbInstalledImage installed = { 0 };
  if (image != NULL && image->sha256 != NULL)
    installed = (SbInstalledImage){ image->target, image->sha256, image->length };
  return sb_uptane_send_manifest (uptane, installed.filepath != NULL ? &installed : NULL,
                                  out_reports_sent, error);
}
