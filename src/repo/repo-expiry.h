/* repo-expiry.h: when published metadata expires.
 *
 * A rule is a duration ("90d", "12h", "30m", "45s", "2w", "1y" = 365 days) from the time of
 * publishing, or a fixed time ("2030-01-01T00:00:00Z" or "2030-01-01"), which tests use to
 * publish metadata that is already expired. Defaults: root 365d, targets and delegated roles
 * 90d, snapshot 7d, timestamp 1d (short-lived roles limit freeze attacks, TUF §5.4.4).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses @rule; a duration yields @now + duration. SB_ERROR_INVALID_ARGUMENT naming @rule. */
gboolean sb_repo_parse_expiry (const char *rule, gint64 now, gint64 *out,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The default rule of @role. */
const char *sb_repo_default_expiry (const char *role);

G_END_DECLS
