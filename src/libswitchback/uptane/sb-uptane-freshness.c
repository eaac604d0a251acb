/* sb-uptane-freshness.c: plausibility of the system clock (see sb-uptane-freshness.h). */
#include "config.h"

#include "uptane/sb-uptane-freshness.h"

#include "core/sb-metadata.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

gboolean
sb_freshness_parse_build_date (const char *date, gint64 *out_unix)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  char mon[4] = { 0 };
  int day = 0, year = 0, consumed = 0;

  if (date == NULL || sscanf (date, "%3s %d %d%n", mon, &day, &year, &consumed) != 3
      || date[consumed] != '\0' || strlen (mon) != 3)
    return FALSE;
  const char *m = strstr (months, mon);
  if (m == NULL || (m - months) % 3 != 0)
    return FALSE;
  int month = (int) (m - months) / 3 + 1;
  if (day < 1 || day > 31 || year < 1970 || year > 9999)
    return FALSE;
  g_autoptr (GDateTime) dt = g_date_time_new_utc (year, month, day, 0, 0, 0);
  if (dt == NULL)
    return FALSE;
  *out_unix = g_date_time_to_unix (dt);
  return TRUE;
}

gint64
sb_freshness_build_time (void)
{
  gint64 t = 0;
  if (!sb_freshness_parse_build_date (__DATE__, &t))
    return 0;
  return t - 24 * 60 * 60;
}

gint64
sb_freshness_newest_mtime (const char *const *dirs)
{
  gint64 newest = 0;
  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++)
    {
      g_autoptr (GDir) dir = g_dir_open (dirs[i], 0, NULL);
      if (dir == NULL)
        continue;
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (dirs[i], name, NULL);
          GStatBuf st;
          if (g_lstat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_mtime > newest)
            newest = st.st_mtime;
        }
    }
  return newest;
}

gint64
sb_freshness_reference_time (gint64 now, gint64 build_time)
{
  return now < build_time ? build_time : now;
}

char *
sb_freshness_clock_problem (gint64 now, gint64 build_time, gint64 newest_trusted)
{
  g_autofree char *now_text = sb_metadata_format_time (now);
  if (newest_trusted > 0 && now < newest_trusted)
    {
      g_autofree char *t = sb_metadata_format_time (newest_trusted);
      return g_strdup_printf ("the system clock (%s) is earlier than the newest trusted "
                              "metadata, stored at %s: the clock is probably wrong",
                              now_text, t);
    }
  if (now < build_time)
    {
      g_autofree char *t = sb_metadata_format_time (build_time);
      return g_strdup_printf ("the system clock (%s) is earlier than the build of switchback "
                              "(%s): the clock is probably wrong; expiry is checked against "
                              "the build time instead",
                              now_text, t);
    }
  return NULL;
}

void
sb_freshness_annotate_error (GError **error, const char *problem)
{
  if (error == NULL || *error == NULL || problem == NULL)
    return;
  char *message = g_strdup_printf ("%s; %s", (*error)->message, problem);
  g_free ((*error)->message);
  (*error)->message = message;
}
