/* Tests for sb-ostree-slots: the OSTree deployment ↔ boot slot table and its GRUB fragment. */
#include "config.h"

#include "core/sb-error.h"
#include "ostree/sb-ostree-slots.h"
#include "sb-test-util.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define CSUM1 "1111111111111111111111111111111111111111111111111111111111111111"
#define CSUM2 "2222222222222222222222222222222222222222222222222222222222222222"
#define BOOT1 "b000000000000000000000000000000000000000000000000000000000000001"
#define BOOT2 "b000000000000000000000000000000000000000000000000000000000000002"

typedef struct
{
  char *dir;
  char *state;
  char *grub;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->state = g_build_filename (f->dir, SB_OSTREE_SLOTS_FILE, NULL);
  f->grub = g_build_filename (f->dir, "sysroot", SB_OSTREE_SLOTS_GRUB_FILE, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->state);
  g_free (f->grub);
}

/* A deployment as libostree would describe it; the caller may change fields. */
static SbOstreeSlotDeployment *
make_deployment (const char *checksum, const char *bootcsum, int serial)
{
  SbOstreeSlotDeployment *d = g_new0 (SbOstreeSlotDeployment, 1);
  d->osname = g_strdup ("testos");
  d->checksum = g_strdup (checksum);
  d->deployserial = serial;
  d->bootcsum = g_strdup (bootcsum);
  d->kernel = g_strdup_printf ("/ostree/testos-%s/vmlinuz-6.1.0", bootcsum);
  d->initrd = g_strdup_printf ("/ostree/testos-%s/initramfs-6.1.0.img", bootcsum);
  d->options = g_strdup ("root=/dev/vda2 console=ttyS0,115200n8 rw");
  d->version = g_strdup ("1.0");
  d->target = g_strdup ("testos-1.0");
  return d;
}

static void
write_text (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
test_missing_is_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_load (f->state, &error);
  g_assert_no_error (error);
  g_assert_null (sb_ostree_slots_get (slots, "A"));
  g_assert_null (sb_ostree_slots_get (slots, "B"));
  g_assert_null (sb_ostree_slots_find_commit (slots, CSUM1, NULL));
}

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_autoptr (SbOstreeSlotDeployment) b = make_deployment (CSUM2, BOOT2, 3);
  g_clear_pointer (&b->initrd, g_free);
  g_clear_pointer (&b->version, g_free);
  g_assert_true (sb_ostree_slots_set (slots, "A", a, &error));
  g_assert_no_error (error);
  g_assert_true (sb_ostree_slots_set (slots, "B", b, &error));
  g_assert_no_error (error);
  g_assert_true (sb_ostree_slots_save (slots, f->state, f->grub, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (f->grub, G_FILE_TEST_IS_REGULAR));

  g_autoptr (SbOstreeSlots) back = sb_ostree_slots_load (f->state, &error);
  g_assert_no_error (error);
  const SbOstreeSlotDeployment *ra = sb_ostree_slots_get (back, "A");
  const SbOstreeSlotDeployment *rb = sb_ostree_slots_get (back, "B");
  g_assert_nonnull (ra);
  g_assert_nonnull (rb);
  g_assert_cmpstr (ra->checksum, ==, CSUM1);
  g_assert_cmpstr (ra->bootcsum, ==, BOOT1);
  g_assert_cmpstr (ra->kernel, ==, a->kernel);
  g_assert_cmpstr (ra->initrd, ==, a->initrd);
  g_assert_cmpstr (ra->options, ==, a->options);
  g_assert_cmpstr (ra->version, ==, "1.0");
  g_assert_cmpstr (ra->target, ==, "testos-1.0");
  g_assert_cmpint (rb->deployserial, ==, 3);
  g_assert_null (rb->initrd);
  g_assert_null (rb->version);

  g_autofree char *j1 = sb_ostree_slots_to_json (slots);
  g_autofree char *j2 = sb_ostree_slots_to_json (back);
  g_assert_cmpstr (j1, ==, j2);
}

