/* sb-identity.h: who this primary ECU is to the Director (Uptane §5.4.1).
 *
 * The ECU key is generated on first start under <state-dir>/ecu/: the private key as PKCS#8 PEM,
 * mode 0600 (private.pem), and its public TUF key object beside it (public.json), the one to
 * register with the Director. The private key is the only source of truth: it is written first
 * and durably, and the public file is derived from it on every load, so a power cut between the
 * two writes never yields a second identity. The ECU serial defaults to the key id and the
 * hardware id to the hostname; [uptane] ecu-serial and hardware-id in the config win.
 */
#pragma once

#include "state/sb-config.h"
#include "core/sb-crypto.h"

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SB_IDENTITY_DIR_NAME "ecu"
#define SB_IDENTITY_PRIVATE_KEY_NAME "private.pem"
#define SB_IDENTITY_PUBLIC_KEY_NAME "public.json"

typedef struct _SbIdentity SbIdentity;

/* Loads the ECU key from <cfg->state_dir>/ecu/, creating it (and the directories, mode 0700) on
 * first start with a new key of @type. @type only matters then: an existing key is kept whatever
 * its type, because changing it would change the ECU's identity. public.json is rewritten when it
 * is missing or does not match the private key.
 * Errors: SB_ERROR_STATE when the private key file is readable or writable by group or others
 * (it is refused, not repaired, since the key may already have leaked), is not a regular file, or
 * does not hold a usable key (it is never replaced silently: removing it is the way to a new
 * identity); SB_ERROR_IO / SB_ERROR_NO_SPACE when writing fails. */
SbIdentity *sb_identity_load_or_create (SbConfig *cfg, SbKeyType type, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Loads the ECU key from <cfg->state_dir>/ecu/ without writing anything (for `switchback status`,
 * which must not change the disk): no directory, key or public.json is created or rewritten.
 * Errors: SB_ERROR_NOT_FOUND when there is no key yet (the first check, update or daemon run
 * creates it, or the factory installs one at ecu/private.pem, mode 0600); otherwise as for
 * sb_identity_load_or_create. */
SbIdentity *sb_identity_load (SbConfig *cfg, GError **error) G_GNUC_WARN_UNUSED_RESULT;

SbIdentity *sb_identity_ref (SbIdentity *identity);
void sb_identity_unref (SbIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbIdentity, sb_identity_unref)

/* The primary ECU serial: [uptane] ecu-serial, else the key id. */
const char *sb_identity_get_ecu_serial (SbIdentity *identity);
/* The hardware id: [uptane] hardware-id, else the hostname. */
const char *sb_identity_get_hardware_id (SbIdentity *identity);
/* The vehicle id the Director's targets must name (design.md §3): [uptane] vehicle-id, else the ECU
 * serial. */
const char *sb_identity_get_vehicle_id (SbIdentity *identity);
/* The ECU key (borrowed). */
SbSigner *sb_identity_get_signer (SbIdentity *identity);
/* Its public half (borrowed). */
SbKey *sb_identity_get_public_key (SbIdentity *identity);
/* The public TUF key object, as public.json holds it (a new reference). */
JsonNode *sb_identity_get_public_key_json (SbIdentity *identity);
/* The key id (TUF: sha256 of the canonical key object). */
const char *sb_identity_get_keyid (SbIdentity *identity);
/* Where the keys live. */
const char *sb_identity_get_private_key_path (SbIdentity *identity);
const char *sb_identity_get_public_key_path (SbIdentity *identity);

G_END_DECLS
