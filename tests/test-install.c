/* Tests for sb-install: a raw image streamed from a loopback server into the inactive slot of a
 * real GPT disk image file, with a real grubenv; what is refused before the first byte, what a
 * failed download leaves for the next run, and how that run resumes. */
#include "config.h"

#include "core/sb-crypto.h"
#include "core/sb-error.h"
#include "install/sb-install.h"
#include "state/sb-install-state.h"
#include "sb-test-util.h"
#include "sb-test-install.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Not a multiple of the ring buffers or of the checkpoint interval. */
#define IMAGE_LEN (5 * MIB + 12345)

typedef InstallFixture Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  (void)install_fixture_setup (f,
                               GPOINTER_TO_SIZE (data) != 0 ? GPOINTER_TO_SIZE (data) : IMAGE_LEN);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  install_fixture_teardown (f);
}

static SbInstallState *
load_state (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbInstallState *st = sb_install_state_load (f->state_dir, &error);
  g_assert_no_error (error);
  return st;
}

/* Runs sb_install_raw with a fresh context and fetcher, as one `switchback update` would. */
static gboolean
install (Fixture *f, const SbInstallTarget *target, const SbInstallOptions *opts,
         SbInstallStats *stats, GError **error)
{
  g_autoptr (SbBootContext) ctx = install_fixture_context (f);
  g_autoptr (SbSlots) slots = install_fixture_slots (f);
  g_autoptr (SbFetcher) fetcher = install_fixture_fetcher (f);
  return sb_install_raw (ctx, slots, fetcher, target, opts, stats, error);
}

static void
assert_slot_b_holds_image (Fixture *f)
{
  g_autofree char *got = install_fixture_slot_sha256 (f, SB_SLOT_B, g_bytes_get_size (f->image));
  g_assert_cmpstr (got, ==, json_object_get_string_member (f->info->hashes, "sha256"));
}

static void
assert_written (Fixture *f)
{
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_WRITTEN);
  g_assert_cmpint (st->slot, ==, SB_SLOT_B);
  g_assert_cmpstr (st->target, ==, f->info->path);
  g_assert_cmpuint (st->bytes_done, ==, g_bytes_get_size (f->image));
  g_assert_cmpuint (st->length, ==, g_bytes_get_size (f->image));
  g_assert_cmpstr (g_hash_table_lookup (st->hashes, "sha512"), ==,
                   json_object_get_string_member (f->info->hashes, "sha512"));
  assert_slot_b_holds_image (f);
  install_fixture_assert_active_intact (f);
}

typedef struct
{
  guint calls;
  guint64 last_done[3];
  guint64 total;
} ProgressLog;

static void
on_progress (SbInstallStep step, guint64 done, guint64 total, gpointer user_data)
{
  ProgressLog *log = user_data;
  log->calls++;
  g_assert_cmpuint (done, >=, log->last_done[step]);
  log->last_done[step] = done;
  log->total = total;
}

static void
test_fresh (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, "urn:test:1");
  SbInstallOptions opts;
  sb_install_options_init (&opts);
  ProgressLog log = { 0 };
  opts.progress = on_progress;
  opts.progress_data = &log;
  SbInstallStats stats;
  g_assert_true (install (f, &target, &opts, &stats, &error));
  g_assert_no_error (error);
  assert_written (f);
  g_assert_cmpint (stats.slot, ==, SB_SLOT_B);
  g_assert_cmpuint (stats.fetched, ==, IMAGE_LEN);
  g_assert_cmpuint (stats.resumed_from, ==, 0);
  g_assert_false (stats.restarted);
  /* One every MiB (the smallest interval), the writer never more than 2 MiB ahead of one. */
  g_assert_cmpuint (stats.checkpoints, >=, 1);
  g_assert_cmpuint (stats.checkpoints, <=, 5);
  g_assert_cmpuint (log.last_done[SB_INSTALL_STEP_DOWNLOAD], ==, IMAGE_LEN);
  g_assert_cmpuint (log.last_done[SB_INSTALL_STEP_VERIFY], ==, IMAGE_LEN);
  g_assert_cmpuint (log.total, ==, IMAGE_LEN);

  /* The slot is not bootable until it is staged: its tries went before the first byte. */
  g_autofree char *tries = install_fixture_grubenv_get (f, "SB_B_TRIES");
  g_autofree char *order = install_fixture_grubenv_get (f, "SB_ORDER");
  g_assert_cmpstr (tries, ==, "0");
  g_assert_cmpstr (order, ==, "A B");
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpstr (st->correlation_id, ==, "urn:test:1");
  g_assert_cmpstr (st->format, ==, "BINARY");
}

