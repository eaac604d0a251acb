/* Tests for sb-grubenv: the block must be byte-identical to what grub-editenv writes, so GRUB and
 * grub-editenv read what we write and we read what they write. Golden blocks are made at test
 * time by the installed grub-editenv. */
#include "config.h"

#include "core/sb-error.h"
#include "install/sb-grubenv.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char *dir;
  char *ours;   /* edited by sb-grubenv */
  char *golden; /* edited by grub-editenv */
} Fixture;

static gboolean
have_grub_editenv (void)
{
  g_autofree char *p = g_find_program_in_path ("grub-editenv");
  if (p == NULL)
    g_test_skip ("grub-editenv is not installed");
  return p != NULL;
}

/* Runs grub-editenv FILE ARGS... (argv, no shell) and returns its stdout; asserts success. */
static char *
grub_editenv (const char *file, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) "grub-editenv");
  g_ptr_array_add (argv, (gpointer) file);
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (gpointer) *args);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
  return out;
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->ours = g_build_filename (f->dir, "ours.grubenv", NULL);
  f->golden = g_build_filename (f->dir, "golden.grubenv", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->ours);
  g_free (f->golden);
}

static void
assert_same_bytes (const char *a, const char *b)
{
  g_autofree char *ca = NULL, *cb = NULL;
  gsize la = 0, lb = 0;
  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  g_assert_cmpmem (ca, la, cb, lb);
}

static void
create_both (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_grubenv_create (f->ours, &error));
  g_assert_no_error (error);
  g_free (grub_editenv (f->golden, (const char *const[]){ "create", NULL }));
}

static void
test_create_matches (Fixture *f, gconstpointer data)
{
  if (!have_grub_editenv ())
    return;
  create_both (f);
  assert_same_bytes (f->ours, f->golden);
}

static void
set_and_save (Fixture *f, const char *name, const char *value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  if (value != NULL)
    g_assert_true (sb_grubenv_set (env, name, value, &error));
  else
    sb_grubenv_unset (env, name);
  g_assert_no_error (error);
  g_assert_true (sb_grubenv_save (env, &error));
  g_assert_no_error (error);

  if (value != NULL)
    {
      g_autofree char *assignment = g_strdup_printf ("%s=%s", name, value);
      g_free (grub_editenv (f->golden, (const char *const[]){ "set", assignment, NULL }));
    }
  else
    g_free (grub_editenv (f->golden, (const char *const[]){ "unset", name, NULL }));
  assert_same_bytes (f->ours, f->golden);
}

/* Every edit GRUB's envblk knows (append, grow in place, shrink in place, remove from the middle
 * and the end, escaping of '\' and newline, '=' inside a value, empty values), each compared
 * byte for byte. */
static void
test_edits_match (Fixture *f, gconstpointer data)
{
  if (!have_grub_editenv ())
    return;
  create_both (f);
  set_and_save (f, "SB_ORDER", "A B");
  set_and_save (f, "SB_A_TRIES", "3");
  set_and_save (f, "SB_B_TRIES", "0");
  set_and_save (f, "X", "a\\b");
  set_and_save (f, "Y", "line1\nline2");
  set_and_save (f, "Z", "");
  set_and_save (f, "EQ", "k=v=w");
  set_and_save (f, "SB_ORDER", "B A and a longer value");
  set_and_save (f, "SB_ORDER", "B");
  set_and_save (f, "X", "\\\\\n\\");
  set_and_save (f, "SB_A_TRIES", NULL);
  set_and_save (f, "EQ", NULL);
  set_and_save (f, "never_set", NULL);
  set_and_save (f, "SB_A_TRIES", "2");
}

/* Values written by grub-editenv read back unescaped, and the names come in block order, as
 * `grub-editenv list` prints them. */
static void
test_reads_grub_editenv (Fixture *f, gconstpointer data)
{
  if (!have_grub_editenv ())
    return;
  g_free (grub_editenv (f->golden, (const char *const[]){ "create", NULL }));
  g_free (grub_editenv (f->golden, (const char *const[]){ "set", "B=x\\y", "A=1\n2", "C=", NULL }));
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->golden, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_grubenv_get (env, "B"), ==, "x\\y");
  g_assert_cmpstr (sb_grubenv_get (env, "A"), ==, "1\n2");
  g_assert_cmpstr (sb_grubenv_get (env, "C"), ==, "");
  g_assert_null (sb_grubenv_get (env, "D"));
  g_assert_false (sb_grubenv_is_dirty (env));

  g_auto (GStrv) names = sb_grubenv_get_names (env);
  g_autoptr (GString) listing = g_string_new (NULL);
  for (char **n = names; *n != NULL; n++)
    g_string_append_printf (listing, "%s=%s\n", *n, sb_grubenv_get (env, *n));
  g_autofree char *list = grub_editenv (f->golden, (const char *const[]){ "list", NULL });
  g_assert_cmpstr (listing->str, ==, list);
}

