/* Tests for sb-update-cycle's install half (sb_update_install_target): staging, what a trial's
 * outcome does to the next cycle, the results queued for the Director, and the counters. Boots
 * are simulated as GRUB's script and switchback-boot would run them, over the same files. */
#include "config.h"

#include "install/sb-boot-decide.h"
#include "core/sb-error.h"
#include "install/sb-grubenv.h"
#include "state/sb-install-state.h"
#include "state/sb-report-queue.h"
#include "sb-test-util.h"
#include "uptane/sb-update-cycle.h"
#include "sb-test-install.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define IMAGE_LEN (3 * MIB + 77)

typedef InstallFixture Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  (void)install_fixture_setup (f, IMAGE_LEN);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  install_fixture_teardown (f);
}

static gboolean
run_install (Fixture *f, const SbInstallTarget *target, gboolean retry_failed,
             SbUpdateResult *result, GError **error)
{
  g_autoptr (SbFetcher) fetcher = install_fixture_fetcher (f);
  SbUpdateOptions opts;
  sb_update_options_init (&opts);
  opts.retry_failed = retry_failed;
  sb_update_result_clear (result);
  return sb_update_install_target (f->config, fetcher, target, &opts, result, error);
}

static SbUpdateOutcome
install_ok (Fixture *f, const SbInstallTarget *target, gboolean retry_failed)
{
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_true (run_install (f, target, retry_failed, &result, &error));
  g_assert_no_error (error);
  SbUpdateOutcome outcome = result.outcome;
  sb_update_result_clear (&result);
  return outcome;
}

static SbInstallState *
load_state (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbInstallState *st = sb_install_state_load (f->state_dir, &error);
  g_assert_no_error (error);
  return st;
}

static SbCounters *
load_counters (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbCounters *c = sb_counters_load (f->state_dir, &error);
  g_assert_no_error (error);
  return c;
}

static void
assert_env (Fixture *f, const char *order, const char *a_tries, const char *b_tries)
{
  g_autofree char *o = install_fixture_grubenv_get (f, "SB_ORDER");
  g_autofree char *a = install_fixture_grubenv_get (f, "SB_A_TRIES");
  g_autofree char *b = install_fixture_grubenv_get (f, "SB_B_TRIES");
  g_assert_cmpstr (o, ==, order);
  g_assert_cmpstr (a, ==, a_tries);
  g_assert_cmpstr (b, ==, b_tries);
}

static GPtrArray *
queued_reports (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReportQueue) q = sb_report_queue_open (f->state_dir, &error);
  g_assert_no_error (error);
  GPtrArray *list = sb_report_queue_list (q, &error);
  g_assert_no_error (error);
  return list;
}

/* GRUB's script (design.md §4): the first slot in SB_ORDER with tries left, one try less. */
static SbSlotId
grub_boot (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbBootchooser) bc = sb_bootchooser_open (f->grubenv, 3, &error);
  g_assert_no_error (error);
  SbBootOrder order;
  g_assert_true (sb_bootchooser_get_order (bc, &order, &error));
  for (guint i = 0; i < order.n_order; i++)
    {
      SbSlotId s = order.order[i];
      if (order.tries[s] == 0)
        continue;
      g_assert_true (sb_bootchooser_set_tries (bc, s, order.tries[s] - 1, &error));
      g_assert_true (sb_bootchooser_save (bc, &error));
      install_fixture_boot (f, sb_slot_id_name (s));
      return s;
    }
  g_assert_not_reached ();
}

/* switchback-boot in the initramfs. */
static SbBootCase
boot_helper (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbBootContext) ctx = install_fixture_context (f);
  SbBootDecision d;
  sb_boot_decide (&ctx->inputs, &d);
  g_assert_true (sb_boot_context_apply (ctx, &d, &error));
  g_assert_no_error (error);
  return d.kind;
}

