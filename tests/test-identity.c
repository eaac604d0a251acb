/* Tests for sb-identity: the ECU key on first start, across restarts and after a crash. */
#include "config.h"

#include "state/sb-config.h"
#include "core/sb-crypto.h"
#include "state/sb-key-file.h"
#include "core/sb-error.h"
#include "state/sb-identity.h"
#include "core/sb-json.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  char *dir;
  SbConfig *cfg;
  char *private_path;
  char *public_path;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->cfg = sb_config_new_defaults ();
  g_free (f->cfg->state_dir);
  f->cfg->state_dir = g_build_filename (f->dir, "state", NULL);
  f->private_path = g_build_filename (f->cfg->state_dir, "ecu", "private.pem", NULL);
  f->public_path = g_build_filename (f->cfg->state_dir, "ecu", "public.json", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  sb_config_free (f->cfg);
  g_free (f->private_path);
  g_free (f->public_path);
}

static char *
read_text (const char *path)
{
  char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

static SbKey *
key_from_public_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = read_text (path);
  g_autoptr (JsonNode) node = sb_json_parse ((const guint8 *) text, strlen (text), &error);
  g_assert_no_error (error);
  SbKey *key = sb_key_new_from_json (node, &error);
  g_assert_no_error (error);
  return key;
}

static SbIdentity *
load_ok (Fixture *f, SbKeyType type)
{
  g_autoptr (GError) error = NULL;
  SbIdentity *id = sb_identity_load_or_create (f->cfg, type, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static void
test_first_start (Fixture *f, gconstpointer data)
{
  g_assert_false (g_file_test (f->private_path, G_FILE_TEST_EXISTS));
  g_autoptr (SbIdentity) id = load_ok (f, SB_KEY_TYPE_ED25519);

  struct stat st;
  g_assert_cmpint (g_stat (f->private_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (g_stat (f->public_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 077, ==, 044);

  g_assert_cmpstr (sb_identity_get_private_key_path (id), ==, f->private_path);
  g_assert_cmpstr (sb_identity_get_public_key_path (id), ==, f->public_path);
  g_assert_cmpint (sb_key_get_key_type (sb_identity_get_public_key (id)), ==,
                   SB_KEY_TYPE_ED25519);
  /* Defaults: serial is the key id, hardware id the hostname, vehicle id the serial. */
  const char *keyid = sb_identity_get_keyid (id);
  g_assert_cmpuint (strlen (keyid), ==, 64);
  g_assert_cmpstr (sb_identity_get_ecu_serial (id), ==, keyid);
  g_assert_cmpstr (sb_identity_get_hardware_id (id), ==, g_get_host_name ());
  g_assert_cmpstr (sb_identity_get_vehicle_id (id), ==, keyid);

  /* public.json holds the public half: what it verifies is what the signer signs. */
  g_autoptr (SbKey) pub = key_from_public_file (f->public_path);
  g_assert_cmpstr (sb_key_get_keyid (pub), ==, keyid);
  g_autoptr (GError) error = NULL;
  const guint8 msg[] = "vehicle manifest";
  g_autofree char *sig = sb_signer_sign (sb_identity_get_signer (id), msg, sizeof msg, &error);
  g_assert_no_error (error);
  g_assert_true (sb_key_verify (pub, msg, sizeof msg, sig, &error));
  g_assert_no_error (error);

  g_autoptr (JsonNode) key_json = sb_identity_get_public_key_json (id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (key_json), "keytype"),
                   ==, "ed25519");
}

static void
test_stable_across_loads (Fixture *f, gconstpointer data)
{
  g_autoptr (SbIdentity) first = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autofree char *keyid = g_strdup (sb_identity_get_keyid (first));
  g_autofree char *private_before = read_text (f->private_path);
  g_autofree char *public_before = read_text (f->public_path);
  g_clear_pointer (&first, sb_identity_unref);

  g_autoptr (SbIdentity) second = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_identity_get_keyid (second), ==, keyid);
  g_assert_cmpstr (sb_identity_get_ecu_serial (second), ==, keyid);
  g_autofree char *private_after = read_text (f->private_path);
  g_autofree char *public_after = read_text (f->public_path);
  g_assert_cmpstr (private_after, ==, private_before);
  g_assert_cmpstr (public_after, ==, public_before);
}

static void
test_type_kept_on_reload (Fixture *f, gconstpointer data)
{
  g_autoptr (SbIdentity) first = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autofree char *keyid = g_strdup (sb_identity_get_keyid (first));
  /* Asking for another type later does not replace the identity. */
  g_autoptr (SbIdentity) second = load_ok (f, SB_KEY_TYPE_ECDSA);
  g_assert_cmpstr (sb_identity_get_keyid (second), ==, keyid);
  g_assert_cmpint (sb_key_get_key_type (sb_identity_get_public_key (second)), ==,
                   SB_KEY_TYPE_ED25519);
}

static void
test_key_type (Fixture *f, gconstpointer data)
{
  SbKeyType type = GPOINTER_TO_INT (data);
  g_autoptr (SbIdentity) id = load_ok (f, type);
  g_assert_cmpint (sb_key_get_key_type (sb_identity_get_public_key (id)), ==, type);
  g_autoptr (SbKey) pub = key_from_public_file (f->public_path);
  g_assert_cmpstr (sb_key_get_keyid (pub), ==, sb_identity_get_keyid (id));
  g_autoptr (SbIdentity) again = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_identity_get_keyid (again), ==, sb_identity_get_keyid (id));
}

static void
test_config_overrides (Fixture *f, gconstpointer data)
{
  f->cfg->ecu_serial = g_strdup ("primary-01");
  f->cfg->hardware_id = g_strdup ("qemu-x86_64");
  g_autoptr (SbIdentity) id = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_identity_get_ecu_serial (id), ==, "primary-01");
  g_assert_cmpstr (sb_identity_get_hardware_id (id), ==, "qemu-x86_64");
  g_assert_cmpstr (sb_identity_get_vehicle_id (id), ==, "primary-01");
  g_assert_cmpstr (sb_identity_get_keyid (id), !=, "primary-01");

  f->cfg->vehicle_id = g_strdup ("VIN-42");
  g_autoptr (SbIdentity) again = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_identity_get_vehicle_id (again), ==, "VIN-42");
  g_assert_cmpstr (sb_identity_get_keyid (again), ==, sb_identity_get_keyid (id));
}