static void
test_small_ring (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  SbInstallOptions opts;
  sb_install_options_init (&opts);
  opts.buffer_size = 64 * 1024;
  opts.n_buffers = 2;
  opts.checkpoint_interval = 100 * 1000;
  SbInstallStats stats;
  g_assert_true (install (f, &target, &opts, &stats, &error));
  g_assert_no_error (error);
  assert_written (f);
  /* The writer stays within two intervals of the last checkpoint, so each checkpoint covers at
   * most 200000 bytes. */
  g_assert_cmpuint (stats.checkpoints, >=, (IMAGE_LEN - 200000) / 200000);
}

static void
test_empty_image (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GBytes) empty = g_bytes_new_static ("", 0);
  install_fixture_set_image (f, empty);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_true (install (f, &target, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_written (f);
}

/* Nothing may change before the image is known to fit: not the slot, not grubenv, not the
 * state, and the server is not even asked. */
static void
assert_refused_untouched (Fixture *f, const char *slot_b_before, const char *grubenv_before)
{
  g_autofree char *slot_b = install_fixture_slot_sha256 (f, SB_SLOT_B, TEST_WHOLE_SLOT);
  g_assert_cmpstr (slot_b, ==, slot_b_before);
  g_autofree char *env = NULL;
  g_assert_true (g_file_get_contents (f->grubenv, &env, NULL, NULL));
  g_assert_cmpstr (env, ==, grubenv_before);
  g_autofree char *install_json = g_build_filename (f->state_dir, "install.json", NULL);
  g_assert_false (g_file_test (install_json, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, 0);
  install_fixture_assert_active_intact (f);
}

static void
test_too_large (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GBytes) big = install_random_bytes (TEST_SLOT_SIZE + 1, 9);
  install_fixture_set_image (f, big);
  g_autofree char *slot_b = install_fixture_slot_sha256 (f, SB_SLOT_B, TEST_WHOLE_SLOT);
  g_autofree char *env = NULL;
  g_assert_true (g_file_get_contents (f->grubenv, &env, NULL, NULL));
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  assert_refused_untouched (f, slot_b, env);
}

static void
test_refused_before_anything (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autofree char *slot_b = install_fixture_slot_sha256 (f, SB_SLOT_B, TEST_WHOLE_SLOT);
  g_autofree char *env = NULL;
  g_assert_true (g_file_get_contents (f->grubenv, &env, NULL, NULL));

  /* An OSTree commit is not a raw image. */
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  target.format = "OSTREE";
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* A hash this client cannot compute cannot vouch for the image. */
  g_autoptr (SbTargetInfo) md5_only = sb_target_info_copy (f->info);
  json_object_remove_member (md5_only->hashes, "sha256");
  json_object_remove_member (md5_only->hashes, "sha512");
  json_object_set_string_member (md5_only->hashes, "md5", "00112233445566778899aabbccddeeff");
  target = install_fixture_target (f, NULL);
  target.info = md5_only;
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* Ring buffers too small to be useful. */
  SbInstallOptions opts;
  sb_install_options_init (&opts);
  opts.n_buffers = 1;
  target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  assert_refused_untouched (f, slot_b, env);
}

/* While the booted slot is on trial, the other slot is its fallback. */
static void
test_trial_fallback_refused (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  install_fixture_boot (f, "B");
  install_fixture_write_state (
      f, "install.json",
      "{\"state\": \"staged\", \"committed\": \"A\", \"slot\": \"B\", \"target\": \"os-1.img\","
      " \"length\": 10, \"hashes\": {\"sha256\": \"00\"}, \"bytes_done\": 10}");
  g_autofree char *slot_a = install_fixture_slot_sha256 (f, SB_SLOT_A, TEST_WHOLE_SLOT);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  g_clear_error (&error);

  /* Booted B, committed A, nothing in flight: B has not been confirmed yet. */
  install_fixture_write_state (f, "install.json", "{\"state\": \"idle\", \"committed\": \"A\"}");
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  install_fixture_assert_active_intact (f);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, 0);
}

