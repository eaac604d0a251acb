/* sb-metadata.h: TUF metadata (root, timestamp, snapshot, targets) read from signed envelopes.
 *
 * An SbMetadata is one role's file, parsed and checked against the schema of TUF §4 but not yet
 * trusted: whether it is trusted is decided by the delegating role (sb_metadata_verify_delegate)
 * and, for the update workflow, by SbTrustedSet. The parsed JSON tree is kept whole, so fields
 * this client does not know survive, take part in signature checks and can be re-encoded.
 *
 * Nothing here does I/O or reads the clock: times are passed in as Unix seconds.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "core/sb-crypto.h"
#include "core/sb-role.h"

G_BEGIN_DECLS

/* The only major version of the TUF specification this client implements. */
#define SB_TUF_SPEC_MAJOR 1

typedef enum {
  SB_METADATA_ROOT,
  SB_METADATA_TIMESTAMP,
  SB_METADATA_SNAPSHOT,
  SB_METADATA_TARGETS,
} SbMetadataType;

/* "root", "timestamp", "snapshot" or "targets": the _type value of @type. */
const char *sb_metadata_type_name (SbMetadataType type);

/* Parses an RFC 3339 time in the only form TUF uses, "YYYY-MM-DDTHH:MM:SSZ" (UTC, no
 * fraction), into Unix seconds. Anything else, including impossible dates, is SB_ERROR_PARSE. */
