/* sb-delegation.c: delegation matching and the pre-order depth-first target search
 * (TUF §5.6.7).
 */
#include "config.h"

#include "sb-delegation.h"
#include "sb-error.h"
#include "sb-json.h"

#include <string.h>

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

/* ---- the search ---- */

typedef struct {
  char *role;
  char *delegator;
} SearchItem;

static void
search_item_free (SearchItem *item)
{
  if (item == NULL)
    return;
  g_free (item->role);
  g_free (item->delegator);
  g_free (item);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SearchItem, search_item_free)

static SearchItem *
search_item_new (const char *role, const char *delegator)
{
  SearchItem *item = g_new0 (SearchItem, 1);
  item->role = g_strdup (role);
  item->delegator = g_strdup (delegator);
  return item;
}

struct _SbTargetSearch {
  SbTrustedSet *ts;
  char *target_path;
  GPtrArray *stack;      /* SearchItem, top at the end */
  GHashTable *visited;   /* role names */
  SearchItem *requested; /* handed to the caller to load; its strings are the out values */
  gboolean over;
};

SbTargetSearch *
sb_target_search_new (SbTrustedSet *ts, const char *target_path)
{
  g_return_val_if_fail (ts != NULL && target_path != NULL, NULL);
  SbTargetSearch *search = g_new0 (SbTargetSearch, 1);
  search->ts = ts;
  search->target_path = g_strdup (target_path);
  search->stack = g_ptr_array_new_with_free_func ((GDestroyNotify) search_item_free);
  search->visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* TUF §5.6.7: begin with the top-level targets role. */
  g_ptr_array_add (search->stack, search_item_new (SB_ROLE_TARGETS, SB_ROLE_ROOT));
  return search;
}

void
sb_target_search_free (SbTargetSearch *search)
{
  if (search == NULL)
    return;
  g_free (search->target_path);
  g_ptr_array_unref (search->stack);
  g_hash_table_unref (search->visited);
  search_item_free (search->requested);
  g_free (search);
}

/* A role may be reached through a delegator other than the one it was loaded through (a
 * "diamond"). Its signatures were only checked against that first delegator, so check them
 * against this one before trusting it on this path. */
static gboolean
check_delegated_through (SbTargetSearch *search, const SearchItem *item, SbMetadata *md,
                         GError **error)
{
  const char *loaded_by = sb_trusted_set_get_delegator (search->ts, item->role);
  if (g_strcmp0 (loaded_by, item->delegator) == 0)
    return TRUE;
  SbMetadata *delegator = sb_trusted_set_get_role (search->ts, item->delegator);
  if (delegator == NULL
      || !sb_metadata_verify_delegate (delegator, item->role, md, error))
    {
      g_prefix_error (error, "role %s delegated by %s: ", item->role, item->delegator);
      return FALSE;
    }
  return TRUE;
}

/* Pushes the delegations of @md that are trusted for the target, so that they pop in the
 * order they are listed (TUF §5.6.7.2). */
static void
push_delegations (SbTargetSearch *search, const char *role, SbMetadata *md)
{
  g_autoptr (GPtrArray) children = g_ptr_array_new ();
  const SbRole *succinct = sb_metadata_get_succinct_roles (md);
  gboolean terminating = FALSE;

  if (succinct != NULL)
    {
      g_autofree char *bin = sb_succinct_bin_for_target (succinct, search->target_path);
      g_ptr_array_add (children, search_item_new (bin, role));
      terminating = TRUE;
    }
  else
    {
      guint n;
      const SbRole *const *roles = sb_metadata_get_delegated_roles (md, &n);
      for (guint i = 0; i < n && !terminating; i++)
        if (sb_role_delegates_path (roles[i], search->target_path))
          {
            g_ptr_array_add (children, search_item_new (roles[i]->name, role));
            terminating = roles[i]->terminating;
          }
    }

  /* TUF §5.6.7.2.1: a matching terminating delegation ends the search after its subtree:
   * nothing still waiting (siblings, or siblings of ancestors) is tried. */
  if (terminating)
    g_ptr_array_set_size (search->stack, 0);
  for (guint i = children->len; i > 0; i--)
    g_ptr_array_add (search->stack, children->pdata[i - 1]);
}

gboolean
sb_target_search_next (SbTargetSearch *search, const char **out_role_to_load,
                       const char **out_delegator, SbTargetInfo **out_found, GError **error)
{
  g_return_val_if_fail (out_role_to_load != NULL && out_delegator != NULL && out_found != NULL,
                        FALSE);
  *out_role_to_load = NULL;
  *out_delegator = NULL;
  *out_found = NULL;
  if (search->over)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "the search for %s is over",
                     search->target_path);

  /* Every exit below except "load this role" ends the search. */
  search->over = TRUE;
  for (;;)
    {
      g_autoptr (SearchItem) item = NULL;
      SbMetadata *md;

      if (search->requested != NULL)
        {
          item = g_steal_pointer (&search->requested);
          md = sb_trusted_set_get_role (search->ts, item->role);
          if (md == NULL)
            return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                             "role %s was not loaded before continuing the search", item->role);
        }
      else
        {
          if (search->stack->len == 0)
            return sb_throw (error, SB_ERROR_NOT_FOUND, "no trusted role lists target %s",
                             search->target_path);
          /* TUF §5.6.7.1: at most SB_MAX_DELEGATIONS roles after the top-level one, so that
           * a repository cannot make the client walk (and fetch) without end. */
          if (g_hash_table_size (search->visited) > SB_MAX_DELEGATIONS)
            return sb_throw (error, SB_ERROR_TOO_MANY,
                             "target %s: search stopped after %u roles with %u still to visit",
                             search->target_path, g_hash_table_size (search->visited),
                             search->stack->len);
          item = g_ptr_array_steal_index (search->stack, search->stack->len - 1);

          /* TUF §5.6.7.1: a role visited before is skipped, so cycles end. */
          if (g_hash_table_contains (search->visited, item->role))
            continue;

          md = sb_trusted_set_get_role (search->ts, item->role);
          if (md == NULL)
            {
              /* A role the snapshot does not list cannot be verified (TUF §5.6.2, §5.6.4):
               * do not even fetch it. */
              SbMetadata *snapshot = sb_trusted_set_get_snapshot (search->ts);
              g_autofree char *filename = g_strconcat (item->role, ".json", NULL);
              if (snapshot != NULL && sb_metadata_get_meta (snapshot, filename) == NULL)
                return sb_throw (error, SB_ERROR_NOT_FOUND,
                                 "target %s: role %s (delegated by %s) is not listed in snapshot",
                                 search->target_path, item->role, item->delegator);
              search->requested = g_steal_pointer (&item);
              *out_role_to_load = search->requested->role;
              *out_delegator = search->requested->delegator;
              search->over = FALSE;
              return TRUE;
            }
        }

      if (!check_delegated_through (search, item, md, error))
        return FALSE;
      if (sb_metadata_is_expired (md, sb_trusted_set_get_reference_time (search->ts)))
        return sb_throw (error, SB_ERROR_EXPIRED, "target %s: role %s is expired",
                         search->target_path, item->role);

      /* TUF §5.6.7.1: this role lists the target: the search is done. */
      SbTargetInfo *found = sb_metadata_get_target (md, search->target_path);
      if (found != NULL)
        {
          *out_found = found;
          return TRUE;
        }
      g_hash_table_add (search->visited, g_strdup (item->role));
      push_delegations (search, item->role, md);
    }
}
