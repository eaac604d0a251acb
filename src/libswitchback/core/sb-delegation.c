/* sb-delegation.c: the pre-order depth-first target search (TUF §5.6.7).
 */
#include "config.h"

#include "core/sb-delegation.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

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
