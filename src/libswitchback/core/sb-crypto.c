/* sb-crypto.c: TUF key objects, signature verification and signing over OpenSSL 3 EVP (the
 * hashes are in sb-hash.c).
 *
 * Key objects, signatures and PEM come from the network: every parse failure is an ordinary
 * GError, and OpenSSL's thread-local error queue is emptied after each failure so a stale entry
 * never surfaces in an unrelated caller (libcurl reads the same queue).
 */
#include "config.h"

#include "core/sb-crypto.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

/* Bounds that keep hostile input cheap: the largest accepted RSA key's PEM is about 800 bytes
 * and its signature 512 bytes, so anything far larger is refused before OpenSSL sees it. */
#define SB_KEY_MAX_PEM 16384
#define SB_SIG_MAX_BYTES 1024
#define SB_PRIVATE_KEY_MAX_FILE SB_PRIVATE_KEY_MAX
#define SB_RSA_MIN_BITS 2048
#define SB_RSA_MAX_BITS 4096
#define SB_RSA_GENERATE_BITS 3072

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

struct _SbKey {
  gint refcount;
  SbKeyType type;
  EVP_PKEY *pkey;
  GBytes *der; /* the public key as DER SubjectPublicKeyInfo */
  JsonNode *json;
  char *keyid;
};

struct _SbSigner {
  gint refcount;
  SbKeyType type;
  EVP_PKEY *pkey;
  SbKey *public_key;
};

/* Decodes an even-length string of hex digits (either case) of at most @max_bytes bytes;
 * NULL for anything else, including the empty string. */
static guint8 *
hex_decode (const char *hex, gsize max_bytes, gsize *out_len)
{
  gsize n = strnlen (hex, max_bytes * 2 + 1);
  if (n == 0 || n % 2 != 0 || n > max_bytes * 2)
    return NULL;
  g_autofree guint8 *out = g_malloc (n / 2);
  for (gsize i = 0; i < n / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return NULL;
      out[i] = (guint8) (hi << 4 | lo);
    }
  *out_len = n / 2;
  return g_steal_pointer (&out);
}

/* The value of a standard base64 digit (RFC 4648 §4), or -1. */
static int
base64_digit_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Decodes standard padded base64 (RFC 4648 §4) of 1 to @max_bytes bytes, strictly: length a
 * multiple of 4, no whitespace or URL-safe digits, "=" only as the final padding, and unused
 * bits of the last digit zero, so each byte string has exactly one accepted spelling. NULL for
 * anything else. (g_base64_decode skips invalid characters, which is not what untrusted input
 * needs.) */
static guint8 *
base64_decode_strict (const char *text, gsize max_bytes, gsize *out_len)
{
  gsize max_chars = (max_bytes + 2) / 3 * 4;
  gsize n = strnlen (text, max_chars + 1);
  if (n == 0 || n % 4 != 0 || n > max_chars)
    return NULL;
  gsize pad = text[n - 1] == '=' ? (text[n - 2] == '=' ? 2 : 1) : 0;
  gsize len = n / 4 * 3 - pad;
  if (len == 0 || len > max_bytes)
    return NULL;

  g_autofree guint8 *out = g_malloc (n / 4 * 3);
  gsize o = 0;
  for (gsize i = 0; i < n; i += 4)
    {
      guint32 acc = 0;
      for (gsize j = 0; j < 4; j++)
        {
          int v;
          if (i + j >= n - pad)
            v = 0;
          else if ((v = base64_digit_value (text[i + j])) < 0)
            return NULL;
          acc = acc << 6 | (guint32) v;
        }
      out[o++] = (guint8) (acc >> 16);
      out[o++] = (guint8) (acc >> 8);
      out[o++] = (guint8) acc;
    }
  /* The padding's bits, which no byte uses, must be zero. */
  if ((pad == 1 && out[len + 0] != 0) || (pad == 2 && (out[len] != 0 || out[len + 1] != 0)))
    return NULL;
  *out_len = len;
  return g_steal_pointer (&out);
}

/* ---- keys ---- */

