/* Tests for sb-slots: slots found in a real GPT written by sfdisk on a disk image file, the
 * booted slot from a command line file, and bounded writes to the inactive slot. */
#include "config.h"

#include "core/sb-error.h"
#include "install/sb-slots.h"
#include "sb-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024 * 1024)

typedef struct {
  char *dir;
  char *disk;
  char *sysfs;     /* an empty fake /sys unless a test fills it */
  char *mountinfo; /* a mount table without the slots */
} Fixture;

static const char layout[] = "label: gpt\n"
                             "size=1MiB, name=esp\n"
                             "size=20MiB, name=rootfs-a\n"
                             "size=20MiB, name=rootfs-b\n"
                             "name=data\n";

static char *
run (const char *const *argv, const char *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = g_subprocess_newv (argv,
                                                 G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                     | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                                 &error);
  g_assert_no_error (error);
  char *out = NULL;
  g_subprocess_communicate_utf8 (p, input, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  return out;
}

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
make_image (const char *path, const char *script)
{
  g_autoptr (GError) error = NULL;
  int fd = g_open (path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 64 * MIB), ==, 0);
  g_assert_true (g_close (fd, &error));
  if (script != NULL)
    g_free (run ((const char *const[]){ "sfdisk", "-q", path, NULL }, script));
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->disk = g_build_filename (f->dir, "disk.img", NULL);
  f->sysfs = g_build_filename (f->dir, "sys", NULL);
  f->mountinfo = g_build_filename (f->dir, "mountinfo", NULL);
  g_assert_cmpint (g_mkdir (f->sysfs, 0755), ==, 0);
  write_file (f->mountinfo, "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                            "23 22 0:21 / /proc rw shared:2 - proc proc rw\n");
  make_image (f->disk, layout);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->disk);
  g_free (f->sysfs);
  g_free (f->mountinfo);
}

static SbSlots *
load (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbSlots *slots = sb_slots_load (f->disk, "rootfs-a", "rootfs-b", &error);
  g_assert_no_error (error);
  g_assert_nonnull (slots);
  g_free (slots->sysfs_dir);
  slots->sysfs_dir = g_strdup (f->sysfs);
  g_free (slots->mountinfo);
  slots->mountinfo = g_strdup (f->mountinfo);
  return slots;
}

static void
test_finds_slots (Fixture *f, gconstpointer data)
{
  g_autoptr (SbSlots) slots = load (f);
  g_assert_false (slots->is_block);

  g_autofree char *json = run ((const char *const[]){ "sfdisk", "--json", f->disk, NULL }, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *pt = json_object_get_object_member (root, "partitiontable");
  gint64 sector = json_object_get_int_member (pt, "sectorsize");
  JsonArray *parts = json_object_get_array_member (pt, "partitions");
  guint seen = 0;
  for (guint i = 0; i < json_array_get_length (parts); i++)
    {
      JsonObject *p = json_array_get_object_element (parts, i);
      const char *name = json_object_get_string_member (p, "name");
      SbSlotId id;
      if (g_str_equal (name, "rootfs-a"))
        id = SB_SLOT_A;
      else if (g_str_equal (name, "rootfs-b"))
        id = SB_SLOT_B;
      else
        continue;
      const SbSlot *s = sb_slots_get (slots, id);
      gint64 start = json_object_get_int_member (p, "start");
      gint64 size = json_object_get_int_member (p, "size");
      g_assert_cmpuint (s->offset, ==, (guint64) (start * sector));
      g_assert_cmpuint (s->size, ==, (guint64) (size * sector));
      g_assert_cmpuint (s->partno, ==, i + 1);
      g_assert_cmpstr (s->partname, ==, name);
      g_assert_null (s->device);
      seen++;
    }
  g_assert_cmpuint (seen, ==, 2);
  g_assert_cmpuint (sb_slots_get (slots, SB_SLOT_A)->size, ==, 20 * MIB);
}

static void
test_missing_partition (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSlots) slots = sb_slots_load (f->disk, "rootfs-a", "rootfs-c", &error);
  g_assert_null (slots);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  /* The error lists what the disk has, so a misnamed slot is plain to see. */
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "no GPT partition named \"rootfs-c\" (slot B, "
                                            "[slots] slot-b); the partitions it has are "
                                            "1 \"esp\", 2 \"rootfs-a\", 3 \"rootfs-b\", "
                                            "4 \"data\""));
  g_clear_error (&error);

  /* A partition without a name is listed as such. */
  make_image (f->disk, "label: gpt\nsize=1MiB, name=esp\nsize=20MiB\nname=data\n");
  g_assert_null (sb_slots_load (f->disk, "rootfs-a", "rootfs-b", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "\"rootfs-a\" (slot A, [slots] slot-a); the "
                                            "partitions it has are 1 \"esp\", 2 (no name), "
                                            "3 \"data\""));
  g_clear_error (&error);

  /* An empty GPT. */
  make_image (f->disk, "label: gpt\n");
  g_assert_null (sb_slots_load (f->disk, "rootfs-a", "rootfs-b", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "it has no partitions"));
}

