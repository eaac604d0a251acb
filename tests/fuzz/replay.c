/* replay.c: runs every file of a fuzz target's seed corpus through the target once, with the
 * normal build, as a TAP test (tests/fuzz/corpus/<target>/). A crash, an abort on a broken
 * property or a sanitizer report fails the test; the file name is printed before each run. */
#include "config.h"

#include "fuzz-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  /* GLib reads G_SLICE when it starts, before main: without always-malloc its slices hide
   * leaks from LeakSanitizer in a sanitizer build. tests/tap-test sets it for the replays;
   * re-executing here instead would fail where the binary runs under an emulator (qemu-i386). */
  const char *slice = getenv ("G_SLICE");
  if (slice == NULL || strcmp (slice, "always-malloc") != 0)
    printf ("# G_SLICE is not always-malloc: leaks in GSlice memory go unreported\n");
  const char *dir = NULL;
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      dir = argv[i];
  g_autofree char *default_dir = NULL;
  if (dir == NULL)
    {
      const char *srcdir = g_getenv ("G_TEST_SRCDIR");
      default_dir = g_build_filename (srcdir != NULL ? srcdir : "tests", "fuzz", "corpus",
                                      SB_FUZZ_TARGET, NULL);
      dir = default_dir;
    }
  sb_fuzz_init ();
  if (LLVMFuzzerInitialize (&argc, &argv) != 0)
    return 1;

  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  if (d == NULL)
    {
      printf ("Bail out! %s\n", error->message);
      return 1;
    }
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  if (names->len == 0)
    {
      printf ("Bail out! the corpus %s is empty\n", dir);
      return 1;
    }
  printf ("1..%u\n", names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;
      printf ("# %s\n", path);
      fflush (stdout);
      if (!g_file_get_contents (path, &contents, &len, &error))
        {
          printf ("not ok %u - %s: %s\n", i + 1, (char *) names->pdata[i], error->message);
          g_clear_error (&error);
          continue;
        }
      /* A copy of exactly @len bytes, so ASan catches a read past the input. */
      g_autofree uint8_t *copy = g_memdup2 (contents, len);
      (void) LLVMFuzzerTestOneInput (copy, len);
      printf ("ok %u - %s/%s\n", i + 1, SB_FUZZ_TARGET, (char *) names->pdata[i]);
    }
  return 0;
}
