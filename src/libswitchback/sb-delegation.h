/* sb-delegation.h: which targets role is trusted for which target path.
 *
 * Matching follows python-tuf: a path pattern matches when it has as many "/"-separated
 * segments as the target path and each segment matches shell-style ("*" any run of
 * characters, "?" one character, "[seq]" and "[!seq]" sets; "*" never crosses "/");
 * path_hash_prefixes match the lowercase hex sha256 of the target path; succinct hash bins
 * (TAP 15) take the first bit_length bits of that sha256.
 */
#pragma once

#include <glib.h>

#include "sb-metadata.h"

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

G_END_DECLS
