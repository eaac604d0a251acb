/* sb-key-file.h: private keys in files (the ECU key, the repository tool's keys).
 *
 * The key material itself is sb-crypto's, which does no I/O; this is where it meets the disk.
 */
#pragma once

#include <glib.h>

#include "core/sb-crypto.h"

G_BEGIN_DECLS

/* Loads an unencrypted PKCS#8 PEM private key (as sb_signer_save writes). Errors as for
 * sb_signer_new_from_pem, prefixed with @path; a missing file is SB_ERROR_NOT_FOUND, a file
 * over SB_PRIVATE_KEY_MAX bytes is refused. */
SbSigner *sb_signer_load (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Writes the PKCS#8 PEM private key to @path with mode 0600 through sb_durable_write. */
gboolean sb_signer_save (SbSigner *signer, const char *path, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
