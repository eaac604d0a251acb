/* repo-publish.h: signing and publishing new metadata versions.
 *
 * Publishing is the one step that changes what clients see. It signs a new version of every
 * role with staged changes, of every role whose keys changed, of snapshot when any targets role
 * changed (TUF §5.5: snapshot lists every targets role's version, length and hashes) and of
 * timestamp when snapshot changed (TUF §5.4), and writes them in the order a client reads them
 * backwards: new target files, root, targets roles, snapshot, and timestamp last, so a client
 * polling meanwhile sees either the old or the new timestamp, each complete and consistent.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "repo-store.h"

G_BEGIN_DECLS

/* {"signatures": [{"keyid": K, "sig": HEX}...], "signed": @signed_obj}: one signature per
 * signer (SbSigner) over sb_json_canonical of @signed_obj, the key id being the signer's default
 * key id. @signed_obj is referenced, not copied. */
JsonNode *sb_repo_sign (JsonObject *signed_obj, GPtrArray *signers,
                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The bytes written to metadata/ for @envelope (readable JSON; clients hash the bytes as
 * served, and signatures cover only the canonical form of "signed"). */
GBytes *sb_repo_encode (JsonNode *envelope);

/* Publishes (see above). @force_roles (NULL-terminated, may be NULL) are given new versions even
 * without changes (fresh expiry, fresh signatures). *out_published (may be NULL) receives
 * "ROLE vN" for each role written, in writing order; nothing to publish is not an error.
 * SB_ERROR_THRESHOLD when this repository does not hold enough private keys to sign a role;
 * nothing is written then. */
gboolean sb_repo_publish (SbRepo *repo, const char *const *force_roles, GPtrArray **out_published,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Re-signs metadata/ROLE.json as it is on disk, after its "signed" part was edited by hand,
 * without touching anything else (no version bump, no snapshot or timestamp update): a way
 * for tests to publish deliberately inconsistent metadata. Signs with @key_files (PEM private
 * keys, NULL-terminated) when given, else with the keys this repository holds for the role.
 * With consistent snapshots (and always for root) N.ROLE.json is rewritten too, N being the
 * version in the edited "signed". */
gboolean sb_repo_resign (SbRepo *repo, const char *role, const char *const *key_files,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
