/* sb-hash with an OpenSSL that cannot digest (no provider loaded): the hasher reports
 * SB_ERROR_FAILED instead of aborting the process, as a daemon must. The process starts
 * OpenSSL with a configuration that activates only the "null" provider. */
#include "config.h"

#include "core/sb-error.h"
#include "state/sb-file-hash.h"
#include "core/sb-hash.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <openssl/crypto.h>

static void
test_hasher_fails_without_abort (void)
{
  g_autoptr (SbHasher) h = sb_hasher_new (SB_HASH_SHA256 | SB_HASH_SHA512);
  sb_hasher_update (h, "abc", 3);
  g_assert_null (sb_hasher_get_hex (h, SB_HASH_SHA256));
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_hasher_check (h, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_FAILED);
  g_test_message ("%s", error->message);

  g_autoptr (SbHasher) copy = sb_hasher_copy (h);
  g_clear_error (&error);
  g_assert_false (sb_hasher_check (copy, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_FAILED);
}

static void
test_hasher_file_fails_without_abort (void)
{
  g_autofree char *dir = sb_test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "data", NULL);
  g_assert_true (g_file_set_contents (path, "abc", 3, NULL));
  g_autoptr (SbHasher) h = sb_hasher_new (SB_HASH_SHA256);
  g_autoptr (GError) error = NULL;
  guint64 n = 0;
  g_assert_false (sb_hasher_update_file (h, path, 1024, &n, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_FAILED);
  sb_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Before anything initialises OpenSSL: only the null provider, so digests cannot run. */
  g_autofree char *dir = sb_test_make_tmpdir ();
  g_autofree char *conf = g_build_filename (dir, "openssl.cnf", NULL);
  g_assert_true (g_file_set_contents (conf,
                                      "openssl_conf = init\n"
                                      "[init]\nproviders = providers\n"
                                      "[providers]\nnull = null_provider\n"
                                      "[null_provider]\nactivate = 1\n",
                                      -1, NULL));
  g_assert_true (g_setenv ("OPENSSL_CONF", conf, TRUE));
  g_assert_cmpint (OPENSSL_init_crypto (OPENSSL_INIT_LOAD_CONFIG, NULL), ==, 1);
  g_test_add_func ("/hash/broken-openssl/hasher-error-not-abort", test_hasher_fails_without_abort);
  g_test_add_func ("/hash/broken-openssl/file-error-not-abort",
                   test_hasher_file_fails_without_abort);
  int rc = g_test_run ();
  sb_test_rm_rf (dir);
  return rc;
}
