/* sb-error.h: the one error domain of switchback.
 *
 * Every fallible function takes a GError ** and reports one of these codes. The codes name the
 * failure classes of TUF and Uptane so that callers (and tests) can react to the class of an
 * attack or fault without parsing messages. Messages name the object and the reason.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SB_ERROR (sb_error_quark ())
GQuark sb_error_quark (void);

typedef enum {
  SB_ERROR_FAILED,             /* anything not covered below */
  SB_ERROR_INVALID_ARGUMENT,   /* a program called a library function wrongly (a bug) */
  SB_ERROR_IO,                 /* a local read or write failed */
  SB_ERROR_NO_SPACE,           /* ENOSPC / EDQUOT, or the image is larger than the slot */
  SB_ERROR_PARSE,              /* malformed JSON or metadata that does not fit the schema */
  SB_ERROR_BAD_TYPE,           /* metadata _type is not the role expected */
  SB_ERROR_SPEC_VERSION,       /* unsupported spec_version */
  SB_ERROR_UNSUPPORTED,        /* unknown key type, scheme or hash algorithm */
  SB_ERROR_BAD_SIGNATURE,      /* a signature does not verify */
  SB_ERROR_THRESHOLD,          /* fewer valid signatures than the role's threshold */
  SB_ERROR_EXPIRED,            /* freeze attack: metadata past its expiry */
  SB_ERROR_ROLLBACK,           /* rollback attack: version lower than trusted */
  SB_ERROR_VERSION_MISMATCH,   /* mix-and-match: version differs from what the parent lists */
  SB_ERROR_LENGTH_MISMATCH,    /* length differs from what the parent lists */
  SB_ERROR_HASH_MISMATCH,      /* a hash differs from what the parent lists */
  SB_ERROR_ENDLESS_DATA,       /* the server sent more than the cap */
  SB_ERROR_SLOW_RETRIEVAL,     /* the server stayed below the minimum speed */
  SB_ERROR_DOWNLOAD,           /* HTTP or transport failure after retries */
  SB_ERROR_NOT_FOUND,          /* a local role, target, file or partition does not exist */
  SB_ERROR_UNSAFE_PATH,        /* a target name that would escape its directory */
  SB_ERROR_TOO_MANY,           /* a cap was hit: root rotations, delegations visited, ... */
  SB_ERROR_BAD_HARDWARE_ID,    /* Uptane: target not meant for this hardware */
  SB_ERROR_BAD_ECU_ID,         /* Uptane: target for an ECU this primary does not know */
  SB_ERROR_MISMATCH,           /* Uptane: Director and Image repository disagree */
  SB_ERROR_REPLAY,             /* Uptane: Director targets without this vehicle's id */
  SB_ERROR_CONFIG,             /* bad configuration file, key or value */
  SB_ERROR_STATE,              /* unreadable or inconsistent state on disk */
  SB_ERROR_SLOT_BUSY,          /* the slot is active or mounted */
  SB_ERROR_INSTALL,            /* writing or staging an image failed */
  SB_ERROR_URL_REFUSED,        /* a URL the policy refuses (sb-url-policy.h): its scheme, plain
                                * http to a remote host, file:// from metadata or a redirect */
  SB_ERROR_NOT_ON_SERVER,      /* the server has no such resource (HTTP 404/410) */
} SbErrorCode;

/* Codes are never renumbered: new ones go at the end. Every code has a row in docs/errors.md
 * (tests/test-error-table.sh checks it). */

/* Sets @error to (SB_ERROR, @code, message) and returns FALSE, so callers can write
 * `return sb_throw (error, SB_ERROR_PARSE, "…");`. */
gboolean sb_throw (GError **error, SbErrorCode code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* Like sb_throw, with ": strerror(errno)" appended. errno ENOSPC and EDQUOT become
 * SB_ERROR_NO_SPACE whatever @code says, so a full disk is always reported as such.
 * errno is read before anything else can change it. */
gboolean sb_throw_errno (GError **error, SbErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

/* Maps an errno value to the matching code: ENOSPC/EDQUOT to NO_SPACE, ENOENT to NOT_FOUND,
 * EBUSY to SLOT_BUSY, anything else to @fallback. */
SbErrorCode sb_error_code_from_errno (int errsv, SbErrorCode fallback);

/* Short stable name of a code ("rollback", "endless-data", ...), for --json output and logs. */
const char *sb_error_code_name (int code);

G_END_DECLS
