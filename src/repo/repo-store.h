/* repo-store.h: the on-disk model of a TUF repository that switchback-repo maintains.
 *
 * Layout of a repository directory DIR:
 *   DIR/repo.json              settings: default key type, target hashes, expiry rules, and
 *                              for Uptane which repository this is ("director" or "image")
 *   DIR/keys/KEYID.pem         private keys (PKCS#8 PEM, mode 0600), named by TUF key id
 *   DIR/metadata/              what clients fetch (design.md §2): ROLE.json for every role,
 *                              N.root.json for every root version, and with consistent
 *                              snapshots N.ROLE.json for the other roles (TUF §5.5, §5.6)
 *   DIR/targets/NAME           target files; with consistent snapshots also DIRNAME/HASH.BASE
 *                              for every listed hash (TUF §5.7.3)
 *   DIR/staged/ROLE.json       the "signed" part of roles with changes not yet published
 *   DIR/staged/targets/NAME    target files added since the last publish
 *
 * Role files are named by the role name percent-encoded (g_uri_escape_string with nothing
 * reserved), exactly as the client requests them, so any delegated role name is one safe file
 * name.
 *
 * Commands edit the staged copy of a role (sb_repo_edit_signed) and sb_repo_save writes the
 * edits; nothing a client sees changes until sb_repo_publish (repo-publish.h) signs new versions
 * of every changed role in one step, timestamp last.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "repo-json.h"
#include "core/sb-crypto.h"
#include "core/sb-metadata.h"

G_BEGIN_DECLS

#define SB_REPO_SPEC_VERSION "1.0.31"
#define SB_REPO_CONFIG_NAME "repo.json"

typedef enum
{
  SB_REPO_KIND_TUF,      /* a plain TUF repository */
  SB_REPO_KIND_DIRECTOR, /* an Uptane Director repository (per-vehicle targets, no delegations) */
  SB_REPO_KIND_IMAGE,    /* an Uptane Image repository */
} SbRepoKind;

typedef struct
{
  SbKeyType key_type;           /* type of every key created without an explicit type */
  gboolean consistent_snapshot; /* root's consistent_snapshot */
  SbRepoKind kind;
  guint target_hashes; /* SbHashAlgo bits listed for targets; 0 means sha256+sha512 */
  char **expiry_rules; /* "ROLE=RULE" (see sb_repo_set_expiry_rule), may be NULL */
} SbRepoCreateOptions;

typedef struct _SbRepo SbRepo;

/* Creates the directories of a new repository at @dir (which must not exist or be empty), one
 * key per top-level role, and version 1 of root, targets, snapshot and timestamp, staged: the
 * caller publishes them. */
SbRepo *sb_repo_create (const char *dir, const SbRepoCreateOptions *opts,
                        GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Opens the repository at @dir. A directory without repo.json is SB_ERROR_NOT_FOUND, naming
 * it; an unreadable or malformed repo.json is SB_ERROR_PARSE. */
SbRepo *sb_repo_open (const char *dir, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_repo_free (SbRepo *repo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbRepo, sb_repo_free)

/* TRUE when @dir holds an Uptane pair (DIR/director and DIR/image, as uptane-init makes). */
gboolean sb_repo_dir_is_uptane (const char *dir);

const char *sb_repo_get_dir (SbRepo *repo);
SbRepoKind sb_repo_get_kind (SbRepo *repo);
const char *sb_repo_kind_name (SbRepoKind kind);
SbKeyType sb_repo_get_key_type (SbRepo *repo);
/* The SbHashAlgo bits new targets list. */
guint sb_repo_get_target_hashes (SbRepo *repo);
/* Root's consistent_snapshot, staged view. */
gboolean sb_repo_get_consistent_snapshot (SbRepo *repo);
/* "ed25519", "rsa", "ecdsa" <-> SbKeyType; unknown names are SB_ERROR_INVALID_ARGUMENT. */
gboolean sb_repo_parse_key_type (const char *name, SbKeyType *out,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
const char *sb_repo_key_type_name (SbKeyType type);

/* Paths inside the repository (new strings). */
char *sb_repo_path (SbRepo *repo, const char *sub);
/* The file name of @role's metadata: "ROLE.json", or "VERSION.ROLE.json" when @version > 0,
 * the role name percent-encoded. */
char *sb_repo_role_file_name (const char *role, gint64 version);

/* Expiry rules (repo-expiry.h), kept in repo.json. Setting one does not stage anything. */
gboolean sb_repo_set_expiry_rule (SbRepo *repo, const char *role, const char *rule,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Applies @role's rule (its own, else "delegated" for delegated roles, else the default) at
 * @now (Unix seconds). */
gboolean sb_repo_compute_expires (SbRepo *repo, const char *role, gint64 now, gint64 *out,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Roles. The "staged view" of a role is its staged signed part when it has changes not yet
 * published, else its published one. */

/* TRUE when @role has a staged or a published version. */
gboolean sb_repo_has_role (SbRepo *repo, const char *role);
/* The staged view of @role's signed part (borrowed, valid until the repository is freed);
 * SB_ERROR_NOT_FOUND when the role does not exist. */
JsonObject *sb_repo_get_signed (SbRepo *repo, const char *role, GError **error);
/* The published envelope of @role (borrowed), or NULL when it was never published (or on a
 * malformed file, then with @error set). */
JsonNode *sb_repo_get_published (SbRepo *repo, const char *role, GError **error);
/* The published bytes of @role, or NULL as above. */
GBytes *sb_repo_get_published_bytes (SbRepo *repo, const char *role);
/* The published version of @role, 0 when never published. */
gint64 sb_repo_get_published_version (SbRepo *repo, const char *role);
/* The signed part of @role for editing: the staged copy, made from the published one on the
 * first call. The role is then staged (it gets a new version at the next publish). */
JsonObject *sb_repo_edit_signed (SbRepo *repo, const char *role, GError **error);
/* Stages a new role with @signed_obj as its signed part (taken). */
void sb_repo_stage_new_role (SbRepo *repo, const char *role, JsonObject *signed_obj);
/* Stages @role without changing it, so the next publish signs a new version. */
gboolean sb_repo_touch (SbRepo *repo, const char *role, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* TRUE when @role has staged changes. */
gboolean sb_repo_is_staged (SbRepo *repo, const char *role);
/* The names of the staged roles (new array of strings). */
GPtrArray *sb_repo_list_staged (SbRepo *repo);
/* Writes every edit made through this SbRepo (staged roles, settings) durably. */
gboolean sb_repo_save (SbRepo *repo, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Records that @role was published as @envelope with @bytes and drops its staged copy
 * (the caller wrote the files). */
void sb_repo_mark_published (SbRepo *repo, const char *role, JsonNode *envelope, GBytes *bytes);
/* Deletes the staged copies of the roles that sb_repo_mark_published recorded, durably. */
gboolean sb_repo_clear_published_staging (SbRepo *repo, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Keys. */

/* Generates a key of @type, saves it as keys/KEYID.pem (0600) and returns it. */
SbSigner *sb_repo_new_key (SbRepo *repo, SbKeyType type, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Loads keys/KEYID.pem; SB_ERROR_NOT_FOUND when this repository does not hold it. */
SbSigner *sb_repo_load_key (SbRepo *repo, const char *keyid,
                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The current time in Unix seconds (honours a faked clock). */
gint64 sb_repo_now (void);

G_END_DECLS
