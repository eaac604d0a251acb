/* sb-cli-uptane.h: what `switchback check` and `switchback daemon` share. */
#pragma once

#include "sb-cli.h"
#include "uptane/sb-update-cycle.h"
#include "uptane/sb-uptane.h"

G_BEGIN_DECLS

/* The image the update cycle recorded (images.json) for the booted slot, or NULL when the
 * booted slot or its image is not known (no switchback.slot= on the command line, a factory
 * image, unreadable state: the reason is logged as a debug message). */
SbSlotImage *sb_cli_booted_image (SbConfig *config);

/* Sends this cycle's vehicle version manifest (Uptane §5.4.2) reporting @booted_image
 * (sb_cli_booted_image; NULL reports "unknown"). A failure is returned for the caller to print
 * as a warning; it never stops a cycle. */
gboolean sb_cli_send_manifest (SbUptane *uptane, const SbSlotImage *booted_image,
                               guint *out_reports_sent, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* TRUE when @target is the image @booted_image records (same name, length and sha256). */
gboolean sb_cli_target_is_booted (const SbUptaneTarget *target, const SbSlotImage *booted_image);

G_END_DECLS
