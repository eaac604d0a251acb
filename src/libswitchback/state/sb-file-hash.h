/* sb-file-hash.h: hashing files, for the code that reads the disk (sb-hash does no I/O). */
#pragma once

#include <glib.h>

#include "core/sb-hash.h"

G_BEGIN_DECLS

/* Feeds the whole file @path through @hasher with a bounded buffer. Reading more than
 * @max_len bytes stops with SB_ERROR_LENGTH_MISMATCH (a file longer than expected cannot match);
 * a missing file is SB_ERROR_NOT_FOUND. *out_len gets the bytes read. */
gboolean sb_hasher_update_file (SbHasher *hasher, const char *path, guint64 max_len,
                                guint64 *out_len, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
