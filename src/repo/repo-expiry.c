/* repo-expiry.c: expiry rules (see repo-expiry.h). */
#include "config.h"

#include "repo-expiry.h"

#include "core/sb-error.h"
#include "core/sb-metadata.h"

#include <errno.h>
#include <string.h>

gboolean
sb_repo_parse_expiry (const char *rule, gint64 now, gint64 *out, GError **error)
{
  if (rule == NULL || *rule == '\0')
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "empty expiry");

  char *end = NULL;
  errno = 0;
  guint64 n = g_ascii_strtoull (rule, &end, 10);
  if (end != rule && errno == 0 && end[0] != '\0' && end[1] == '\0' && g_ascii_isdigit (rule[0]))
    {
      gint64 unit;
      switch (end[0])
        {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 7 * 86400;
          break;
        case 'y':
          unit = 365 * 86400;
          break;
        default:
          return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                           "expiry \"%s\": unknown unit '%c' (use s, m, h, d, w or y)", rule,
                           end[0]);
        }
      if (n > (guint64)(G_MAXINT32) || now + (gint64)n * unit > 253402300799)
        return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "expiry \"%s\" is too far away", rule);
      *out = now + (gint64)n * unit;
      return TRUE;
    }

  g_autofree char *full
      = strlen (rule) == 10 ? g_strconcat (rule, "T00:00:00Z", NULL) : g_strdup (rule);
  g_autoptr (GError) local_error = NULL;
  if (!sb_metadata_parse_time (full, out, &local_error))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "expiry \"%s\" is neither a duration (90d, 12h, 30m, 45s, 2w, 1y) nor a "
                     "time (2030-01-01T00:00:00Z or 2030-01-01)",
                     rule);
  return TRUE;
}

const char *
sb_repo_default_expiry (const char *role)
{
  if (strcmp (role, SB_ROLE_ROOT) == 0)
    return "365d";
  if (strcmp (role, SB_ROLE_SNAPSHOT) == 0)
    return "7d";
  if (strcmp (role, SB_ROLE_TIMESTAMP) == 0)
    return "1d";
  return "90d";
}