static void
test_bad_disks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "missing.img", NULL);
  g_assert_null (sb_slots_load (missing, "rootfs-a", "rootfs-b", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autofree char *blank = g_build_filename (f->dir, "blank.img", NULL);
  make_image (blank, NULL);
  g_assert_null (sb_slots_load (blank, "rootfs-a", "rootfs-b", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_clear_error (&error);

  g_autofree char *dos = g_build_filename (f->dir, "dos.img", NULL);
  make_image (dos, "label: dos\nsize=20MiB\nsize=20MiB\n");
  g_assert_null (sb_slots_load (dos, "rootfs-a", "rootfs-b", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_clear_error (&error);

  g_autofree char *twice = g_build_filename (f->dir, "twice.img", NULL);
  make_image (twice, "label: gpt\nsize=8MiB, name=rootfs-a\nsize=8MiB, name=rootfs-b\n"
                     "size=8MiB, name=rootfs-b\n");
  g_assert_null (sb_slots_load (twice, "rootfs-a", "rootfs-b", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_clear_error (&error);

  g_assert_null (sb_slots_load (f->disk, "rootfs-a", "rootfs-a", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
}

static void
test_cmdline (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "cmdline", NULL);
  const struct {
    const char *text;
    int code; /* -1: success */
    SbSlotId slot;
    gboolean emergency;
  } cases[] = {
    { "BOOT_IMAGE=/vmlinuz root=LABEL=a ro switchback.slot=A quiet\n", -1, SB_SLOT_A, FALSE },
    { "switchback.slot=B", -1, SB_SLOT_B, FALSE },
    { "switchback.slot=A switchback.emergency=1\n", -1, SB_SLOT_A, TRUE },
    { "switchback.slot=A switchback.slot=B\n", -1, SB_SLOT_B, FALSE },
    { "switchback.emergency=0 switchback.slot=B\n", -1, SB_SLOT_B, FALSE },
    { "root=/dev/sda2 ro\n", SB_ERROR_NOT_FOUND, 0, FALSE },
    { "xswitchback.slot=A\n", SB_ERROR_NOT_FOUND, 0, FALSE },
    { "switchback.slot=C\n", SB_ERROR_STATE, 0, FALSE },
    { "switchback.slot=a\n", SB_ERROR_STATE, 0, FALSE },
    { "switchback.slot=\n", SB_ERROR_STATE, 0, FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      write_file (path, cases[i].text);
      SbSlotId slot = 42;
      gboolean emergency = 42;
      gboolean ok = sb_slots_read_cmdline (path, &slot, &emergency, &error);
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpint (slot, ==, cases[i].slot);
          g_assert_cmpint (emergency, ==, cases[i].emergency);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, SB_ERROR, cases[i].code);
        }
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "nope", NULL);
  SbSlotId slot;
  g_assert_false (sb_slots_read_cmdline (missing, &slot, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

static void
test_booted_slot_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (SbSlots) slots = load (f);
  for (SbSlotId id = SB_SLOT_A; id <= SB_SLOT_B; id++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SbSlotWriter) w = sb_slot_writer_open (slots, id, id, &error);
      g_assert_null (w);
      g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSlotWriter) w = sb_slot_writer_open (slots, SB_SLOT_B, SB_SLOT_A, &error);
  g_assert_no_error (error);
  g_assert_nonnull (w);
}

/* A fake /sys/block/loopN over the image, as `losetup` creates: loop/backing_file, offset,
 * sizelimit, dev; partitions with partition/start/size/dev. */
static void
fake_loop (Fixture *f, const char *loop, const char *dev, guint64 offset, guint64 sizelimit,
           const char *part, guint64 part_start_sectors, guint64 part_sectors, const char *part_dev)
{
  g_autofree char *image = realpath (f->disk, NULL);
  g_autofree char *ldir = g_build_filename (f->sysfs, "block", loop, "loop", NULL);
  g_assert_cmpint (g_mkdir_with_parents (ldir, 0755), ==, 0);
  g_autofree char *bf = g_build_filename (ldir, "backing_file", NULL);
  g_autofree char *backing = g_strdup_printf ("%s\n", image);
  write_file (bf, backing);
  g_autofree char *of = g_build_filename (ldir, "offset", NULL);
  g_autofree char *offs = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", offset);
  write_file (of, offs);
  g_autofree char *sf = g_build_filename (ldir, "sizelimit", NULL);
  g_autofree char *lims = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", sizelimit);
  write_file (sf, lims);
  g_autofree char *df = g_build_filename (f->sysfs, "block", loop, "dev", NULL);
  g_autofree char *devs = g_strdup_printf ("%s\n", dev);
  write_file (df, devs);
  if (part == NULL)
    return;
  g_autofree char *pdir = g_build_filename (f->sysfs, "block", loop, part, NULL);
  g_assert_cmpint (g_mkdir_with_parents (pdir, 0755), ==, 0);
  g_autofree char *pf = g_build_filename (pdir, "partition", NULL);
  write_file (pf, "1\n");
  g_autofree char *stf = g_build_filename (pdir, "start", NULL);
  g_autofree char *st = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", part_start_sectors);
  write_file (stf, st);
  g_autofree char *szf = g_build_filename (pdir, "size", NULL);
  g_autofree char *sz = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", part_sectors);
  write_file (szf, sz);
  g_autofree char *pdf = g_build_filename (pdir, "dev", NULL);
  g_autofree char *pd = g_strdup_printf ("%s\n", part_dev);
  write_file (pdf, pd);
}

static void
mount_dev (Fixture *f, const char *majmin)
{
  g_autofree char *old = NULL;
  g_assert_true (g_file_get_contents (f->mountinfo, &old, NULL, NULL));
  g_autofree char *text = g_strdup_printf ("%s40 22 %s / /mnt/x rw - ext4 /dev/whatever rw\n",
                                           old, majmin);
  write_file (f->mountinfo, text);
}

static void
assert_open (SbSlots *slots, SbSlotId id, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSlotWriter) w = sb_slot_writer_open (slots, id, sb_slot_id_other (id), &error);
  if (code < 0)
    {
      g_assert_no_error (error);
      g_assert_nonnull (w);
    }
  else
    {
      g_assert_null (w);
      g_assert_error (error, SB_ERROR, code);
    }
}

static void
test_mounted_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (SbSlots) slots = load (f);
  const SbSlot *a = sb_slots_get (slots, SB_SLOT_A);
  const SbSlot *b = sb_slots_get (slots, SB_SLOT_B);

  /* losetup -P over the whole image, slot A's partition mounted: A is busy, B is not. */
  fake_loop (f, "loop3", "7:3", 0, 0, "loop3p2", a->offset / 512, a->size / 512, "259:2");
  assert_open (slots, SB_SLOT_A, -1);
  mount_dev (f, "259:2");
  assert_open (slots, SB_SLOT_A, SB_ERROR_SLOT_BUSY);
  assert_open (slots, SB_SLOT_B, -1);

  /* losetup --offset over slot B, mounted. */
  fake_loop (f, "loop4", "7:4", b->offset, b->size, NULL, 0, 0, NULL);
  assert_open (slots, SB_SLOT_B, -1);
  mount_dev (f, "7:4");
  assert_open (slots, SB_SLOT_B, SB_ERROR_SLOT_BUSY);
}

static void
read_abs (const char *path, guint64 offset, guint8 *buf, gsize len)
{
  int fd = g_open (path, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, buf, len, (off_t) offset), ==, (gssize) len);
  g_assert_true (g_close (fd, NULL));
}

static gboolean
all_bytes (const guint8 *buf, gsize len, guint8 v)
{
  for (gsize i = 0; i < len; i++)
    if (buf[i] != v)
      return FALSE;
  return TRUE;
}

static void
test_writes_stay_in_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (SbSlots) slots = load (f);
  const SbSlot *b = sb_slots_get (slots, SB_SLOT_B);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSlotWriter) w = sb_slot_writer_open (slots, SB_SLOT_B, SB_SLOT_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sb_slot_writer_get_size (w), ==, b->size);

  guint8 ones[4096];
  memset (ones, 0xff, sizeof ones);
  g_assert_true (sb_slot_writer_pwrite (w, ones, sizeof ones, 0, &error));
  g_assert_true (sb_slot_writer_pwrite (w, ones, sizeof ones, b->size - sizeof ones, &error));
  g_assert_no_error (error);

  /* The last byte allowed, then one past it. */
  g_assert_true (sb_slot_writer_check_fits (w, b->size, &error));
  g_assert_no_error (error);
  g_assert_false (sb_slot_writer_check_fits (w, b->size + 1, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_clear_error (&error);
  g_assert_false (sb_slot_writer_pwrite (w, ones, 2, b->size - 1, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_clear_error (&error);
  g_assert_false (sb_slot_writer_pwrite (w, ones, 1, G_MAXUINT64, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_clear_error (&error);
  g_assert_true (sb_slot_writer_close (w, &error));
  g_assert_no_error (error);

  guint8 buf[4096];
  read_abs (f->disk, b->offset, buf, sizeof buf);
  g_assert_true (all_bytes (buf, sizeof buf, 0xff));
  read_abs (f->disk, b->offset + b->size - sizeof buf, buf, sizeof buf);
  g_assert_true (all_bytes (buf, sizeof buf, 0xff));
  /* The bytes on either side of the slot are untouched, including the one the refused write
   * would have reached. */
  read_abs (f->disk, b->offset - sizeof buf, buf, sizeof buf);
  g_assert_true (all_bytes (buf, sizeof buf, 0));
  read_abs (f->disk, b->offset + b->size, buf, sizeof buf);
  g_assert_true (all_bytes (buf, sizeof buf, 0));
  /* The partition table survived. */
  g_autoptr (SbSlots) again = load (f);
  g_assert_cmpuint (sb_slots_get (again, SB_SLOT_B)->offset, ==, b->offset);
}

typedef struct {
  GChecksum *sum;
  gsize max_chunk;
  guint64 total;
} ReadBack;

static gboolean
feed (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  ReadBack *rb = user_data;
  g_checksum_update (rb->sum, data, (gssize) len);
  rb->max_chunk = MAX (rb->max_chunk, len);
  rb->total += len;
  return TRUE;
}

static gboolean
refuse (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  return sb_throw (error, SB_ERROR_HASH_MISMATCH, "stop");
}

static void
test_read_back (Fixture *f, gconstpointer data)
{
  g_autoptr (SbSlots) slots = load (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSlotWriter) w = sb_slot_writer_open (slots, SB_SLOT_A, SB_SLOT_B, &error);
  g_assert_no_error (error);

  gsize len = 3 * MIB + 12345;
  g_autofree guint8 *img = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    img[i] = (guint8) (i * 7 + i / 4099);
  /* Written in uneven pieces, as a download arrives. */
  for (gsize off = 0; off < len;)
    {
      gsize n = MIN ((gsize) 100003, len - off);
      g_assert_true (sb_slot_writer_pwrite (w, img + off, n, off, &error));
      g_assert_no_error (error);
      off += n;
    }
  g_assert_true (sb_slot_writer_sync (w, &error));

  ReadBack rb = { g_checksum_new (G_CHECKSUM_SHA256), 0, 0 };
  g_assert_true (sb_slot_writer_read_back (w, len, feed, &rb, &error));
  g_assert_no_error (error);
  g_autofree char *want = g_compute_checksum_for_data (G_CHECKSUM_SHA256, img, len);
  g_assert_cmpstr (g_checksum_get_string (rb.sum), ==, want);
  g_assert_cmpuint (rb.total, ==, len);
  g_assert_cmpuint (rb.max_chunk, <=, SB_SLOT_READ_CHUNK);
  g_checksum_free (rb.sum);

  g_assert_false (sb_slot_writer_read_back (w, len, refuse, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_clear_error (&error);
  g_assert_false (
      sb_slot_writer_read_back (w, sb_slot_writer_get_size (w) + 1, feed, &rb, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *sfdisk = g_find_program_in_path ("sfdisk");
  if (sfdisk == NULL)
    {
      g_test_message ("sfdisk is not installed");
      g_print ("1..0 # SKIP sfdisk is not installed\n");
      return 0;
    }
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/slots/gpt/finds-slots-by-name-at-sfdisk-offsets", test_finds_slots);
  ADD ("/slots/gpt/missing-partition-lists-the-partitions", test_missing_partition);
  ADD ("/slots/gpt/bad-disks-refused", test_bad_disks);
  ADD ("/slots/cmdline/booted-slot-and-emergency", test_cmdline);
  ADD ("/slots/writer/booted-slot-refused", test_booted_slot_refused);
  ADD ("/slots/writer/mounted-slot-refused", test_mounted_refused);
  ADD ("/slots/writer/writes-stay-inside-the-slot", test_writes_stay_in_slot);
  ADD ("/slots/writer/read-back-bounded-chunks", test_read_back);
#undef ADD
  return g_test_run ();
}
