/* sb-ostree-module.h: the boundary between switchback and its OSTree module.
 *
 * Only OSTREE targets need libostree, but libostree brings libarchive, libxml2, ICU (30 MiB of
 * data alone), gpgme and more: linked into switchback, it costs every raw-image install about
 * 4 MiB of resident library pages, and every raw-only system would have to carry those
 * libraries. So the code that calls libostree (sb-ostree.c and the install of
 * sb-ostree-install.c) is built into a loadable module, switchback-ostree.so, installed in
 * $(pkglibdir). sb_ostree_install() and sb_ostree_install_settle() (sb-ostree-install.h) load it
 * on first use (sb-ostree-loader.c); a system without OSTree targets never loads it, and a
 * system without the file gets a clear SB_ERROR_UNSUPPORTED for an OSTREE target.
 *
 * The module is built from the same sources as switchback and exchanges its structures
 * (SbBootContext, SbConfig, SbInstallTarget) by pointer, so a module from another build is
 * refused: the ABI number, the package version and the structure sizes must all match.
 */
#pragma once

#include <gio/gio.h>

#include "install/sb-bootchooser.h"
#include "state/sb-config.h"
#include "install/sb-install.h"

G_BEGIN_DECLS

/* Raised whenever the table below or the structures it passes change shape. */
#define SB_OSTREE_MODULE_ABI 1

/* The one symbol the module exports: a const SbOstreeModule. */
#define SB_OSTREE_MODULE_SYMBOL "sb_ostree_module"

/* The environment variable that names another module file (tests run the build tree's): a
 * test hook, honoured only in a build with --enable-test-hooks (sb-test-hooks.h). */
#define SB_OSTREE_MODULE_ENV "SWITCHBACK_OSTREE_MODULE"

typedef struct
{
  guint abi;           /* SB_OSTREE_MODULE_ABI */
  const char *version; /* PACKAGE_VERSION */
  gsize sizes[4];      /* SbBootContext, SbConfig, SbInstallTarget, SbInstallStats */
  gboolean (*install) (SbBootContext *ctx, const SbConfig *config, const SbInstallTarget *target,
                       SbInstallStats *out_stats, GCancellable *cancellable, GError **error);
  gboolean (*settle) (const SbConfig *config, const SbInstallState *state,
                      GCancellable *cancellable, GError **error);
} SbOstreeModule;

#define SB_OSTREE_MODULE_SIZES                                                                    \
  {                                                                                               \
    sizeof (SbBootContext), sizeof (SbConfig), sizeof (SbInstallTarget), sizeof (SbInstallStats)  \
  }

/* The module file switchback loads: $(pkglibdir)/switchback-ostree.so, or with test hooks
 * (sb-test-hooks.h) $SWITCHBACK_OSTREE_MODULE when set and not empty. */
const char *sb_ostree_module_path (void);

/* The implementations inside the module (and in tests that link libostree themselves); the
 * contracts are those of sb_ostree_install() and sb_ostree_install_settle(). */
gboolean sb_ostree_install_in_process (SbBootContext *ctx, const SbConfig *config,
                                       const SbInstallTarget *target, SbInstallStats *out_stats,
                                       GCancellable *cancellable,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean sb_ostree_install_settle_in_process (const SbConfig *config,
                                              const SbInstallState *state,
                                              GCancellable *cancellable,
                                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