static gboolean
parse_key_type (const char *keytype, const char *scheme, SbKeyType *out)
{
  if (g_str_equal (keytype, "ed25519") && g_str_equal (scheme, "ed25519"))
    *out = SB_KEY_TYPE_ED25519;
  else if (g_str_equal (keytype, "rsa") && g_str_equal (scheme, "rsassa-pss-sha256"))
    *out = SB_KEY_TYPE_RSA;
  /* securesystemslib still reads the old keytype spelling "ecdsa-sha2-nistp256". */
  else if ((g_str_equal (keytype, "ecdsa") || g_str_equal (keytype, "ecdsa-sha2-nistp256"))
           && g_str_equal (scheme, "ecdsa-sha2-nistp256"))
    *out = SB_KEY_TYPE_ECDSA;
  else
    return FALSE;
  return TRUE;
}

/* Checks that @pkey is the kind of key @type names, within the accepted sizes. A key of another
 * kind is @mismatch (a malformed key object, or an unsupported private key); an RSA size out of
 * range is always SB_ERROR_UNSUPPORTED. */
static gboolean
check_pkey (EVP_PKEY *pkey, SbKeyType type, SbErrorCode mismatch, GError **error)
{
  switch (type)
    {
    case SB_KEY_TYPE_ED25519:
      if (EVP_PKEY_get_base_id (pkey) != EVP_PKEY_ED25519)
        return sb_throw (error, mismatch, "key is not an ed25519 key");
      return TRUE;
    case SB_KEY_TYPE_RSA:
      {
        if (EVP_PKEY_get_base_id (pkey) != EVP_PKEY_RSA)
          return sb_throw (error, mismatch, "key is not a plain RSA key");
        int bits = EVP_PKEY_get_bits (pkey);
        if (bits < SB_RSA_MIN_BITS || bits > SB_RSA_MAX_BITS)
          return sb_throw (error, SB_ERROR_UNSUPPORTED,
                           "RSA key of %d bits (accepted: %d to %d)", bits, SB_RSA_MIN_BITS,
                           SB_RSA_MAX_BITS);
        return TRUE;
      }
    case SB_KEY_TYPE_ECDSA:
      {
        char group[64];
        size_t group_len = 0;
        if (EVP_PKEY_get_base_id (pkey) != EVP_PKEY_EC)
          return sb_throw (error, mismatch, "key is not an EC key");
        /* Keys with explicit curve parameters have no group name and are refused here. */
        if (EVP_PKEY_get_group_name (pkey, group, sizeof group, &group_len) != 1
            || OBJ_sn2nid (group) != NID_X9_62_prime256v1)
          {
            ERR_clear_error ();
            return sb_throw (error, mismatch, "EC key is not on curve P-256");
          }
        return TRUE;
      }
    }
  return sb_throw (error, SB_ERROR_UNSUPPORTED, "unknown key type");
}

/* Reads one PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"). */
static EVP_PKEY *
pkey_from_public_pem (const char *pem, GError **error)
{
  gsize len = strnlen (pem, SB_KEY_MAX_PEM + 1);
  if (len > SB_KEY_MAX_PEM)
    {
      sb_throw (error, SB_ERROR_PARSE, "public key PEM longer than %d bytes", SB_KEY_MAX_PEM);
      return NULL;
    }
  g_autoptr (BIO) bio = BIO_new_mem_buf (pem, (int) len);
  if (bio == NULL)
    {
      sb_throw (error, SB_ERROR_FAILED, "OpenSSL: %s", sb_openssl_reason ());
      return NULL;
    }
  EVP_PKEY *pkey = PEM_read_bio_PUBKEY (bio, NULL, NULL, NULL);
  if (pkey == NULL)
    {
      sb_throw (error, SB_ERROR_PARSE, "public key is not a PEM public key: %s",
                sb_openssl_reason ());
      return NULL;
    }
  return pkey;
}

