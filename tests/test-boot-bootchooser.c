/* Tests for sb-bootchooser: SB_ORDER and tries in a real grubenv block, the install staging
 * order, and mark-good / mark-bad. */
#include "config.h"

#include "install/sb-bootchooser.h"
#include "core/sb-error.h"
#include "install/sb-grubenv.h"
#include "state/sb-report-queue.h"
#include "sb-test-io-spy.h"
#include "sb-test-util.h"

#include <string.h>

typedef struct {
  char *dir;
  SbConfig *config;
} Fixture;

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = sb_test_make_tmpdir ();
  f->config = sb_config_new_defaults ();
  g_free (f->config->grubenv);
  f->config->grubenv = g_build_filename (f->dir, "grubenv", NULL);
  g_free (f->config->state_dir);
  f->config->state_dir = g_build_filename (f->dir, "state", NULL);
  g_free (f->config->cmdline_file);
  f->config->cmdline_file = g_build_filename (f->dir, "cmdline", NULL);
  g_assert_true (sb_grubenv_create (f->config->grubenv, &error));
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  sb_config_free (f->config);
}

static void
set_env (Fixture *f, const char *order, const char *a, const char *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->config->grubenv, &error);
  g_assert_no_error (error);
  const char *names[] = { SB_GRUBENV_ORDER, SB_GRUBENV_A_TRIES, SB_GRUBENV_B_TRIES };
  const char *values[] = { order, a, b };
  for (guint i = 0; i < 3; i++)
    {
      if (values[i] == NULL)
        sb_grubenv_unset (env, names[i]);
      else
        g_assert_true (sb_grubenv_set (env, names[i], values[i], &error));
    }
  g_assert_true (sb_grubenv_save (env, &error));
  g_assert_no_error (error);
}

static void
assert_env (Fixture *f, const char *order, const char *a, const char *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->config->grubenv, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_grubenv_get (env, SB_GRUBENV_ORDER), ==, order);
  g_assert_cmpstr (sb_grubenv_get (env, SB_GRUBENV_A_TRIES), ==, a);
  g_assert_cmpstr (sb_grubenv_get (env, SB_GRUBENV_B_TRIES), ==, b);
}

static void
booted (Fixture *f, const char *slot)
{
  g_autofree char *line = g_strdup_printf ("root=LABEL=x ro switchback.slot=%s\n", slot);
  write_file (f->config->cmdline_file, line);
}