static void
test_save_in_place (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_grubenv_create (f->ours, &error));
  struct stat before, after;
  g_assert_cmpint (g_stat (f->ours, &before), ==, 0);
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  g_assert_true (sb_grubenv_set (env, "SB_ORDER", "B A", &error));
  g_assert_true (sb_grubenv_is_dirty (env));
  g_assert_true (sb_grubenv_save (env, &error));
  g_assert_no_error (error);
  g_assert_false (sb_grubenv_is_dirty (env));
  g_assert_cmpint (g_stat (f->ours, &after), ==, 0);
  /* Same inode and size: GRUB's raw sector writes still hit the file. */
  g_assert_cmpuint (before.st_ino, ==, after.st_ino);
  g_assert_cmpuint (before.st_dev, ==, after.st_dev);
  g_assert_cmpint (after.st_size, ==, SB_GRUBENV_SIZE);
  g_autoptr (SbGrubenv) again = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_grubenv_get (again, "SB_ORDER"), ==, "B A");
}

static void
write_raw (const char *path, const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
}

static void
assert_load_refused (const char *path, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (path, &error);
  g_assert_null (env);
  g_assert_error (error, SB_ERROR, code);
}

static void
test_wrong_size_refused (Fixture *f, gconstpointer data)
{
  char block[SB_GRUBENV_SIZE + 1];
  memset (block, '#', sizeof block);
  memcpy (block, SB_GRUBENV_SIGNATURE, strlen (SB_GRUBENV_SIGNATURE));
  write_raw (f->ours, block, SB_GRUBENV_SIZE - 1);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  write_raw (f->ours, block, SB_GRUBENV_SIZE + 1);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  write_raw (f->ours, "", 0);
  assert_load_refused (f->ours, SB_ERROR_STATE);
}

static void
test_bad_block_refused (Fixture *f, gconstpointer data)
{
  char block[SB_GRUBENV_SIZE];
  /* Wrong signature. */
  memset (block, '#', sizeof block);
  memcpy (block, "# GRUB Environment Blocx\n", 25);
  write_raw (f->ours, block, sizeof block);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  /* A line without '='. */
  memset (block, '#', sizeof block);
  memcpy (block, SB_GRUBENV_SIGNATURE "novalue\n", 25 + 8);
  write_raw (f->ours, block, sizeof block);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  /* A value running into the end of the block with no newline. */
  memset (block, 'x', sizeof block);
  memcpy (block, SB_GRUBENV_SIGNATURE "A=", 25 + 2);
  write_raw (f->ours, block, sizeof block);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  /* A NUL byte inside a value. */
  memset (block, '#', sizeof block);
  memcpy (block, SB_GRUBENV_SIGNATURE "A=1\0002\n", 25 + 6);
  write_raw (f->ours, block, sizeof block);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  /* Missing file. */
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  assert_load_refused (missing, SB_ERROR_NOT_FOUND);
}

/* A comment whose last byte is a backslash escapes the newline before the padding: a set
 * there would append inside the comment, and neither GRUB nor get would see it. */
static void
test_escaped_comment_refused (Fixture *f, gconstpointer data)
{
  char block[SB_GRUBENV_SIZE];
  memset (block, '#', sizeof block);
  const char lines[] = SB_GRUBENV_SIGNATURE "a=1\n#c\\\n";
  memcpy (block, lines, sizeof lines - 1);
  write_raw (f->ours, block, sizeof block);
  assert_load_refused (f->ours, SB_ERROR_STATE);
  /* The same comment with a real newline after the backslash pair is fine. */
  const char ok_lines[] = SB_GRUBENV_SIGNATURE "a=1\n#c\\\\\n";
  memset (block, '#', sizeof block);
  memcpy (block, ok_lines, sizeof ok_lines - 1);
  write_raw (f->ours, block, sizeof block);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  g_assert_true (sb_grubenv_set (env, "b", "2", &error));
  g_assert_true (sb_grubenv_save (env, &error));
  g_autoptr (SbGrubenv) again = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_grubenv_get (again, "b"), ==, "2");
}

/* A FIFO in place of the block is refused at once, with no writer: open() must not wait for
 * one (that hung the boot). A symbolic link is refused too. */
static void
test_fifo_and_symlink_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *fifo = g_build_filename (f->dir, "fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_load_refused (fifo, SB_ERROR_STATE);
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_grubenv_create (f->ours, &error));
  g_autofree char *link = g_build_filename (f->dir, "link", NULL);
  g_assert_cmpint (symlink (f->ours, link), ==, 0);
  assert_load_refused (link, SB_ERROR_STATE);
}

