/* sb-ostree-module.c: the entry table of switchback-ostree.so (sb-ostree-module.h). It is the
 * module's only exported symbol. The module carries no copy of the core library: its calls into
 * libswitchback resolve to the loading program's copy, which switchback exports. */
#include "config.h"

#include "ostree/sb-ostree-module.h"

#include <gmodule.h>

G_MODULE_EXPORT const SbOstreeModule sb_ostree_module = {
  .abi = SB_OSTREE_MODULE_ABI,
  .version = PACKAGE_VERSION,
  .sizes = SB_OSTREE_MODULE_SIZES,
  .install = sb_ostree_install_in_process,
  .settle = sb_ostree_install_settle_in_process,
};
