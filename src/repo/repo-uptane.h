/* repo-uptane.h: the Director's registry of ECU keys, shared by register-ecu and serve.
 *
 * DIR/director/ecus/SERIAL.json (the serial percent-encoded) holds
 *   {"ecu_serial": S, "hardware_id": HW (optional), "public_key": <TUF key object>}
 * The Director verifies vehicle version manifests against these keys (Uptane §5.4.2.1).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SB_REPO_ECUS_DIR "ecus"

/* The registered ECUs of the Director repository @director_dir: serial -> the registration
 * object above (new table; values are JsonObject references). An absent ecus/ directory is an
 * empty registry; a malformed file is SB_ERROR_PARSE naming it. */
GHashTable *sb_repo_load_ecus (const char *director_dir, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
