/* sb-metadata-hashes.c: a file or a target against the length and hashes its parent lists
 * (TUF §5.3–5.6: snapshot and targets against the timestamp and snapshot, targets against
 * their target info). Declared in sb-metadata.h. */
#include "config.h"

#include "core/sb-metadata.h"
#include "core/sb-error.h"

#include <string.h>

static gboolean
hash_algos (JsonObject *hashes, const char *what, guint *out_algos, GError **error)
{
  guint algos = 0;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  json_object_iter_init (&iter, hashes);
  while (json_object_iter_next (&iter, &name, &node))
    {
      SbHashAlgo algo = sb_hash_algo_from_name (name);
      /* python-tuf fails on a hash it cannot compute: an unchecked hash vouches for nothing,
       * and skipping it would let a repository name only algorithms we ignore. */
      if (algo == 0)
        return sb_throw (error, SB_ERROR_UNSUPPORTED, "%s: hash algorithm \"%s\" is not supported",
                         what, name);
      algos |= algo;
    }
  *out_algos = algos;
  return TRUE;
}

static gboolean
verify_hashes (JsonObject *hashes, const char *what, SbHasher *hasher, GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  /* A broken OpenSSL is a local failure, not a hash mismatch (an attack). */
  if (!sb_hasher_check (hasher, error))
    return FALSE;
  json_object_iter_init (&iter, hashes);
  while (json_object_iter_next (&iter, &name, &node))
    {
      const char *observed = sb_hasher_get_hex (hasher, sb_hash_algo_from_name (name));
      if (observed == NULL || !sb_hex_digest_equal (observed, json_node_get_string (node)))
        return sb_throw (error, SB_ERROR_HASH_MISMATCH, "%s: %s is %s, expected %s", what, name,
                         observed ? observed : "(not computed)", json_node_get_string (node));
    }
  return TRUE;
}

static gboolean
verify_length_and_hashes (const char *what, gint64 expected_length, JsonObject *hashes,
                          const guint8 *data, gsize len, GError **error)
{
  if (expected_length >= 0 && (guint64) expected_length != len)
    return sb_throw (error, SB_ERROR_LENGTH_MISMATCH,
                     "%s: length is %" G_GSIZE_FORMAT ", expected %" G_GINT64_FORMAT, what, len,
                     expected_length);
  if (hashes == NULL)
    return TRUE;
  guint algos;
  if (!hash_algos (hashes, what, &algos, error))
    return FALSE;
  g_autoptr (SbHasher) hasher = sb_hasher_new (algos);
  sb_hasher_update (hasher, data, len);
  return verify_hashes (hashes, what, hasher, error);
}

gboolean
sb_meta_file_verify (const SbMetaFile *meta, const char *what, GBytes *data, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  return verify_length_and_hashes (what, meta->length, meta->hashes, p, len, error);
}

SbTargetInfo *
sb_target_info_copy (const SbTargetInfo *info)
{
  SbTargetInfo *copy = g_new0 (SbTargetInfo, 1);
  copy->path = g_strdup (info->path);
  copy->length = info->length;
  copy->hashes = json_object_ref (info->hashes);
  copy->custom = info->custom ? json_object_ref (info->custom) : NULL;
  return copy;
}

void
sb_target_info_free (SbTargetInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->path);
  g_clear_pointer (&info->hashes, json_object_unref);
  g_clear_pointer (&info->custom, json_object_unref);
  g_free (info);
}

gboolean
sb_target_info_get_hash_algos (const SbTargetInfo *info, guint *out_algos, GError **error)
{
  g_autofree char *what = g_strdup_printf ("target %s", info->path);
  return hash_algos (info->hashes, what, out_algos, error);
}

gboolean
sb_target_info_verify_bytes (const SbTargetInfo *info, const guint8 *data, gsize len,
                             GError **error)
{
  g_autofree char *what = g_strdup_printf ("target %s", info->path);
  return verify_length_and_hashes (what, info->length, info->hashes, data, len, error);
}

gboolean
sb_target_info_verify_hasher (const SbTargetInfo *info, guint64 length, SbHasher *hasher,
                              GError **error)
{
  g_autofree char *what = g_strdup_printf ("target %s", info->path);
  guint algos;
  if ((guint64) info->length != length)
    return sb_throw (error, SB_ERROR_LENGTH_MISMATCH,
                     "%s: length is %" G_GUINT64_FORMAT ", expected %" G_GINT64_FORMAT, what,
                     length, info->length);
  if (!hash_algos (info->hashes, what, &algos, error))
    return FALSE;
  return verify_hashes (info->hashes, what, hasher, error);
}
