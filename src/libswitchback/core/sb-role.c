/* sb-role.c: role descriptions (TUF §4.3, §4.5, TAP 15) and path matching.
 */
#include "config.h"

#include "core/sb-role.h"
#include "core/sb-error.h"
#include "core/sb-hash.h"
#include "core/sb-json.h"

#include <string.h>

gboolean
sb_role_is_top_level (const char *role_name)
{
  return g_strcmp0 (role_name, SB_ROLE_ROOT) == 0 || g_strcmp0 (role_name, SB_ROLE_TIMESTAMP) == 0
         || g_strcmp0 (role_name, SB_ROLE_SNAPSHOT) == 0
         || g_strcmp0 (role_name, SB_ROLE_TARGETS) == 0;
}

/* ---- role descriptions (TUF §4.3, §4.5, TAP 15) ---- */

void
sb_role_free (SbRole *role)
{
  if (role == NULL)
    return;
  g_free (role->name);
  g_strfreev (role->keyids);
  g_strfreev (role->paths);
  g_strfreev (role->path_hash_prefixes);
  g_free (role);
}

/* An array of strings; with @distinct, a repeated entry is refused. */
static char **
get_string_array (JsonObject *obj, const char *key, const char *what, gboolean distinct,
                  guint *out_n, GError **error)
{
  JsonArray *array = sb_json_get_array (obj, key, what, error);
  if (array == NULL)
    return NULL;
  guint n = json_array_get_length (array);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto (GStrv) strv = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          sb_throw (error, SB_ERROR_PARSE, "%s: %s[%u] is not a string", what, key, i);
          return NULL;
        }
      const char *s = json_node_get_string (node);
      /* TUF §4.3: a role's keyids must be unique; a repeated one would count twice. */
      if (distinct && !g_hash_table_add (seen, (gpointer) s))
        {
          sb_throw (error, SB_ERROR_PARSE, "%s: %s lists \"%s\" twice", what, key, s);
          return NULL;
        }
      strv[i] = g_strdup (s);
    }
  if (out_n)
    *out_n = n;
  return g_steal_pointer (&strv);
}

/* The keyids and threshold every kind of role has. */
static gboolean
parse_role_keys (JsonObject *obj, const char *what, SbRole *role, GError **error)
{
  role->keyids = get_string_array (obj, "keyids", what, TRUE, &role->n_keyids, error);
  if (role->keyids == NULL)
    return FALSE;
  if (!sb_json_get_int (obj, "threshold", what, &role->threshold, error))
    return FALSE;
  if (role->threshold < 1)
    return sb_throw (error, SB_ERROR_PARSE, "%s: threshold %" G_GINT64_FORMAT " is below 1", what,
                     role->threshold);
  return TRUE;
}

SbRole *
sb_role_new_from_json (JsonObject *obj, const char *name, const char *what, GError **error)
{
  g_autoptr (SbRole) role = g_new0 (SbRole, 1);
  role->name = g_strdup (name);
  if (!parse_role_keys (obj, what, role, error))
    return NULL;
  return g_steal_pointer (&role);
}

SbRole *
sb_delegated_role_new_from_json (JsonNode *node, const char *what, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: a delegated role is not an object", what);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (node);
  g_autoptr (SbRole) role = g_new0 (SbRole, 1);
  const char *name = sb_json_get_string (obj, "name", what, error);
  if (name == NULL)
    return NULL;
  /* python-tuf refuses these: a delegated role named like a top-level role would be confused
   * with it in snapshot meta and on disk. */
  if (*name == '\0' || sb_role_is_top_level (name))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not a valid delegated role name", what, name);
      return NULL;
    }
  role->name = g_strdup (name);
  g_autofree char *role_what = g_strdup_printf ("%s role \"%s\"", what, name);
  if (!parse_role_keys (obj, role_what, role, error))
    return NULL;
  if (!sb_json_get_bool (obj, "terminating", role_what, &role->terminating, error))
    return NULL;
  gboolean has_paths = json_object_has_member (obj, "paths");
  gboolean has_prefixes = json_object_has_member (obj, "path_hash_prefixes");
  if (has_paths == has_prefixes)
    {
      sb_throw (error, SB_ERROR_PARSE,
                "%s: exactly one of paths and path_hash_prefixes is required", role_what);
      return NULL;
    }
  if (has_paths)
    role->paths = get_string_array (obj, "paths", role_what, FALSE, NULL, error);
  else
    role->path_hash_prefixes =
        get_string_array (obj, "path_hash_prefixes", role_what, FALSE, NULL, error);
  if (role->paths == NULL && role->path_hash_prefixes == NULL)
    return NULL;
  return g_steal_pointer (&role);
}

