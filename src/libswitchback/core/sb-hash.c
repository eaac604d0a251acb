/* sb-hash.c: the streaming hasher that checks targets and metadata against the hashes their
 * parents list, one-shot digests and their constant-time comparison (OpenSSL 3 EVP). */
#include "config.h"

#include "core/sb-hash.h"
#include "core/sb-error.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)

const char *
sb_openssl_reason (void)
{
  unsigned long e = ERR_peek_last_error ();
  const char *reason = e != 0 ? ERR_reason_error_string (e) : NULL;
  ERR_clear_error ();
  return reason != NULL ? reason : "unknown error";
}

char *
sb_hex_encode (const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (len * 2 + 1);
  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0xf];
    }
  out[len * 2] = '\0';
  return out;
}

struct _SbHasher {
  guint algos;
  EVP_MD_CTX *sha256;
  EVP_MD_CTX *sha512;
  gboolean finished;
  char hex256[EVP_MAX_MD_SIZE * 2 + 1];
  char hex512[EVP_MAX_MD_SIZE * 2 + 1];
  char *failure; /* why OpenSSL failed: the hasher is then spent (sb_hasher_check) */
};

/* Records the first OpenSSL failure; a daemon reports it as an error, never aborts on it. */
static void
fail (SbHasher *hasher, const char *what)
{
  if (hasher->failure == NULL)
    hasher->failure = g_strdup_printf ("OpenSSL %s failed: %s", what, sb_openssl_reason ());
}

SbHashAlgo
sb_hash_algo_from_name (const char *name)
{
  g_return_val_if_fail (name != NULL, 0);
  if (g_str_equal (name, "sha256"))
    return SB_HASH_SHA256;
  if (g_str_equal (name, "sha512"))
    return SB_HASH_SHA512;
  return 0;
}

const char *
sb_hash_algo_name (SbHashAlgo algo)
{
  switch (algo)
    {
    case SB_HASH_SHA256:
      return "sha256";
    case SB_HASH_SHA512:
      return "sha512";
    }
  return NULL;
}

/* Digest initialisation fails only when OpenSSL itself is broken (no default provider). */
static EVP_MD_CTX *
md_ctx_new (SbHasher *hasher, const EVP_MD *md, const char *what)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  if (ctx == NULL || EVP_DigestInit_ex (ctx, md, NULL) != 1)
    {
      fail (hasher, what);
      EVP_MD_CTX_free (ctx);
      return NULL;
    }
  return ctx;
}

SbHasher *
sb_hasher_new (guint algos)
{
  g_return_val_if_fail (algos != 0 && (algos & ~(SB_HASH_SHA256 | SB_HASH_SHA512)) == 0, NULL);

  SbHasher *hasher = g_new0 (SbHasher, 1);
  hasher->algos = algos;
  if (algos & SB_HASH_SHA256)
    hasher->sha256 = md_ctx_new (hasher, EVP_sha256 (), "initialising sha256");
  if (algos & SB_HASH_SHA512)
    hasher->sha512 = md_ctx_new (hasher, EVP_sha512 (), "initialising sha512");
  return hasher;
}

void
sb_hasher_update (SbHasher *hasher, const void *data, gsize len)
{
  g_return_if_fail (hasher != NULL && !hasher->finished);
  g_return_if_fail (data != NULL || len == 0);

  if (len == 0 || hasher->failure != NULL)
    return;
  if ((hasher->sha256 != NULL && EVP_DigestUpdate (hasher->sha256, data, len) != 1)
      || (hasher->sha512 != NULL && EVP_DigestUpdate (hasher->sha512, data, len) != 1))
    fail (hasher, "digest update");
}

static void
finish_one (SbHasher *hasher, EVP_MD_CTX *ctx, char *hex_out)
{
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (hasher->failure != NULL)
    return;
  if (EVP_DigestFinal_ex (ctx, md, &md_len) != 1)
    {
      fail (hasher, "digest final");
      return;
    }
  g_autofree char *hex = sb_hex_encode (md, md_len);
  memcpy (hex_out, hex, md_len * 2 + 1);
}

