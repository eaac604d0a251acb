/* Tests for sb-updater's arithmetic that differs between 32- and 64-bit ECUs
 * (scripts/check-32bit.sh runs them on i686). */
#include "config.h"

#include "uptane/sb-updater.h"

#include <sys/types.h>

static void
test_length_cap (void)
{
  g_assert_cmpuint (sb_updater_length_cap (-1, 8 << 20), ==, 8 << 20);
  g_assert_cmpuint (sb_updater_length_cap (0, 8 << 20), ==, 0);
  g_assert_cmpuint (sb_updater_length_cap (1234, 8 << 20), ==, 1234);
  /* 4 GiB + 16: a cast to a 32-bit gsize would make it a cap of 16 bytes. */
  gint64 big = G_GINT64_CONSTANT (0x100000010);
  g_assert_cmpuint ((guint64) sb_updater_length_cap (big, 100), ==,
                    MIN ((guint64) big, (guint64) G_MAXSIZE));
  g_assert_cmpuint ((guint64) sb_updater_length_cap (G_MAXINT64, 100), ==,
                    MIN ((guint64) G_MAXINT64, (guint64) G_MAXSIZE));
}

/* Slot offsets beyond 2 GiB reach pwrite as off_t (configure's AC_SYS_LARGEFILE). */
static void
test_off_t (void)
{
  g_assert_cmpuint (sizeof (off_t), ==, 8);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/updater/length-cap/listed-beyond-gsize", test_length_cap);
  g_test_add_func ("/updater/build/off-t-is-64-bit", test_off_t);
  return g_test_run ();
}