static void
assert_abandoned (Fixture *f)
{
  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_IDLE);
  g_autofree char *tries = install_fixture_grubenv_get (f, "SB_B_TRIES");
  g_assert_cmpstr (tries, ==, "0");
  install_fixture_assert_active_intact (f);
}

static void
test_hash_mismatch (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  /* The server sends other bytes of the same length. */
  g_autoptr (GBytes) other = install_random_bytes (IMAGE_LEN, 8);
  sb_test_httpd_set_file (f->httpd, TEST_IMAGE_PATH, other);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  assert_abandoned (f);
}

static void
test_sha512_mismatch (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  /* Every listed hash counts, not only the first one. */
  g_autofree char *wrong = g_strnfill (128, 'a');
  json_object_set_string_member (f->info->hashes, "sha512", wrong);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  assert_abandoned (f);
}

static void
test_short_image (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  /* The server's file is shorter than the target says. */
  g_autoptr (GBytes) shorter = g_bytes_new_from_bytes (f->image, 0, IMAGE_LEN - 100);
  sb_test_httpd_set_file (f->httpd, TEST_IMAGE_PATH, shorter);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  assert_abandoned (f);
}

static void
test_longer_image (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  /* The server's file is longer than the target says: refused by its declared length. */
  g_autoptr (GBytes) longer = install_random_bytes (IMAGE_LEN + 100, 7);
  sb_test_httpd_set_file (f->httpd, TEST_IMAGE_PATH, longer);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ENDLESS_DATA);
  install_fixture_assert_active_intact (f);
}

static void
test_endless (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  SbTestFault fault = { .endless = TRUE };
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, &fault);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ENDLESS_DATA);
  install_fixture_assert_active_intact (f);

  /* The slot got at most the target's length: what lies past it is as the fixture wrote it. */
  g_autoptr (GBytes) fill = install_random_bytes (TEST_SLOT_SIZE, 100 + SB_SLOT_B);
  g_autofree char *want_tail = sb_sha256_hex (
      (const guint8 *)g_bytes_get_data (fill, NULL) + IMAGE_LEN, TEST_SLOT_SIZE - IMAGE_LEN);
  gsize tail_len = TEST_SLOT_SIZE - IMAGE_LEN;
  g_autofree guint8 *buf = g_malloc (tail_len);
  int fd = open (f->disk, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, buf, tail_len, (off_t)(f->slot_offset[SB_SLOT_B] + IMAGE_LEN)), ==,
                   (ssize_t)tail_len);
  g_assert_cmpint (close (fd), ==, 0);
  g_autofree char *got_tail = sb_sha256_hex (buf, tail_len);
  g_assert_cmpstr (got_tail, ==, want_tail);
}

static void
test_dropped_connections (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  /* The connection drops twice mid-body; the fetcher asks for the rest. */
  SbTestFault fault = { .drop = TRUE, .drop_after = 2 * MIB + 17, .drop_times = 2 };
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, &fault);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_true (install (f, &target, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_written (f);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, 3);
}

/* A run whose download breaks off after @after bytes, without retries: install.json keeps a
 * durable bytes_done for the next run. Returns it. */
static guint64
interrupted_run (Fixture *f, gsize after)
{
  SbTestFault fault = { .drop = TRUE, .drop_after = after };
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, &fault);
  f->fetcher_opts.max_retries = 0;
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, NULL);
  f->fetcher_opts.max_retries = 2;

  g_autoptr (SbInstallState) st = load_state (f);
  g_assert_cmpint (st->state, ==, SB_INSTALL_DOWNLOADING);
  g_assert_cmpuint (st->bytes_done, >, 0);
  g_assert_cmpuint (st->bytes_done, <=, after);
  /* bytes_done never claims more than the slot holds. */
  g_autofree char *have = install_fixture_slot_sha256 (f, SB_SLOT_B, st->bytes_done);
  g_autofree char *want = sb_sha256_hex (g_bytes_get_data (f->image, NULL), (gsize)st->bytes_done);
  g_assert_cmpstr (have, ==, want);
  install_fixture_assert_active_intact (f);
  return st->bytes_done;
}

