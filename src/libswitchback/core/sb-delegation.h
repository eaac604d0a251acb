/* sb-delegation.h: the search for a target through the delegation graph (TUF §5.6.7), over
 * the roles that sb-role describes and the metadata an SbTrustedSet holds.
 *
 * The search is pure: SbTargetSearch says which role to load next, and the caller (which
 * does the I/O) loads it into the SbTrustedSet and asks again.
 */
#pragma once

#include <glib.h>

#include "core/sb-role.h"
#include "core/sb-trusted-set.h"

G_BEGIN_DECLS

/* A pre-order depth-first search for one target (TUF §5.6.7), over an SbTrustedSet whose
 * snapshot is trusted. */
typedef struct _SbTargetSearch SbTargetSearch;

/* Starts a search for @target_path in @ts (which must outlive the search). */
SbTargetSearch *sb_target_search_new (SbTrustedSet *ts, const char *target_path);
void sb_target_search_free (SbTargetSearch *search);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbTargetSearch, sb_target_search_free)

/* Advances the search. Returns TRUE and sets exactly one of:
 *   *out_role_to_load (and *out_delegator): the caller must load that role's metadata with
 *     sb_trusted_set_update_delegated_targets (ts, bytes, role, delegator) (or
 *     sb_trusted_set_update_targets for "targets"), then call this again. The strings stay
 *     valid until the next call. If the role cannot be loaded, the search is over: TUF
 *     §5.6.7 says to report the target as not found.
 *   *out_found: the target, from the first role in search order that lists it (free it with
 *     sb_target_info_free).
 * Returns FALSE with:
 *   SB_ERROR_NOT_FOUND: no role trusted for the path lists it, or the next role to visit is
 *     not listed in the trusted snapshot (it is not requested then);
 *   SB_ERROR_TOO_MANY: SB_MAX_DELEGATIONS delegated roles were visited and more remain;
 *   SB_ERROR_THRESHOLD: a role already loaded through another delegator is not signed by a
 *     threshold of the keys this delegator gives it;
 *   SB_ERROR_EXPIRED: a role in the path is expired;
 *   SB_ERROR_INVALID_ARGUMENT: the requested role was not loaded before calling again.
 * Roles already in @ts are used without being requested again. Visited roles are skipped
 * (cycles). A terminating delegation that matches ends the search below it: no later sibling
 * or ancestor sibling is tried. Succinct bins are terminating. */
gboolean sb_target_search_next (SbTargetSearch *search, const char **out_role_to_load,
                                const char **out_delegator, SbTargetInfo **out_found,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
