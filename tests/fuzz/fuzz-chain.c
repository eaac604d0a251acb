/* fuzz-chain.c: the trusted-set chain root -> timestamp -> snapshot -> targets -> delegated
 * roles, as an updater walks it for one target.
 *
 * The input is parts separated by the line SB_FUZZ_PART ("\n%%SB%%\n"): the trusted root, the
 * timestamp, the snapshot, the top-level targets, the target path to look for, then the
 * delegated roles' files in the order the search asks for them. The seeds
 * (tests/fuzz/make-chain-seeds.sh) come from a repository that switchback-repo made, so the
 * signatures hold and mutations reach every step. Expiry is judged at a fixed time, so a
 * replay gives the same verdicts whatever the date. */
#include "config.h"

#include "fuzz-util.h"
#include "core/sb-delegation.h"
#include "core/sb-error.h"
#include "core/sb-metadata.h"
#include "core/sb-trusted-set.h"

#include <string.h>

#define SB_FUZZ_PART "\n%%SB%%\n"
/* 2026-12-01: before the expiry of the seed repository's metadata. */
#define REFERENCE_TIME 1796083200

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  sb_fuzz_init ();
  return 0;
}

static GPtrArray *
split_parts (const uint8_t *data, size_t size)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const gsize sep = strlen (SB_FUZZ_PART);
  gsize start = 0;
  for (gsize i = 0; i + sep <= size;)
    {
      if (memcmp (data + i, SB_FUZZ_PART, sep) == 0)
        {
          g_ptr_array_add (parts, g_bytes_new (data + start, i - start));
          i += sep;
          start = i;
        }
      else
        i++;
    }
  g_ptr_array_add (parts, g_bytes_new (data + start, size - start));
  return parts;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) parts = split_parts (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = sb_trusted_set_new (parts->pdata[0], REFERENCE_TIME, &error);
  if (ts == NULL)
    return 0;
  SB_FUZZ_ASSERT (sb_trusted_set_get_root (ts) != NULL, "a new set trusts its root");
  gboolean unchanged = FALSE;
  if (parts->len < 2 || !sb_trusted_set_update_timestamp (ts, parts->pdata[1], &unchanged, &error))
    return 0;
  SB_FUZZ_ASSERT (sb_trusted_set_get_timestamp (ts) != NULL, "an accepted timestamp is kept");
  if (parts->len < 3 || !sb_trusted_set_update_snapshot (ts, parts->pdata[2], FALSE, &error))
    return 0;
  if (parts->len < 4 || !sb_trusted_set_update_targets (ts, parts->pdata[3], &error))
    return 0;
  SB_FUZZ_ASSERT (sb_trusted_set_get_targets (ts) != NULL, "accepted targets are kept");
  if (parts->len < 5)
    return 0;
  gsize path_len = 0;
  const char *path_data = g_bytes_get_data (parts->pdata[4], &path_len);
  g_autofree char *path = g_strndup (path_data != NULL ? path_data : "", path_len);
  g_autoptr (SbTargetSearch) search = sb_target_search_new (ts, path);
  guint next = 5;
  for (guint steps = 0; steps < 2 * SB_MAX_DELEGATIONS + 4; steps++)
    {
      const char *role = NULL, *delegator = NULL;
      SbTargetInfo *found = NULL;
      if (!sb_target_search_next (search, &role, &delegator, &found, &error))
        {
          SB_FUZZ_ASSERT (error != NULL, "a failed search says why");
          return 0;
        }
      if (found != NULL)
        {
          SB_FUZZ_ASSERT (role == NULL, "a search step either finds or asks");
          sb_target_info_free (found);
          return 0;
        }
      SB_FUZZ_ASSERT (role != NULL && delegator != NULL, "a search step asks for a role");
      if (next >= parts->len)
        return 0;
      g_autofree char *role_copy = g_strdup (role);
      if (!sb_trusted_set_update_delegated_targets (ts, parts->pdata[next++], role, delegator,
                                                    &error))
        return 0;
      SB_FUZZ_ASSERT (sb_trusted_set_get_role (ts, role_copy) != NULL,
                      "an accepted delegated role is kept");
    }
  sb_fuzz_fail (__FILE__, __LINE__, "the target search did not end");
}
