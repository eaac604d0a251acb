/* sb-durable.h: the one way switchback writes a state file.
 *
 * A power cut at any instant leaves either the old complete file or the new complete file,
 * never a mix: the data goes to a temporary file in the same directory, is fsynced, renamed over
 * the target, and the directory is fsynced so the rename itself is durable.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Atomically replaces @path with @len bytes of @data, created with @mode (e.g. 0644, or 0600
 * for secrets; the mode is set before any byte is written, so a secret is never readable by
 * others, even briefly). The parent directory must exist. No temporary file is left behind.
 * ENOSPC is reported as SB_ERROR_NO_SPACE.
 *
 * A failure before the rename leaves @path unchanged. The one failure after it, the fsync of
 * the directory, is SB_ERROR_IO with @path already holding the new contents, which a power cut
 * may still take back: after a FALSE, @path holds the old or the new contents, each complete.
 * Every caller orders its writes so that either is safe (design.md §4). */
gboolean sb_durable_write (const char *path, const void *data, gsize len, mode_t mode,
                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Same as sb_durable_write for a GBytes. */
gboolean sb_durable_write_bytes (const char *path, GBytes *bytes, mode_t mode,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Removes @path if it exists and fsyncs its directory, so the removal survives a power cut. */
gboolean sb_durable_unlink (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Creates @path and missing parents with @mode, fsyncing each parent it changed. */
gboolean sb_durable_mkdir_p (const char *path, mode_t mode, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* fsyncs the directory @path. */
gboolean sb_fsync_dir (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Reads a whole file of at most @max_len bytes. A longer file is refused with
 * SB_ERROR_ENDLESS_DATA rather than read into memory; a missing one is SB_ERROR_NOT_FOUND.
 * Anything but a regular file (a FIFO, a device, a directory) and a symbolic link are
 * SB_ERROR_STATE, refused without blocking: a FIFO in place of a state file cannot hang the
 * caller. */
GBytes *sb_read_file (const char *path, gsize max_len, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