static void
test_staged (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  t.has_release_counter = TRUE;
  t.release_counter = 5;
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_true (run_install (f, &t, FALSE, &result, &error));
  g_assert_cmpint (result.outcome, ==, SB_UPDATE_STAGED);
  g_assert_cmpint (result.slot, ==, SB_SLOT_B);
  g_assert_cmpint (result.booted, ==, SB_SLOT_A);
  g_assert_cmpuint (result.stats.fetched, ==, IMAGE_LEN);
  sb_update_result_clear (&result);

  assert_env (f, "B A", "3", "3");
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_STAGED);
  g_assert_cmpint (st->slot, ==, SB_SLOT_B);
  g_assert_cmpstr (st->correlation_id, ==, "urn:c:1");
  g_autoptr (SbCounters) c = load_counters (f);
  guint64 v;
  g_assert_true (sb_counters_get_pending (c, &v));
  g_assert_cmpuint (v, ==, 5);
  g_assert_true (sb_counters_get_slot (c, SB_SLOT_B, &v));
  g_assert_cmpuint (v, ==, 5);
  g_autoptr (SbSlotImage) image = sb_update_get_slot_image (f->state_dir, SB_SLOT_B, &error);
  g_assert_no_error (error);
  g_assert_nonnull (image);
  g_assert_cmpstr (image->target, ==, "os-2.img");
  g_assert_cmpuint (image->length, ==, IMAGE_LEN);
  g_assert_cmpstr (image->sha256, ==, json_object_get_string_member (f->info->hashes, "sha256"));
  g_autoptr (SbSlotImage) none = sb_update_get_slot_image (f->state_dir, SB_SLOT_A, &error);
  g_assert_no_error (error);
  g_assert_null (none);
  g_autoptr (GPtrArray) reports = queued_reports (f);
  g_assert_cmpuint (reports->len, ==, 0);
  install_fixture_assert_active_intact (f);

  /* Running again changes nothing and fetches nothing. */
  guint hits = sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH);
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_ALREADY_STAGED);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, hits);
  assert_env (f, "B A", "3", "3");
}

static void
test_trial_committed (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
  g_assert_cmpint (grub_boot (f), ==, SB_SLOT_B);
  g_assert_cmpint (boot_helper (f), ==, SB_BOOT_TRIAL_COMMIT);

  /* Booted into the new image, which the Director still assigns: nothing to do. */
  guint hits = sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH);
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_true (run_install (f, &t, FALSE, &result, &error));
  g_assert_cmpint (result.outcome, ==, SB_UPDATE_UP_TO_DATE);
  g_assert_null (result.recorded_failure);
  sb_update_result_clear (&result);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, hits);
  assert_env (f, "B A", "3", "3");
}

/* The trial slot is rejected (mark-bad); the next boot falls back and records the failure. */
static void
fail_trial (Fixture *f)
{
  g_assert_cmpint (grub_boot (f), ==, SB_SLOT_B);
  f->config->confirm = SB_CONFIRM_USERSPACE;
  g_assert_cmpint (boot_helper (f), ==, SB_BOOT_TRIAL_AWAIT);
  g_autoptr (GError) error = NULL;
  SbSlotId next;
  g_assert_true (sb_bootchooser_mark_bad (f->config, &next, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (next, ==, SB_SLOT_A);
  g_assert_cmpint (grub_boot (f), ==, SB_SLOT_A);
  g_assert_cmpint (boot_helper (f), ==, SB_BOOT_ROLLED_BACK);
  f->config->confirm = SB_CONFIRM_INITRAMFS;
}

static void
test_trial_failed_not_retried (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
  fail_trial (f);
  g_autoptr (GPtrArray) reports = queued_reports (f);
  g_assert_cmpuint (reports->len, ==, 1);
  SbReport *r = reports->pdata[0];
  g_assert_false (r->success);
  g_assert_cmpstr (r->result_code, ==, SB_RESULT_INSTALL_FAILED);
  g_assert_cmpstr (r->correlation_id, ==, "urn:c:1");

  guint hits = sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH);
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_true (run_install (f, &t, FALSE, &result, &error));
  g_assert_cmpint (result.outcome, ==, SB_UPDATE_SKIPPED_FAILED);
  g_assert_nonnull (result.recorded_failure);
  sb_update_result_clear (&result);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, hits);
  g_autofree char *b_tries = install_fixture_grubenv_get (f, "SB_B_TRIES");
  g_assert_cmpstr (b_tries, ==, "0");

  /* Still skipped the next time, and no new result is queued for it. */
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_SKIPPED_FAILED);
  g_autoptr (GPtrArray) again = queued_reports (f);
  g_assert_cmpuint (again->len, ==, 1);

  /* The Director assigning it anew (another correlation id) is a new attempt. */
  SbInstallTarget anew = install_fixture_target (f, "urn:c:2");
  g_assert_cmpint (install_ok (f, &anew, FALSE), ==, SB_UPDATE_STAGED);
  assert_env (f, "B A", "3", "3");
}

