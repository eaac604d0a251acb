/* sb-test-util.c: helpers shared by the C unit tests. */
#define _XOPEN_SOURCE 700
#include "config.h"

#include "sb-test-util.h"

#include <ftw.h>
#include <stdio.h>

char *
sb_test_make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("sb-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static int
rm_one (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  return remove (path);
}

void
sb_test_rm_rf (const char *path)
{
  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  g_assert_cmpint (nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

GBytes *
sb_test_load_data (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}