static void
test_find (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_autoptr (SbOstreeSlotDeployment) b = make_deployment (CSUM1, BOOT1, 1);
  g_assert_true (sb_ostree_slots_set (slots, "A", a, &error));
  g_assert_true (sb_ostree_slots_set (slots, "B", b, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sb_ostree_slots_find (slots, "testos", CSUM1, 0), ==, "A");
  g_assert_cmpstr (sb_ostree_slots_find (slots, "testos", CSUM1, 1), ==, "B");
  g_assert_null (sb_ostree_slots_find (slots, "testos", CSUM1, 2));
  g_assert_null (sb_ostree_slots_find (slots, "otheros", CSUM1, 0));
  /* The same commit deployed twice (a re-install): the preferred slot wins. */
  g_assert_cmpstr (sb_ostree_slots_find_commit (slots, CSUM1, "B"), ==, "B");
  g_assert_cmpstr (sb_ostree_slots_find_commit (slots, CSUM1, NULL), ==, "A");
  g_assert_null (sb_ostree_slots_find_commit (slots, CSUM2, "A"));

  sb_ostree_slots_clear (slots, "A");
  g_assert_null (sb_ostree_slots_get (slots, "A"));
  g_assert_cmpstr (sb_ostree_slots_find_commit (slots, CSUM1, "A"), ==, "B");
}

static void
test_slot_names (Fixture *f, gconstpointer data)
{
  g_assert_cmpstr (sb_ostree_slot_other ("A"), ==, "B");
  g_assert_cmpstr (sb_ostree_slot_other ("B"), ==, "A");
  g_assert_null (sb_ostree_slot_other ("C"));
  g_assert_null (sb_ostree_slot_other ("a"));
  g_assert_false (sb_ostree_slot_name_valid ("AB"));

  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_assert_false (sb_ostree_slots_set (slots, "C", a, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

static void
test_one_deployment_one_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_assert_true (sb_ostree_slots_set (slots, "A", a, &error));
  g_assert_no_error (error);
  g_assert_false (sb_ostree_slots_set (slots, "B", a, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_assert_null (sb_ostree_slots_get (slots, "B"));
}

typedef void (*Spoil) (SbOstreeSlotDeployment *d);

static void
spoil_checksum (SbOstreeSlotDeployment *d)
{
  g_free (d->checksum);
  d->checksum = g_strdup ("ABCDEF1111111111111111111111111111111111111111111111111111111111");
}
static void
spoil_quote (SbOstreeSlotDeployment *d)
{
  g_free (d->options);
  d->options = g_strdup ("root=/dev/vda2 x='; reboot; echo '");
}
static void
spoil_newline (SbOstreeSlotDeployment *d)
{
  g_free (d->options);
  d->options = g_strdup ("root=/dev/vda2\nreboot");
}
static void
spoil_bootlink (SbOstreeSlotDeployment *d)
{
  g_free (d->options);
  d->options = g_strdup ("root=/dev/vda2 ostree=/ostree/boot.1/testos/x/0");
}
static void
spoil_relative_kernel (SbOstreeSlotDeployment *d)
{
  g_free (d->kernel);
  d->kernel = g_strdup ("ostree/vmlinuz");
}
static void
spoil_space_in_initrd (SbOstreeSlotDeployment *d)
{
  g_free (d->initrd);
  d->initrd = g_strdup ("/ostree/init ramfs");
}
static void
spoil_osname (SbOstreeSlotDeployment *d)
{
  g_free (d->osname);
  d->osname = g_strdup ("../etc");
}
static void
spoil_serial (SbOstreeSlotDeployment *d)
{
  d->deployserial = -1;
}

static void
test_validate_refuses (Fixture *f, gconstpointer data)
{
  Spoil spoil = (Spoil)data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlotDeployment) d = make_deployment (CSUM1, BOOT1, 0);
  g_assert_true (sb_ostree_slot_deployment_validate (d, &error));
  g_assert_no_error (error);
  spoil (d);
  g_assert_false (sb_ostree_slot_deployment_validate (d, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_assert_false (sb_ostree_slots_set (slots, "A", d, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_assert_null (sb_ostree_slots_get (slots, "A"));
}

static void
assert_load_state_error (Fixture *f, const char *text)
{
  g_autoptr (GError) error = NULL;
  write_text (f->state, text);
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_load (f->state, &error);
  g_assert_null (slots);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
}

static void
test_load_refuses_corrupt (Fixture *f, gconstpointer data)
{
  assert_load_state_error (f, "{\"slots\": ");
  assert_load_state_error (f, "[]");
  assert_load_state_error (f, "{}");
  assert_load_state_error (f, "{\"slots\": {\"C\": {}}}");
  assert_load_state_error (f, "{\"slots\": {\"A\": {\"osname\": \"testos\"}}}");

  /* A table that was valid, with one field changed to something GRUB would misread. */
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_assert_true (sb_ostree_slots_set (slots, "A", a, &error));
  g_assert_no_error (error);
  g_autofree char *json = sb_ostree_slots_to_json (slots);
  g_autofree char *quoted = g_strdup (json);
  char *p = strstr (quoted, "console=");
  g_assert_nonnull (p);
  *p = '\'';
  assert_load_state_error (f, quoted);

  /* The same deployment in both slots. */
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  JsonObject *table = json_object_get_object_member (
      json_node_get_object (json_parser_get_root (parser)), "slots");
  json_object_set_member (table, "B", json_node_copy (json_object_get_member (table, "A")));
  g_autofree char *twice = json_to_string (json_parser_get_root (parser), TRUE);
  assert_load_state_error (f, twice);
}

static void
test_grub_fragment (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) b = make_deployment (CSUM2, BOOT2, 1);
  g_free (b->version);
  b->version = g_strdup ("2.0\nset sb_ostree_A_linux=/evil");
  g_assert_true (sb_ostree_slots_set (slots, "B", b, &error));
  g_assert_no_error (error);
  g_autofree char *grub = sb_ostree_slots_to_grub (slots);

  g_assert_nonnull (strstr (grub, "set sb_ostree_A_linux=''\n"));
  g_assert_nonnull (strstr (grub, "set sb_ostree_A_options=''\n"));
  g_assert_nonnull (
      strstr (grub, "set sb_ostree_B_linux='/boot/ostree/testos-" BOOT2 "/vmlinuz-6.1.0'\n"));
  g_assert_nonnull (strstr (grub, "set sb_ostree_B_initrd='/boot/ostree/testos-" BOOT2
                                  "/initramfs-6.1.0.img'\n"));
  g_assert_nonnull (strstr (grub, "set sb_ostree_B_options='root=/dev/vda2 console=ttyS0,115200n8 "
                                  "rw ostree=/ostree/switchback/testos/" CSUM2 ".1'\n"));
  g_assert_nonnull (strstr (grub, "set sb_ostree_slots='B'\n"));
  /* A newline in metadata cannot start a GRUB command. */
  g_assert_null (strstr (grub, "\nset sb_ostree_A_linux=/evil"));
}

static void
test_grub_fragment_parses (Fixture *f, gconstpointer data)
{
  g_autofree char *check = g_find_program_in_path ("grub-script-check");
  if (check == NULL)
    {
      g_test_skip ("grub-script-check (grub-common) is not installed");
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_autoptr (SbOstreeSlotDeployment) b = make_deployment (CSUM2, BOOT2, 0);
  g_free (b->options);
  b->options = g_strdup ("");
  g_assert_true (sb_ostree_slots_set (slots, "A", a, &error));
  g_assert_true (sb_ostree_slots_set (slots, "B", b, &error));
  g_assert_no_error (error);
  g_assert_true (sb_ostree_slots_save (slots, f->state, f->grub, &error));
  g_assert_no_error (error);

  const char *argv[] = { check, f->grub, NULL };
  int status = -1;
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);

  g_autofree char *grub = NULL;
  g_assert_true (g_file_get_contents (f->grub, &grub, NULL, NULL));
  g_assert_nonnull (
      strstr (grub, "set sb_ostree_B_options='ostree=/ostree/switchback/testos/" CSUM2 ".0'\n"));
  g_assert_nonnull (strstr (grub, "set sb_ostree_slots='A B'\n"));
}

/* The link of each slot's deployment is made, relative, before the fragment names it; links
 * of deployments no longer in a slot are removed only when asked (after the fragment). */
static void
test_bootlinks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sysroot = g_build_filename (f->dir, "sysroot", NULL);
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_new ();
  g_autoptr (SbOstreeSlotDeployment) a = make_deployment (CSUM1, BOOT1, 0);
  g_autoptr (SbOstreeSlotDeployment) b = make_deployment (CSUM2, BOOT2, 1);
  g_assert_true (sb_ostree_slots_set (slots, "A", a, &error));
  g_assert_true (sb_ostree_slots_set (slots, "B", b, &error));
  g_assert_no_error (error);
  g_assert_true (sb_ostree_slots_sync_bootlinks (slots, sysroot, TRUE, &error));
  g_assert_no_error (error);

  g_autofree char *rel_b = sb_ostree_slot_deployment_bootlink (b);
  g_assert_cmpstr (rel_b, ==, "/ostree/switchback/testos/" CSUM2 ".1");
  g_autofree char *link_b = g_build_filename (sysroot, rel_b, NULL);
  g_autofree char *target = g_file_read_link (link_b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (target, ==, "../../deploy/testos/deploy/" CSUM2 ".1");

  /* Slot B emptied: its link stays until the caller asks for the others to go. */
  sb_ostree_slots_clear (slots, "B");
  g_assert_true (sb_ostree_slots_sync_bootlinks (slots, sysroot, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (link_b, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (sb_ostree_slots_sync_bootlinks (slots, sysroot, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (link_b, G_FILE_TEST_IS_SYMLINK));
  g_autofree char *rel_a = sb_ostree_slot_deployment_bootlink (a);
  g_autofree char *link_a = g_build_filename (sysroot, rel_a, NULL);
  g_assert_true (g_file_test (link_a, G_FILE_TEST_IS_SYMLINK));
}

/* Which ostree= values name a commit: switchback's bootlinks and deployment directories. */
static void
test_checksum_from_ostree_arg (Fixture *f, gconstpointer data)
{
  g_autofree char *c1
      = sb_ostree_checksum_from_ostree_arg ("/ostree/switchback/testos/" CSUM1 ".0");
  g_assert_cmpstr (c1, ==, CSUM1);
  g_autofree char *c2
      = sb_ostree_checksum_from_ostree_arg ("/ostree/deploy/testos/deploy/" CSUM2 ".12");
  g_assert_cmpstr (c2, ==, CSUM2);
  const char *refused[] = {
    "/ostree/boot.1/testos/" BOOT1 "/0", /* libostree's bootlink: a kernel checksum */
    "/ostree/switchback/testos/" CSUM1,  /* no serial */
    "/ostree/switchback/testos/" CSUM1 ".x",  "/ostree/switchback/" CSUM1 ".0",
    "/ostree/deploy/testos/var/" CSUM1 ".0",  "ostree/switchback/testos/" CSUM1 ".0",
    "/ostree/switchback/testos/" BOOT1 "Z.0", "",
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *c = sb_ostree_checksum_from_ostree_arg (refused[i]);
      g_assert_null (c);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, data) g_test_add (path, Fixture, data, setup, fn, teardown)
  ADD ("/ostree-slots/load/missing-is-empty", test_missing_is_empty, NULL);
  ADD ("/ostree-slots/save/roundtrip", test_roundtrip, NULL);
  ADD ("/ostree-slots/find/by-deployment-and-commit", test_find, NULL);
  ADD ("/ostree-slots/names/a-and-b-only", test_slot_names, NULL);
  ADD ("/ostree-slots/set/one-deployment-one-slot", test_one_deployment_one_slot, NULL);
  ADD ("/ostree-slots/validate/bad-checksum", test_validate_refuses, spoil_checksum);
  ADD ("/ostree-slots/validate/quote-in-kargs", test_validate_refuses, spoil_quote);
  ADD ("/ostree-slots/validate/newline-in-kargs", test_validate_refuses, spoil_newline);
  ADD ("/ostree-slots/validate/bootlink-in-kargs", test_validate_refuses, spoil_bootlink);
  ADD ("/ostree-slots/validate/relative-kernel", test_validate_refuses, spoil_relative_kernel);
  ADD ("/ostree-slots/validate/space-in-initrd", test_validate_refuses, spoil_space_in_initrd);
  ADD ("/ostree-slots/validate/osname-with-slash", test_validate_refuses, spoil_osname);
  ADD ("/ostree-slots/validate/negative-serial", test_validate_refuses, spoil_serial);
  ADD ("/ostree-slots/load/corrupt-is-state-error", test_load_refuses_corrupt, NULL);
  ADD ("/ostree-slots/grub/fragment", test_grub_fragment, NULL);
  ADD ("/ostree-slots/grub/fragment-parses", test_grub_fragment_parses, NULL);
  ADD ("/ostree-slots/bootlinks/made-and-removed", test_bootlinks, NULL);
  ADD ("/ostree-slots/cmdline/checksum-from-ostree-arg", test_checksum_from_ostree_arg, NULL);
  return g_test_run ();
}
