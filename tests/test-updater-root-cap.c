/* The initial root is copied under the same size cap as every later load of root.json
 * (SB_UPDATER_ROOT_MAX_LENGTH): one accepted at installation is never refused at the first
 * refresh. */
#include "config.h"

#include "core/sb-error.h"
#include "sb-test-util.h"
#include "uptane/sb-updater.h"

#include <glib/gstdio.h>
#include <string.h>

static void
try_init (gsize size, gboolean expect_ok)
{
  g_autofree char *dir = sb_test_make_tmpdir ();
  g_autofree char *root = g_build_filename (dir, "root.json", NULL);
  g_autofree char *meta = g_build_filename (dir, "metadata", NULL);
  g_autofree char *data = g_malloc (size);
  memset (data, ' ', size);
  g_assert_true (g_file_set_contents (root, data, (gssize) size, NULL));
  g_autoptr (GError) error = NULL;
  gboolean ok = sb_updater_init_metadata_dir (meta, root, &error);
  if (expect_ok)
    g_assert_no_error (error);
  else
    g_assert_error (error, SB_ERROR, SB_ERROR_ENDLESS_DATA);
  g_assert_cmpint (ok, ==, expect_ok);
  sb_test_rm_rf (dir);
}

static void
test_root_cap (void)
{
  try_init (SB_UPDATER_ROOT_MAX_LENGTH, TRUE);
  try_init (SB_UPDATER_ROOT_MAX_LENGTH + 1, FALSE);
  SbUpdaterOptions opts;
  sb_updater_options_init (&opts);
  g_assert_cmpuint (opts.root_max_length, ==, SB_UPDATER_ROOT_MAX_LENGTH);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/updater/init/root-cap-is-the-refresh-cap", test_root_cap);
  return g_test_run ();
}
