/* An OSTree module from "another build" for tests/test-ostree-loader: the right symbol with a
 * wrong ABI number and version, and functions that must never be called. */
#include "config.h"

#include "ostree/sb-ostree-module.h"

#include <gmodule.h>
#include <stdlib.h>

static gboolean
never_install (SbBootContext *ctx, const SbConfig *config, const SbInstallTarget *target,
               SbInstallStats *out_stats, GCancellable *cancellable, GError **error)
{
  abort ();
}

static gboolean
never_settle (const SbConfig *config, const SbInstallState *state, GCancellable *cancellable,
              GError **error)
{
  abort ();
}

G_MODULE_EXPORT const SbOstreeModule sb_ostree_module = {
  .abi = 0,
  .version = "0",
  .install = never_install,
  .settle = never_settle,
};