static void
test_overflow_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_grubenv_create (f->ours, &error));
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  g_autofree char *big = g_strnfill (900, 'x');
  g_assert_true (sb_grubenv_set (env, "BIG", big, &error));
  g_assert_no_error (error);
  g_autofree char *more = g_strnfill (100, 'y');
  g_assert_false (sb_grubenv_set (env, "MORE", more, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_clear_error (&error);
  /* Growing an existing value past the end is refused too, and nothing changes. */
  g_autofree char *bigger = g_strnfill (1000, 'x');
  g_assert_false (sb_grubenv_set (env, "BIG", bigger, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_assert_cmpstr (sb_grubenv_get (env, "BIG"), ==, big);
  g_assert_null (sb_grubenv_get (env, "MORE"));
  /* Escaping counts: 470 backslashes take 940 bytes. */
  g_clear_error (&error);
  sb_grubenv_unset (env, "BIG");
  g_autofree char *slashes = g_strnfill (470, '\\');
  g_assert_false (sb_grubenv_set (env, "S", slashes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
}

static void
test_bad_name_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_grubenv_create (f->ours, &error));
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  const char *bad[] = { "", "#x", "a=b", "a\nb" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (sb_grubenv_set (env, bad[i], "1", &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_false (sb_grubenv_is_dirty (env));
}

/* A file that stopped being a block between load and save is not written. */
static void
test_save_refuses_replaced_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_grubenv_create (f->ours, &error));
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->ours, &error);
  g_assert_no_error (error);
  write_raw (f->ours, "short", 5);
  g_assert_true (sb_grubenv_set (env, "A", "1", &error));
  g_assert_false (sb_grubenv_save (env, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (f->ours, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "short");
}

/* A fake /sys/dev/block tree: MAJ:MIN links to a device directory, partitions below their
 * disk, with dm/ or md/ on the disk as the kernel has them. */
static char *
fake_sysfs (const char *root, const char *disk, const char *marker)
{
  g_autofree char *devdir = g_build_filename (root, "devices", "virtual", "block", disk, NULL);
  g_autofree char *part = g_build_filename (devdir, "p1", NULL);
  g_assert_cmpint (g_mkdir_with_parents (part, 0755), ==, 0);
  g_autofree char *partfile = g_build_filename (part, "partition", NULL);
  write_raw (partfile, "1\n", 2);
  if (marker != NULL)
    {
      g_autofree char *m = g_build_filename (devdir, marker, NULL);
      g_assert_cmpint (g_mkdir (m, 0755), ==, 0);
    }
  g_autofree char *links = g_build_filename (root, "dev", "block", NULL);
  g_assert_cmpint (g_mkdir_with_parents (links, 0755), ==, 0);
  g_autofree char *disklink = g_build_filename (links, "250:0", NULL);
  g_autofree char *partlink = g_build_filename (links, "250:1", NULL);
  g_assert_cmpint (symlink (devdir, disklink), ==, 0);
  g_assert_cmpint (symlink (part, partlink), ==, 0);
  return g_strdup (root);
}

static void
test_device_mapper_refused (Fixture *f, gconstpointer data)
{
  const struct { const char *marker; int code; } cases[] = {
    { "dm", SB_ERROR_UNSUPPORTED },
    { "md", SB_ERROR_UNSUPPORTED },
    { NULL, -1 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *root = g_strdup_printf ("%s/sys%" G_GSIZE_FORMAT, f->dir, i);
      g_autofree char *sys = fake_sysfs (root, "dm-0", cases[i].marker);
      for (guint minor = 0; minor <= 1; minor++)
        {
          g_autoptr (GError) error = NULL;
          gboolean ok = sb_grubenv_check_block_device (sys, 250, minor, "grubenv", &error);
          if (cases[i].code < 0)
            {
              g_assert_no_error (error);
              g_assert_true (ok);
            }
          else
            {
              g_assert_false (ok);
              g_assert_error (error, SB_ERROR, cases[i].code);
            }
        }
      /* A device sysfs does not know (tmpfs, overlay) passes. */
      g_autoptr (GError) error = NULL;
      g_assert_true (sb_grubenv_check_block_device (sys, 251, 7, "grubenv", &error));
      g_assert_true (sb_grubenv_check_block_device (sys, 0, 42, "grubenv", &error));
      g_assert_no_error (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/grubenv/create/matches-grub-editenv", test_create_matches);
  ADD ("/grubenv/set-unset/matches-grub-editenv", test_edits_match);
  ADD ("/grubenv/load/reads-grub-editenv", test_reads_grub_editenv);
  ADD ("/grubenv/save/in-place-keeps-inode-and-size", test_save_in_place);
  ADD ("/grubenv/load/wrong-size-refused", test_wrong_size_refused);
  ADD ("/grubenv/load/bad-block-refused", test_bad_block_refused);
  ADD ("/grubenv/load/escaped-newline-before-padding-refused", test_escaped_comment_refused);
  ADD ("/grubenv/load/fifo-and-symlink-refused", test_fifo_and_symlink_refused);
  ADD ("/grubenv/set/overflow-refused", test_overflow_refused);
  ADD ("/grubenv/set/bad-name-refused", test_bad_name_refused);
  ADD ("/grubenv/save/replaced-file-refused", test_save_refuses_replaced_file);
  ADD ("/grubenv/storage/device-mapper-and-md-refused", test_device_mapper_refused);
#undef ADD
  return g_test_run ();
}