static EVP_PKEY *
pkey_from_ed25519_hex (const char *hex, GError **error)
{
  gsize len = 0;
  g_autofree guint8 *raw = hex_decode (hex, 32, &len);
  if (raw == NULL || len != 32)
    {
      sb_throw (error, SB_ERROR_PARSE, "ed25519 public key is not 64 hex digits");
      return NULL;
    }
  EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, raw, len);
  if (pkey == NULL)
    sb_throw (error, SB_ERROR_PARSE, "ed25519 public key: %s", sb_openssl_reason ());
  return pkey;
}

/* Rejects EC points that are not valid public keys (off the curve, or the point at infinity).
 * RSA keys are not checked this way: OpenSSL's full RSA check runs a primality test that costs
 * milliseconds per key, which metadata listing many keys could turn into a stall; a bogus
 * modulus simply verifies nothing. */
static gboolean
check_public_values (EVP_PKEY *pkey, GError **error)
{
  if (EVP_PKEY_get_base_id (pkey) != EVP_PKEY_EC)
    return TRUE;
  g_autoptr (EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL);
  if (ctx == NULL || EVP_PKEY_public_check (ctx) != 1)
    return sb_throw (error, SB_ERROR_PARSE, "invalid public key: %s", sb_openssl_reason ());
  return TRUE;
}

static char *
compute_keyid (const char *keytype, const char *scheme, JsonNode *keyval, GError **error)
{
  /* securesystemslib's compute_default_keyid: the canonical JSON of these three fields only. */
  g_autoptr (JsonObject) obj = json_object_new ();
  json_object_set_string_member (obj, "keytype", keytype);
  json_object_set_string_member (obj, "scheme", scheme);
  json_object_set_member (obj, "keyval", json_node_copy (keyval));
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  g_autoptr (GBytes) canonical = sb_json_canonical (node, error);
  if (canonical == NULL)
    return NULL;
  gsize len = 0;
  const void *data = g_bytes_get_data (canonical, &len);
  return sb_sha256_hex (data, len);
}

/* Takes @pkey, already checked against @type. */
static SbKey *
key_new (JsonNode *key_object, SbKeyType type, const char *keytype, const char *scheme,
         EVP_PKEY *pkey_in, GError **error)
{
  g_autoptr (EVP_PKEY) pkey = pkey_in;
  JsonObject *obj = json_node_get_object (key_object);
  g_autofree char *keyid =
      compute_keyid (keytype, scheme, json_object_get_member (obj, "keyval"), error);
  if (keyid == NULL)
    return NULL;
  unsigned char *der = NULL;
  int der_len = i2d_PUBKEY (pkey, &der);
  if (der_len <= 0)
    {
      sb_throw (error, SB_ERROR_FAILED, "OpenSSL: cannot encode the public key: %s",
                sb_openssl_reason ());
      return NULL;
    }

  SbKey *key = g_new0 (SbKey, 1);
  key->refcount = 1;
  key->type = type;
  key->pkey = g_steal_pointer (&pkey);
  key->der = g_bytes_new (der, (gsize) der_len);
  OPENSSL_free (der);
  key->json = json_node_ref (key_object);
  key->keyid = g_steal_pointer (&keyid);
  return key;
}