gboolean
sb_hasher_check (SbHasher *hasher, GError **error)
{
  g_return_val_if_fail (hasher != NULL, FALSE);
  if (hasher->failure != NULL)
    return sb_throw (error, SB_ERROR_FAILED, "%s", hasher->failure);
  return TRUE;
}

const char *
sb_hasher_get_hex (SbHasher *hasher, SbHashAlgo algo)
{
  g_return_val_if_fail (hasher != NULL, NULL);

  if ((algo != SB_HASH_SHA256 && algo != SB_HASH_SHA512) || (hasher->algos & algo) == 0)
    return NULL;

  if (!hasher->finished)
    {
      if (hasher->sha256 != NULL)
        finish_one (hasher, hasher->sha256, hasher->hex256);
      if (hasher->sha512 != NULL)
        finish_one (hasher, hasher->sha512, hasher->hex512);
      hasher->finished = TRUE;
    }
  if (hasher->failure != NULL)
    return NULL;
  return algo == SB_HASH_SHA256 ? hasher->hex256 : hasher->hex512;
}

static EVP_MD_CTX *
md_ctx_copy (SbHasher *copy, EVP_MD_CTX *src)
{
  if (src == NULL || copy->failure != NULL)
    return NULL;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  if (ctx == NULL || EVP_MD_CTX_copy_ex (ctx, src) != 1)
    {
      fail (copy, "copying a digest");
      EVP_MD_CTX_free (ctx);
      return NULL;
    }
  return ctx;
}

SbHasher *
sb_hasher_copy (SbHasher *hasher)
{
  g_return_val_if_fail (hasher != NULL, NULL);

  SbHasher *copy = g_new0 (SbHasher, 1);
  copy->algos = hasher->algos;
  copy->finished = hasher->finished;
  memcpy (copy->hex256, hasher->hex256, sizeof copy->hex256);
  memcpy (copy->hex512, hasher->hex512, sizeof copy->hex512);
  copy->failure = g_strdup (hasher->failure);
  if (!hasher->finished)
    {
      copy->sha256 = md_ctx_copy (copy, hasher->sha256);
      copy->sha512 = md_ctx_copy (copy, hasher->sha512);
    }
  return copy;
}

void
sb_hasher_free (SbHasher *hasher)
{
  if (hasher == NULL)
    return;
  EVP_MD_CTX_free (hasher->sha256);
  EVP_MD_CTX_free (hasher->sha512);
  g_free (hasher->failure);
  g_free (hasher);
}

static char *
digest_hex (const EVP_MD *md, const void *data, gsize len)
{
  static const guint8 empty[1];
  guint8 out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest (data != NULL ? data : empty, len, out, &out_len, md, NULL) != 1)
    {
      /* A daemon does not abort on a broken OpenSSL: the caller gets NULL. */
      g_warning ("OpenSSL %s failed: %s", EVP_MD_get0_name (md), sb_openssl_reason ());
      return NULL;
    }
  return sb_hex_encode (out, out_len);
}

char *
sb_sha256_hex (const void *data, gsize len)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  return digest_hex (EVP_sha256 (), data, len);
}

char *
sb_sha512_hex (const void *data, gsize len)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  return digest_hex (EVP_sha512 (), data, len);
}

gboolean
sb_hex_digest_equal (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return FALSE;

  /* Lengths are public (they follow from the algorithm); only the digits are compared in
   * constant time, so a timing probe cannot learn a matching prefix. */
  gsize len = strlen (a);
  if (len == 0 || len != strlen (b) || len > EVP_MAX_MD_SIZE * 2)
    return FALSE;
  char la[EVP_MAX_MD_SIZE * 2], lb[EVP_MAX_MD_SIZE * 2];
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isxdigit (a[i]) || !g_ascii_isxdigit (b[i]))
        return FALSE;
      la[i] = g_ascii_tolower (a[i]);
      lb[i] = g_ascii_tolower (b[i]);
    }
  return CRYPTO_memcmp (la, lb, len) == 0;
}