gboolean sb_metadata_parse_time (const char *text, gint64 *out_unix, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
/* The inverse: "YYYY-MM-DDTHH:MM:SSZ" for @unix (years 0..9999). */
char *sb_metadata_format_time (gint64 unix_seconds);

/* What a timestamp or snapshot says about one metadata file (TUF §4.4 METAFILES). */
typedef struct {
  gint64 version;      /* >= 1 */
  gint64 length;       /* -1 when not given */
  JsonObject *hashes;  /* algorithm name -> hex digest, or NULL when not given */
} SbMetaFile;

/* Checks @data against @meta: its length if given, and every hash if given. A hash algorithm
 * this client cannot compute is SB_ERROR_UNSUPPORTED (it cannot vouch for the data);
 * otherwise SB_ERROR_LENGTH_MISMATCH or SB_ERROR_HASH_MISMATCH. @what names the file. */
gboolean sb_meta_file_verify (const SbMetaFile *meta, const char *what, GBytes *data,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* One target file as a targets role lists it (TUF §4.5 TARGETS). */
typedef struct {
  char *path;          /* the target path, as listed */
  gint64 length;       /* >= 0 */
  JsonObject *hashes;  /* algorithm name -> hex digest, never empty */
  JsonObject *custom;  /* the "custom" object, or NULL */
} SbTargetInfo;

SbTargetInfo *sb_target_info_copy (const SbTargetInfo *info);
void sb_target_info_free (SbTargetInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbTargetInfo, sb_target_info_free)

/* The SbHashAlgo bits needed to check every hash @info lists (for sb_hasher_new). A listed
 * algorithm this client cannot compute is SB_ERROR_UNSUPPORTED: such a target cannot be
 * verified, so it is refused before anything is downloaded. */
gboolean sb_target_info_get_hash_algos (const SbTargetInfo *info, guint *out_algos,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Checks @len bytes at @data: length, then every listed hash (SB_ERROR_LENGTH_MISMATCH,
 * SB_ERROR_HASH_MISMATCH, SB_ERROR_UNSUPPORTED). */
gboolean sb_target_info_verify_bytes (const SbTargetInfo *info, const guint8 *data, gsize len,
                                      GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The same check for streamed data: @length bytes went through @hasher, which was created
 * with (at least) the algorithms sb_target_info_get_hash_algos returned. Finishes @hasher. */
gboolean sb_target_info_verify_hasher (const SbTargetInfo *info, guint64 length,
                                       SbHasher *hasher, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* One parsed metadata file, reference counted and immutable. */
typedef struct _SbMetadata SbMetadata;

/* How metadata is read. SB_METADATA_OTA_CE ([uptane] ota-ce-compat) also accepts what OTA
 * Community Edition and aktualizr write, and nothing looser (docs/ota-ce.md):
 *   - _type "Root", "Timestamp", "Snapshot", "Targets" besides the standard names;
 *   - no spec_version (one that is given is checked as usual);
 *   - keys without a scheme, read by aktualizr's rules (sb_key_new_from_ota_ce_json); such a
 *     key verifies over aktualizr's canonical form (SB_JSON_CANONICAL_AKTUALIZR), and only a
 *     signature whose "method" aktualizr accepts counts for it; a keytype aktualizr does not
 *     know makes the file SB_ERROR_UNSUPPORTED, as aktualizr refuses it;
 *   - targets of version 0 (an OTA-CE Director starts there).
 * Keys that declare a scheme are read and verified exactly as in standard mode. */
typedef enum {
  SB_METADATA_FLAGS_NONE = 0,
  SB_METADATA_OTA_CE = 1 << 0,
} SbMetadataFlags;

/* Parses @bytes as a signed envelope {"signed": {...}, "signatures": [{"keyid", "sig"}...]}
 * whose signed part must be of @type. Refuses:
 *   - malformed JSON or anything off the TUF schema: SB_ERROR_PARSE, naming role and field
 *     (this includes a keyid that appears twice in "signatures" or in a role's "keyids",
 *     which the specification forbids, and floats anywhere in the signed part);
 *   - a _type other than @type: SB_ERROR_BAD_TYPE;
 *   - a spec_version whose major version is not 1: SB_ERROR_SPEC_VERSION.
 * Keys of a type or scheme this client does not support are left out of the key set, not
 * refused, so a repository can add such keys without breaking this client.
 * No signature is checked here. */
SbMetadata *sb_metadata_new_from_bytes (GBytes *bytes, SbMetadataType type, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
/* The same, read as @flags say. */
SbMetadata *sb_metadata_new_from_bytes_full (GBytes *bytes, SbMetadataType type,
                                             SbMetadataFlags flags, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
SbMetadata *sb_metadata_ref (SbMetadata *md);
void sb_metadata_unref (SbMetadata *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbMetadata, sb_metadata_unref)

SbMetadataType sb_metadata_get_type (SbMetadata *md);
gint64 sb_metadata_get_version (SbMetadata *md);
/* Expiry in Unix seconds. */
gint64 sb_metadata_get_expires (SbMetadata *md);
/* NULL only for OTA-CE metadata that gives none. */
const char *sb_metadata_get_spec_version (SbMetadata *md);
/* TUF: metadata is expired once the reference time reaches its expiry
 * (@reference_time >= expires), as python-tuf's Signed.is_expired. */
gboolean sb_metadata_is_expired (SbMetadata *md, gint64 reference_time);

/* The bytes exactly as parsed (what the client persists, and what hashes are taken over). */
GBytes *sb_metadata_get_bytes (SbMetadata *md);
/* The whole envelope, and its "signed" object (borrowed; unknown fields included). */
JsonNode *sb_metadata_get_json (SbMetadata *md);
JsonObject *sb_metadata_get_signed (SbMetadata *md);
/* Canonical JSON of the signed part: the bytes signatures are made over (borrowed). NULL, with
 * a warning, only if re-encoding what parsed fails (out of memory): never an abort. */
GBytes *sb_metadata_get_signed_bytes (SbMetadata *md);
/* The hex signature made by @keyid, or NULL. */
const char *sb_metadata_get_signature (SbMetadata *md, const char *keyid);

/* Root: the consistent_snapshot flag (FALSE when absent). */
gboolean sb_metadata_get_consistent_snapshot (SbMetadata *root);

/* Root or targets (the delegators): the key @keyid, or NULL when it is not listed or its type
 * is not supported (borrowed). */
SbKey *sb_metadata_get_key (SbMetadata *delegator, const char *keyid);

/* Root or targets: the role @role_name as @delegator describes it, or NULL when @delegator
 * does not delegate it. For targets with succinct_roles, any valid bin name returns the
 * shared succinct SbRole. */
const SbRole *sb_metadata_get_role (SbMetadata *delegator, const char *role_name);

/* Targets: TRUE when it has a "delegations" object. */
gboolean sb_metadata_has_delegations (SbMetadata *targets);
/* Targets: the delegated roles in the order they are listed (the search order, TUF §5.6.7);
 * empty when delegations use succinct_roles or there are none. */
const SbRole *const *sb_metadata_get_delegated_roles (SbMetadata *targets, guint *out_n);
/* Targets: the succinct hash-bin delegation (TAP 15), or NULL. */
const SbRole *sb_metadata_get_succinct_roles (SbMetadata *targets);

/* Checks that @delegate is signed by a threshold of the keys @delegator lists for @role_name
 * (TUF §5.3.4, §5.4.2, §5.5.3, §5.6.3). Each distinct key counts once, however many keyids or
 * signatures name it; a signature that does not verify counts as missing; keys of
 * unsupported types are not counted. Below threshold: SB_ERROR_THRESHOLD. A role that
 * @delegator does not delegate: SB_ERROR_NOT_FOUND. */
gboolean sb_metadata_verify_delegate (SbMetadata *delegator, const char *role_name,
                                      SbMetadata *delegate, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Timestamp and snapshot: the "meta" entries, file name ("snapshot.json", "ROLE.json") ->
 * SbMetaFile (borrowed). */
GHashTable *sb_metadata_get_meta_files (SbMetadata *md);
/* Timestamp or snapshot: the entry for @filename, or NULL. */
const SbMetaFile *sb_metadata_get_meta (SbMetadata *md, const char *filename);
/* Timestamp: the entry for snapshot.json (always present). */
const SbMetaFile *sb_metadata_get_snapshot_meta (SbMetadata *timestamp);

/* Targets: the "targets" object, target path -> target description, as a tree (borrowed;
 * every member was checked by the parser). Building it costs a tree node per value, so it is
 * built on the first call only: prefer sb_metadata_get_target and the index accessors below
 * for roles that may list many targets. */
JsonObject *sb_metadata_get_targets (SbMetadata *targets);
/* Targets: how many targets the role lists, and the path of target @index (0 .. n-1, in
 * bytewise order of the paths; borrowed). No tree is built. */
guint sb_metadata_get_n_targets (SbMetadata *targets);
const char *sb_metadata_get_target_path (SbMetadata *targets, guint index);
/* Targets: the target @path, or NULL when this role does not list it. A direct member look-up:
 * no copy of the target map is made. */
SbTargetInfo *sb_metadata_get_target (SbMetadata *targets, const char *path);

G_END_DECLS
