/* sb-url-policy.h: which URLs switchback will fetch from (design.md §2), in one place.
 *
 * The fetcher (every hop of every download and upload) and the OSTree pull ask the same
 * question here, so that no path reaches a URL another path would refuse:
 *  - http:// and https:// only, plus file:// for a base URL the configuration names;
 *  - plain http:// only to a loopback host (127.0.0.0/8, ::1, localhost) unless the
 *    configuration allows it ([uptane] allow-http);
 *  - a URL that metadata chose (a target's custom.uri) is never file://: the Director's online
 *    keys must not be able to make the primary read a local file, a device or a FIFO into the
 *    inactive slot;
 *  - a redirect is never to file://, and never leaves https:// once there.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where a URL came from, which decides what it may be. */
typedef enum {
  SB_URL_FROM_CONFIG,   /* a base URL of the configuration, or one built from it */
  SB_URL_FROM_METADATA, /* chosen by signed metadata: a target's custom.uri */
  SB_URL_FROM_REDIRECT, /* a Location a server answered with */
} SbUrlOrigin;

/* TRUE for localhost (with or without the trailing dot), any 127.0.0.0/8 address and ::1, in
 * brackets or not. */
gboolean sb_url_host_is_loopback (const char *host);

/* Checks @url against the policy above for @origin; @allow_http is [uptane] allow-http.
 * @prev_scheme is the scheme of the URL that redirected here (for SB_URL_FROM_REDIRECT), else
 * NULL. On success *out_scheme (when not NULL) gets the lower-case scheme. A refusal is
 * SB_ERROR_URL_REFUSED naming the URL and the reason, before any connection is made. */
gboolean sb_url_policy_check (const char *url, SbUrlOrigin origin, gboolean allow_http,
                              const char *prev_scheme, char **out_scheme,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
