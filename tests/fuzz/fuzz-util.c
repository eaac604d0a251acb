/* fuzz-util.c: shared set-up of the fuzz targets. */
#include "config.h"

#include "fuzz-util.h"
#include "state/sb-durable.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *fuzz_dir;

static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      fprintf (stderr, "fuzz: %s: %s\n", domain != NULL ? domain : "", message);
      abort ();
    }
}

static void
remove_dir (void)
{
  if (fuzz_dir == NULL)
    return;
  g_autoptr (GDir) d = g_dir_open (fuzz_dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (fuzz_dir, name, NULL);
      (void) unlink (path);
    }
  (void) rmdir (fuzz_dir);
  g_clear_pointer (&fuzz_dir, g_free);
}

void
sb_fuzz_init (void)
{
  static gboolean done;
  if (done)
    return;
  done = TRUE;
  g_log_set_default_handler (log_handler, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  g_autoptr (GError) error = NULL;
  fuzz_dir = g_dir_make_tmp ("sb-fuzz-XXXXXX", &error);
  if (fuzz_dir == NULL)
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      abort ();
    }
  atexit (remove_dir);
}

const char *
sb_fuzz_dir (void)
{
  sb_fuzz_init ();
  return fuzz_dir;
}

char *
sb_fuzz_write_file (const char *name, const uint8_t *data, size_t size)
{
  char *path = g_build_filename (sb_fuzz_dir (), name, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, (const char *) data, (gssize) size, &error))
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      abort ();
    }
  return path;
}

void
sb_fuzz_fail (const char *file, int line, const char *what)
{
  fprintf (stderr, "fuzz: %s:%d: property broken: %s\n", file, line, what);
  abort ();
}
