/* sb-identity.c: the ECU key, serial and hardware id. */
#include "config.h"

#include "state/sb-identity.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-key-file.h"
#include "core/sb-json.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A PEM private key is a few KiB at most (RSA 4096 is about 3.3 KiB). */
#define PRIVATE_KEY_MAX_SIZE (64 * 1024)

struct _SbIdentity {
  gint refcount;
  SbSigner *signer;
  char *ecu_serial;
  char *hardware_id;
  char *vehicle_id;
  char *private_path;
  char *public_path;
};

SbIdentity *
sb_identity_ref (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  g_atomic_int_inc (&identity->refcount);
  return identity;
}

void
sb_identity_unref (SbIdentity *identity)
{
  if (identity == NULL || !g_atomic_int_dec_and_test (&identity->refcount))
    return;
  sb_signer_unref (identity->signer);
  g_free (identity->ecu_serial);
  g_free (identity->hardware_id);
  g_free (identity->vehicle_id);
  g_free (identity->private_path);
  g_free (identity->public_path);
  g_free (identity);
}

/* Reads the private key through one descriptor, so the file whose mode is checked is the file
 * that is read. NULL with SB_ERROR_NOT_FOUND when there is none yet. */
static GBytes *
read_private_key (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      if (errno == ELOOP)
        sb_throw (error, SB_ERROR_STATE, "ECU private key %s is a symbolic link; refusing it",
                  path);
      else
        sb_throw_errno (error, errno == ENOENT ? SB_ERROR_NOT_FOUND : SB_ERROR_IO,
                        "opening ECU private key %s", path);
      return NULL;
    }

  struct stat st;
  if (fstat (fd, &st) < 0)
    {
      sb_throw_errno (error, SB_ERROR_IO, "inspecting ECU private key %s", path);
      (void) close (fd);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      sb_throw (error, SB_ERROR_STATE, "ECU private key %s is not a regular file", path);
      (void) close (fd);
      return NULL;
    }
  /* Uptane §5.4.1: the ECU key is what the Director trusts this ECU by. A key others could
   * read may already be copied, so it is refused rather than silently tightened. */
  if ((st.st_mode & 077) != 0)
    {
      sb_throw (error, SB_ERROR_STATE,
                "ECU private key %s has mode %04o: group and others must have no access (chmod "
                "600 it if it cannot have leaked, else remove it to create a new identity)",
                path, (unsigned) (st.st_mode & 07777));
      (void) close (fd);
      return NULL;
    }
  if (st.st_size > PRIVATE_KEY_MAX_SIZE)
    {
      sb_throw (error, SB_ERROR_STATE, "ECU private key %s is larger than %d bytes", path,
                PRIVATE_KEY_MAX_SIZE);
      (void) close (fd);
      return NULL;
    }

  gsize size = (gsize) st.st_size;
  g_autofree guint8 *buf = g_malloc (size + 1);
  gsize done = 0;
  while (done < size)
    {
      ssize_t n = read (fd, buf + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          sb_throw_errno (error, SB_ERROR_IO, "reading ECU private key %s", path);
          (void) close (fd);
          return NULL;
        }
      if (n == 0)
        break;
      done += (gsize) n;
    }
  if (close (fd) < 0)
    {
      sb_throw_errno (error, SB_ERROR_IO, "closing ECU private key %s", path);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&buf), done);
}

static SbSigner *
load_signer (const char *path, GError **error)
{
  g_autoptr (GBytes) pem = read_private_key (path, error);
  if (pem == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (pem, &len);
  g_autoptr (GError) local_error = NULL;
  SbSigner *signer = sb_signer_new_from_pem (data, len, &local_error);
  if (signer == NULL)
    sb_throw (error, SB_ERROR_STATE,
              "ECU private key %s is unusable (%s); it is kept as is, remove it to create a new "
              "identity",
              path, local_error->message);
  return signer;
}

/* public.json is derived: it is rewritten whenever it does not hold exactly the public half of
 * the private key, which also repairs a power cut between the two writes of the first start. */
static gboolean
sync_public_key (SbSigner *signer, const char *path, GError **error)
{
  g_autoptr (JsonNode) key_json = sb_key_to_json (sb_signer_get_public (signer));
  g_autofree char *expected = sb_json_pretty (key_json);
  gsize expected_len = strlen (expected);

  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) current = sb_read_file (path, PRIVATE_KEY_MAX_SIZE, &local_error);
  if (current != NULL)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (current, &len);
      if (len == expected_len && memcmp (data, expected, len) == 0)
        return TRUE;
      g_message ("ECU public key %s does not match the private key; rewriting it", path);
    }
  else if (!g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND)
           && !g_error_matches (local_error, SB_ERROR, SB_ERROR_ENDLESS_DATA))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "reading ECU public key: ");
      return FALSE;
    }

  if (!sb_durable_write (path, expected, expected_len, 0644, error))
    {
      g_prefix_error (error, "writing ECU public key: ");
      return FALSE;
    }
  return TRUE;
}