SbKey *
sb_key_new_from_json (JsonNode *key_object, GError **error)
{
  g_return_val_if_fail (key_object != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (key_object))
    {
      sb_throw (error, SB_ERROR_PARSE, "key is not a JSON object");
      return NULL;
    }
  JsonObject *obj = json_node_get_object (key_object);
  const char *keytype = sb_json_get_string (obj, "keytype", "key", error);
  if (keytype == NULL)
    return NULL;
  const char *scheme;
  /* aktualizr and OTA Community Edition write keys as {"keytype": "ED25519" | "RSA", "keyval"}
   * with no scheme; their schemes are fixed (ed25519, rsassa-pss-sha256). Only those exact
   * upper-case spellings without a scheme are read that way; a TUF key without a scheme is
   * malformed, and an upper-case keytype with a scheme stays unsupported, as in python-tuf. */
  gboolean has_scheme = json_object_has_member (obj, "scheme");
  if (!has_scheme && g_str_equal (keytype, "ED25519"))
    {
      keytype = "ed25519";
      scheme = "ed25519";
    }
  else if (!has_scheme && g_str_equal (keytype, "RSA"))
    {
      keytype = "rsa";
      scheme = "rsassa-pss-sha256";
    }
  else if ((scheme = sb_json_get_string (obj, "scheme", "key", error)) == NULL)
    return NULL;
  JsonObject *keyval = sb_json_get_object (obj, "keyval", "key", error);
  if (keyval == NULL)
    return NULL;
  const char *public = sb_json_get_string (keyval, "public", "key keyval", error);
  if (public == NULL)
    return NULL;

  SbKeyType type;
  if (!parse_key_type (keytype, scheme, &type))
    {
      sb_throw (error, SB_ERROR_UNSUPPORTED, "unsupported key type \"%s\" with scheme \"%s\"",
                keytype, scheme);
      return NULL;
    }

  g_autoptr (EVP_PKEY) pkey = type == SB_KEY_TYPE_ED25519 ? pkey_from_ed25519_hex (public, error)
                                                          : pkey_from_public_pem (public, error);
  if (pkey == NULL)
    return NULL;
  if (!check_pkey (pkey, type, SB_ERROR_PARSE, error) || !check_public_values (pkey, error))
    {
      g_prefix_error (error, "%s key: ", keytype);
      return NULL;
    }
  return key_new (key_object, type, keytype, scheme, g_steal_pointer (&pkey), error);
}

SbKey *
sb_key_new_from_ota_ce_json (JsonNode *key_object, GError **error)
{
  g_return_val_if_fail (key_object != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (key_object))
    {
      sb_throw (error, SB_ERROR_PARSE, "key is not a JSON object");
      return NULL;
    }
  JsonObject *obj = json_node_get_object (key_object);
  const char *keytype = sb_json_get_string (obj, "keytype", "key", error);
  if (keytype == NULL)
    return NULL;
  /* aktualizr's PublicKey (crypto.cc) lower-cases the keytype and knows "ed25519" and "rsa";
   * MetaWithKeys::ParseKeys refuses the metadata for any other. */
  g_autofree char *lower = g_ascii_strdown (keytype, -1);
  SbKeyType type;
  if (g_str_equal (lower, "ed25519"))
    type = SB_KEY_TYPE_ED25519;
  else if (g_str_equal (lower, "rsa"))
    type = SB_KEY_TYPE_RSA;
  else
    {
      sb_throw (error, SB_ERROR_UNSUPPORTED, "unsupported OTA-CE key type \"%s\"", keytype);
      return NULL;
    }
  JsonObject *keyval = sb_json_get_object (obj, "keyval", "key", error);
  if (keyval == NULL)
    return NULL;
  const char *public = sb_json_get_string (keyval, "public", "key keyval", error);
  if (public == NULL)
    return NULL;

  g_autoptr (EVP_PKEY) pkey = type == SB_KEY_TYPE_ED25519 ? pkey_from_ed25519_hex (public, error)
                                                          : pkey_from_public_pem (public, error);
  if (pkey == NULL)
    return NULL;
  if (!check_pkey (pkey, type, SB_ERROR_PARSE, error))
    {
      /* An RSA size aktualizr does not know leaves the key unusable there, not the file. */
      if (error != NULL && *error != NULL)
        (*error)->code = SB_ERROR_PARSE;
      g_prefix_error (error, "%s key: ", keytype);
      return NULL;
    }
  /* aktualizr's Crypto::IdentifyRSAKeyType knows exactly these sizes. */
  if (type == SB_KEY_TYPE_RSA)
    {
      int bits = EVP_PKEY_get_bits (pkey);
      if (bits != 2048 && bits != 3072 && bits != 4096)
        {
          sb_throw (error, SB_ERROR_PARSE, "%s key of %d bits (aktualizr reads 2048, 3072, 4096)",
                    keytype, bits);
          return NULL;
        }
    }
  const char *scheme = type == SB_KEY_TYPE_ED25519 ? "ed25519" : "rsassa-pss-sha256";
  return key_new (key_object, type, type == SB_KEY_TYPE_ED25519 ? "ed25519" : "rsa", scheme,
                  g_steal_pointer (&pkey), error);
}

