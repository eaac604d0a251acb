/* Tests for sb-ostree-loader: switchback reaches libostree only through the OSTree module, which
 * it loads on first use, refuses when it is absent or from another build, and never loads on a
 * raw-image system. The build tree's module is named by SWITCHBACK_OSTREE_MODULE (set by the
 * test environment); each test points it elsewhere as it needs. */
#include "config.h"

#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "ostree/sb-ostree-install.h"
#include "ostree/sb-ostree-module.h"
#include "ostree/sb-ostree-slots.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *dir;
  char *real_module; /* the build tree's module, from the environment */
  SbConfig *config;  /* an OSTree system: no [slots] disk */
  SbInstallState *state;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->real_module = g_strdup (g_getenv (SB_OSTREE_MODULE_ENV));
  f->config = sb_config_new_defaults ();
  g_free (f->config->state_dir);
  f->config->state_dir = g_build_filename (f->dir, "state", NULL);
  g_assert_no_errno (g_mkdir (f->config->state_dir, 0700));
  g_clear_pointer (&f->config->disk, g_free);
  /* A trial that ended: what makes settle look for the module. */
  f->state = sb_install_state_new ();
  f->state->has_committed = TRUE;
  f->state->committed = SB_SLOT_A;
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->real_module != NULL)
    g_setenv (SB_OSTREE_MODULE_ENV, f->real_module, TRUE);
  else
    g_unsetenv (SB_OSTREE_MODULE_ENV);
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->real_module);
  sb_config_free (f->config);
  sb_install_state_free (f->state);
}

static void
write_slot_table (Fixture *f)
{
  g_autofree char *table = g_build_filename (f->config->state_dir, SB_OSTREE_SLOTS_FILE, NULL);
  g_assert_true (g_file_set_contents (table, "{}", -1, NULL));
}

static void
use_module (Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_setenv (SB_OSTREE_MODULE_ENV, path, TRUE);
}

static void
test_path_default (Fixture *f, gconstpointer data)
{
  g_setenv (SB_OSTREE_MODULE_ENV, "", TRUE);
  g_assert_cmpstr (sb_ostree_module_path (), ==, SB_PKGLIBDIR "/switchback-ostree.so");
  g_setenv (SB_OSTREE_MODULE_ENV, "/opt/x.so", TRUE);
#ifdef SB_TEST_HOOKS
  g_assert_cmpstr (sb_ostree_module_path (), ==, "/opt/x.so");
#else
  /* A release build never takes the module from the environment (sb-test-hooks.h). */
  g_assert_cmpstr (sb_ostree_module_path (), ==, SB_PKGLIBDIR "/switchback-ostree.so");
#endif
}

/* A raw-image system never opens the module, even when none is installed. */
static void
test_raw_system_never_loads (Fixture *f, gconstpointer data)
{
  use_module (f, "absent.so");
  write_slot_table (f);
  g_free (f->config->disk);
  f->config->disk = g_strdup ("/dev/vda");
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_ostree_install_settle (f->config, f->state, NULL, &error));
  g_assert_no_error (error);
}

/* An OSTree system before its first OSTree install has no slot table: nothing to settle. */
static void
test_no_table_never_loads (Fixture *f, gconstpointer data)
{
  use_module (f, "absent.so");
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_ostree_install_settle (f->config, f->state, NULL, &error));
  g_assert_no_error (error);
}

static void
test_absent_module_refused (Fixture *f, gconstpointer data)
{
  use_module (f, "absent.so");
  write_slot_table (f);
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_ostree_install_settle (f->config, f->state, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);

  /* An OSTREE target: refused naming the target, before the context is looked at. */
  SbTargetInfo info = { 0 };
  SbInstallTarget target = { .name = "os-v2", .info = &info, .format = "OSTREE" };
  g_clear_error (&error);
  g_assert_false (sb_ostree_install (NULL, f->config, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "os-v2"));
}

static void
test_not_a_module_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "garbage.so", NULL);
  g_assert_true (g_file_set_contents (path, "not an ELF file", -1, NULL));
  use_module (f, "garbage.so");
  write_slot_table (f);
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_ostree_install_settle (f->config, f->state, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
}

/* A module of another build (tests/fake-ostree-module.so: ABI 0, version "0") is refused
 * before any of its functions runs. */
static void
test_other_build_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *fake = g_test_build_filename (G_TEST_BUILT, "fake-ostree-module.so", NULL);
  g_setenv (SB_OSTREE_MODULE_ENV, fake, TRUE);
  write_slot_table (f);
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_ostree_install_settle (f->config, f->state, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "another build"));
}

/* The build tree's module loads and runs: settling with a slot table but no sysroot reaches
 * libostree, whose failure to open the sysroot is an I/O-level error, not UNSUPPORTED. */
static void
test_real_module_runs (Fixture *f, gconstpointer data)
{
  if (f->real_module == NULL)
    {
      g_test_skip ("SWITCHBACK_OSTREE_MODULE is not set");
      return;
    }
  g_free (f->config->ostree_sysroot);
  f->config->ostree_sysroot = g_build_filename (f->dir, "no-sysroot", NULL);
  write_slot_table (f);
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_ostree_install_settle (f->config, f->state, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (error->domain == SB_ERROR);
  g_assert_cmpint (error->code, !=, SB_ERROR_UNSUPPORTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/ostree-loader/path/default-and-override", test_path_default);
  ADD ("/ostree-loader/raw-system/never-loads", test_raw_system_never_loads);
  ADD ("/ostree-loader/no-slot-table/never-loads", test_no_table_never_loads);
  ADD ("/ostree-loader/absent/refused", test_absent_module_refused);
  ADD ("/ostree-loader/not-a-module/refused", test_not_a_module_refused);
  ADD ("/ostree-loader/other-build/refused", test_other_build_refused);
  ADD ("/ostree-loader/real-module/runs", test_real_module_runs);
  return g_test_run ();
}
