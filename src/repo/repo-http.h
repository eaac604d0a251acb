/* repo-http.h: the request handling of `serve` over a SoupServer (libsoup 3).
 *
 * URL layout (design.md §2). A plain TUF repository DIR:
 *   /metadata/FILE           DIR/metadata/FILE (role names percent-encoded as clients do)
 *   /metadata/delegations/ROLE.json   with OTA-CE layout, delegated roles
 *   /targets/NAME            DIR/targets/NAME (with Range support)
 * An Uptane pair DIR (uptane-init):
 *   /director/FILE           DIR/director/metadata/FILE; with OTA-CE layout only root and
 *                            targets (no timestamp, no snapshot)
 *   PUT /director/manifest   a vehicle version manifest, verified against the ECU keys
 *                            registered with register-ecu, stored under
 *                            DIR/director/manifests/NNNNNNNN.json
 *   /repo/FILE, /repo/targets/NAME, /repo/delegations/ROLE.json (OTA-CE)
 *                            the Image repository
 * Any: extra mounts /PREFIX/... -> PATH/..., and the control endpoint:
 *   POST /_control/fault?path=P&mode=MODES[&times=N]   (repo-faults.h; mode=none clears)
 *   POST /_control/reset     clears every fault and the request counts
 *   GET  /_control/faults    the faults, as JSON
 *   GET  /_control/hits[?path=P]   request counts per path, as JSON (or one number)
 *
 * Files are streamed in large chunks straight from disk, never read whole.
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include "repo-faults.h"

G_BEGIN_DECLS

typedef struct
{
  const char *dir;  /* the repository, or the Uptane pair */
  gboolean uptane;  /* DIR is an Uptane pair */
  gboolean ota_ce;  /* OTA Community Edition layout */
  gboolean verbose; /* log each request on stderr */
  gboolean control; /* offer /_control/ */
  char **mounts;    /* "/PREFIX=PATH" extra directories, may be NULL */
} SbRepoServerOptions;

typedef struct _SbRepoServer SbRepoServer;

/* Checks the options (the directories exist, mounts are well formed) and prepares the
 * handlers. The fault table starts empty. */
SbRepoServer *sb_repo_server_new (const SbRepoServerOptions *opts,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_repo_server_free (SbRepoServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbRepoServer, sb_repo_server_free)

/* The faults (borrowed), to set from the command line before serving. */
SbFaultTable *sb_repo_server_get_faults (SbRepoServer *srv);

/* Installs the handlers on @soup (which must outlive nothing: @srv must outlive @soup's
 * requests). */
void sb_repo_server_attach (SbRepoServer *srv, SoupServer *soup);

G_END_DECLS