SbKey *
sb_key_ref (SbKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  g_atomic_int_inc (&key->refcount);
  return key;
}

void
sb_key_unref (SbKey *key)
{
  if (key == NULL || !g_atomic_int_dec_and_test (&key->refcount))
    return;
  EVP_PKEY_free (key->pkey);
  g_bytes_unref (key->der);
  json_node_unref (key->json);
  g_free (key->keyid);
  g_free (key);
}

const char *
sb_key_get_keyid (SbKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->keyid;
}

GBytes *
sb_key_get_public_der (SbKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->der;
}

SbKeyType
sb_key_get_key_type (SbKey *key)
{
  g_return_val_if_fail (key != NULL, SB_KEY_TYPE_ED25519);
  return key->type;
}

JsonNode *
sb_key_to_json (SbKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return json_node_ref (key->json);
}

/* Sets up @ctx for the scheme's digest and padding; @pkey may be public or private. */
static gboolean
init_digest_ctx (EVP_MD_CTX *ctx, SbKeyType type, EVP_PKEY *pkey, gboolean sign)
{
  EVP_PKEY_CTX *pctx = NULL;
  const EVP_MD *md = type == SB_KEY_TYPE_ED25519 ? NULL : EVP_sha256 ();
  int ok = sign ? EVP_DigestSignInit (ctx, &pctx, md, NULL, pkey)
                : EVP_DigestVerifyInit (ctx, &pctx, md, NULL, pkey);
  if (ok != 1)
    return FALSE;
  if (type == SB_KEY_TYPE_RSA)
    {
      /* securesystemslib: PSS with MGF1-SHA256; the signer uses a digest-length salt and the
       * verifier accepts any salt length (PSS.AUTO). */
      if (EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PSS_PADDING) != 1
          || EVP_PKEY_CTX_set_rsa_mgf1_md (pctx, EVP_sha256 ()) != 1
          || EVP_PKEY_CTX_set_rsa_pss_saltlen (
                 pctx, sign ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_AUTO)
                 != 1)
        return FALSE;
    }
  return TRUE;
}

gboolean
sb_key_verify (SbKey *key, const guint8 *data, gsize len, const char *sig_hex, GError **error)
{
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (sig_hex == NULL)
    return sb_throw (error, SB_ERROR_BAD_SIGNATURE, "no signature by key %s", key->keyid);
  gsize sig_len = 0;
  g_autofree guint8 *sig = hex_decode (sig_hex, SB_SIG_MAX_BYTES, &sig_len);
  /* aktualizr and OTA Community Edition write "sig" in base64 (design.md §2). A signature that
   * is not hex is read as base64; both decode to the same bytes, so no check is weakened. */
  if (sig == NULL)
    sig = base64_decode_strict (sig_hex, SB_SIG_MAX_BYTES, &sig_len);
  if (sig == NULL)
    return sb_throw (error, SB_ERROR_BAD_SIGNATURE,
                     "signature by key %s is neither hex nor base64 of 1 to %d bytes",
                     key->keyid, SB_SIG_MAX_BYTES);

  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  if (ctx == NULL || !init_digest_ctx (ctx, key->type, key->pkey, FALSE))
    return sb_throw (error, SB_ERROR_FAILED, "setting up verification with key %s: %s",
                     key->keyid, sb_openssl_reason ());
  /* EVP_DigestVerify never reads a NULL buffer even for len 0, but give it a valid one. */
  static const guint8 empty[1];
  if (EVP_DigestVerify (ctx, sig, sig_len, data != NULL ? data : empty, len) != 1)
    {
      ERR_clear_error ();
      return sb_throw (error, SB_ERROR_BAD_SIGNATURE, "signature by key %s does not verify",
                       key->keyid);
    }
  return TRUE;
}

/* ---- signers ---- */