SbRole *
sb_succinct_roles_new_from_json (JsonObject *obj, const char *what, GError **error)
{
  g_autoptr (SbRole) role = g_new0 (SbRole, 1);
  if (!parse_role_keys (obj, what, role, error))
    return NULL;
  gint64 bits;
  if (!sb_json_get_int (obj, "bit_length", what, &bits, error))
    return NULL;
  if (bits < 1 || bits > 32)
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: bit_length %" G_GINT64_FORMAT " is not in 1..32",
                what, bits);
      return NULL;
    }
  role->bit_length = (guint) bits;
  const char *prefix = sb_json_get_string (obj, "name_prefix", what, error);
  if (prefix == NULL)
    return NULL;
  role->name = g_strdup (prefix);
  /* TAP 15: every bin is a terminating delegation. */
  role->terminating = TRUE;
  return g_steal_pointer (&role);
}


/* ---- path patterns ---- */

/* A "[...]" set starting just after the '[' at @p, for code point @c, with python's fnmatch
 * rules: a leading '!' negates, a ']' right after '[' or '[!' is a member, "a-z" is a range (a
 * reversed range matches nothing), '-' first or last is literal. Returns the position after
 * the closing ']', or NULL when there is none (the '[' is then an ordinary character). */
static const char *
match_set (const char *p, const char *end, gunichar c, gboolean *out_matched)
{
  gboolean negate = FALSE;
  if (p < end && *p == '!')
    {
      negate = TRUE;
      p++;
    }
  const char *first = p;
  const char *close = p;
  if (close < end && *close == ']')
    close++;
  while (close < end && *close != ']')
    close = g_utf8_next_char (close);
  if (close >= end)
    return NULL;

  gboolean found = FALSE;
  const char *m = first;
  while (m < close)
    {
      gunichar lo = g_utf8_get_char (m);
      m = g_utf8_next_char (m);
      if (m + 1 < close && *m == '-')
        {
          gunichar hi = g_utf8_get_char (m + 1);
          m = g_utf8_next_char (m + 1);
          found = found || (lo <= c && c <= hi);
        }
      else
        found = found || lo == c;
    }
  *out_matched = negate ? !found : found;
  return close + 1;
}

/* One path segment (no '/') against one pattern segment, by code point. '*' backtracks to
 * the most recent star only, which is exact because every other token matches one code point. */
static gboolean
match_segment (const char *pat, const char *pat_end, const char *str, const char *str_end)
{
  const char *star_pat = NULL;
  const char *star_str = NULL;

  while (str < str_end)
    {
      if (pat < pat_end)
        {
          if (*pat == '*')
            {
              star_pat = ++pat;
              star_str = str;
              continue;
            }
          gunichar c = g_utf8_get_char (str);
          gboolean ok;
          const char *next;
          if (*pat == '?')
            {
              ok = TRUE;
              next = pat + 1;
            }
          else if (*pat != '[' || (next = match_set (pat + 1, pat_end, c, &ok)) == NULL)
            {
              ok = g_utf8_get_char (pat) == c;
              next = g_utf8_next_char (pat);
            }
          if (ok)
            {
              pat = next;
              str = g_utf8_next_char (str);
              continue;
            }
        }
      if (star_pat == NULL)
        return FALSE;
      star_str = g_utf8_next_char (star_str);
      str = star_str;
      pat = star_pat;
    }
  while (pat < pat_end && *pat == '*')
    pat++;
  return pat == pat_end;
}

