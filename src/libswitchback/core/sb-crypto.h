/* sb-crypto.h: keys, signatures and hashes (OpenSSL 3).
 *
 * Key objects are the TUF/securesystemslib ones:
 *   {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "<64 hex>"}}
 *   {"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": "<PEM>"}}
 *   {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": "<PEM>"}}
 *   ("ecdsa-sha2-nistp256" is also accepted as keytype, as older metadata uses it.)
 * Signatures are lowercase hex when made here; verification also takes standard base64 (RFC
 * 4648 §4, padded), as aktualizr and OTA Community Edition write them. ecdsa signatures are DER; rsa-pss uses MGF1-SHA256 and accepts
 * any salt length on verification (signs with salt = digest length).
 * Verification never aborts and never reads out of bounds, whatever the input: malformed keys
 * and signatures are ordinary failures.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "core/sb-hash.h"

G_BEGIN_DECLS

typedef enum {
  SB_KEY_TYPE_ED25519,
  SB_KEY_TYPE_RSA,   /* rsassa-pss-sha256, 2048 to 4096 bits */
  SB_KEY_TYPE_ECDSA, /* ecdsa-sha2-nistp256 */
} SbKeyType;

/* A public key, reference counted. */
typedef struct _SbKey SbKey;
SbKey *sb_key_ref (SbKey *key);
void sb_key_unref (SbKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbKey, sb_key_unref)

/* Builds a key from a TUF key object. Unknown keytype/scheme pairs are SB_ERROR_UNSUPPORTED;
 * a malformed object or public value is SB_ERROR_PARSE. RSA keys outside 2048..4096 bits are
 * refused. The original JSON object is kept (with unknown fields) for re-encoding. */
SbKey *sb_key_new_from_json (JsonNode *key_object, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Builds a key from a key object as aktualizr reads it (its PublicKey, crypto.cc), for
 * OTA-CE metadata whose keys have no scheme (any "scheme" member is not read): the keytype
 * compared without ASCII case is "ed25519" (64 hex digits, either case) or "rsa" (a PEM public
 * key of 2048, 3072 or 4096 bits, verified as rsassa-pss-sha256). Any other keytype is
 * SB_ERROR_UNSUPPORTED; a malformed object or public value, or another RSA size, is
 * SB_ERROR_PARSE. */
SbKey *sb_key_new_from_ota_ce_json (JsonNode *key_object, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The default key id: lowercase hex sha256 of the canonical JSON of the key object's keytype,
 * scheme and keyval (securesystemslib's compute_default_keyid; other top-level fields are left
 * out). Metadata names its keys by the ids it gives them, which need not be these; this one is
 * for new keys (the repository tool, the ECU key). */
const char *sb_key_get_keyid (SbKey *key);
SbKeyType sb_key_get_key_type (SbKey *key);
/* The public key as DER SubjectPublicKeyInfo (borrowed): one key has one encoding, however its
 * key object spells it, so this is what tells two keys apart. */
GBytes *sb_key_get_public_der (SbKey *key);
/* The TUF key object (a new reference to the node the key was built from, or an equivalent). */
JsonNode *sb_key_to_json (SbKey *key);

/* Verifies @sig_hex over @data. The signature is hex digits of either case or, when it is not
 * valid hex, strict standard base64 (padded, no whitespace, unused bits zero). FALSE with
 * SB_ERROR_BAD_SIGNATURE for a wrong or malformed signature, including an empty one or one that
 * is neither encoding (never any other effect). */
gboolean sb_key_verify (SbKey *key, const guint8 *data, gsize len, const char *sig_hex,
                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* A private key that can sign. */
typedef struct _SbSigner SbSigner;
SbSigner *sb_signer_ref (SbSigner *signer);
void sb_signer_unref (SbSigner *signer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbSigner, sb_signer_unref)

/* Generates a new key (rsa: 3072 bits). */
SbSigner *sb_signer_generate (SbKeyType type, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The longest PEM private key accepted, in bytes. */
#define SB_PRIVATE_KEY_MAX 65536

/* Parses an unencrypted PKCS#8 PEM private key (as sb_signer_with_pem gives it). A malformed or
 * encrypted key is SB_ERROR_PARSE (never a passphrase prompt); a key of another type or size is
 * SB_ERROR_UNSUPPORTED. Files: sb-key-file.h. */
SbSigner *sb_signer_new_from_pem (const char *pem, gsize len, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
/* Called with the PKCS#8 PEM form of a private key, which is wiped when the call returns. */
typedef gboolean (*SbPemUseFunc) (const char *pem, gsize len, gpointer user_data, GError **error);
/* Encodes the private key as PKCS#8 PEM in memory that is wiped afterwards and hands it to
 * @use; returns what @use returns. */
gboolean sb_signer_with_pem (SbSigner *signer, SbPemUseFunc use, gpointer user_data,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The public half as an SbKey (borrowed; lives as long as @signer). */
SbKey *sb_signer_get_public (SbSigner *signer);
/* Signs @data; returns the signature in lowercase hex. */
char *sb_signer_sign (SbSigner *signer, const guint8 *data, gsize len, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
