/* sb-error.c: the SB_ERROR domain. */
#include "config.h"

#include "core/sb-error.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK (switchback-error-quark, sb_error)

gboolean
sb_throw (GError **error, SbErrorCode code, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, SB_ERROR, code, msg);
  return FALSE;
}

SbErrorCode
sb_error_code_from_errno (int errsv, SbErrorCode fallback)
{
  switch (errsv)
    {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
      return SB_ERROR_NO_SPACE;
    case ENOENT:
      return SB_ERROR_NOT_FOUND;
    case EBUSY:
      return SB_ERROR_SLOT_BUSY;
    default:
      return fallback;
    }
}

gboolean
sb_throw_errno (GError **error, SbErrorCode code, const char *fmt, ...)
{
  int errsv = errno;
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  SbErrorCode c = (errsv == ENOSPC
#ifdef EDQUOT
                   || errsv == EDQUOT
#endif
                   ) ? SB_ERROR_NO_SPACE : code;
  g_set_error (error, SB_ERROR, c, "%s: %s", msg, g_strerror (errsv));
  return FALSE;
}

const char *
sb_error_code_name (int code)
{
  static const char *const names[] = {
    [SB_ERROR_FAILED] = "failed",
    [SB_ERROR_INVALID_ARGUMENT] = "invalid-argument",
    [SB_ERROR_IO] = "io",
    [SB_ERROR_NO_SPACE] = "no-space",
    [SB_ERROR_PARSE] = "malformed",
    [SB_ERROR_BAD_TYPE] = "bad-type",
    [SB_ERROR_SPEC_VERSION] = "spec-version",
    [SB_ERROR_UNSUPPORTED] = "unsupported",
    [SB_ERROR_BAD_SIGNATURE] = "bad-signature",
    [SB_ERROR_THRESHOLD] = "threshold-not-met",
    [SB_ERROR_EXPIRED] = "expired",
    [SB_ERROR_ROLLBACK] = "rollback",
    [SB_ERROR_VERSION_MISMATCH] = "version-mismatch",
    [SB_ERROR_LENGTH_MISMATCH] = "length-mismatch",
    [SB_ERROR_HASH_MISMATCH] = "hash-mismatch",
    [SB_ERROR_ENDLESS_DATA] = "endless-data",
    [SB_ERROR_SLOW_RETRIEVAL] = "slow-retrieval",
    [SB_ERROR_DOWNLOAD] = "download-failed",
    [SB_ERROR_NOT_FOUND] = "not-found",
    [SB_ERROR_UNSAFE_PATH] = "unsafe-path",
    [SB_ERROR_TOO_MANY] = "too-many",
    [SB_ERROR_BAD_HARDWARE_ID] = "bad-hardware-id",
    [SB_ERROR_BAD_ECU_ID] = "bad-ecu-id",
    [SB_ERROR_MISMATCH] = "director-image-mismatch",
    [SB_ERROR_REPLAY] = "replay",
    [SB_ERROR_CONFIG] = "config",
    [SB_ERROR_STATE] = "state",
    [SB_ERROR_SLOT_BUSY] = "slot-busy",
    [SB_ERROR_INSTALL] = "install-failed",
    [SB_ERROR_URL_REFUSED] = "url-refused",
    [SB_ERROR_NOT_ON_SERVER] = "not-on-server",
  };
  if (code < 0 || (gsize) code >= G_N_ELEMENTS (names) || names[code] == NULL)
    return "unknown";
  return names[code];
}