static void
test_loose_mode_refused (Fixture *f, gconstpointer data)
{
  guint mode = GPOINTER_TO_UINT (data);
  g_autoptr (SbIdentity) id = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autofree char *before = read_text (f->private_path);
  g_assert_cmpint (g_chmod (f->private_path, mode), ==, 0);

  g_autoptr (GError) error = NULL;
  g_autoptr (SbIdentity) again = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_ED25519, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_assert_null (again);
  /* Refused, not repaired and not replaced. */
  struct stat st;
  g_assert_cmpint (g_stat (f->private_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, mode);
  g_autofree char *after = read_text (f->private_path);
  g_assert_cmpstr (after, ==, before);
}

static void
test_crash_before_public (Fixture *f, gconstpointer data)
{
  /* A first start that stopped right after the private key reached the disk. */
  g_autoptr (GError) error = NULL;
  g_autofree char *ecu_dir = g_path_get_dirname (f->private_path);
  g_assert_cmpint (g_mkdir_with_parents (ecu_dir, 0700), ==, 0);
  g_autoptr (SbSigner) signer = sb_signer_generate (SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  g_assert_true (sb_signer_save (signer, f->private_path, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f->public_path, G_FILE_TEST_EXISTS));

  g_autoptr (SbIdentity) id = load_ok (f, SB_KEY_TYPE_ED25519);
  const char *keyid = sb_key_get_keyid (sb_signer_get_public (signer));
  g_assert_cmpstr (sb_identity_get_keyid (id), ==, keyid);
  g_autoptr (SbKey) pub = key_from_public_file (f->public_path);
  g_assert_cmpstr (sb_key_get_keyid (pub), ==, keyid);
}

static void
test_public_lost_or_wrong (Fixture *f, gconstpointer data)
{
  g_autoptr (SbIdentity) first = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autofree char *keyid = g_strdup (sb_identity_get_keyid (first));
  g_autofree char *public_before = read_text (f->public_path);

  /* Lost: derived again from the private key, not a new identity. */
  g_assert_cmpint (g_unlink (f->public_path), ==, 0);
  g_autoptr (SbIdentity) second = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_identity_get_keyid (second), ==, keyid);
  g_autofree char *public_after = read_text (f->public_path);
  g_assert_cmpstr (public_after, ==, public_before);

  /* Holding another key (or garbage): replaced by the private key's public half. */
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSigner) other = sb_signer_generate (SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  g_autoptr (JsonNode) other_json = sb_key_to_json (sb_signer_get_public (other));
  g_autofree char *other_text = sb_json_pretty (other_json);
  g_assert_true (g_file_set_contents (f->public_path, other_text, -1, NULL));
  g_autoptr (SbIdentity) third = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autoptr (SbKey) pub = key_from_public_file (f->public_path);
  g_assert_cmpstr (sb_key_get_keyid (pub), ==, keyid);

  g_assert_true (g_file_set_contents (f->public_path, "{not json", -1, NULL));
  g_autoptr (SbIdentity) fourth = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autofree char *public_repaired = read_text (f->public_path);
  g_assert_cmpstr (public_repaired, ==, public_before);
}

static void
test_interrupted_write_leftover (Fixture *f, gconstpointer data)
{
  /* sb_durable_write's temporary file from a write that never got renamed. */
  g_autofree char *ecu_dir = g_path_get_dirname (f->private_path);
  g_assert_cmpint (g_mkdir_with_parents (ecu_dir, 0700), ==, 0);
  g_autofree char *tmp = g_build_filename (ecu_dir, ".private.pem.Ab12Cd", NULL);
  g_assert_true (g_file_set_contents (tmp, "-----BEGIN PRIV", -1, NULL));
  g_autoptr (SbIdentity) first = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autoptr (SbIdentity) second = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_identity_get_keyid (first), ==, sb_identity_get_keyid (second));
}

