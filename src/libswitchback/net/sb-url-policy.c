/* sb-url-policy.c: the URL policy of every download (see sb-url-policy.h).
 *
 * URLs are parsed with libcurl's own parser, the one that fetches them, so that the policy and
 * the transfer cannot read one URL two ways. */
#include "config.h"

#include "net/sb-url-policy.h"

#include "core/sb-error.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURLU, curl_url_cleanup)

gboolean
sb_url_host_is_loopback (const char *host)
{
  if (host == NULL)
    return FALSE;
  g_autofree char *h = NULL;
  gsize len = strlen (host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
    h = g_strndup (host + 1, len - 2);
  else
    h = g_strdup (host);
  if (g_ascii_strcasecmp (h, "localhost") == 0 || g_ascii_strcasecmp (h, "localhost.") == 0)
    return TRUE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (h);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

static char *
url_part (CURLU *u, CURLUPart part)
{
  char *s = NULL;
  if (curl_url_get (u, part, &s, 0) != CURLUE_OK)
    return NULL;
  char *copy = g_strdup (s);
  curl_free (s);
  return copy;
}

static const char *
origin_name (SbUrlOrigin origin)
{
  switch (origin)
    {
    case SB_URL_FROM_METADATA:
      return "a URL from metadata";
    case SB_URL_FROM_REDIRECT:
      return "a redirect";
    case SB_URL_FROM_CONFIG:
    default:
      return "a configured URL";
    }
}

gboolean
sb_url_policy_check (const char *url, SbUrlOrigin origin, gboolean allow_http,
                     const char *prev_scheme, char **out_scheme, GError **error)
{
  g_return_val_if_fail (url != NULL, FALSE);

  g_autoptr (CURLU) u = curl_url ();
  if (u == NULL)
    return sb_throw (error, SB_ERROR_FAILED, "%s: out of memory", url);
  if (curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK)
    return sb_throw (error, SB_ERROR_URL_REFUSED, "%s: refused: not a valid absolute URL", url);
  g_autofree char *scheme = url_part (u, CURLUPART_SCHEME);
  if (scheme == NULL)
    return sb_throw (error, SB_ERROR_URL_REFUSED, "%s: refused: no scheme", url);
  for (char *p = scheme; *p; p++)
    *p = g_ascii_tolower (*p);

  gboolean is_file = g_str_equal (scheme, "file");
  if (!g_str_equal (scheme, "http") && !g_str_equal (scheme, "https") && !is_file)
    return sb_throw (error, SB_ERROR_URL_REFUSED,
                     "%s: refused: only http://, https:// and file:// URLs are supported", url);
  /* design.md §2: a local file is something only the configuration may point at. */
  if (is_file && origin != SB_URL_FROM_CONFIG)
    return sb_throw (error, SB_ERROR_URL_REFUSED,
                     "%s: refused: %s may not name a local file (file:// is only for the "
                     "configured base URLs)",
                     url, origin_name (origin));
  if (g_str_equal (scheme, "http") && !allow_http)
    {
      g_autofree char *host = url_part (u, CURLUPART_HOST);
      if (!sb_url_host_is_loopback (host))
        return sb_throw (error, SB_ERROR_URL_REFUSED,
                         "%s: refused: plain http:// is only allowed to loopback hosts unless "
                         "[uptane] allow-http is set",
                         url);
    }
  if (origin == SB_URL_FROM_REDIRECT && prev_scheme != NULL
      && g_ascii_strcasecmp (prev_scheme, "https") == 0 && !g_str_equal (scheme, "https"))
    return sb_throw (error, SB_ERROR_URL_REFUSED,
                     "%s: refused: a redirect from https:// may not leave https://", url);
  if (out_scheme != NULL)
    *out_scheme = g_steal_pointer (&scheme);
  return TRUE;
}
