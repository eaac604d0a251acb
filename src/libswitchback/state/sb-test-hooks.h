/* sb-test-hooks.h: the environment variables the test suite steers switchback with, and the one
 * gate every one of them passes.
 *
 * A hook is honoured only when both hold:
 *  - switchback was built with `./configure --enable-test-hooks` (SB_TEST_HOOKS; the test
 *    suite's builds are, a release build is not), and
 *  - the process does not run in secure mode (getauxval (AT_SECURE) is 0: not setuid, setgid,
 *    nor raised by file capabilities), so that no caller's environment can steer a privileged
 *    process.
 * Otherwise every hook reads as unset, whatever the environment says. No other code reads a
 * SWITCHBACK_* variable (tests/test-test-hooks.sh checks it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  /* "POINT" or "POINT:N": the installer kills itself at a named point (sb-install.h). */
  SB_TEST_HOOK_KILL_AT,
  /* The OSTree module file to load instead of $(pkglibdir)/switchback-ostree.so. */
  SB_TEST_HOOK_OSTREE_MODULE,
  SB_TEST_HOOK_N_HOOKS,
} SbTestHook;

/* The environment variable of @hook ("SWITCHBACK_TEST_KILL_AT", ...). */
const char *sb_test_hook_env_name (SbTestHook hook);

/* TRUE when this build has the hooks (--enable-test-hooks). */
gboolean sb_test_hooks_built (void);

/* The rule above, given its two inputs: hooks are honoured when @built and @at_secure is 0. */
gboolean sb_test_hooks_allowed (gboolean built, unsigned long at_secure);

/* The value of @hook's variable when hooks are honoured in this process and it is set and not
 * empty; NULL otherwise. */
const char *sb_test_hook_get (SbTestHook hook);

/* Kill points (SB_TEST_HOOK_KILL_AT; the points are listed in install/sb-install.h): the process
 * sends itself SIGKILL when the variable names @point, or "@point:N" with @value >= N. They live
 * here, not with the installer, so that the boot path can have them without linking the
 * streaming install and its fetcher. */
void sb_install_test_kill_point (const char *point);
void sb_install_test_kill_point_at (const char *point, guint64 value);

G_END_DECLS