static void
test_trial_failed_retry_forced (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
  fail_trial (f);
  g_assert_cmpint (install_ok (f, &t, TRUE), ==, SB_UPDATE_STAGED);
  assert_env (f, "B A", "3", "3");
}

static void
assert_one_report (Fixture *f, const char *code, const char *correlation_id)
{
  g_autoptr (GPtrArray) reports = queued_reports (f);
  g_assert_cmpuint (reports->len, ==, 1);
  SbReport *r = reports->pdata[0];
  g_assert_false (r->success);
  g_assert_cmpstr (r->result_code, ==, code);
  g_assert_cmpstr (r->correlation_id, ==, correlation_id);
  g_assert_cmpstr (r->target, ==, "os-2.img");
}

static void
test_hash_mismatch_reported (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GBytes) other = install_random_bytes (IMAGE_LEN, 8);
  sb_test_httpd_set_file (f->httpd, TEST_IMAGE_PATH, other);
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_false (run_install (f, &t, FALSE, &result, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_assert_cmpstr (result.queued_result, ==, SB_RESULT_VERIFICATION_FAILED);
  sb_update_result_clear (&result);
  assert_one_report (f, SB_RESULT_VERIFICATION_FAILED, "urn:c:1");
  assert_env (f, "A B", "3", "0");
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_IDLE);
  install_fixture_assert_active_intact (f);
}

static void
test_too_large_reported (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GBytes) big = install_random_bytes (TEST_SLOT_SIZE + 4096, 9);
  install_fixture_set_image (f, big);
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_false (run_install (f, &t, FALSE, &result, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  sb_update_result_clear (&result);
  assert_one_report (f, SB_RESULT_INSTALL_FAILED, "urn:c:1");
  assert_env (f, "A B", "3", "3");
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, 0);
}

