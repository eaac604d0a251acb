/* sb-slots.c: slots from the GPT (libfdisk), the booted slot from the kernel command line, and
 * bounded writes to the inactive slot. */
#include "config.h"

#include "install/sb-slots.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef struct fdisk_context SbFdiskContext;
typedef struct fdisk_table SbFdiskTable;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbFdiskContext, fdisk_unref_context)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbFdiskTable, fdisk_unref_table)

/* The command line is one line of at most a few KiB; this only bounds a wrong path. */
#define CMDLINE_MAX (64 * 1024)
#define MOUNTINFO_MAX (4 * 1024 * 1024)

/* The words of @cmdline_file as the kernel splits parameters (a NUL ends the text). */
static GStrv
read_cmdline_words (const char *cmdline_file, GError **error)
{
  g_autoptr (GBytes) bytes = sb_read_file (cmdline_file, CMDLINE_MAX, error);
  if (bytes == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autofree char *text = g_strndup (data != NULL ? data : "", len);
  return g_strsplit_set (text, " \t\n", -1);
}

gboolean
sb_slots_read_cmdline (const char *cmdline_file, SbSlotId *out_booted, gboolean *out_emergency,
                       GError **error)
{
  g_auto (GStrv) args = read_cmdline_words (cmdline_file, error);
  if (args == NULL)
    return FALSE;
  const char *slot = NULL;
  gboolean emergency = FALSE;
  for (char **a = args; *a != NULL; a++)
    {
      if (g_str_has_prefix (*a, "switchback.slot="))
        slot = *a + strlen ("switchback.slot=");
      else if (g_str_equal (*a, "switchback.emergency=1"))
        emergency = TRUE;
    }
  if (slot == NULL)
    return sb_throw (error, SB_ERROR_NOT_FOUND,
                     "%s has no switchback.slot=: the system was not booted by switchback's GRUB "
                     "script", cmdline_file);
  if (!sb_slot_id_from_name (slot, out_booted))
    return sb_throw (error, SB_ERROR_STATE, "%s names slot \"%s\"; expected A or B", cmdline_file,
                     slot);
  if (out_emergency != NULL)
    *out_emergency = emergency;
  return TRUE;
}

gboolean
sb_slots_read_cmdline_max_tries (const char *cmdline_file, guint *out_max_tries, GError **error)
{
  g_auto (GStrv) args = read_cmdline_words (cmdline_file, error);
  if (args == NULL)
    return FALSE;
  *out_max_tries = 0;
  for (char **a = args; *a != NULL; a++)
    if (g_str_has_prefix (*a, "switchback.max-tries="))
      {
        const char *v = *a + strlen ("switchback.max-tries=");
        *out_max_tries = v[0] >= '1' && v[0] <= '9' && v[1] == '\0' ? (guint) (v[0] - '0') : 0;
      }
  return TRUE;
}

void
sb_slots_free (SbSlots *slots)
{
  if (slots == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (slots->slot); i++)
    {
      g_free (slots->slot[i].partname);
      g_free (slots->slot[i].device);
    }
  g_free (slots->disk);
  g_free (slots->sysfs_dir);
  g_free (slots->mountinfo);
  g_free (slots);
}

const SbSlot *
sb_slots_get (SbSlots *slots, SbSlotId id)
{
  return &slots->slot[id];
}

static char *
read_sysfs_line (const char *path)
{
  g_autofree char *contents = NULL;
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return g_strstrip (g_steal_pointer (&contents));
}

/* The device node of partition @partno of block device @disk: the child of the disk in sysfs
 * whose `partition` file holds the number (names differ: sda2, nvme0n1p2, mmcblk0p2), else the
 * name libfdisk derives. */
static char *
partition_node (const char *sysfs_dir, const char *disk, guint partno)
{
  g_autofree char *real = realpath (disk, NULL);
  g_autofree char *base = g_path_get_basename (real != NULL ? real : disk);
  g_autofree char *dir = g_build_filename (sysfs_dir, "class", "block", base, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *child;
  while (d != NULL && (child = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *pf = g_build_filename (dir, child, "partition", NULL);
      g_autofree char *n = read_sysfs_line (pf);
      if (n != NULL && g_ascii_strtoull (n, NULL, 10) == partno)
        return g_build_filename ("/dev", child, NULL);
    }
  char *name = fdisk_partname (real != NULL ? real : disk, partno);
  return name;
}

SbSlots *
sb_slots_load (const char *disk, const char *name_a, const char *name_b, GError **error)
{
  g_return_val_if_fail (disk != NULL && name_a != NULL && name_b != NULL, NULL);

  if (g_str_equal (name_a, name_b))
    {
      sb_throw (error, SB_ERROR_CONFIG, "[slots] slot-a and slot-b both name partition \"%s\"",
                name_a);
      return NULL;
    }
  struct stat st;
  if (stat (disk, &st) < 0)
    {
      SbErrorCode code = sb_error_code_from_errno (errno, SB_ERROR_IO);
      sb_throw_errno (error, code, "slot disk %s", disk);
      return NULL;
    }
  if (!S_ISBLK (st.st_mode) && !S_ISREG (st.st_mode))
    {
      sb_throw (error, SB_ERROR_CONFIG, "slot disk %s is neither a block device nor an image file",
                disk);
      return NULL;
    }

  g_autoptr (SbFdiskContext) cxt = fdisk_new_context ();
  int r = fdisk_assign_device (cxt, disk, 1);
  if (r < 0)
    {
      errno = -r;
      sb_throw_errno (error, SB_ERROR_IO, "reading the partition table of %s", disk);
      return NULL;
    }
  if (!fdisk_is_label (cxt, GPT))
    {
      sb_throw (error, SB_ERROR_STATE, "%s has no GPT partition table", disk);
      return NULL;
    }
  g_autoptr (SbFdiskTable) tb = NULL;
  r = fdisk_get_partitions (cxt, &tb);
  if (r < 0)
    {
      errno = -r;
      sb_throw_errno (error, SB_ERROR_STATE, "reading the partitions of %s", disk);
      return NULL;
    }

  g_autoptr (SbSlots) slots = g_new0 (SbSlots, 1);
  slots->disk = g_strdup (disk);
  slots->is_block = S_ISBLK (st.st_mode);
  slots->sysfs_dir = g_strdup ("/sys");
  slots->mountinfo = g_strdup ("/proc/self/mountinfo");
  const char *names[2] = { name_a, name_b };
  guint64 sector = fdisk_get_sector_size (cxt);
  /* What the disk holds, for the error when a slot's partition is not among them. */
  g_autoptr (GString) present = g_string_new (NULL);
  for (size_t i = 0; i < fdisk_table_get_nents (tb); i++)
    {
      struct fdisk_partition *pa = fdisk_table_get_partition (tb, i);
      const char *pname = fdisk_partition_get_name (pa);
      g_string_append_printf (present, "%s%zu ", present->len > 0 ? ", " : "",
                              fdisk_partition_get_partno (pa) + 1);
      if (pname != NULL && *pname != '\0')
        g_string_append_printf (present, "\"%s\"", pname);
      else
        g_string_append (present, "(no name)");
      for (guint s = 0; s < 2; s++)
        {
          if (pname == NULL || !g_str_equal (pname, names[s]))
            continue;
          SbSlot *slot = &slots->slot[s];
          if (slot->partname != NULL)
            {
              sb_throw (error, SB_ERROR_STATE, "%s has two partitions named \"%s\" (%u and %zu)",
                        disk, pname, slot->partno, fdisk_partition_get_partno (pa) + 1);
              return NULL;
            }
          if (!fdisk_partition_has_start (pa) || !fdisk_partition_has_size (pa))
            {
              sb_throw (error, SB_ERROR_STATE, "partition \"%s\" of %s has no start or size",
                        pname, disk);
              return NULL;
            }
          slot->id = (SbSlotId) s;
          slot->partname = g_strdup (pname);
          slot->partno = (guint) fdisk_partition_get_partno (pa) + 1;
          slot->offset = (guint64) fdisk_partition_get_start (pa) * sector;
          slot->size = (guint64) fdisk_partition_get_size (pa) * sector;
        }
    }
  for (guint s = 0; s < 2; s++)
    {
      if (slots->slot[s].partname == NULL)
        {
          sb_throw (error, SB_ERROR_NOT_FOUND,
                    "%s has no GPT partition named \"%s\" (slot %s, [slots] slot-%c); %s%s", disk,
                    names[s], sb_slot_id_name ((SbSlotId) s), s == SB_SLOT_A ? 'a' : 'b',
                    present->len > 0 ? "the partitions it has are " : "it has no partitions",
                    present->str);
          return NULL;
        }
      if (slots->is_block)
        slots->slot[s].device = partition_node (slots->sysfs_dir, disk, slots->slot[s].partno);
    }
  return g_steal_pointer (&slots);
}

SbSlots *
sb_slots_load_config (const SbConfig *config, GError **error)
{
  if (config->disk == NULL || *config->disk == '\0')
    {
      sb_throw (error, SB_ERROR_CONFIG, "[slots] disk is not set%s%s",
                config->path != NULL ? " in " : "", config->path != NULL ? config->path : "");
      return NULL;
    }
  return sb_slots_load (config->disk, config->slot_a, config->slot_b, error);
}

/* The set of "major:minor" strings of every mounted device, plus the mount sources. */
static GHashTable *
read_mounted (const char *mountinfo, GError **error)
{
  g_autoptr (GBytes) bytes = sb_read_file (mountinfo, MOUNTINFO_MAX, error);
  if (bytes == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autofree char *text = g_strndup (data != NULL ? data : "", len);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", -1);
      if (g_strv_length (f) < 3)
        continue;
      g_hash_table_add (set, g_strdup (f[2]));
      /* Optional fields end at "-", then fstype and mount source. */
      for (guint i = 6; f[i] != NULL; i++)
        if (g_str_equal (f[i], "-") && f[i + 1] != NULL && f[i + 2] != NULL)
          {
            g_hash_table_add (set, g_strdup (f[i + 2]));
            break;
          }
    }
  return g_steal_pointer (&set);
}

static gboolean
ranges_overlap (guint64 a, guint64 alen, guint64 b, guint64 blen)
{
  return a < b + blen && b < a + alen;
}

/* Is any loop device over the image file's bytes of @slot mounted (itself or one of its
 * partitions)? Sets *out_dev to its name. */
static gboolean
image_slot_mounted (SbSlots *slots, const SbSlot *slot, GHashTable *mounted, char **out_dev)
{
  g_autofree char *image = realpath (slots->disk, NULL);
  g_autofree char *blockdir = g_build_filename (slots->sysfs_dir, "block", NULL);
  g_autoptr (GDir) d = g_dir_open (blockdir, 0, NULL);
  const char *loop;
  while (image != NULL && d != NULL && (loop = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_prefix (loop, "loop"))
        continue;
      g_autofree char *ldir = g_build_filename (blockdir, loop, NULL);
      g_autofree char *bf = g_build_filename (ldir, "loop", "backing_file", NULL);
      g_autofree char *backing = read_sysfs_line (bf);
      if (backing == NULL || !g_str_equal (backing, image))
        continue;
      g_autofree char *of = g_build_filename (ldir, "loop", "offset", NULL);
      g_autofree char *sf = g_build_filename (ldir, "loop", "sizelimit", NULL);
      g_autofree char *offs = read_sysfs_line (of);
      g_autofree char *lims = read_sysfs_line (sf);
      guint64 base = offs != NULL ? g_ascii_strtoull (offs, NULL, 10) : 0;
      guint64 limit = lims != NULL ? g_ascii_strtoull (lims, NULL, 10) : 0;
      if (limit == 0)
        limit = G_MAXUINT64 - base;

      g_autofree char *devf = g_build_filename (ldir, "dev", NULL);
      g_autofree char *dev = read_sysfs_line (devf);
      if (dev != NULL && g_hash_table_contains (mounted, dev)
          && ranges_overlap (base, limit, slot->offset, slot->size))
        {
          *out_dev = g_strdup (loop);
          return TRUE;
        }
      /* Partitions of the loop device (losetup -P): start and size in 512-byte sectors. */
      g_autoptr (GDir) pd = g_dir_open (ldir, 0, NULL);
      const char *part;
      while (pd != NULL && (part = g_dir_read_name (pd)) != NULL)
        {
          g_autofree char *pdir = g_build_filename (ldir, part, NULL);
          g_autofree char *pfile = g_build_filename (pdir, "partition", NULL);
          if (!g_file_test (pfile, G_FILE_TEST_EXISTS))
            continue;
          g_autofree char *startf = g_build_filename (pdir, "start", NULL);
          g_autofree char *sizef = g_build_filename (pdir, "size", NULL);
          g_autofree char *pdevf = g_build_filename (pdir, "dev", NULL);
          g_autofree char *start = read_sysfs_line (startf);
          g_autofree char *size = read_sysfs_line (sizef);
          g_autofree char *pdev = read_sysfs_line (pdevf);
          if (start == NULL || size == NULL || pdev == NULL
              || !g_hash_table_contains (mounted, pdev))
            continue;
          if (ranges_overlap (base + g_ascii_strtoull (start, NULL, 10) * 512,
                              g_ascii_strtoull (size, NULL, 10) * 512, slot->offset, slot->size))
            {
              *out_dev = g_strdup (part);
              return TRUE;
            }
        }
    }
  return FALSE;
}

gboolean
sb_slots_check_not_busy (SbSlots *slots, SbSlotId id, SbSlotId booted, GError **error)
{
  const SbSlot *slot = &slots->slot[id];
  if (id == booted)
    return sb_throw (error, SB_ERROR_SLOT_BUSY,
                     "slot %s (partition \"%s\" of %s) is the booted slot; only the inactive "
                     "slot is written", sb_slot_id_name (id), slot->partname, slots->disk);

  g_autoptr (GHashTable) mounted = read_mounted (slots->mountinfo, error);
  if (mounted == NULL)
    return FALSE;
  g_autofree char *dev = NULL;
  if (slots->is_block)
    {
      struct stat st;
      if (stat (slot->device, &st) < 0)
        return sb_throw_errno (error, SB_ERROR_NOT_FOUND, "device %s of slot %s", slot->device,
                               sb_slot_id_name (id));
      g_autofree char *majmin = g_strdup_printf ("%u:%u", major (st.st_rdev), minor (st.st_rdev));
      if (g_hash_table_contains (mounted, majmin) || g_hash_table_contains (mounted, slot->device))
        dev = g_strdup (slot->device);
    }
  else
    (void) image_slot_mounted (slots, slot, mounted, &dev);
  if (dev != NULL)
    return sb_throw (error, SB_ERROR_SLOT_BUSY, "slot %s (partition \"%s\" of %s) is mounted (%s)",
                     sb_slot_id_name (id), slot->partname, slots->disk, dev);
  return TRUE;
}

struct _SbSlotWriter {
  int fd;
  char *what; /* "slot B (partition "rootfs-b" of disk.img)" for messages */
  guint64 base; /* byte offset of the slot in the file opened */
  guint64 size;
};

void
sb_slot_writer_free (SbSlotWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->fd >= 0)
    (void) close (writer->fd);
  g_free (writer->what);
  g_free (writer);
}

SbSlotWriter *
sb_slot_writer_open (SbSlots *slots, SbSlotId id, SbSlotId booted, GError **error)
{
  if (!sb_slots_check_not_busy (slots, id, booted, error))
    return NULL;
  const SbSlot *slot = &slots->slot[id];
  g_autoptr (SbSlotWriter) w = g_new0 (SbSlotWriter, 1);
  w->fd = -1;
  w->what = g_strdup_printf ("slot %s (partition \"%s\" of %s)", sb_slot_id_name (id),
                             slot->partname, slots->disk);
  w->size = slot->size;
  if (slots->is_block)
    {
      /* O_EXCL on a block device: the kernel refuses it while a filesystem or dm holds it. */
      w->fd = open (slot->device, O_RDWR | O_EXCL | O_CLOEXEC);
      w->base = 0;
    }
  else
    {
      w->fd = open (slots->disk, O_RDWR | O_CLOEXEC);
      w->base = slot->offset;
    }
  if (w->fd < 0)
    {
      SbErrorCode code = sb_error_code_from_errno (errno, SB_ERROR_IO);
      sb_throw_errno (error, code, "opening %s for writing",
                      slots->is_block ? slot->device : slots->disk);
      g_prefix_error (error, "%s: ", w->what);
      return NULL;
    }
  return g_steal_pointer (&w);
}

guint64
sb_slot_writer_get_size (SbSlotWriter *writer)
{
  return writer->size;
}

gboolean
sb_slot_writer_check_fits (SbSlotWriter *writer, guint64 length, GError **error)
{
  if (length > writer->size)
    return sb_throw (error, SB_ERROR_NO_SPACE,
                     "%s holds %" G_GUINT64_FORMAT " bytes; the image has %" G_GUINT64_FORMAT,
                     writer->what, writer->size, length);
  return TRUE;
}

static gboolean
check_range (SbSlotWriter *writer, guint64 offset, guint64 len, GError **error)
{
  if (offset > writer->size || len > writer->size - offset)
    return sb_throw (error, SB_ERROR_NO_SPACE,
                     "%s: bytes %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
                     " are past its end (%" G_GUINT64_FORMAT " bytes)",
                     writer->what, offset, offset + len, writer->size);
  return TRUE;
}

gboolean
sb_slot_writer_pwrite (SbSlotWriter *writer, const void *data, gsize len, guint64 offset,
                       GError **error)
{
  if (!check_range (writer, offset, len, error))
    return FALSE;
  const guint8 *p = data;
  while (len > 0)
    {
      ssize_t n = pwrite (writer->fd, p, len, (off_t) (writer->base + offset));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return sb_throw_errno (error, SB_ERROR_INSTALL, "writing %s at %" G_GUINT64_FORMAT,
                                 writer->what, offset);
        }
      p += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

gboolean
sb_slot_writer_sync (SbSlotWriter *writer, GError **error)
{
  if (fsync (writer->fd) < 0)
    return sb_throw_errno (error, SB_ERROR_INSTALL, "fsync of %s", writer->what);
  return TRUE;
}

gboolean
sb_slot_writer_read_back (SbSlotWriter *writer, guint64 length, SbSlotReadFunc func,
                          gpointer user_data, GError **error)
{
  if (!check_range (writer, 0, length, error))
    return FALSE;
  g_autofree guint8 *buf = g_malloc (SB_SLOT_READ_CHUNK);
  guint64 done = 0;
  while (done < length)
    {
      gsize want = (gsize) MIN ((guint64) SB_SLOT_READ_CHUNK, length - done);
      ssize_t n = pread (writer->fd, buf, want, (off_t) (writer->base + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return sb_throw_errno (error, SB_ERROR_IO, "reading %s at %" G_GUINT64_FORMAT,
                                 writer->what, done);
        }
      if (!func (buf, (gsize) n, user_data, error))
        return FALSE;
      done += (guint64) n;
    }
  return TRUE;
}

gboolean
sb_slot_writer_close (SbSlotWriter *writer, GError **error)
{
  if (writer->fd < 0)
    return TRUE;
  gboolean ok = sb_slot_writer_sync (writer, error);
  int fd = writer->fd;
  writer->fd = -1;
  if (close (fd) < 0 && ok)
    ok = sb_throw_errno (error, SB_ERROR_INSTALL, "closing %s", writer->what);
  return ok;
}
