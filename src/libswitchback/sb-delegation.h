/* sb-delegation.h: which targets role is trusted for which target path, and the search for a
 * target through the delegation graph (TUF §5.6.7).
 *
 * Matching follows python-tuf: a path pattern matches when it has as many "/"-separated
 * segments as the target path and each segment matches shell-style ("*" any run of
 * characters, "?" one character, "[seq]" and "[!seq]" sets; "*" never crosses "/");
 * path_hash_prefixes match the lowercase hex sha256 of the target path; succinct hash bins
 * (TAP 15) take the first bit_length bits of that sha256.
 *
 * The search is pure too: SbTargetSearch says which role to load next, and the caller (which
 * does the I/O) loads it into the SbTrustedSet and asks again.
 */
#pragma once

#include <glib.h>

#include "sb-metadata.h"
#include "sb-trusted-set.h"

G_BEGIN_DECLS

/* Role descriptions as the schema gives them (TUF §4.3 root roles, §4.5 delegated roles,
 * TAP 15 succinct_roles), for sb-metadata. Each refuses what python-tuf refuses, with
 * SB_ERROR_PARSE naming @what: keyids that are not distinct strings, a threshold below 1,
 * a delegated role named like a top-level role or with not exactly one of paths and
 * path_hash_prefixes, a bit_length outside 1..32. */
SbRole *sb_role_new_from_json (JsonObject *obj, const char *name, const char *what,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
SbRole *sb_delegated_role_new_from_json (JsonNode *node, const char *what, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
SbRole *sb_succinct_roles_new_from_json (JsonObject *obj, const char *what, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
void sb_role_free (SbRole *role);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbRole, sb_role_free)

/* TRUE when @target_path matches the path pattern @pattern (see above). Case-sensitive;
 * "\\" has no special meaning. */
gboolean sb_path_pattern_match (const char *pattern, const char *target_path);

/* TRUE when the delegated role @role is trusted for @target_path: one of its paths matches,
 * or one of its path_hash_prefixes is a prefix of sha256(@target_path) in hex. A succinct
 * SbRole covers every path. */
gboolean sb_role_delegates_path (const SbRole *role, const char *target_path);

/* Succinct hash bins (TAP 15), for an SbRole with bit_length set. A bin name is
 * NAME_PREFIX-SUFFIX, SUFFIX being the bin number in lowercase hex, zero-padded to the number
 * of hex digits of the last bin (2^bit_length - 1): bit_length 1..4 gives one digit, 5..8
 * two, and so on. */
char *sb_succinct_bin_name (const SbRole *succinct, guint32 bin);
/* The bin responsible for @target_path: the first bit_length bits of sha256(@target_path). */
char *sb_succinct_bin_for_target (const SbRole *succinct, const char *target_path);
/* TRUE when @role_name is one of the bins of @succinct. */
gboolean sb_succinct_has_bin (const SbRole *succinct, const char *role_name);

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