static void
test_unusable_private_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *ecu_dir = g_path_get_dirname (f->private_path);
  g_assert_cmpint (g_mkdir_with_parents (ecu_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (f->private_path, "not a key\n", -1, NULL));
  g_assert_cmpint (g_chmod (f->private_path, 0600), ==, 0);

  g_autoptr (GError) error = NULL;
  g_autoptr (SbIdentity) id = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_ED25519, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_assert_null (id);
  /* Never replaced by a new key behind the user's back. */
  g_autofree char *after = read_text (f->private_path);
  g_assert_cmpstr (after, ==, "not a key\n");
  g_assert_false (g_file_test (f->public_path, G_FILE_TEST_EXISTS));
}

static void
test_symlink_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (SbIdentity) first = load_ok (f, SB_KEY_TYPE_ED25519);
  g_autofree char *moved = g_build_filename (f->dir, "elsewhere.pem", NULL);
  g_assert_cmpint (g_rename (f->private_path, moved), ==, 0);
  g_assert_cmpint (symlink (moved, f->private_path), ==, 0);

  g_autoptr (GError) error = NULL;
  g_autoptr (SbIdentity) id = sb_identity_load_or_create (f->cfg, SB_KEY_TYPE_ED25519, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_assert_null (id);
}

/* The read-only load (switchback status): no key yet is SB_ERROR_NOT_FOUND and creates
 * nothing, not even the state directory; once a key exists it is the same identity, and a lost
 * public.json is not rewritten by it. */
static void
test_load_read_only (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbIdentity) none = sb_identity_load (f->cfg, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (none);
  g_assert_false (g_file_test (f->cfg->state_dir, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_autoptr (SbIdentity) created = load_ok (f, SB_KEY_TYPE_ED25519);
  g_assert_cmpint (g_unlink (f->public_path), ==, 0);
  g_autoptr (SbIdentity) loaded = sb_identity_load (f->cfg, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_identity_get_keyid (loaded), ==, sb_identity_get_keyid (created));
  g_assert_cmpstr (sb_identity_get_ecu_serial (loaded), ==, sb_identity_get_ecu_serial (created));
  g_assert_false (g_file_test (f->public_path, G_FILE_TEST_EXISTS));

  /* A key others can read is refused by it too. */
  g_assert_cmpint (chmod (f->private_path, 0644), ==, 0);
  g_autoptr (SbIdentity) loose = sb_identity_load (f->cfg, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  g_assert_null (loose);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, data, fn) g_test_add (path, Fixture, data, setup, fn, teardown)
  ADD ("/identity/first-start/key-created-0600", NULL, test_first_start);
  ADD ("/identity/stable-across-loads", NULL, test_stable_across_loads);
  ADD ("/identity/type-kept-on-reload", NULL, test_type_kept_on_reload);
  ADD ("/identity/key-type/rsa", GINT_TO_POINTER (SB_KEY_TYPE_RSA), test_key_type);
  ADD ("/identity/key-type/ecdsa", GINT_TO_POINTER (SB_KEY_TYPE_ECDSA), test_key_type);
  ADD ("/identity/config-overrides-serial-and-hardware-id", NULL, test_config_overrides);
  ADD ("/identity/private-key/group-readable-refused", GUINT_TO_POINTER (0640),
       test_loose_mode_refused);
  ADD ("/identity/private-key/other-readable-refused", GUINT_TO_POINTER (0604),
       test_loose_mode_refused);
  ADD ("/identity/private-key/group-writable-refused", GUINT_TO_POINTER (0620),
       test_loose_mode_refused);
  ADD ("/identity/private-key/unusable-refused", NULL, test_unusable_private_refused);
  ADD ("/identity/private-key/symlink-refused", NULL, test_symlink_refused);
  ADD ("/identity/crash/after-private-before-public", NULL, test_crash_before_public);
  ADD ("/identity/crash/public-lost-or-wrong-rederived", NULL, test_public_lost_or_wrong);
  ADD ("/identity/crash/leftover-temporary-ignored", NULL, test_interrupted_write_leftover);
  ADD ("/identity/load/read-only", NULL, test_load_read_only);
  return g_test_run ();
}