static char *
nonempty_or (const char *value, const char *fallback)
{
  return g_strdup (value != NULL && *value != '\0' ? value : fallback);
}

static SbIdentity *
identity_new (SbConfig *cfg, SbSigner *signer, char *private_path, char *public_path)
{
  SbIdentity *identity = g_new0 (SbIdentity, 1);
  identity->refcount = 1;
  identity->signer = signer;
  /* As aktualizr does: without a configured serial, the key id names the ECU. */
  identity->ecu_serial
      = nonempty_or (cfg->ecu_serial, sb_key_get_keyid (sb_signer_get_public (identity->signer)));
  identity->hardware_id = nonempty_or (cfg->hardware_id, g_get_host_name ());
  identity->vehicle_id = nonempty_or (cfg->vehicle_id, identity->ecu_serial);
  identity->private_path = private_path;
  identity->public_path = public_path;
  return identity;
}

SbIdentity *
sb_identity_load (SbConfig *cfg, GError **error)
{
  g_return_val_if_fail (cfg != NULL && cfg->state_dir != NULL, NULL);

  g_autofree char *private_path
      = g_build_filename (cfg->state_dir, SB_IDENTITY_DIR_NAME, SB_IDENTITY_PRIVATE_KEY_NAME, NULL);
  g_autofree char *public_path
      = g_build_filename (cfg->state_dir, SB_IDENTITY_DIR_NAME, SB_IDENTITY_PUBLIC_KEY_NAME, NULL);
  SbSigner *signer = load_signer (private_path, error);
  if (signer == NULL)
    return NULL;
  return identity_new (cfg, signer, g_steal_pointer (&private_path),
                       g_steal_pointer (&public_path));
}

SbIdentity *
sb_identity_load_or_create (SbConfig *cfg, SbKeyType type, GError **error)
{
  g_return_val_if_fail (cfg != NULL && cfg->state_dir != NULL, NULL);

  g_autofree char *dir = g_build_filename (cfg->state_dir, SB_IDENTITY_DIR_NAME, NULL);
  g_autofree char *private_path = g_build_filename (dir, SB_IDENTITY_PRIVATE_KEY_NAME, NULL);
  g_autofree char *public_path = g_build_filename (dir, SB_IDENTITY_PUBLIC_KEY_NAME, NULL);

  if (!sb_durable_mkdir_p (dir, 0700, error))
    {
      g_prefix_error (error, "creating the ECU key directory: ");
      return NULL;
    }

  g_autoptr (GError) local_error = NULL;
  g_autoptr (SbSigner) signer = load_signer (private_path, &local_error);
  if (signer == NULL)
    {
      if (!g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      /* First start. The private key goes to disk durably before anything is derived from it:
       * if power fails after this, the next start finds it and completes the rest. */
      signer = sb_signer_generate (type, error);
      if (signer == NULL)
        {
          g_prefix_error (error, "generating the ECU key: ");
          return NULL;
        }
      if (!sb_signer_save (signer, private_path, error))
        {
          g_prefix_error (error, "saving the ECU private key %s: ", private_path);
          return NULL;
        }
    }

  if (!sync_public_key (signer, public_path, error))
    return NULL;

  return identity_new (cfg, g_steal_pointer (&signer), g_steal_pointer (&private_path),
                       g_steal_pointer (&public_path));
}

const char *
sb_identity_get_ecu_serial (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->ecu_serial;
}

const char *
sb_identity_get_hardware_id (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->hardware_id;
}

const char *
sb_identity_get_vehicle_id (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->vehicle_id;
}

SbSigner *
sb_identity_get_signer (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->signer;
}

SbKey *
sb_identity_get_public_key (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return sb_signer_get_public (identity->signer);
}

JsonNode *
sb_identity_get_public_key_json (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return sb_key_to_json (sb_signer_get_public (identity->signer));
}

const char *
sb_identity_get_keyid (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return sb_key_get_keyid (sb_signer_get_public (identity->signer));
}

const char *
sb_identity_get_private_key_path (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->private_path;
}

const char *
sb_identity_get_public_key_path (SbIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->public_path;
}
