/* sb-test-hooks.c: the gate of the test hooks (see sb-test-hooks.h). */
#include "config.h"

#include "state/sb-test-hooks.h"

#include <signal.h>
#include <string.h>
#include <sys/auxv.h>

static const char *const env_names[SB_TEST_HOOK_N_HOOKS] = {
  [SB_TEST_HOOK_KILL_AT] = "SWITCHBACK_TEST_KILL_AT",
  [SB_TEST_HOOK_OSTREE_MODULE] = "SWITCHBACK_OSTREE_MODULE",
};

const char *
sb_test_hook_env_name (SbTestHook hook)
{
  g_return_val_if_fail (hook < SB_TEST_HOOK_N_HOOKS, NULL);
  return env_names[hook];
}

gboolean
sb_test_hooks_built (void)
{
#ifdef SB_TEST_HOOKS
  return TRUE;
#else
  return FALSE;
#endif
}

gboolean
sb_test_hooks_allowed (gboolean built, unsigned long at_secure)
{
  return built && at_secure == 0;
}

const char *
sb_test_hook_get (SbTestHook hook)
{
  g_return_val_if_fail (hook < SB_TEST_HOOK_N_HOOKS, NULL);
  /* getauxval, not getuid () != geteuid (): it also covers file capabilities and setgid, and
   * it is what the dynamic loader itself goes by. */
  if (!sb_test_hooks_allowed (sb_test_hooks_built (), getauxval (AT_SECURE)))
    return NULL;
  const char *value = g_getenv (env_names[hook]);
  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* ---- kill points (sb-install.h lists them) ---- */

static const char *
kill_spec (void)
{
  static gsize once = 0;
  static const char *spec = NULL;
  if (g_once_init_enter (&once))
    {
      spec = sb_test_hook_get (SB_TEST_HOOK_KILL_AT);
      g_once_init_leave (&once, 1);
    }
  return spec;
}

static void
kill_now (const char *point)
{
  g_printerr ("switchback: %s: killed at %s\n", sb_test_hook_env_name (SB_TEST_HOOK_KILL_AT), point);
  (void)raise (SIGKILL);
}

void
sb_install_test_kill_point (const char *point)
{
  const char *spec = kill_spec ();
  if (spec != NULL && strcmp (spec, point) == 0)
    kill_now (point);
}

void
sb_install_test_kill_point_at (const char *point, guint64 value)
{
  const char *spec = kill_spec ();
  gsize n = strlen (point);
  if (spec == NULL || strncmp (spec, point, n) != 0 || spec[n] != ':')
    return;
  if (value >= g_ascii_strtoull (spec + n + 1, NULL, 10))
    kill_now (spec);
}