static void
test_order_parsing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SbBootOrder o;
  /* No SB_ORDER: GRUB's first boot, "A B" with max-tries each. */
  g_autoptr (SbBootchooser) bc = sb_bootchooser_open (f->config->grubenv, 3, &error);
  g_assert_no_error (error);
  g_assert_true (sb_bootchooser_get_order (bc, &o, &error));
  g_assert_cmpuint (o.n_order, ==, 2);
  g_assert_cmpint (o.order[0], ==, SB_SLOT_A);
  g_assert_cmpuint (o.tries[SB_SLOT_A], ==, 3);
  g_assert_cmpuint (o.tries[SB_SLOT_B], ==, 3);
  g_clear_pointer (&bc, sb_bootchooser_free);

  /* With SB_ORDER, a missing counter is no tries; duplicates count once. */
  set_env (f, "B B A", NULL, "2");
  bc = sb_bootchooser_open (f->config->grubenv, 3, &error);
  g_assert_true (sb_bootchooser_get_order (bc, &o, &error));
  g_assert_cmpuint (o.n_order, ==, 2);
  g_assert_cmpint (o.order[0], ==, SB_SLOT_B);
  g_assert_cmpint (o.order[1], ==, SB_SLOT_A);
  g_assert_cmpuint (o.tries[SB_SLOT_A], ==, 0);
  g_assert_cmpuint (o.tries[SB_SLOT_B], ==, 2);
  g_clear_pointer (&bc, sb_bootchooser_free);

  const char *bad[][3] = { { "A C", "1", "1" }, { "A B", "x", "1" }, { "A B", "1", "10" },
                           { "A B", "1", "-1" } };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      set_env (f, bad[i][0], bad[i][1], bad[i][2]);
      bc = sb_bootchooser_open (f->config->grubenv, 3, &error);
      g_assert_no_error (error);
      g_assert_false (sb_bootchooser_get_order (bc, &o, &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
      g_clear_error (&error);
      g_clear_pointer (&bc, sb_bootchooser_free);
    }

  g_assert_null (sb_bootchooser_open (f->config->grubenv, 10, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
}

static void
test_edits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  set_env (f, "A B", "1", "0");
  g_autoptr (SbBootchooser) bc = sb_bootchooser_open (f->config->grubenv, 3, &error);
  g_assert_true (sb_bootchooser_prefer (bc, SB_SLOT_A, &error));
  g_assert_true (sb_bootchooser_save (bc, &error));
  assert_env (f, "A B", "1", "0");
  g_assert_true (sb_bootchooser_stage (bc, SB_SLOT_B, &error));
  g_assert_true (sb_bootchooser_save (bc, &error));
  assert_env (f, "B A", "3", "3");
  g_assert_true (sb_bootchooser_set_tries (bc, SB_SLOT_B, 7, &error));
  g_assert_true (sb_bootchooser_save (bc, &error));
  assert_env (f, "B A", "3", "3");
  g_assert_true (sb_bootchooser_set_tries (bc, SB_SLOT_B, 1, &error));
  g_assert_true (sb_bootchooser_prefer (bc, SB_SLOT_A, &error));
  g_assert_true (sb_bootchooser_save (bc, &error));
  assert_env (f, "A B", "3", "1");
  g_assert_true (sb_bootchooser_commit (bc, SB_SLOT_B, &error));
  g_assert_true (sb_bootchooser_save (bc, &error));
  g_assert_no_error (error);
  assert_env (f, "B A", "3", "3");
}

/* A block with room for SB_ORDER but not for the tries is left as it was. */
static void
test_full_block (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (SbGrubenv) env = sb_grubenv_load (f->config->grubenv, &error);
    g_autofree char *fill = g_strnfill (909, 'x');
    g_assert_true (sb_grubenv_set (env, "FILL", fill, &error));
    g_assert_true (sb_grubenv_save (env, &error));
    g_assert_no_error (error);
  }
  g_autofree char *before = NULL;
  g_assert_true (g_file_get_contents (f->config->grubenv, &before, NULL, NULL));
  g_autoptr (SbBootchooser) bc = sb_bootchooser_open (f->config->grubenv, 3, &error);
  g_assert_false (sb_bootchooser_stage (bc, SB_SLOT_B, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_clear_error (&error);
  SbBootOrder o;
  g_assert_true (sb_bootchooser_get_order (bc, &o, &error));
  g_assert_cmpint (o.order[0], ==, SB_SLOT_A);
  g_assert_true (sb_bootchooser_save (bc, &error));
  g_assert_no_error (error);
  g_autofree char *after = NULL;
  g_assert_true (g_file_get_contents (f->config->grubenv, &after, NULL, NULL));
  g_assert_cmpmem (before, SB_GRUBENV_SIZE, after, SB_GRUBENV_SIZE);
  assert_env (f, NULL, NULL, NULL);
}

/* The install side: prepare before writing, then stage, in the order the boot helper reads. */
static void
test_prepare_and_stage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  set_env (f, "A B", "3", "3");
  booted (f, "A");
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (f->config, NULL, &error);
  g_assert_no_error (error);
  ctx->state->has_committed = TRUE;
  ctx->state->committed = SB_SLOT_A;
  g_assert_true (sb_counters_set_rollback_counter (ctx->counters, 6, &error));
  sb_counters_set_slot (ctx->counters, SB_SLOT_B, 5);

  g_assert_false (sb_boot_context_prepare_slot (ctx, SB_SLOT_A, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  g_clear_error (&error);
  g_assert_true (sb_boot_context_prepare_slot (ctx, SB_SLOT_B, &error));
  g_assert_no_error (error);
  assert_env (f, "A B", "3", "0");
  guint64 v;
  g_assert_false (sb_counters_get_slot (ctx->counters, SB_SLOT_B, &v));

  /* Only a written install is staged. */
  g_autoptr (GHashTable) hashes = g_hash_table_new (g_str_hash, g_str_equal);
  sb_install_state_begin (ctx->state, SB_SLOT_B, "image-2.bin", "BINARY", 10, hashes, "urn:c",
                          7);
  g_assert_false (sb_boot_context_stage_install (ctx, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ctx->state->state = SB_INSTALL_WRITTEN;
  g_assert_true (sb_install_state_save (ctx->state, ctx->state_dir, &error));

  /* A release below the committed one is refused and nothing is staged. */
  ctx->state->release_counter = 5;
  g_assert_false (sb_boot_context_stage_install (ctx, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  assert_env (f, "A B", "3", "0");

  ctx->state->release_counter = 7;
  g_assert_true (sb_boot_context_stage_install (ctx, &error));
  g_assert_no_error (error);
  assert_env (f, "B A", "3", "3");
  g_autoptr (SbInstallState) st = sb_install_state_load (ctx->state_dir, &error);
  g_assert_cmpint (st->state, ==, SB_INSTALL_STAGED);
  g_autoptr (SbCounters) c = sb_counters_load (ctx->state_dir, &error);
  g_assert_true (sb_counters_get_pending (c, &v));
  g_assert_cmpuint (v, ==, 7);
  g_assert_true (sb_counters_get_slot (c, SB_SLOT_B, &v));
  g_assert_cmpuint (v, ==, 7);
  g_assert_cmpuint (sb_counters_get_rollback_counter (c), ==, 6);
}

/* Staged B with release 7 over committed A with release 6. */
static void
stage_b (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = g_build_filename (f->config->state_dir, "install.json", NULL);
  g_autofree char *counters = g_build_filename (f->config->state_dir, "counters.json", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->config->state_dir, 0755), ==, 0);
  write_file (state, "{\"state\": \"staged\", \"committed\": \"A\", \"slot\": \"B\", \"target\": "
                     "\"image-2.bin\", \"length\": 10, \"hashes\": {}, \"bytes_done\": 10, "
                     "\"release_counter\": 7}");
  write_file (counters, "{\"image-rollback-counter\": 6, \"pending-image-rollback-counter\": 7, "
                        "\"slots\": {\"A\": 6, \"B\": 7}}");
}

static void
test_mark_good (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->config->confirm = SB_CONFIRM_USERSPACE;
  stage_b (f);
  set_env (f, "B A", "3", "1");
  booted (f, "B");
  g_autofree char *msg = NULL;
  g_assert_true (sb_bootchooser_mark_good (f->config, &msg, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (msg, ==, "trial boot of slot B (image-2.bin) committed");
  assert_env (f, "B A", "3", "3");
  g_autoptr (SbInstallState) st = sb_install_state_load (f->config->state_dir, &error);
  g_assert_cmpint (st->state, ==, SB_INSTALL_IDLE);
  g_assert_cmpint (st->committed, ==, SB_SLOT_B);
  g_autoptr (SbCounters) c = sb_counters_load (f->config->state_dir, &error);
  g_assert_cmpuint (sb_counters_get_rollback_counter (c), ==, 7);

  /* Again: a normal boot now, the tries stay full. */
  set_env (f, "B A", "3", "2");
  g_assert_true (sb_bootchooser_mark_good (f->config, NULL, &error));
  assert_env (f, "B A", "3", "3");

  /* An older slot is not marked good. */
  booted (f, "A");
  set_env (f, "A B", "2", "3");
  g_assert_false (sb_bootchooser_mark_good (f->config, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  assert_env (f, "A B", "2", "3");
}

static void
test_mark_bad (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->config->confirm = SB_CONFIRM_USERSPACE;
  stage_b (f);
  set_env (f, "B A", "3", "2");
  booted (f, "B");
  SbSlotId next = SB_SLOT_B;
  g_assert_true (sb_bootchooser_mark_bad (f->config, &next, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (next, ==, SB_SLOT_A);
  assert_env (f, "A B", "3", "0");

  /* The next boot is A: the boot helper reads that as a failed trial. */
  booted (f, "A");
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (f->config, NULL, &error);
  g_assert_no_error (error);
  SbBootDecision d;
  sb_boot_decide (&ctx->inputs, &d);
  g_assert_cmpint (d.kind, ==, SB_BOOT_ROLLED_BACK);
  g_assert_true (sb_boot_context_apply (ctx, &d, &error));
  g_assert_no_error (error);

  /* Marking the committed A bad would make B (release 7 > 6 committed) first: allowed. */
  g_assert_true (sb_bootchooser_mark_bad (f->config, &next, NULL, &error));
  g_assert_cmpint (next, ==, SB_SLOT_B);
  assert_env (f, "B A", "0", "3");
}

static void
test_mark_bad_refuses_older (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *counters = g_build_filename (f->config->state_dir, "counters.json", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->config->state_dir, 0755), ==, 0);
  write_file (counters, "{\"image-rollback-counter\": 6, \"slots\": {\"A\": 6, \"B\": 5}}");
  set_env (f, "A B", "3", "3");
  booted (f, "A");
  g_assert_false (sb_bootchooser_mark_bad (f->config, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  assert_env (f, "A B", "3", "3");
}

static guint
queued_reports (Fixture *f)
{
  g_autofree char *dir = g_build_filename (f->config->state_dir, "reports", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* A trial boot whose grubenv cannot be written (the ESP read-only): nothing in the state
 * directory changes, so GRUB's view (slot B on trial) and switchback's agree, and the next boot
 * with a writable ESP commits. Applied with grubenv last, install.json said committed and the
 * counter was raised while GRUB went on counting B's tries down towards a fallback to A, now
 * below the counter. */
static void
test_commit_grubenv_write_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  stage_b (f);
  set_env (f, "B A", "3", "2");
  booted (f, "B");
  g_autofree char *install = g_build_filename (f->config->state_dir, "install.json", NULL);
  g_autofree char *counters = g_build_filename (f->config->state_dir, "counters.json", NULL);
  g_autofree char *install_before = NULL, *counters_before = NULL;
  g_assert_true (g_file_get_contents (install, &install_before, NULL, NULL));
  g_assert_true (g_file_get_contents (counters, &counters_before, NULL, NULL));

  g_autoptr (SbBootContext) ctx = sb_boot_context_load (f->config, NULL, &error);
  g_assert_no_error (error);
  SbBootDecision d;
  sb_boot_decide (&ctx->inputs, &d);
  g_assert_cmpint (d.kind, ==, SB_BOOT_TRIAL_COMMIT);
  sb_test_io_fail_pwrite = TRUE;
  gboolean ok = sb_boot_context_apply (ctx, &d, &error);
  sb_test_io_fail_pwrite = FALSE;
  g_assert_false (ok);
  g_assert_error (error, SB_ERROR, SB_ERROR_IO);
  g_clear_error (&error);

  g_autofree char *install_after = NULL, *counters_after = NULL;
  g_assert_true (g_file_get_contents (install, &install_after, NULL, NULL));
  g_assert_true (g_file_get_contents (counters, &counters_after, NULL, NULL));
  g_assert_cmpstr (install_after, ==, install_before);
  g_assert_cmpstr (counters_after, ==, counters_before);
  g_assert_cmpuint (queued_reports (f), ==, 0);
  assert_env (f, "B A", "3", "2");

  /* GRUB boots B again (one try fewer); the ESP takes writes again. */
  set_env (f, "B A", "3", "1");
  g_clear_pointer (&ctx, sb_boot_context_free);
  ctx = sb_boot_context_load (f->config, NULL, &error);
  g_assert_no_error (error);
  sb_boot_decide (&ctx->inputs, &d);
  g_assert_cmpint (d.kind, ==, SB_BOOT_TRIAL_COMMIT);
  g_assert_true (sb_boot_context_apply (ctx, &d, &error));
  g_assert_no_error (error);
  assert_env (f, "B A", "3", "3");
  g_autoptr (SbInstallState) st = sb_install_state_load (f->config->state_dir, &error);
  g_assert_cmpint (st->state, ==, SB_INSTALL_IDLE);
  g_assert_cmpint (st->committed, ==, SB_SLOT_B);
  g_autoptr (SbCounters) c = sb_counters_load (f->config->state_dir, &error);
  g_assert_cmpuint (sb_counters_get_rollback_counter (c), ==, 7);
  g_assert_cmpuint (queued_reports (f), ==, 1);
}

/* The same for a rolled-back trial: the failure is not queued, nor the install ended, while
 * grubenv still holds the staged order. */
static void
test_rollback_grubenv_write_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  stage_b (f);
  set_env (f, "B A", "3", "0");
  booted (f, "A");
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (f->config, NULL, &error);
  g_assert_no_error (error);
  SbBootDecision d;
  sb_boot_decide (&ctx->inputs, &d);
  g_assert_cmpint (d.kind, ==, SB_BOOT_ROLLED_BACK);
  sb_test_io_fail_pwrite = TRUE;
  gboolean ok = sb_boot_context_apply (ctx, &d, &error);
  sb_test_io_fail_pwrite = FALSE;
  g_assert_false (ok);
  g_assert_error (error, SB_ERROR, SB_ERROR_IO);
  g_autoptr (SbInstallState) st = sb_install_state_load (f->config->state_dir, &error);
  g_assert_cmpint (st->state, ==, SB_INSTALL_STAGED);
  g_assert_cmpuint (queued_reports (f), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/bootchooser/order/parsed-like-the-grub-script", test_order_parsing);
  ADD ("/bootchooser/order/stage-prefer-commit", test_edits);
  ADD ("/bootchooser/order/full-block-changes-nothing", test_full_block);
  ADD ("/bootchooser/install/prepare-then-stage", test_prepare_and_stage);
  ADD ("/bootchooser/mark-good/commits-trial-and-refuses-older", test_mark_good);
  ADD ("/bootchooser/mark-bad/trial-rolls-back-next-boot", test_mark_bad);
  ADD ("/bootchooser/mark-bad/older-other-slot-refused", test_mark_bad_refuses_older);
  ADD ("/bootchooser/apply/grubenv-write-fails-commit-changes-nothing",
       test_commit_grubenv_write_fails);
  ADD ("/bootchooser/apply/grubenv-write-fails-rollback-changes-nothing",
       test_rollback_grubenv_write_fails);
#undef ADD
  return g_test_run ();
}
