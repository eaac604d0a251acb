/* sb-role.h: roles as their delegators describe them (TUF §4.3 root roles, §4.5 delegated
 * roles, TAP 15 succinct hash bins), and which role is trusted for which target path.
 *
 * Matching follows python-tuf: a path pattern matches when it has as many "/"-separated
 * segments as the target path and each segment matches shell-style ("*" any run of
 * characters, "?" one character, "[seq]" and "[!seq]" sets; "*" never crosses "/");
 * path_hash_prefixes match the lowercase hex sha256 of the target path; succinct hash bins
 * (TAP 15) take the first bit_length bits of that sha256.
 *
 * Pure: no I/O. sb-metadata parses roles with it; sb-delegation searches through them.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Names of the top-level roles, as they appear in root's "roles" and in file names. */
#define SB_ROLE_ROOT "root"
#define SB_ROLE_TIMESTAMP "timestamp"
#define SB_ROLE_SNAPSHOT "snapshot"
#define SB_ROLE_TARGETS "targets"

/* TRUE for "root", "timestamp", "snapshot" and "targets". */
gboolean sb_role_is_top_level (const char *role_name);

/* A role as its delegator describes it: the keys that may sign it and how many must.
 * Root describes the top-level roles (only name, keyids and threshold are meaningful);
 * targets metadata describes delegated roles, or one SbRole for all bins of a succinct hash
 * delegation (TAP 15), whose name is the name_prefix and whose bit_length is set. */
typedef struct {
  char *name;
  char **keyids;             /* NULL-terminated, distinct */
  guint n_keyids;
  gint64 threshold;          /* >= 1 */
  gboolean terminating;      /* delegated roles; TRUE for succinct bins (TAP 15) */
  char **paths;              /* path patterns, or NULL */
  char **path_hash_prefixes; /* hex prefixes of sha256(target path), or NULL */
  guint bit_length;          /* succinct_roles: 1..32; otherwise 0 */
} SbRole;

/* Role descriptions as the schema gives them (TUF §4.3 root roles, §4.5 delegated roles,
 * TAP 15 succinct_roles). Each refuses what python-tuf refuses, with
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
