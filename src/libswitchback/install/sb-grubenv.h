/* sb-grubenv.h: GRUB's environment block, byte for byte as grub-editenv and GRUB's save_env
 * write it (design.md §4).
 *
 * The block is exactly SB_GRUBENV_SIZE bytes: the signature line "# GRUB Environment Block\n",
 * then `name=value\n` lines (lines starting with '#' are comments, such as the warning line
 * grub-editenv writes on create), and '#' padding up to the end. In values, '\' and newline
 * are written with a '\' before them. Setting an existing variable rewrites it where it stands;
 * a new one goes right after the last line; removing one shifts the rest up and pads the end.
 * The same sequence of set/unset calls gives the same bytes as the same grub-editenv commands.
 *
 * GRUB's save_env writes the block's sectors directly, without a filesystem driver, so the file
 * must keep its size and its blocks: sb_grubenv_save() rewrites it in place (one pwrite of the
 * whole block on an O_RDWR descriptor, no truncation, no rename, then fsync) and refuses
 * filesystems and devices where GRUB cannot do the same (btrfs, ZFS, device-mapper, md RAID).
 *
 * Only sb-grubenv and sb-bootchooser know the block; everything else goes through the
 * bootchooser.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SB_GRUBENV_SIZE 1024
#define SB_GRUBENV_SIGNATURE "# GRUB Environment Block\n"

typedef struct _SbGrubenv SbGrubenv;

/* Reads and validates the block at @path. A missing file is SB_ERROR_NOT_FOUND; a file that is
 * not SB_GRUBENV_SIZE bytes, lacks the signature, or has a line GRUB could not parse is
 * SB_ERROR_STATE, naming the file and the fault. Reading works on any filesystem; the
 * filesystem is checked by sb_grubenv_save(). */
SbGrubenv *sb_grubenv_load (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Writes a fresh block at @path, identical to what `grub-editenv PATH create` writes
 * (signature, warning line, padding), through sb_durable_write. An existing file is replaced,
 * as grub-editenv does. The filesystem is checked first, as for sb_grubenv_save(). */
gboolean sb_grubenv_create (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* A fresh block for @path in memory, the one sb_grubenv_create() writes; nothing is read, and
 * it counts as changed, so sb_grubenv_save() writes it in place over whatever a 1024-byte file
 * at @path holds. For rewriting a block that fails validation (a torn write). */
SbGrubenv *sb_grubenv_new_blank (const char *path);

/* An independent copy of @env (same path, same block, same saved state), for editing several
 * variables all or nothing. */
SbGrubenv *sb_grubenv_copy (SbGrubenv *env);

void sb_grubenv_free (SbGrubenv *env);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbGrubenv, sb_grubenv_free)

const char *sb_grubenv_get_path (SbGrubenv *env);

/* The unescaped value of @name, or NULL when unset. If a hand-edited block holds the name
 * twice, the last one is returned: that is the one GRUB's load_env ends up with. */
const char *sb_grubenv_get (SbGrubenv *env, const char *name);

/* The variable names in block order (a name held twice is listed once). */
GStrv sb_grubenv_get_names (SbGrubenv *env);

/* Sets @name to @value in memory. A name that is empty, starts with '#', or holds '=' or a
 * newline is SB_ERROR_INVALID_ARGUMENT. A block that would no longer fit in SB_GRUBENV_SIZE bytes
 * is SB_ERROR_NO_SPACE, and the block is left unchanged. */
gboolean sb_grubenv_set (SbGrubenv *env, const char *name, const char *value,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Removes @name in memory (every copy of it); nothing happens when it is unset. */
void sb_grubenv_unset (SbGrubenv *env, const char *name);

/* TRUE if the block in memory differs from what was read or last saved. */
gboolean sb_grubenv_is_dirty (SbGrubenv *env);

/* Writes the block back in place: opens the file O_RDWR (no O_TRUNC, no rename), checks it is
 * still a regular file of SB_GRUBENV_SIZE bytes (else SB_ERROR_STATE) on a filesystem GRUB can
 * write (else SB_ERROR_UNSUPPORTED), pwrites the whole block and fsyncs. */
gboolean sb_grubenv_save (SbGrubenv *env, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Refuses, with SB_ERROR_UNSUPPORTED, the filesystem or device holding the open file @fd when
 * GRUB's save_env could not rewrite the file's sectors there: btrfs and ZFS (by f_type), and
 * files on device-mapper (LVM, dm-crypt) or md RAID (via @sysfs_dir/dev/block/MAJ:MIN, @sysfs_dir
 * normally "/sys"). @path is for messages. */
gboolean sb_grubenv_check_storage (int fd, const char *path, const char *sysfs_dir,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The device part of sb_grubenv_check_storage, for the block device @major:@minor. A device
 * sysfs does not know (major 0, tmpfs, overlay) passes. */
gboolean sb_grubenv_check_block_device (const char *sysfs_dir, guint major, guint minor,
                                        const char *path, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