static void
test_rollback_counter_refused (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  install_fixture_write_state (f, "counters.json",
                               "{\"image-rollback-counter\": 9, \"slots\": {\"A\": 9}}");
  g_autofree char *counters_before = NULL;
  g_autofree char *path = g_build_filename (f->state_dir, "counters.json", NULL);
  g_assert_true (g_file_get_contents (path, &counters_before, NULL, NULL));
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  t.has_release_counter = TRUE;
  t.release_counter = 5;
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_false (run_install (f, &t, FALSE, &result, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  sb_update_result_clear (&result);

  /* Without a counter at all, it cannot show it is not older. */
  t.has_release_counter = FALSE;
  g_assert_false (run_install (f, &t, FALSE, &result, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  sb_update_result_clear (&result);

  g_autoptr (GPtrArray) reports = queued_reports (f);
  g_assert_cmpuint (reports->len, ==, 2);
  g_assert_cmpstr (((SbReport *)reports->pdata[0])->result_code, ==, SB_RESULT_VERIFICATION_FAILED);
  g_autofree char *counters_after = NULL;
  g_assert_true (g_file_get_contents (path, &counters_after, NULL, NULL));
  g_assert_cmpstr (counters_after, ==, counters_before);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, 0);
  assert_env (f, "A B", "3", "3");

  /* At the committed counter or above, it goes ahead. */
  t.has_release_counter = TRUE;
  t.release_counter = 9;
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
}

static void
test_download_failure_not_reported (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbTestFault fault = { .status = 503 };
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, &fault);
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_false (run_install (f, &t, FALSE, &result, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
  g_assert_null (result.queued_result);
  sb_update_result_clear (&result);
  g_autoptr (GPtrArray) reports = queued_reports (f);
  g_assert_cmpuint (reports->len, ==, 0);
  /* The transaction stays, for the next cycle to continue. */
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_DOWNLOADING);
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, NULL);
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
}

static void
test_new_target_replaces_staged (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
  g_autoptr (GBytes) next = install_random_bytes (IMAGE_LEN - 5, 31);
  install_fixture_set_image (f, next);
  SbInstallTarget t2 = install_fixture_target (f, "urn:c:2");
  g_assert_cmpint (install_ok (f, &t2, FALSE), ==, SB_UPDATE_STAGED);
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpstr (st->correlation_id, ==, "urn:c:2");
  g_assert_cmpuint (st->length, ==, IMAGE_LEN - 5);
  assert_env (f, "B A", "3", "3");
  /* The replaced install never booted: it is not a failed trial. */
  g_assert_cmpint (grub_boot (f), ==, SB_SLOT_B);
  g_assert_cmpint (boot_helper (f), ==, SB_BOOT_TRIAL_COMMIT);
  SbUpdateResult result = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (run_install (f, &t2, FALSE, &result, &error));
  g_assert_cmpint (result.outcome, ==, SB_UPDATE_UP_TO_DATE);
  g_assert_null (result.recorded_failure);
  sb_update_result_clear (&result);
}

static void
test_running_image_assigned_unstages (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  /* os-2.img into B, committed; then os-3.img staged into A. */
  SbInstallTarget t = install_fixture_target (f, "urn:c:1");
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
  g_assert_cmpint (grub_boot (f), ==, SB_SLOT_B);
  g_assert_cmpint (boot_helper (f), ==, SB_BOOT_TRIAL_COMMIT);
  g_autoptr (GBytes) image2 = g_bytes_ref (f->image);
  g_autoptr (GBytes) image3 = install_random_bytes (IMAGE_LEN, 33);
  install_fixture_set_image (f, image3);
  g_free (f->info->path);
  f->info->path = g_strdup ("os-3.img");
  SbInstallTarget t3 = install_fixture_target (f, "urn:c:2");
  g_assert_cmpint (install_ok (f, &t3, FALSE), ==, SB_UPDATE_STAGED);
  assert_env (f, "A B", "3", "3");

  /* The Director goes back to os-2.img, which slot B runs: os-3.img must not be tried. */
  install_fixture_set_image (f, image2);
  SbInstallTarget back = install_fixture_target (f, "urn:c:3");
  g_assert_cmpint (install_ok (f, &back, FALSE), ==, SB_UPDATE_UP_TO_DATE);
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_IDLE);
  g_assert_cmpint (st->committed, ==, SB_SLOT_B);
  assert_env (f, "A B", "0", "3");
  g_assert_cmpint (grub_boot (f), ==, SB_SLOT_B);
  g_assert_cmpint (boot_helper (f), ==, SB_BOOT_NORMAL);
}

static void
test_one_cycle_at_a_time (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autofree char *path = g_build_filename (f->state_dir, SB_UPDATE_LOCK_FILE, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  SbInstallTarget t = install_fixture_target (f, NULL);
  g_autoptr (GError) error = NULL;
  SbUpdateResult result = { 0 };
  g_assert_false (run_install (f, &t, FALSE, &result, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  sb_update_result_clear (&result);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
}

typedef struct {
  Fixture *f;
  SbInstallTarget target;
  SbUpdateResult result;
  GError *error;
  gboolean ok;
} Background;

static gpointer
install_in_background (gpointer data)
{
  Background *bg = data;
  bg->ok = run_install (bg->f, &bg->target, FALSE, &bg->result, &bg->error);
  return NULL;
}

/* `switchback mark-bad` while an update downloads. The download holds no state lock, so
 * mark-bad does not wait for the image; it reads install.json under the lock, sees slot B half
 * written, and refuses without touching grubenv. What another writer put in grubenv meanwhile
 * (here a variable set as grub-reboot would) survives the staging, which reads grubenv again
 * under the lock instead of writing back the block it read before the download. After the
 * staging, mark-bad of A is allowed and hands the system to B. The server holds the image at a
 * byte count until the test lets it go on: no clock is involved. */
static void
test_mark_bad_during_download (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbTestFault hold = { .hold_after = MIB };
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, &hold);
  Background bg = { .f = f, .target = install_fixture_target (f, "urn:c:hold") };
  GThread *thread = g_thread_new ("install", install_in_background, &bg);
  sb_test_httpd_wait_held (f->httpd);

  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_assert_true (g_file_get_contents (f->grubenv, &before, NULL, NULL));
  SbSlotId next = SB_SLOT_A;
  g_assert_false (sb_bootchooser_mark_bad (f->config, &next, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  g_clear_error (&error);
  g_autofree char *after = NULL;
  g_assert_true (g_file_get_contents (f->grubenv, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);
  assert_env (f, "A B", "3", "0");

  g_autoptr (SbGrubenv) env = sb_grubenv_load (f->grubenv, &error);
  g_assert_no_error (error);
  g_assert_true (sb_grubenv_set (env, "next_entry", "rescue", &error));
  g_assert_true (sb_grubenv_save (env, &error));
  g_assert_no_error (error);

  sb_test_httpd_release (f->httpd);
  g_thread_join (thread);
  g_assert_no_error (bg.error);
  g_assert_true (bg.ok);
  g_assert_cmpint (bg.result.outcome, ==, SB_UPDATE_STAGED);
  sb_update_result_clear (&bg.result);
  assert_env (f, "B A", "3", "3");
  g_autofree char *kept = install_fixture_grubenv_get (f, "next_entry");
  g_assert_cmpstr (kept, ==, "rescue");

  g_assert_true (sb_bootchooser_mark_bad (f->config, &next, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (next, ==, SB_SLOT_B);
  assert_env (f, "B A", "0", "3");
}

static void
test_damaged_images_file (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  install_fixture_write_state (f, SB_UPDATE_IMAGES_FILE, "{\"slots\": [");
  g_autoptr (GError) error = NULL;
  g_assert_null (sb_update_get_slot_image (f->state_dir, SB_SLOT_A, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
  /* It cannot stop updates. */
  g_test_expect_message ("switchback", G_LOG_LEVEL_WARNING, "*images.json is damaged*");
  SbInstallTarget t = install_fixture_target (f, NULL);
  g_assert_cmpint (install_ok (f, &t, FALSE), ==, SB_UPDATE_STAGED);
  g_test_assert_expected_messages ();
  g_clear_error (&error);
  g_autoptr (SbSlotImage) image = sb_update_get_slot_image (f->state_dir, SB_SLOT_B, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (image->target, ==, "os-2.img");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/install/cycle/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("staged-for-trial", test_staged);
  ADD ("trial-committed-then-up-to-date", test_trial_committed);
  ADD ("trial-failed-not-retried", test_trial_failed_not_retried);
  ADD ("trial-failed-retry-forced", test_trial_failed_retry_forced);
  ADD ("hash-mismatch-reported", test_hash_mismatch_reported);
  ADD ("too-large-reported", test_too_large_reported);
  ADD ("release-counter-below-committed-refused", test_rollback_counter_refused);
  ADD ("download-failure-resumable-not-reported", test_download_failure_not_reported);
  ADD ("new-target-replaces-staged", test_new_target_replaces_staged);
  ADD ("running-image-assigned-unstages", test_running_image_assigned_unstages);
  ADD ("mark-bad-during-download", test_mark_bad_during_download);
  ADD ("one-cycle-at-a-time", test_one_cycle_at_a_time);
  ADD ("damaged-images-file-replaced", test_damaged_images_file);
#undef ADD
  return g_test_run ();
}