/* The TUF key object for the public half of @pkey, as securesystemslib writes it: ed25519
 * as 64 hex digits of the raw key, rsa and ecdsa as PEM SubjectPublicKeyInfo. */
static JsonNode *
public_key_object (EVP_PKEY *pkey, SbKeyType type, GError **error)
{
  g_autofree char *public = NULL;

  if (type == SB_KEY_TYPE_ED25519)
    {
      guint8 raw[32];
      size_t raw_len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key (pkey, raw, &raw_len) != 1 || raw_len != sizeof raw)
        {
          sb_throw (error, SB_ERROR_FAILED, "ed25519 public key: %s", sb_openssl_reason ());
          return NULL;
        }
      public = sb_hex_encode (raw, raw_len);
    }
  else
    {
      g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
      char *pem = NULL;
      long pem_len;
      if (bio == NULL || PEM_write_bio_PUBKEY (bio, pkey) != 1
          || (pem_len = BIO_get_mem_data (bio, &pem)) <= 0)
        {
          sb_throw (error, SB_ERROR_FAILED, "encoding the public key: %s", sb_openssl_reason ());
          return NULL;
        }
      public = g_strndup (pem, (gsize) pem_len);
    }

  static const char *const names[][2] = {
    [SB_KEY_TYPE_ED25519] = { "ed25519", "ed25519" },
    [SB_KEY_TYPE_RSA] = { "rsa", "rsassa-pss-sha256" },
    [SB_KEY_TYPE_ECDSA] = { "ecdsa", "ecdsa-sha2-nistp256" },
  };
  g_autoptr (JsonObject) keyval = json_object_new ();
  json_object_set_string_member (keyval, "public", public);
  g_autoptr (JsonObject) obj = json_object_new ();
  json_object_set_string_member (obj, "keytype", names[type][0]);
  json_object_set_string_member (obj, "scheme", names[type][1]);
  json_object_set_object_member (obj, "keyval", g_steal_pointer (&keyval));
  return json_node_init_object (json_node_alloc (), obj);
}

static SbSigner *
signer_new (EVP_PKEY *pkey, GError **error)
{
  SbKeyType type;
  switch (EVP_PKEY_get_base_id (pkey))
    {
    case EVP_PKEY_ED25519:
      type = SB_KEY_TYPE_ED25519;
      break;
    case EVP_PKEY_RSA:
      type = SB_KEY_TYPE_RSA;
      break;
    case EVP_PKEY_EC:
      type = SB_KEY_TYPE_ECDSA;
      break;
    default:
      sb_throw (error, SB_ERROR_UNSUPPORTED, "private key of unsupported type %s",
                OBJ_nid2sn (EVP_PKEY_get_base_id (pkey)));
      return NULL;
    }
  if (!check_pkey (pkey, type, SB_ERROR_UNSUPPORTED, error))
    return NULL;
  g_autoptr (JsonNode) json = public_key_object (pkey, type, error);
  if (json == NULL)
    return NULL;
  g_autoptr (SbKey) public_key = sb_key_new_from_json (json, error);
  if (public_key == NULL)
    return NULL;

  SbSigner *signer = g_new0 (SbSigner, 1);
  signer->refcount = 1;
  signer->type = type;
  signer->pkey = EVP_PKEY_dup (pkey);
  signer->public_key = g_steal_pointer (&public_key);
  if (signer->pkey == NULL)
    {
      sb_signer_unref (signer);
      sb_throw (error, SB_ERROR_FAILED, "copying the private key: %s", sb_openssl_reason ());
      return NULL;
    }
  return signer;
}

SbSigner *
sb_signer_ref (SbSigner *signer)
{
  g_return_val_if_fail (signer != NULL, NULL);
  g_atomic_int_inc (&signer->refcount);
  return signer;
}

void
sb_signer_unref (SbSigner *signer)
{
  if (signer == NULL || !g_atomic_int_dec_and_test (&signer->refcount))
    return;
  EVP_PKEY_free (signer->pkey);
  sb_key_unref (signer->public_key);
  g_free (signer);
}

