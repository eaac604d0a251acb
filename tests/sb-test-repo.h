/* sb-test-repo.h: a TUF repository built in memory, for tests of the verification core.
 *
 * It holds the "signed" object of every role (editable JSON), the signers of every role and
 * the delegation structure. sb_test_repo_sign() makes an envelope the test can still tamper
 * with; sb_test_repo_bytes() makes the canonical bytes a client would download.
 * Keys are ed25519 (fast, and deterministic signatures make equal bytes for equal content).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "core/sb-crypto.h"

G_BEGIN_DECLS

/* The reference time tests run at (2023-11-14T22:13:20Z), and a day. */
#define SB_TEST_NOW ((gint64) 1700000000)
#define SB_TEST_DAY ((gint64) 86400)

typedef struct _SbTestRepo SbTestRepo;

/* root, timestamp, snapshot and targets, all version 1, one key each, spec_version 1.0.31;
 * root expires in a year, the others in a week (from SB_TEST_NOW). Snapshot lists
 * targets.json version 1 and timestamp lists snapshot.json version 1, without hashes. */
SbTestRepo *sb_test_repo_new (void);
void sb_test_repo_free (SbTestRepo *repo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbTestRepo, sb_test_repo_free)

/* The "signed" object of @role, to read or edit (borrowed). */
JsonObject *sb_test_repo_signed (SbTestRepo *repo, const char *role);
/* The signers that sign @role (borrowed; tests may add or remove). */
GPtrArray *sb_test_repo_signers (SbTestRepo *repo, const char *role);

void sb_test_repo_set_version (SbTestRepo *repo, const char *role, gint64 version);
gint64 sb_test_repo_get_version (SbTestRepo *repo, const char *role);
/* Version + 1. */
void sb_test_repo_bump (SbTestRepo *repo, const char *role);
void sb_test_repo_set_expires (SbTestRepo *repo, const char *role, gint64 unix_seconds);

/* A new ed25519 key listed for @role by its delegator (root for top-level roles) and used to
 * sign @role (borrowed). */
SbSigner *sb_test_repo_add_key (SbTestRepo *repo, const char *role);
/* Removes every key of @role from its delegator's list and from its signers, then adds one
 * new key: a key rotation. The removed keys stay in the key dictionary. */
SbSigner *sb_test_repo_rotate_keys (SbTestRepo *repo, const char *role);

/* Lists target @path with the length and sha256 of @content in @role. */
void sb_test_repo_add_target (SbTestRepo *repo, const char *role, const char *path,
                              const char *content);

/* Delegates @name from the targets role @delegator, with a new key, threshold 1, the given
 * path patterns (NULL-terminated) or, when @paths is NULL, @hash_prefixes; and creates an
 * empty targets metadata for @name. */
void sb_test_repo_delegate (SbTestRepo *repo, const char *delegator, const char *name,
                            const char *const *paths, const char *const *hash_prefixes,
                            gboolean terminating);
/* Delegates every target of @delegator to 2^@bit_length succinct hash bins named
 * @name_prefix-XX with one new key; bins are created with sb_test_repo_add_bin. */
void sb_test_repo_delegate_succinct (SbTestRepo *repo, const char *delegator, guint bit_length,
                                     const char *name_prefix);
void sb_test_repo_add_bin (SbTestRepo *repo, const char *name_prefix, const char *bin_name);

/* The envelope of @role signed by its signers over the canonical signed part: a new tree the
 * test may tamper with. */
JsonNode *sb_test_repo_sign (SbTestRepo *repo, const char *role);
/* A copy of @node sharing nothing with it (json_node_copy shares objects and arrays). */
JsonNode *sb_test_deep_copy (JsonNode *node);
/* Canonical bytes of @envelope. */
GBytes *sb_test_encode (JsonNode *envelope);
/* @envelope as a repository writes it for keys whose PEM holds newlines: json-glib's compact
 * form, control characters escaped (canonical JSON writes them raw). Signatures stay over the
 * canonical form. */
GBytes *sb_test_encode_escaped (JsonNode *envelope);
/* sb_test_encode (sb_test_repo_sign (repo, role)). */
GBytes *sb_test_repo_bytes (SbTestRepo *repo, const char *role);

/* Rewrites snapshot's meta: targets.json and every delegated role at their current version,
 * with length and sha256 of their current bytes when @with_hashes. */
void sb_test_repo_update_snapshot_meta (SbTestRepo *repo, gboolean with_hashes);
/* Rewrites timestamp's meta: snapshot.json at its current version, with length and sha256 of
 * its current bytes when @with_hashes. */
void sb_test_repo_update_timestamp_meta (SbTestRepo *repo, gboolean with_hashes);

G_END_DECLS
