/* sb-key-file.c: private keys in files. */
#include "config.h"

#include "state/sb-key-file.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"

SbSigner *
sb_signer_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr (GBytes) bytes = sb_read_file (path, SB_PRIVATE_KEY_MAX, error);
  if (bytes == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  SbSigner *signer = sb_signer_new_from_pem (data, len, error);
  if (signer == NULL)
    g_prefix_error (error, "%s: ", path);
  return signer;
}

static gboolean
write_pem (const char *pem, gsize len, gpointer user_data, GError **error)
{
  return sb_durable_write (user_data, pem, len, 0600, error);
}

gboolean
sb_signer_save (SbSigner *signer, const char *path, GError **error)
{
  g_return_val_if_fail (signer != NULL && path != NULL, FALSE);

  if (!sb_signer_with_pem (signer, write_pem, (gpointer) path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}
