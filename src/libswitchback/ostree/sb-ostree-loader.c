/* sb-ostree-loader.c: sb_ostree_install() and sb_ostree_install_settle() through the OSTree
 * module (sb-ostree-module.h), loaded once on first use. The checks that need no libostree stay
 * here, so a raw-image system never opens the module. */
#include "config.h"

#include "core/sb-error.h"
#include "ostree/sb-ostree-install.h"
#include "ostree/sb-ostree-module.h"
#include "ostree/sb-ostree-slots.h"
#include "state/sb-test-hooks.h"

#include <gmodule.h>
#include <string.h>

gboolean
sb_ostree_install_is_ostree (const SbInstallTarget *target)
{
  return target->format != NULL && strcmp (target->format, SB_INSTALL_FORMAT_OSTREE) == 0;
}

gboolean
sb_ostree_install_is_configured (const SbConfig *config)
{
  return config->disk == NULL || config->disk[0] == '\0';
}

const char *
sb_ostree_module_path (void)
{
  const char *env = sb_test_hook_get (SB_TEST_HOOK_OSTREE_MODULE);
  return env != NULL ? env : SB_PKGLIBDIR "/switchback-ostree.so";
}

/* The module stays loaded for the life of the process (g_module_make_resident): its code may
 * still be on the stack of a caller, and loading is rare enough that the pages do not matter. */
static const SbOstreeModule *
load_module (GError **error)
{
  static GMutex lock;
  static const SbOstreeModule *loaded;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&lock);
  if (loaded != NULL)
    return loaded;

  const char *path = sb_ostree_module_path ();
  /* The module resolves the core library's functions from this program (which exports them);
   * LOCAL keeps the module's own symbols out of the global scope. */
  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      sb_throw (error, SB_ERROR_UNSUPPORTED,
                "OSTree support is not available: cannot load the module %s (%s); install it",
                path, g_module_error ());
      return NULL;
    }
  gpointer sym = NULL;
  if (!g_module_symbol (module, SB_OSTREE_MODULE_SYMBOL, &sym) || sym == NULL)
    {
      sb_throw (error, SB_ERROR_UNSUPPORTED, "the OSTree module %s has no %s (%s)", path,
                SB_OSTREE_MODULE_SYMBOL, g_module_error ());
      (void)g_module_close (module);
      return NULL;
    }
  const SbOstreeModule *m = sym;
  const gsize sizes[] = SB_OSTREE_MODULE_SIZES;
  if (m->abi != SB_OSTREE_MODULE_ABI || g_strcmp0 (m->version, PACKAGE_VERSION) != 0
      || memcmp (m->sizes, sizes, sizeof sizes) != 0 || m->install == NULL || m->settle == NULL)
    {
      sb_throw (error, SB_ERROR_UNSUPPORTED,
                "the OSTree module %s is from another build of switchback (module %s, ABI %u; "
                "switchback %s, ABI %u)",
                path, m->version != NULL ? m->version : "(none)", m->abi, PACKAGE_VERSION,
                SB_OSTREE_MODULE_ABI);
      (void)g_module_close (module);
      return NULL;
    }
  g_module_make_resident (module);
  loaded = m;
  return loaded;
}

gboolean
sb_ostree_install (SbBootContext *ctx, const SbConfig *config, const SbInstallTarget *target,
                   SbInstallStats *out_stats, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (target != NULL, FALSE);
  if (!sb_ostree_install_is_ostree (target))
    return sb_throw (error, SB_ERROR_UNSUPPORTED, "target %s: format %s is not %s",
                     target->name != NULL ? target->name : "(unnamed)",
                     target->format != NULL ? target->format : "(none)",
                     SB_INSTALL_FORMAT_OSTREE);
  g_autoptr (GError) local = NULL;
  const SbOstreeModule *m = load_module (&local);
  if (m == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "target %s: ", target->name);
      return FALSE;
    }
  return m->install (ctx, config, target, out_stats, cancellable, error);
}

gboolean
sb_ostree_install_needs_settle (const SbConfig *config, const SbInstallState *state)
{
  if (!sb_ostree_install_is_configured (config) || state->state != SB_INSTALL_IDLE
      || !state->has_committed)
    return FALSE;
  g_autofree char *table = g_build_filename (config->state_dir, SB_OSTREE_SLOTS_FILE, NULL);
  return g_file_test (table, G_FILE_TEST_EXISTS);
}

gboolean
sb_ostree_install_settle (const SbConfig *config, const SbInstallState *state,
                          GCancellable *cancellable, GError **error)
{
  /* Decided here, so that raw systems never load the module. */
  if (!sb_ostree_install_needs_settle (config, state))
    return TRUE;
  const SbOstreeModule *m = load_module (error);
  if (m == NULL)
    return FALSE;
  return m->settle (config, state, cancellable, error);
}