static void
test_resume (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  guint64 done = interrupted_run (f, 3 * MIB + 5);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  SbInstallStats stats;
  g_assert_true (install (f, &target, NULL, &stats, &error));
  g_assert_no_error (error);
  assert_written (f);
  g_assert_cmpuint (stats.resumed_from, ==, done);
  g_assert_cmpuint (stats.fetched, ==, IMAGE_LEN - done);
  g_assert_false (stats.restarted);
  g_autofree char *range = sb_test_httpd_get_last_range (f->httpd, TEST_IMAGE_PATH);
  g_autofree char *want = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", done);
  g_assert_cmpstr (range, ==, want);
}

static void
test_resume_range_ignored (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  (void)interrupted_run (f, 2 * MIB);
  SbTestFault fault = { .ignore_range = TRUE };
  sb_test_httpd_set_fault (f->httpd, TEST_IMAGE_PATH, &fault);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  SbInstallStats stats;
  g_assert_true (install (f, &target, NULL, &stats, &error));
  g_assert_no_error (error);
  assert_written (f);
  g_assert_true (stats.restarted);
  g_assert_cmpuint (stats.fetched, ==, IMAGE_LEN);
}

static void
test_resume_damaged_slot (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  guint64 done = interrupted_run (f, 3 * MIB);
  /* Something changed the kept bytes between the runs: the resumed image cannot verify, so it
   * is fetched once more, whole. */
  install_fixture_write_slot (f, SB_SLOT_B, done / 2, "XXXX", 4);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  SbInstallStats stats;
  g_assert_true (install (f, &target, NULL, &stats, &error));
  g_assert_no_error (error);
  assert_written (f);
  g_assert_true (stats.refetched);
}

static void
test_resume_other_target (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  (void)interrupted_run (f, 3 * MIB);
  /* The Director now assigns another image: the kept bytes are not reused. */
  g_autoptr (GBytes) other = install_random_bytes (IMAGE_LEN, 99);
  install_fixture_set_image (f, other);
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  SbInstallStats stats;
  g_assert_true (install (f, &target, NULL, &stats, &error));
  g_assert_no_error (error);
  assert_written (f);
  g_assert_cmpuint (stats.resumed_from, ==, 0);
  g_assert_cmpuint (stats.fetched, ==, IMAGE_LEN);
}

static void
test_already_written (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_assert_true (install (f, &target, NULL, NULL, &error));
  guint hits = sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH);
  SbInstallStats stats;
  g_assert_true (install (f, &target, NULL, &stats, &error));
  g_assert_no_error (error);
  g_assert_true (stats.already_written);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, TEST_IMAGE_PATH), ==, hits);
  assert_written (f);
}

static void
test_not_found (Fixture *f, gconstpointer data)
{
  if (f->dir == NULL)
    return;
  g_autoptr (GError) error = NULL;
  SbInstallTarget target = install_fixture_target (f, NULL);
  g_autofree char *url = sb_test_httpd_url (f->httpd, "/missing.bin");
  target.url = url;
  g_assert_false (install (f, &target, NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_ON_SERVER);
  install_fixture_assert_active_intact (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/install/raw/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("fresh", test_fresh);
  ADD ("small-ring-many-checkpoints", test_small_ring);
  ADD ("empty-image", test_empty_image);
  ADD ("too-large-refused-before-first-byte", test_too_large);
  ADD ("unusable-target-refused-before-first-byte", test_refused_before_anything);
  ADD ("fallback-of-trial-refused", test_trial_fallback_refused);
  ADD ("hash-mismatch-abandoned", test_hash_mismatch);
  ADD ("every-hash-checked", test_sha512_mismatch);
  ADD ("short-image-abandoned", test_short_image);
  ADD ("longer-image-refused", test_longer_image);
  ADD ("endless-data-cut-at-target-length", test_endless);
  ADD ("dropped-connections-resumed", test_dropped_connections);
  ADD ("resume-with-range", test_resume);
  ADD ("resume-range-ignored-restarts", test_resume_range_ignored);
  ADD ("resume-damaged-slot-refetched", test_resume_damaged_slot);
  ADD ("resume-other-target-starts-over", test_resume_other_target);
  ADD ("already-written-not-fetched", test_already_written);
  ADD ("not-found", test_not_found);
#undef ADD
  return g_test_run ();
}
