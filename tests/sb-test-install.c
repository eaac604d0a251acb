/* sb-test-install.c: the disk, grubenv, state and server of the install tests. */
#include "config.h"

#include "sb-test-install.h"

#include "core/sb-crypto.h"
#include "sb-test-util.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const char layout[] = "label: gpt\n"
                             "size=1MiB, name=esp\n"
                             "size=8MiB, name=rootfs-a\n"
                             "size=8MiB, name=rootfs-b\n"
                             "name=data\n";

static void
run (const char *const *argv, const char *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, input, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
}

GBytes *
install_random_bytes (gsize len, guint32 seed)
{
  guint8 *p = g_malloc (len);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < len; i += 4)
    {
      guint32 v = g_rand_int (rand);
      memcpy (p + i, &v, MIN (4, len - i));
    }
  return g_bytes_new_take (p, len);
}

SbTargetInfo *
install_target_info (const char *name, GBytes *content)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (content, &len);
  SbTargetInfo *info = g_new0 (SbTargetInfo, 1);
  info->path = g_strdup (name);
  info->length = (gint64)len;
  info->hashes = json_object_new ();
  g_autofree char *sha256 = sb_sha256_hex (data, len);
  json_object_set_string_member (info->hashes, "sha256", sha256);
  g_autofree char *sha512 = sb_sha512_hex (data, len);
  json_object_set_string_member (info->hashes, "sha512", sha512);
  return info;
}

void
install_fixture_set_image (InstallFixture *f, GBytes *image)
{
  g_clear_pointer (&f->image, g_bytes_unref);
  g_clear_pointer (&f->info, sb_target_info_free);
  f->image = g_bytes_ref (image);
  f->info = install_target_info ("os-2.img", image);
  sb_test_httpd_set_file (f->httpd, TEST_IMAGE_PATH, image);
}

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

void
install_fixture_write_slot (InstallFixture *f, SbSlotId id, guint64 offset, const void *data,
                            gsize len)
{
  g_assert_cmpuint (offset + len, <=, f->slot_size[id]);
  int fd = g_open (f->disk, O_WRONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, data, len, (off_t)(f->slot_offset[id] + offset)), ==, (ssize_t)len);
  g_assert_cmpint (close (fd), ==, 0);
}

char *
install_fixture_slot_sha256 (InstallFixture *f, SbSlotId id, guint64 len)
{
  if (len == TEST_WHOLE_SLOT)
    len = f->slot_size[id];
  g_autofree guint8 *buf = g_malloc (len);
  int fd = g_open (f->disk, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, buf, len, (off_t)f->slot_offset[id]), ==, (ssize_t)len);
  g_assert_cmpint (close (fd), ==, 0);
  return sb_sha256_hex (buf, len);
}

void
install_fixture_boot (InstallFixture *f, const char *slot)
{
  g_autofree char *line
      = g_strdup_printf ("BOOT_IMAGE=/vmlinuz root=PARTLABEL=rootfs ro switchback.slot=%s\n", slot);
  write_file (f->cmdline, line);
}

char *
install_fixture_grubenv_get (InstallFixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  const char *argv[] = { "grub-editenv", f->grubenv, "list", NULL };
  g_autoptr (GSubprocess) p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  g_autofree char *prefix = g_strconcat (name, "=", NULL);
  for (char **l = lines; *l != NULL; l++)
    if (g_str_has_prefix (*l, prefix))
      return g_strdup (*l + strlen (prefix));
  return NULL;
}

void
install_fixture_write_state (InstallFixture *f, const char *name, const char *json)
{
  g_autofree char *path = g_build_filename (f->state_dir, name, NULL);
  write_file (path, json);
}

