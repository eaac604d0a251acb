/* Tests for sb-test-hooks: the environment steers switchback only in a build with
 * --enable-test-hooks, and never a process in secure mode (AT_SECURE). Built twice: as this
 * build is (tests/test-test-hooks), and without SB_TEST_HOOKS, as a release build is
 * (tests/test-test-hooks-off, SB_TEST_EXPECT_RELEASE). */
#include "config.h"

#include "state/sb-test-hooks.h"

#include <glib.h>

static gboolean
expect_built (void)
{
#if defined(SB_TEST_EXPECT_RELEASE)
  return FALSE;
#elif defined(SB_TEST_HOOKS)
  return TRUE;
#else
  return FALSE;
#endif
}

static void
test_built_as_configured (void)
{
  g_assert_cmpint (sb_test_hooks_built (), ==, expect_built ());
}

/* Each hook variable, set: honoured only by a hooks build. */
static void
test_each_variable (void)
{
  for (SbTestHook h = 0; h < SB_TEST_HOOK_N_HOOKS; h++)
    {
      const char *name = sb_test_hook_env_name (h);
      g_assert_nonnull (name);
      g_assert_true (g_str_has_prefix (name, "SWITCHBACK_"));
      g_assert_true (g_setenv (name, "set-by-the-test", TRUE));
      const char *got = sb_test_hook_get (h);
      g_test_message ("%s: %s", name, got != NULL ? got : "(ignored)");
      if (expect_built ())
        g_assert_cmpstr (got, ==, "set-by-the-test");
      else
        g_assert_null (got);
      g_assert_true (g_setenv (name, "", TRUE));
      g_assert_null (sb_test_hook_get (h));
      g_unsetenv (name);
      g_assert_null (sb_test_hook_get (h));
    }
}

/* A setuid, setgid or file-capability process (AT_SECURE != 0) takes no hook, even from a
 * hooks build. */
static void
test_secure_mode (void)
{
  g_assert_true (sb_test_hooks_allowed (TRUE, 0));
  g_assert_false (sb_test_hooks_allowed (TRUE, 1));
  g_assert_false (sb_test_hooks_allowed (FALSE, 0));
  g_assert_false (sb_test_hooks_allowed (FALSE, 1));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/test-hooks/built-as-configured", test_built_as_configured);
  g_test_add_func ("/test-hooks/each-variable", test_each_variable);
  g_test_add_func ("/test-hooks/secure-mode-takes-none", test_secure_mode);
  return g_test_run ();
}