SbSigner *
sb_signer_generate (SbKeyType type, GError **error)
{
  g_autoptr (EVP_PKEY) pkey = NULL;

  switch (type)
    {
    case SB_KEY_TYPE_ED25519:
      pkey = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
      break;
    case SB_KEY_TYPE_RSA:
      pkey = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) SB_RSA_GENERATE_BITS);
      break;
    case SB_KEY_TYPE_ECDSA:
      pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
      break;
    default:
      sb_throw (error, SB_ERROR_UNSUPPORTED, "cannot generate a key of type %d", (int) type);
      return NULL;
    }
  if (pkey == NULL)
    {
      sb_throw (error, SB_ERROR_FAILED, "generating a key: %s", sb_openssl_reason ());
      return NULL;
    }
  return signer_new (pkey, error);
}

/* Never prompt on a terminal for an encrypted key: refuse it instead. */
static int
no_passphrase (char *buf, int size, int rwflag, void *user_data)
{
  return -1;
}

SbSigner *
sb_signer_new_from_pem (const char *pem, gsize len, GError **error)
{
  g_return_val_if_fail (pem != NULL || len == 0, NULL);

  if (len > SB_PRIVATE_KEY_MAX_FILE)
    {
      sb_throw (error, SB_ERROR_PARSE, "private key PEM longer than %d bytes",
                SB_PRIVATE_KEY_MAX_FILE);
      return NULL;
    }
  g_autoptr (BIO) bio = BIO_new_mem_buf (len > 0 ? pem : "", (int) len);
  if (bio == NULL)
    {
      sb_throw (error, SB_ERROR_FAILED, "OpenSSL: %s", sb_openssl_reason ());
      return NULL;
    }
  g_autoptr (EVP_PKEY) pkey = PEM_read_bio_PrivateKey (bio, NULL, no_passphrase, NULL);
  if (pkey == NULL)
    {
      sb_throw (error, SB_ERROR_PARSE, "not an unencrypted PEM private key: %s",
                sb_openssl_reason ());
      return NULL;
    }
  return signer_new (pkey, error);
}

gboolean
sb_signer_with_pem (SbSigner *signer, SbPemUseFunc use, gpointer user_data, GError **error)
{
  g_return_val_if_fail (signer != NULL && use != NULL, FALSE);

  /* A secure-heap BIO wipes the key's PEM when it is freed. */
  g_autoptr (BIO) bio = BIO_new (BIO_s_secmem ());
  char *pem = NULL;
  long pem_len;
  if (bio == NULL
      || PEM_write_bio_PKCS8PrivateKey (bio, signer->pkey, NULL, NULL, 0, NULL, NULL) != 1
      || (pem_len = BIO_get_mem_data (bio, &pem)) <= 0)
    return sb_throw (error, SB_ERROR_FAILED, "encoding the private key: %s",
                     sb_openssl_reason ());
  return use (pem, (gsize) pem_len, user_data, error);
}

SbKey *
sb_signer_get_public (SbSigner *signer)
{
  g_return_val_if_fail (signer != NULL, NULL);
  return signer->public_key;
}

char *
sb_signer_sign (SbSigner *signer, const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (signer != NULL, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  static const guint8 empty[1];
  g_autoptr (EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  size_t sig_len = 0;
  if (ctx == NULL || !init_digest_ctx (ctx, signer->type, signer->pkey, TRUE)
      || EVP_DigestSign (ctx, NULL, &sig_len, data != NULL ? data : empty, len) != 1)
    {
      sb_throw (error, SB_ERROR_FAILED, "signing with key %s: %s",
                sb_key_get_keyid (signer->public_key), sb_openssl_reason ());
      return NULL;
    }
  g_autofree guint8 *sig = g_malloc (sig_len);
  if (EVP_DigestSign (ctx, sig, &sig_len, data != NULL ? data : empty, len) != 1)
    {
      sb_throw (error, SB_ERROR_FAILED, "signing with key %s: %s",
                sb_key_get_keyid (signer->public_key), sb_openssl_reason ());
      return NULL;
    }
  return sb_hex_encode (sig, sig_len);
}