gboolean
install_fixture_setup (InstallFixture *f, gsize image_len)
{
  memset (f, 0, sizeof *f);
  g_autofree char *sfdisk = g_find_program_in_path ("sfdisk");
  g_autofree char *editenv = g_find_program_in_path ("grub-editenv");
  if (sfdisk == NULL || editenv == NULL)
    {
      g_test_skip ("sfdisk and grub-editenv are needed");
      return FALSE;
    }
  f->dir = sb_test_make_tmpdir ();
  f->disk = g_build_filename (f->dir, "disk.img", NULL);
  f->grubenv = g_build_filename (f->dir, "grubenv", NULL);
  f->state_dir = g_build_filename (f->dir, "state", NULL);
  f->cmdline = g_build_filename (f->dir, "cmdline", NULL);
  g_assert_cmpint (g_mkdir (f->state_dir, 0700), ==, 0);

  int fd = g_open (f->disk, O_RDWR | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 32 * MIB), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  run ((const char *const[]){ "sfdisk", "-q", f->disk, NULL }, layout);
  run ((const char *const[]){ "grub-editenv", f->grubenv, "create", NULL }, NULL);
  run ((const char *const[]){ "grub-editenv", f->grubenv, "set", "SB_ORDER=A B", "SB_A_TRIES=3",
                              "SB_B_TRIES=3", NULL },
       NULL);
  install_fixture_boot (f, "A");

  g_autofree char *text = g_strdup_printf ("[storage]\nstate-dir=%s\n"
                                           "[slots]\ndisk=%s\n"
                                           "[boot]\ngrubenv=%s\ncmdline-file=%s\nmax-tries=3\n",
                                           f->state_dir, f->disk, f->grubenv, f->cmdline);
  g_autoptr (GError) error = NULL;
  f->config = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (f->config, "test.conf", text, strlen (text), &error));
  g_assert_no_error (error);

  g_autoptr (SbSlots) slots = install_fixture_slots (f);
  for (SbSlotId id = SB_SLOT_A; id <= SB_SLOT_B; id++)
    {
      f->slot_offset[id] = sb_slots_get (slots, id)->offset;
      f->slot_size[id] = sb_slots_get (slots, id)->size;
      g_assert_cmpuint (f->slot_size[id], ==, TEST_SLOT_SIZE);
      g_autoptr (GBytes) fill = install_random_bytes (TEST_SLOT_SIZE, 100 + id);
      install_fixture_write_slot (f, id, 0, g_bytes_get_data (fill, NULL), TEST_SLOT_SIZE);
    }
  f->slot_a_sha256 = install_fixture_slot_sha256 (f, SB_SLOT_A, TEST_WHOLE_SLOT);

  f->httpd = sb_test_httpd_new (NULL);
  f->url = sb_test_httpd_url (f->httpd, TEST_IMAGE_PATH);
  g_autoptr (GBytes) image = install_random_bytes (image_len, 7);
  install_fixture_set_image (f, image);
  sb_fetcher_options_init (&f->fetcher_opts);
  f->fetcher_opts.retry_base_ms = 1;
  f->fetcher_opts.max_retries = 2;
  return TRUE;
}

void
install_fixture_teardown (InstallFixture *f)
{
  if (f->dir == NULL)
    return;
  g_clear_pointer (&f->httpd, sb_test_httpd_free);
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->disk);
  g_free (f->grubenv);
  g_free (f->state_dir);
  g_free (f->cmdline);
  g_free (f->url);
  g_free (f->slot_a_sha256);
  g_clear_pointer (&f->config, sb_config_free);
  g_clear_pointer (&f->image, g_bytes_unref);
  g_clear_pointer (&f->info, sb_target_info_free);
}

SbBootContext *
install_fixture_context (InstallFixture *f)
{
  g_autoptr (GError) error = NULL;
  SbBootContext *ctx = sb_boot_context_load (f->config, NULL, &error);
  g_assert_no_error (error);
  return ctx;
}

SbSlots *
install_fixture_slots (InstallFixture *f)
{
  g_autoptr (GError) error = NULL;
  SbSlots *slots = sb_slots_load_config (f->config, &error);
  g_assert_no_error (error);
  return slots;
}

SbFetcher *
install_fixture_fetcher (InstallFixture *f)
{
  g_autoptr (GError) error = NULL;
  SbFetcher *fetcher = sb_fetcher_new (&f->fetcher_opts, &error);
  g_assert_no_error (error);
  return fetcher;
}

SbInstallTarget
install_fixture_target (InstallFixture *f, const char *correlation_id)
{
  return (SbInstallTarget){
    .name = f->info->path,
    .info = f->info,
    .url = f->url,
    .format = SB_INSTALL_FORMAT_BINARY,
    .correlation_id = correlation_id,
  };
}

void
install_fixture_assert_active_intact (InstallFixture *f)
{
  g_autofree char *now = install_fixture_slot_sha256 (f, SB_SLOT_A, TEST_WHOLE_SLOT);
  g_assert_cmpstr (now, ==, f->slot_a_sha256);
}