gboolean
sb_path_pattern_match (const char *pattern, const char *target_path)
{
  g_return_val_if_fail (pattern != NULL && target_path != NULL, FALSE);

  /* As python-tuf's _is_target_in_pathpattern: the same number of segments, each matching,
   * so that "*" never crosses a directory separator. */
  const char *p = pattern;
  const char *t = target_path;
  for (;;)
    {
      const char *p_end = strchr (p, '/');
      const char *t_end = strchr (t, '/');
      if ((p_end == NULL) != (t_end == NULL))
        return FALSE;
      if (p_end == NULL)
        return match_segment (p, p + strlen (p), t, t + strlen (t));
      if (!match_segment (p, p_end, t, t_end))
        return FALSE;
      p = p_end + 1;
      t = t_end + 1;
    }
}

gboolean
sb_role_delegates_path (const SbRole *role, const char *target_path)
{
  if (role->bit_length > 0)
    return TRUE;
  if (role->path_hash_prefixes != NULL)
    {
      g_autofree char *digest = sb_sha256_hex (target_path, strlen (target_path));
      for (char **prefix = role->path_hash_prefixes; *prefix; prefix++)
        if (g_str_has_prefix (digest, *prefix))
          return TRUE;
      return FALSE;
    }
  if (role->paths != NULL)
    for (char **pattern = role->paths; *pattern; pattern++)
      if (sb_path_pattern_match (*pattern, target_path))
        return TRUE;
  return FALSE;
}

/* ---- succinct hash bins (TAP 15) ---- */

/* Hex digits of the last bin, 2^bit_length - 1. */
static guint
bin_suffix_len (guint bit_length)
{
  return (bit_length + 3) / 4;
}

char *
sb_succinct_bin_name (const SbRole *succinct, guint32 bin)
{
  g_return_val_if_fail (succinct->bit_length >= 1 && succinct->bit_length <= 32, NULL);
  return g_strdup_printf ("%s-%0*" G_GINT32_MODIFIER "x", succinct->name,
                          (int) bin_suffix_len (succinct->bit_length), bin);
}

char *
sb_succinct_bin_for_target (const SbRole *succinct, const char *target_path)
{
  g_return_val_if_fail (succinct->bit_length >= 1 && succinct->bit_length <= 32, NULL);
  g_autofree char *digest = sb_sha256_hex (target_path, strlen (target_path));
  /* The first 32 bits of the digest, big-endian, of which the top bit_length pick the bin. */
  guint32 head = 0;
  for (guint i = 0; i < 8; i++)
    head = (head << 4) | (guint32) g_ascii_xdigit_value (digest[i]);
  guint32 bin = succinct->bit_length == 32 ? head : head >> (32 - succinct->bit_length);
  return sb_succinct_bin_name (succinct, bin);
}

gboolean
sb_succinct_has_bin (const SbRole *succinct, const char *role_name)
{
  gsize prefix_len = strlen (succinct->name);
  if (strncmp (role_name, succinct->name, prefix_len) != 0 || role_name[prefix_len] != '-')
    return FALSE;
  const char *suffix = role_name + prefix_len + 1;
  if (strlen (suffix) != bin_suffix_len (succinct->bit_length))
    return FALSE;
  guint64 bin = 0;
  /* Only the exact name sb_succinct_bin_name gives: lowercase hex, no sign, no "0x". Role
   * names become file names, so one bin must have one name. */
  for (const char *c = suffix; *c; c++)
    {
      if (!g_ascii_isxdigit (*c) || g_ascii_isupper (*c))
        return FALSE;
      bin = bin * 16 + (guint64) g_ascii_xdigit_value (*c);
    }
  return bin < (G_GUINT64_CONSTANT (1) << succinct->bit_length);
}

