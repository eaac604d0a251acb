/* sb-test-util.h: helpers shared by the C unit tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A fresh temporary directory for one test case; abort on failure. */
char *sb_test_make_tmpdir (void);

/* Removes @path and everything under it (no symlinks followed). Asserts success. */
void sb_test_rm_rf (const char *path);

/* Reads a file under tests/data (found with g_test_build_filename). */
GBytes *sb_test_load_data (const char *name);

G_END_DECLS
