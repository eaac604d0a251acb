/* sb-slots.h: the A/B slots, the one place that maps a slot to a device (design.md §5).
 *
 * The slots are two partitions of the configured disk ([slots] disk, a block device or a disk
 * image file), found in its GPT by partition name ([slots] slot-a, slot-b). The booted slot is
 * the `switchback.slot=` argument GRUB put on the kernel command line; the other one is the
 * inactive slot, the only one an image may be written to.
 *
 * Writing goes through an SbSlotWriter: on a block device it opens the partition's own node; on
 * an image file it opens the file and keeps every write inside the partition's byte range. The
 * booted slot and a mounted slot are never opened for writing.
 */
#pragma once

#include <glib.h>

#include "state/sb-config.h"
#include "core/sb-slot-id.h"

G_BEGIN_DECLS

/* What GRUB told the kernel: reads @cmdline_file (normally /proc/cmdline) and returns the slot
 * named by `switchback.slot=` (the last one wins, as for any kernel parameter) and whether
 * `switchback.emergency=1` is present. No switchback.slot= is SB_ERROR_NOT_FOUND; a value other
 * than A or B is SB_ERROR_STATE; an unreadable file is SB_ERROR_IO (or NOT_FOUND), each naming
 * the file. @out_emergency may be NULL. */
gboolean sb_slots_read_cmdline (const char *cmdline_file, SbSlotId *out_booted,
                                gboolean *out_emergency, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The max-tries of the GRUB script that booted the system: the `switchback.max-tries=N` that
 * gen-switchback-cfg.sh's script puts on the kernel command line (the last one wins). 0 when
 * there is none, as after a script from before it did, or when N is not one digit 1..9. Errors
 * are those of reading @cmdline_file. */
gboolean sb_slots_read_cmdline_max_tries (const char *cmdline_file, guint *out_max_tries,
                                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

typedef struct {
  SbSlotId id;
  char *partname; /* the GPT partition name */
  guint partno;   /* 1-based partition number */
  guint64 offset; /* bytes from the start of the disk */
  guint64 size;   /* bytes */
  char *device;   /* the partition's device node for a block device; NULL for an image file */
} SbSlot;

typedef struct {
  char *disk;           /* as configured */
  gboolean is_block;    /* a block device (else a regular image file) */
  SbSlot slot[2];       /* indexed by SbSlotId */
  /* Where the busy checks look; "/sys" and "/proc/self/mountinfo" unless a test points them
   * at a fixture. */
  char *sysfs_dir;
  char *mountinfo;
} SbSlots;

/* Reads the GPT of @disk with libfdisk and finds the partitions named @name_a and @name_b.
 * A missing disk, or one without a GPT, is SB_ERROR_NOT_FOUND or SB_ERROR_STATE naming the disk;
 * a missing partition is SB_ERROR_NOT_FOUND naming the disk and the partition name; two
 * partitions with one name is SB_ERROR_STATE; equal names for both slots is SB_ERROR_CONFIG. */
SbSlots *sb_slots_load (const char *disk, const char *name_a, const char *name_b,
                        GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* sb_slots_load with [slots] disk, slot-a, slot-b. An unset disk is SB_ERROR_CONFIG. */
SbSlots *sb_slots_load_config (const SbConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_slots_free (SbSlots *slots);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbSlots, sb_slots_free)

const SbSlot *sb_slots_get (SbSlots *slots, SbSlotId id);

/* Refuses with SB_ERROR_SLOT_BUSY when @id is @booted, or when the slot is mounted: its device
 * (or, for an image file, a loop device over the slot's bytes) appears in the mount table. */
gboolean sb_slots_check_not_busy (SbSlots *slots, SbSlotId id, SbSlotId booted,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Writes to one slot. Offsets are relative to the start of the slot. */
typedef struct _SbSlotWriter SbSlotWriter;

/* Opens slot @id for reading and writing after sb_slots_check_not_busy(). A block device is
 * opened O_EXCL, so the kernel refuses it (SB_ERROR_SLOT_BUSY) while anything holds it. */
SbSlotWriter *sb_slot_writer_open (SbSlots *slots, SbSlotId id, SbSlotId booted,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_slot_writer_free (SbSlotWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbSlotWriter, sb_slot_writer_free)

guint64 sb_slot_writer_get_size (SbSlotWriter *writer);

/* SB_ERROR_NO_SPACE (naming the slot and both sizes) if @length bytes do not fit in the slot:
 * called with the target length before the first byte is written (design.md §5). */
gboolean sb_slot_writer_check_fits (SbSlotWriter *writer, guint64 length,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Writes @len bytes at @offset in the slot. A write that would reach past the end of the slot
 * is refused with SB_ERROR_NO_SPACE before anything is written. */
gboolean sb_slot_writer_pwrite (SbSlotWriter *writer, const void *data, gsize len, guint64 offset,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* fsync: what was written is on the device when this returns TRUE. */
gboolean sb_slot_writer_sync (SbSlotWriter *writer, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Receives the slot's bytes in order, in chunks of at most SB_SLOT_READ_CHUNK bytes. Returning
 * FALSE (with @error set) stops the read. */
typedef gboolean (*SbSlotReadFunc) (const guint8 *data, gsize len, gpointer user_data,
                                    GError **error);
#define SB_SLOT_READ_CHUNK (1024 * 1024)

/* Reads the first @length bytes of the slot back and feeds them to @func: re-hashing what an
 * interrupted download already wrote before resuming it, or checking the whole image before it
 * is staged. Memory stays at one chunk whatever @length is. Reading past the slot's end is
 * SB_ERROR_NO_SPACE. */
gboolean sb_slot_writer_read_back (SbSlotWriter *writer, guint64 length, SbSlotReadFunc func,
                                   gpointer user_data, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Syncs and closes the slot; errors of either are reported. The writer must still be freed. */
gboolean sb_slot_writer_close (SbSlotWriter *writer, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
