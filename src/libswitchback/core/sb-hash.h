/* sb-hash.h: hashes (OpenSSL 3): the algorithms TUF metadata names, a streaming hasher over
 * several at once, one-shot digests, and digest comparison. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Hash algorithms TUF metadata names in "hashes". */
typedef enum {
  SB_HASH_SHA256 = 1 << 0,
  SB_HASH_SHA512 = 1 << 1,
} SbHashAlgo;

/* SB_HASH_SHA256 for "sha256", etc.; 0 for names this client does not compute. */
SbHashAlgo sb_hash_algo_from_name (const char *name);
const char *sb_hash_algo_name (SbHashAlgo algo);

/* Streaming hasher computing several algorithms in one pass over the data. Should OpenSSL fail
 * (no usable provider, out of memory), the hasher is spent rather than the process aborted:
 * updates are ignored, sb_hasher_get_hex returns NULL and sb_hasher_check says why. */
typedef struct _SbHasher SbHasher;
SbHasher *sb_hasher_new (guint algos);
void sb_hasher_update (SbHasher *hasher, const void *data, gsize len);
/* Lowercase hex digest of @algo, or NULL if @algo was not requested (or is not one algorithm).
 * The first call finishes every digest; later calls return the same strings, which live as long
 * as @hasher. No update is allowed after it. */
const char *sb_hasher_get_hex (SbHasher *hasher, SbHashAlgo algo);
/* FALSE with SB_ERROR_FAILED naming OpenSSL's reason when a digest operation of @hasher
 * failed; check it before trusting (or reporting a mismatch against) its digests. */
gboolean sb_hasher_check (SbHasher *hasher, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* A copy of the running state (to checkpoint a resumable download). */
SbHasher *sb_hasher_copy (SbHasher *hasher);
void sb_hasher_free (SbHasher *hasher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbHasher, sb_hasher_free)

/* One-shot lowercase hex digests; NULL (with a warning) only when OpenSSL fails. */
char *sb_sha256_hex (const void *data, gsize len);
char *sb_sha512_hex (const void *data, gsize len);

/* Constant-time comparison of two hex digests (case-insensitive), for hash checks. FALSE if
 * either is NULL, empty or not hex, or if their lengths differ. */
gboolean sb_hex_digest_equal (const char *a, const char *b);

/* Lowercase hex of @len bytes. */
char *sb_hex_encode (const guint8 *data, gsize len);

/* The reason OpenSSL gives for its last failure, for messages; empties OpenSSL's error queue
 * so that a stale entry never surfaces in an unrelated caller. */
const char *sb_openssl_reason (void);

G_END_DECLS
