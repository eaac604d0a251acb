/* sb-cli-uptane.h: what `switchback check` and `switchback daemon` share. */
#pragma once

#include "sb-cli.h"
#include "sb-uptane.h"

G_BEGIN_DECLS

/* Sends this cycle's vehicle version manifest (Uptane §5.4.2) reporting the image of the booted
 * slot as the update cycle recorded it (images.json), or "unknown" when the booted slot or its
 * image is not known (no switchback.slot= on the command line, a factory image). A failure is
 * returned for the caller to print as a warning; it never stops a cycle. */
gboolean sb_cli_send_manifest (SbUptane *uptane, guint *out_reports_sent, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
