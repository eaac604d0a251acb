/* sb-uptane-freshness.h: freshness without a trusted clock (Uptane §5.4.4.2: "the current time";
 * TUF §5.1: the reference time of an update).
 *
 * Expiry is checked against the system clock, which on an ECU may be wrong: an RTC that lost
 * power starts in the past. A clock in the past makes expired metadata look fresh (a freeze
 * attack then goes unnoticed), and makes TLS certificates look not yet valid. Two times are
 * known to have passed:
 *  - the build of switchback itself (the compiler's __DATE__, which honours SOURCE_DATE_EPOCH
 *    for reproducible builds);
 *  - the moment the newest trusted metadata was stored (its file's modification time).
 * The reference time for expiry is never earlier than the build. When the clock is earlier
 * than either time, errors say that the clock is probably wrong, so an operator looks at the
 * clock rather than at the repository.
 *
 * Nothing here keeps state: expired metadata is refused, and as soon as the repository is
 * re-signed the next cycle verifies it, with no cleanup (the trusted files are only replaced
 * by metadata that verified).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A time at which this build certainly existed: 00:00 UTC of the day before the compile date
 * (a day of slack for the compiler's local time zone), in Unix seconds. */
gint64 sb_freshness_build_time (void);

/* Parses a compiler __DATE__ string ("Nov 27 2026", "Jan  1 2024") into 00:00 UTC of that day.
 * FALSE for anything else. Exposed for tests. */
gboolean sb_freshness_parse_build_date (const char *date, gint64 *out_unix);

/* The newest modification time of the regular files directly under each of @dirs
 * (NULL-terminated; missing directories are skipped), in Unix seconds, or 0 when there is none.
 * The trusted metadata files are written when they are accepted, so this is when the client
 * last trusted new metadata. */
gint64 sb_freshness_newest_mtime (const char *const *dirs);

/* The reference time for expiry checks: @now, or @build_time when @now is earlier. */
gint64 sb_freshness_reference_time (gint64 now, gint64 build_time);

/* A sentence saying why the clock @now cannot be right, or NULL when it is plausible: it is
 * earlier than @newest_trusted (0: unknown) or than @build_time. Pure. */
char *sb_freshness_clock_problem (gint64 now, gint64 build_time, gint64 newest_trusted);

/* Appends "; " and @problem to the message of *@error (when both are set), so an expiry or TLS
 * failure caused by a wrong clock says so. */
void sb_freshness_annotate_error (GError **error, const char *problem);

G_END_DECLS
