/* Tests for sb-trusted-set (the TUF client workflow, TUF §5.2 to §5.6) and the target search of
 * sb-delegation (TUF §5.6.7). Every refusal the workflow makes has its own test path. */
#include "config.h"

#include "core/sb-delegation.h"
#include "core/sb-error.h"
#include "core/sb-json.h"
#include "core/sb-trusted-set.h"
#include "sb-test-repo.h"
#include "sb-test-util.h"

#include <string.h>

typedef struct {
  SbTestRepo *repo;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->repo = sb_test_repo_new ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_repo_free (f->repo);
}

static GBytes *
bytes_of (Fixture *f, const char *role)
{
  return sb_test_repo_bytes (f->repo, role);
}

static SbTrustedSet *
new_set_at (Fixture *f, gint64 reference_time)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) root = bytes_of (f, "root");
  SbTrustedSet *ts = sb_trusted_set_new (root, reference_time, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ts);
  return ts;
}

static SbTrustedSet *
new_set (Fixture *f)
{
  return new_set_at (f, SB_TEST_NOW);
}

static void
load_timestamp (Fixture *f, SbTrustedSet *ts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");
  gboolean unchanged = TRUE;
  g_assert_true (sb_trusted_set_update_timestamp (ts, bytes, &unchanged, &error));
  g_assert_no_error (error);
  g_assert_false (unchanged);
}

static void
load_snapshot (Fixture *f, SbTrustedSet *ts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_true (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_no_error (error);
}

static void
load_targets (Fixture *f, SbTrustedSet *ts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_true (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_no_error (error);
}

/* Brings snapshot and timestamp meta up to date with the repository, then returns a set with
 * root, timestamp and snapshot trusted. */
static SbTrustedSet *
set_ready_for_targets (Fixture *f, gboolean with_hashes)
{
  sb_test_repo_update_snapshot_meta (f->repo, with_hashes);
  sb_test_repo_update_timestamp_meta (f->repo, with_hashes);
  SbTrustedSet *ts = new_set (f);
  load_timestamp (f, ts);
  load_snapshot (f, ts);
  return ts;
}

static GBytes *
tampered_bytes (Fixture *f, const char *role)
{
  g_autoptr (GBytes) bytes = bytes_of (f, role);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autofree char *copy = g_strndup (data, len);
  /* Same length, different content: a space where the envelope has none matters to hashes
   * only, so swap two characters inside a signature instead. */
  char *sig = strstr (copy, "\"sig\":\"");
  g_assert_nonnull (sig);
  sig += 7;
  sig[0] = sig[0] == 'a' ? 'b' : 'a';
  return g_bytes_new (copy, len);
}

/* ---- TUF §5.2: the trusted root ---- */

static void
test_new_valid (Fixture *f, gconstpointer data)
{
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_root (ts)), ==, 1);
  g_assert_null (sb_trusted_set_get_timestamp (ts));
  g_assert_null (sb_trusted_set_get_snapshot (ts));
  g_assert_null (sb_trusted_set_get_targets (ts));
  g_assert_cmpint (sb_trusted_set_get_reference_time (ts), ==, SB_TEST_NOW);
  g_assert_false (sb_trusted_set_get_consistent_snapshot (ts));
  g_assert_false (sb_trusted_set_fast_forward_recovery_needed (ts));
}

static void
test_new_unsigned_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_ptr_array_set_size (sb_test_repo_signers (f->repo, "root"), 0);
  g_autoptr (GBytes) root = bytes_of (f, "root");
  g_autoptr (SbTrustedSet) ts = sb_trusted_set_new (root, SB_TEST_NOW, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_null (ts);
}

static void
test_new_malformed_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) root = g_bytes_new_static ("{\"signed\":", 10);
  g_autoptr (SbTrustedSet) ts = sb_trusted_set_new (root, SB_TEST_NOW, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_assert_null (ts);
}

static void
test_new_wrong_type_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");
  g_autoptr (SbTrustedSet) ts = sb_trusted_set_new (bytes, SB_TEST_NOW, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
  g_assert_null (ts);
}

static void
test_new_expired_root_accepted (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_expires (f->repo, "root", SB_TEST_NOW - SB_TEST_DAY);
  /* TUF §5.2: an expired trusted root may still be updated. */
  g_autoptr (SbTrustedSet) ts = new_set (f);
  /* ... but it cannot be the final root (TUF §5.3.10). */
  g_autoptr (GBytes) ts_bytes = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, ts_bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
}

static void
test_full_update (Fixture *f, gconstpointer data)
{
  json_object_set_boolean_member (sb_test_repo_signed (f->repo, "root"), "consistent_snapshot",
                                  TRUE);
  sb_test_repo_add_target (f->repo, "targets", "file.txt", "content");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  load_targets (f, ts);
  g_assert_true (sb_trusted_set_get_consistent_snapshot (ts));
  g_assert_nonnull (sb_trusted_set_get_targets (ts));
  g_assert_true (sb_trusted_set_get_role (ts, "targets") == sb_trusted_set_get_targets (ts));
  g_assert_true (sb_trusted_set_get_role (ts, "root") == sb_trusted_set_get_root (ts));
  g_assert_true (sb_trusted_set_get_role (ts, "timestamp") == sb_trusted_set_get_timestamp (ts));
  g_assert_true (sb_trusted_set_get_role (ts, "snapshot") == sb_trusted_set_get_snapshot (ts));
  g_assert_cmpstr (sb_trusted_set_get_delegator (ts, "targets"), ==, "root");
  g_assert_cmpstr (sb_trusted_set_get_delegator (ts, "snapshot"), ==, "root");
  g_autoptr (SbTargetInfo) info =
      sb_metadata_get_target (sb_trusted_set_get_targets (ts), "file.txt");
  g_assert_cmpint (info->length, ==, 7);
}

/* ---- TUF §5.3: root updates ---- */

/* Rotates root's keys; the next root version is signed by the old and the new key. Returns
 * the old signer (a new reference). */
static SbSigner *
rotate_root (Fixture *f)
{
  GPtrArray *signers = sb_test_repo_signers (f->repo, "root");
  SbSigner *old = sb_signer_ref (signers->pdata[0]);
  sb_test_repo_rotate_keys (f->repo, "root");
  sb_test_repo_bump (f->repo, "root");
  g_ptr_array_add (signers, sb_signer_ref (old));
  return old;
}

static void
test_root_rotation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (SbSigner) old = rotate_root (f);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_root (ts)), ==, 2);

  /* Version 3 needs only the new key now. */
  g_ptr_array_remove (sb_test_repo_signers (f->repo, "root"), old);
  sb_test_repo_bump (f->repo, "root");
  g_autoptr (GBytes) root3 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root3, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_root (ts)), ==, 3);
}

static void
test_root_signed_only_by_old (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (SbSigner) old = rotate_root (f);
  GPtrArray *signers = sb_test_repo_signers (f->repo, "root");
  g_ptr_array_set_size (signers, 0);
  g_ptr_array_add (signers, sb_signer_ref (old));
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_root (ts)), ==, 1);
}

static void
test_root_signed_only_by_new (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (SbSigner) old = rotate_root (f);
  g_ptr_array_remove (sb_test_repo_signers (f->repo, "root"), old);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_root (ts)), ==, 1);
}

static void
test_root_new_threshold_unmet (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  /* Version 2 asks for two root keys but carries the signature of one. */
  SbSigner *second = sb_test_repo_add_key (f->repo, "root");
  JsonObject *roles
      = json_object_get_object_member (sb_test_repo_signed (f->repo, "root"), "roles");
  json_object_set_int_member (json_object_get_object_member (roles, "root"), "threshold", 2);
  sb_test_repo_bump (f->repo, "root");
  g_ptr_array_remove (sb_test_repo_signers (f->repo, "root"), second);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_root_version_skip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_set_version (f->repo, "root", 3);
  g_autoptr (GBytes) root3 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root3, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_root (ts)), ==, 1);
}

static void
test_root_same_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) root1 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root1, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
}

static void
test_root_older_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_version (f->repo, "root", 5);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_set_version (f->repo, "root", 4);
  g_autoptr (GBytes) root4 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root4, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
}

static void
test_root_wrong_type (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_root (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
}

static void
test_root_bad_spec_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_bump (f->repo, "root");
  json_object_set_string_member (sb_test_repo_signed (f->repo, "root"), "spec_version", "2.0.0");
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SPEC_VERSION);
}

static void
test_root_expired_intermediate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  /* TUF §5.3.6: version 2 expired long ago, version 3 is current. */
  sb_test_repo_bump (f->repo, "root");
  sb_test_repo_set_expires (f->repo, "root", SB_TEST_NOW - 30 * SB_TEST_DAY);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  sb_test_repo_bump (f->repo, "root");
  sb_test_repo_set_expires (f->repo, "root", SB_TEST_NOW + 30 * SB_TEST_DAY);
  g_autoptr (GBytes) root3 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root3, &error));
  g_assert_no_error (error);
  load_timestamp (f, ts);
}

static void
test_root_expired_final (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_bump (f->repo, "root");
  sb_test_repo_set_expires (f->repo, "root", SB_TEST_NOW);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  /* TUF §5.3.10: expiry at exactly the update start time is expired. */
  g_autoptr (GBytes) timestamp = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, timestamp, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_assert_null (sb_trusted_set_get_timestamp (ts));
}

static void
test_root_after_timestamp_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  sb_test_repo_bump (f->repo, "root");
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_false (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

/* ---- TUF §5.3.11: fast-forward attack recovery ---- */

static void
test_ff_timestamp_rotation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* The client stored timestamp version 100, signed with the old (compromised) key. */
  sb_test_repo_set_version (f->repo, "timestamp", 100);
  g_autoptr (GBytes) stored_timestamp = bytes_of (f, "timestamp");
  g_autoptr (SbTrustedSet) ts = new_set (f);

  /* The repository rotates the timestamp key and starts over at version 1. */
  sb_test_repo_rotate_keys (f->repo, "timestamp");
  sb_test_repo_bump (f->repo, "root");
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  g_assert_true (sb_trusted_set_keys_rotated (ts, "timestamp"));
  g_assert_false (sb_trusted_set_keys_rotated (ts, "snapshot"));
  g_assert_true (sb_trusted_set_fast_forward_recovery_needed (ts));

  /* The stored copy no longer verifies, so it cannot block the recovered versions either. */
  g_assert_false (sb_trusted_set_update_timestamp (ts, stored_timestamp, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_clear_error (&error);
  g_assert_null (sb_trusted_set_get_timestamp (ts));
  sb_test_repo_set_version (f->repo, "timestamp", 1);
  load_timestamp (f, ts);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_timestamp (ts)), ==, 1);
}

static void
test_ff_snapshot_rotation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* The client stored snapshot version 100, listing targets version 100. */
  sb_test_repo_set_version (f->repo, "snapshot", 100);
  sb_test_repo_set_version (f->repo, "targets", 100);
  sb_test_repo_update_snapshot_meta (f->repo, FALSE);
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  g_autoptr (GBytes) stored_snapshot = bytes_of (f, "snapshot");
  g_autoptr (SbTrustedSet) ts = new_set (f);

  sb_test_repo_rotate_keys (f->repo, "snapshot");
  sb_test_repo_bump (f->repo, "root");
  sb_test_repo_set_version (f->repo, "snapshot", 1);
  sb_test_repo_set_version (f->repo, "targets", 1);
  sb_test_repo_update_snapshot_meta (f->repo, FALSE);
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  sb_test_repo_set_version (f->repo, "timestamp", 2);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  g_assert_false (sb_trusted_set_keys_rotated (ts, "timestamp"));
  g_assert_true (sb_trusted_set_keys_rotated (ts, "snapshot"));
  g_assert_true (sb_trusted_set_fast_forward_recovery_needed (ts));

  load_timestamp (f, ts);
  g_assert_false (sb_trusted_set_update_snapshot (ts, stored_snapshot, TRUE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_clear_error (&error);
  g_assert_null (sb_trusted_set_get_snapshot (ts));
  load_snapshot (f, ts);
  load_targets (f, ts);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_targets (ts)), ==, 1);
}

static void
test_ff_threshold_change_is_rotation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  JsonObject *roles
      = json_object_get_object_member (sb_test_repo_signed (f->repo, "root"), "roles");
  sb_test_repo_add_key (f->repo, "snapshot");
  json_object_set_int_member (json_object_get_object_member (roles, "snapshot"), "threshold", 2);
  sb_test_repo_bump (f->repo, "root");
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  g_assert_true (sb_trusted_set_keys_rotated (ts, "snapshot"));
}

static void
test_ff_no_rotation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  /* Only root's own keys and expiry change. */
  g_autoptr (SbSigner) old = rotate_root (f);
  sb_test_repo_set_expires (f->repo, "root", SB_TEST_NOW + 900 * SB_TEST_DAY);
  g_autoptr (GBytes) root2 = bytes_of (f, "root");
  g_assert_true (sb_trusted_set_update_root (ts, root2, &error));
  g_assert_no_error (error);
  g_assert_false (sb_trusted_set_keys_rotated (ts, "timestamp"));
  g_assert_false (sb_trusted_set_keys_rotated (ts, "snapshot"));
  g_assert_false (sb_trusted_set_fast_forward_recovery_needed (ts));
}

/* ---- TUF §5.4: timestamp ---- */

static void
test_timestamp_bad_signature (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) bytes = tampered_bytes (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_null (sb_trusted_set_get_timestamp (ts));
}

static void
test_timestamp_unsigned (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_ptr_array_set_size (sb_test_repo_signers (f->repo, "timestamp"), 0);
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_timestamp_wrong_type (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
}

static void
test_timestamp_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  static const char text[] = "{\"signatures\":[],\"signed\":{}";
  g_autoptr (GBytes) bytes = g_bytes_new_static (text, sizeof text - 1);
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
}

static void
test_timestamp_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_set_version (f->repo, "timestamp", 5);
  load_timestamp (f, ts);
  sb_test_repo_set_version (f->repo, "timestamp", 4);
  g_autoptr (GBytes) older = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, older, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_timestamp (ts)), ==, 5);
}

static void
test_timestamp_equal_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  SbMetadata *trusted = sb_trusted_set_get_timestamp (ts);
  /* Same version, different content (TUF §5.4.3.1): nothing changed, keep the trusted one. */
  json_object_set_int_member (
      json_object_get_object_member (
          json_object_get_object_member (sb_test_repo_signed (f->repo, "timestamp"), "meta"),
          "snapshot.json"),
      "version", 100);
  g_autoptr (GBytes) same = bytes_of (f, "timestamp");
  gboolean unchanged = FALSE;
  g_assert_true (sb_trusted_set_update_timestamp (ts, same, &unchanged, &error));
  g_assert_no_error (error);
  g_assert_true (unchanged);
  g_assert_true (sb_trusted_set_get_timestamp (ts) == trusted);
  g_assert_cmpint (sb_metadata_get_snapshot_meta (sb_trusted_set_get_timestamp (ts))->version, ==,
                   1);
}

static void
test_timestamp_equal_version_expired (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_set_expires (f->repo, "timestamp", SB_TEST_NOW - 1);
  g_autoptr (GBytes) expired = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, expired, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_clear_error (&error);
  /* "Unchanged" is no way around expiry: the trusted copy is still expired. */
  gboolean unchanged = FALSE;
  g_assert_false (sb_trusted_set_update_timestamp (ts, expired, &unchanged, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_assert_true (unchanged);
}

static void
test_timestamp_snapshot_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_set_version (f->repo, "snapshot", 3);
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  load_timestamp (f, ts);
  /* TUF §5.4.3.2: a newer timestamp listing an older snapshot. */
  sb_test_repo_bump (f->repo, "timestamp");
  sb_test_repo_set_version (f->repo, "snapshot", 2);
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_timestamp (ts)), ==, 1);
}

static void
test_timestamp_expired (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  sb_test_repo_set_expires (f->repo, "timestamp", SB_TEST_NOW - 1);
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_clear_error (&error);
  /* Kept as intermediate, but nothing can be built on it. */
  g_assert_nonnull (sb_trusted_set_get_timestamp (ts));
  g_autoptr (GBytes) snapshot = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, snapshot, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
}

static void
test_timestamp_expiry_boundary (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_expires (f->repo, "timestamp", SB_TEST_NOW + 60);
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");

  g_autoptr (SbTrustedSet) before = new_set_at (f, SB_TEST_NOW + 59);
  g_assert_true (sb_trusted_set_update_timestamp (before, bytes, NULL, &error));
  g_assert_no_error (error);

  g_autoptr (SbTrustedSet) at = new_set_at (f, SB_TEST_NOW + 60);
  g_assert_false (sb_trusted_set_update_timestamp (at, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
}

static void
test_timestamp_intermediate_guards_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  /* The stored timestamp (version 10) has expired since. */
  sb_test_repo_set_version (f->repo, "timestamp", 10);
  sb_test_repo_set_expires (f->repo, "timestamp", SB_TEST_NOW - SB_TEST_DAY);
  g_autoptr (GBytes) stored = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, stored, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_clear_error (&error);
  /* A fresh but older one is still a rollback. */
  sb_test_repo_set_version (f->repo, "timestamp", 9);
  sb_test_repo_set_expires (f->repo, "timestamp", SB_TEST_NOW + SB_TEST_DAY);
  g_autoptr (GBytes) older = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, older, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  /* A fresh, newer one replaces it. */
  sb_test_repo_set_version (f->repo, "timestamp", 11);
  load_timestamp (f, ts);
  load_snapshot (f, ts);
}

static void
test_timestamp_after_snapshot_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  load_snapshot (f, ts);
  sb_test_repo_bump (f->repo, "timestamp");
  g_autoptr (GBytes) bytes = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, bytes, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

/* ---- TUF §5.5: snapshot ---- */

static void
test_snapshot_before_timestamp_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

static void
test_snapshot_hash_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_update_timestamp_meta (f->repo, TRUE);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  /* Same length, other bytes: a snapshot the timestamp does not describe. */
  g_autoptr (GBytes) bytes = tampered_bytes (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_assert_null (sb_trusted_set_get_snapshot (ts));
}

static void
test_snapshot_length_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_update_timestamp_meta (f->repo, TRUE);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  /* A new snapshot of the same version, signed properly, but not the one listed. */
  sb_test_repo_set_expires (f->repo, "snapshot", SB_TEST_NOW + 70 * SB_TEST_DAY);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_clear_error (&error);
  json_object_set_string_member (sb_test_repo_signed (f->repo, "snapshot"), "x-padding", "more");
  g_autoptr (GBytes) longer = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, longer, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
}

static void
test_snapshot_trusted_local_skips_hashes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) stored = bytes_of (f, "snapshot");
  /* The repository moved on: timestamp now describes snapshot version 2. */
  sb_test_repo_bump (f->repo, "snapshot");
  sb_test_repo_update_timestamp_meta (f->repo, TRUE);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  /* The stored copy loads as intermediate: hashes are not checked, the version is. */
  g_assert_false (sb_trusted_set_update_snapshot (ts, stored, TRUE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
  g_clear_error (&error);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_snapshot (ts)), ==, 1);
  /* Not as a new download, though. */
  g_assert_false (sb_trusted_set_update_snapshot (ts, stored, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_clear_error (&error);
  load_snapshot (f, ts);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_snapshot (ts)), ==, 2);
}

static void
test_snapshot_bad_signature (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  g_autoptr (GBytes) bytes = tampered_bytes (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_null (sb_trusted_set_get_snapshot (ts));
}

static void
test_snapshot_wrong_type (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
}

static void
test_snapshot_version_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  /* TUF §5.5.4: timestamp lists version 1. */
  sb_test_repo_set_version (f->repo, "snapshot", 2);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
  g_clear_error (&error);
  /* An intermediate snapshot cannot vouch for targets. */
  g_autoptr (GBytes) targets = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, targets, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
  g_assert_null (sb_trusted_set_get_targets (ts));
}

static void
test_snapshot_expired (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  sb_test_repo_set_expires (f->repo, "snapshot", SB_TEST_NOW);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_clear_error (&error);
  g_autoptr (GBytes) targets = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, targets, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
}

/* Loads @stored_snapshot as the trusted (intermediate) copy and then the repository's current
 * snapshot; expects @code (-1: accepted). */
static void
check_snapshot_after_stored (Fixture *f, GBytes *stored_snapshot, gint code)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_bump (f->repo, "snapshot");
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  g_assert_false (sb_trusted_set_update_snapshot (ts, stored_snapshot, TRUE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
  g_clear_error (&error);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  gboolean ok = sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error);
  if (code < 0)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  else
    {
      g_assert_error (error, SB_ERROR, code);
      g_assert_false (ok);
      g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_snapshot (ts)), ==, 1);
    }
}

static JsonObject *
snapshot_meta (Fixture *f)
{
  return json_object_get_object_member (sb_test_repo_signed (f->repo, "snapshot"), "meta");
}

static void
test_snapshot_role_removed (Fixture *f, gconstpointer data)
{
  JsonObject *entry = json_object_new ();
  json_object_set_int_member (entry, "version", 4);
  json_object_set_object_member (snapshot_meta (f), "team.json", entry);
  g_autoptr (GBytes) stored = bytes_of (f, "snapshot");
  json_object_remove_member (snapshot_meta (f), "team.json");
  check_snapshot_after_stored (f, stored, SB_ERROR_ROLLBACK);
}

static void
test_snapshot_meta_rollback (Fixture *f, gconstpointer data)
{
  sb_test_repo_set_version (f->repo, "targets", 7);
  sb_test_repo_update_snapshot_meta (f->repo, FALSE);
  g_autoptr (GBytes) stored = bytes_of (f, "snapshot");
  sb_test_repo_set_version (f->repo, "targets", 6);
  sb_test_repo_update_snapshot_meta (f->repo, FALSE);
  check_snapshot_after_stored (f, stored, SB_ERROR_ROLLBACK);
}

static void
test_snapshot_meta_forward (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) stored = bytes_of (f, "snapshot");
  /* Versions that go up and roles that appear are fine. */
  sb_test_repo_set_version (f->repo, "targets", 2);
  sb_test_repo_update_snapshot_meta (f->repo, FALSE);
  JsonObject *entry = json_object_new ();
  json_object_set_int_member (entry, "version", 1);
  json_object_set_object_member (snapshot_meta (f), "new-role.json", entry);
  check_snapshot_after_stored (f, stored, -1);
}

static void
test_snapshot_after_targets_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  load_targets (f, ts);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_snapshot (ts, bytes, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

/* ---- TUF §5.6: targets ---- */

static void
test_targets_before_snapshot_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

static void
test_targets_hash_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  g_autoptr (GBytes) bytes = tampered_bytes (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_assert_null (sb_trusted_set_get_targets (ts));
}

static void
test_targets_length_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  sb_test_repo_add_target (f->repo, "targets", "extra", "x");
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
}

static void
test_targets_version_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  /* Snapshot lists version 1: an older (or newer) targets is refused. */
  sb_test_repo_set_version (f->repo, "targets", 2);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
}

static void
test_targets_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_version (f->repo, "targets", 5);
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  sb_test_repo_set_version (f->repo, "targets", 4);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_VERSION_MISMATCH);
}

static void
test_targets_missing_from_snapshot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  json_object_remove_member (snapshot_meta (f), "targets.json");
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  load_snapshot (f, ts);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

static void
test_targets_bad_signature (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GBytes) bytes = tampered_bytes (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
}

static void
test_targets_wrong_type (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* Snapshot signed by the targets key too, served as targets.json. */
  g_ptr_array_add (sb_test_repo_signers (f->repo, "snapshot"),
                   sb_signer_ref (sb_test_repo_signers (f->repo, "targets")->pdata[0]));
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GBytes) bytes = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
}

static void
test_targets_expired (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_expires (f->repo, "targets", SB_TEST_NOW);
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_assert_null (sb_trusted_set_get_targets (ts));
}

static void
test_delegated_targets (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const paths[] = { "team/*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "team", paths, NULL, FALSE);
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  g_autoptr (GBytes) team = bytes_of (f, "team");

  /* The delegator must be loaded first. */
  g_assert_false (sb_trusted_set_update_delegated_targets (ts, team, "team", "targets", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  load_targets (f, ts);

  /* A role cannot pose as a top-level one, nor targets come from another delegator. */
  g_assert_false (
      sb_trusted_set_update_delegated_targets (ts, team, "snapshot", "targets", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (sb_trusted_set_update_delegated_targets (ts, team, "team", "targets", &error));
  g_assert_no_error (error);
  g_assert_nonnull (sb_trusted_set_get_role (ts, "team"));
  g_assert_cmpstr (sb_trusted_set_get_delegator (ts, "team"), ==, "targets");
}

static void
test_delegated_targets_wrong_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const paths[] = { "*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "team", paths, NULL, FALSE);
  /* Signed with the top-level targets key, which targets does not give to "team". */
  GPtrArray *signers = sb_test_repo_signers (f->repo, "team");
  g_ptr_array_set_size (signers, 0);
  g_ptr_array_add (signers, sb_signer_ref (sb_test_repo_signers (f->repo, "targets")->pdata[0]));
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  load_targets (f, ts);
  g_autoptr (GBytes) team = bytes_of (f, "team");
  g_assert_false (sb_trusted_set_update_delegated_targets (ts, team, "team", "targets", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_null (sb_trusted_set_get_role (ts, "team"));
}

static void
test_delegated_targets_not_delegated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const paths[] = { "*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "team", paths, NULL, FALSE);
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  load_targets (f, ts);
  g_autoptr (GBytes) team = bytes_of (f, "team");
  g_assert_true (sb_trusted_set_update_delegated_targets (ts, team, "team", "targets", &error));
  /* "team" does not delegate "team". */
  g_assert_false (sb_trusted_set_update_delegated_targets (ts, team, "team", "team", &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

/* ---- targets without timestamp and snapshot (OTA-CE Director) ---- */

static void
test_direct_targets (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_version (f->repo, "targets", 3);
  g_autoptr (GBytes) v3 = bytes_of (f, "targets");
  sb_test_repo_set_version (f->repo, "targets", 2);
  g_autoptr (GBytes) v2 = bytes_of (f, "targets");
  g_autoptr (SbTrustedSet) ts = new_set (f);

  g_assert_true (sb_trusted_set_update_targets_without_snapshot (ts, v3, &error));
  g_assert_no_error (error);
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (ts, v2, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_ROLLBACK);
  g_clear_error (&error);
  /* The same version again is fine (nothing changed). */
  g_assert_true (sb_trusted_set_update_targets_without_snapshot (ts, v3, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_targets (ts)), ==, 3);

  g_autoptr (GBytes) timestamp = bytes_of (f, "timestamp");
  g_assert_false (sb_trusted_set_update_timestamp (ts, timestamp, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

static void
test_direct_targets_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) bad = tampered_bytes (f, "targets");
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (ts, bad, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_clear_error (&error);

  g_autoptr (GBytes) wrong = bytes_of (f, "snapshot");
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (ts, wrong, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
  g_clear_error (&error);

  sb_test_repo_set_expires (f->repo, "targets", SB_TEST_NOW - 1);
  g_autoptr (GBytes) expired = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (ts, expired, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_clear_error (&error);

  /* The expired copy is intermediate: a search refuses to use it. */
  g_autoptr (SbTargetSearch) search = sb_target_search_new (ts, "file");
  const char *role, *delegator;
  SbTargetInfo *found = NULL;
  g_assert_false (sb_target_search_next (search, &role, &delegator, &found, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
  g_assert_null (found);
  g_clear_error (&error);

  g_autoptr (SbTrustedSet) after = new_set (f);
  load_timestamp (f, after);
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (after, expired, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

static void
test_direct_targets_root_expired (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_set_expires (f->repo, "root", SB_TEST_NOW - 1);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  g_autoptr (GBytes) bytes = bytes_of (f, "targets");
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (ts, bytes, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
}

/* ---- TUF §5.6.7: the target search ---- */

/* Searches @path, loading every role the search asks for from the repository, in order, into
 * @loaded. */
static SbTargetInfo *
run_search (Fixture *f, SbTrustedSet *ts, const char *path, GPtrArray *loaded, GError **error)
{
  g_autoptr (SbTargetSearch) search = sb_target_search_new (ts, path);
  for (;;)
    {
      const char *role = NULL, *delegator = NULL;
      SbTargetInfo *found = NULL;
      if (!sb_target_search_next (search, &role, &delegator, &found, error))
        {
          g_assert_null (found);
          return NULL;
        }
      if (found != NULL)
        {
          g_assert_null (role);
          return found;
        }
      g_assert_nonnull (role);
      g_assert_nonnull (delegator);
      g_ptr_array_add (loaded, g_strdup (role));
      g_autoptr (GBytes) bytes = bytes_of (f, role);
      if (!sb_trusted_set_update_delegated_targets (ts, bytes, role, delegator, error))
        return NULL;
    }
}

static void
assert_loaded (GPtrArray *loaded, const char *const *expected)
{
  g_autofree char *got = NULL;
  g_ptr_array_add (loaded, NULL);
  got = g_strjoinv (",", (char **) loaded->pdata);
  g_ptr_array_remove_index (loaded, loaded->len - 1);
  g_autofree char *want = g_strjoinv (",", (char **) expected);
  g_assert_cmpstr (got, ==, want);
}

static const char *const ALL[] = { "*", NULL };

static void
test_search_top_level (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_add_target (f->repo, "targets", "dir/file", "top");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "dir/file", loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->length, ==, 3);
  const char *const expected[] = { "targets", NULL };
  assert_loaded (loaded, expected);

  /* A second search reuses the loaded role. */
  g_ptr_array_set_size (loaded, 0);
  g_autoptr (SbTargetInfo) again = run_search (f, ts, "dir/file", loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 0);
}

static void
test_search_preorder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* targets -> A -> (C, D), then B -> E; the target is only in E, and also in nobody else. */
  sb_test_repo_delegate (f->repo, "targets", "A", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "targets", "B", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "A", "C", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "A", "D", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "B", "E", ALL, NULL, FALSE);
  sb_test_repo_add_target (f->repo, "E", "file", "from E");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "file", loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->length, ==, 6);
  const char *const expected[] = { "targets", "A", "C", "D", "B", "E", NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_first_role_wins (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_delegate (f->repo, "targets", "A", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "targets", "B", ALL, NULL, FALSE);
  sb_test_repo_add_target (f->repo, "A", "file", "from A");
  sb_test_repo_add_target (f->repo, "B", "file", "from B, longer");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "file", loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->length, ==, 6);
  const char *const expected[] = { "targets", "A", NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_paths_filter (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const docs[] = { "docs/*", "*.md", NULL };
  const char *const bins[] = { "bin/*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "docs", docs, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "targets", "bins", bins, NULL, FALSE);
  sb_test_repo_add_target (f->repo, "bins", "bin/tool", "tool");
  /* The docs role lists bin/tool too, but is not trusted for it. */
  sb_test_repo_add_target (f->repo, "docs", "bin/tool", "evil tool");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "bin/tool", loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->length, ==, 4);
  const char *const expected[] = { "targets", "bins", NULL };
  assert_loaded (loaded, expected);

  /* "*.md" does not cross "/". */
  g_ptr_array_set_size (loaded, 0);
  g_autoptr (SbTargetInfo) none = run_search (f, ts, "docs/sub/README.md", loaded, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (none);
  g_assert_cmpuint (loaded->len, ==, 0);
}

static void
test_search_terminating (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* targets -> A (non-terminating) -> C (terminating); then B, which has the target. */
  sb_test_repo_delegate (f->repo, "targets", "A", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "targets", "B", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "A", "C", ALL, NULL, TRUE);
  sb_test_repo_delegate (f->repo, "A", "D", ALL, NULL, FALSE);
  sb_test_repo_add_target (f->repo, "B", "file", "from B");
  sb_test_repo_add_target (f->repo, "D", "file", "from D");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "file", loaded, &error);
  /* C is terminating: neither its sibling D nor A's sibling B is tried. */
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (info);
  const char *const expected[] = { "targets", "A", "C", NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_terminating_nonmatching (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* A terminating delegation that does not match the path does not stop anything. */
  const char *const other[] = { "other/*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "A", other, NULL, TRUE);
  sb_test_repo_delegate (f->repo, "targets", "B", ALL, NULL, FALSE);
  sb_test_repo_add_target (f->repo, "B", "file", "from B");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "file", loaded, &error);
  g_assert_no_error (error);
  const char *const expected[] = { "targets", "B", NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_cycle (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_delegate (f->repo, "targets", "A", ALL, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "A", "B", ALL, NULL, FALSE);
  /* B delegates back to A, with A's key, and to itself. */
  JsonObject *b_signed = sb_test_repo_signed (f->repo, "B");
  JsonObject *delegations = json_object_new ();
  JsonObject *keys = json_object_new ();
  SbKey *a_key = sb_signer_get_public (sb_test_repo_signers (f->repo, "A")->pdata[0]);
  json_object_set_member (keys, sb_key_get_keyid (a_key), sb_key_to_json (a_key));
  json_object_set_object_member (delegations, "keys", keys);
  JsonArray *roles = json_array_new ();
  const char *const names[] = { "A", "B" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonObject *role = json_object_new ();
      JsonArray *keyids = json_array_new ();
      json_array_add_string_element (keyids, sb_key_get_keyid (a_key));
      json_object_set_string_member (role, "name", names[i]);
      json_object_set_array_member (role, "keyids", keyids);
      json_object_set_int_member (role, "threshold", 1);
      json_object_set_boolean_member (role, "terminating", FALSE);
      json_object_set_array_member (role, "paths", json_array_new ());
      json_array_add_string_element (json_object_get_array_member (role, "paths"), "*");
      json_array_add_object_element (roles, role);
    }
  json_object_set_array_member (delegations, "roles", roles);
  json_object_set_object_member (b_signed, "delegations", delegations);

  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "missing", loaded, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (info);
  const char *const expected[] = { "targets", "A", "B", NULL };
  assert_loaded (loaded, expected);
}

/* targets -> r00 -> r01 -> ... -> r(n-1), each delegating everything to the next. */
static void
make_chain (Fixture *f, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("r%02u", i);
      g_autofree char *parent = i == 0 ? g_strdup ("targets") : g_strdup_printf ("r%02u", i - 1);
      sb_test_repo_delegate (f->repo, parent, name, ALL, NULL, FALSE);
    }
}

static void
test_search_cap (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  make_chain (f, SB_MAX_DELEGATIONS + 5);
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "missing", loaded, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_TOO_MANY);
  g_assert_null (info);
  /* The top-level targets and SB_MAX_DELEGATIONS delegated roles, as python-tuf. */
  g_assert_cmpuint (loaded->len, ==, SB_MAX_DELEGATIONS + 1);
}

static void
test_search_cap_last_allowed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  make_chain (f, SB_MAX_DELEGATIONS);
  g_autofree char *last = g_strdup_printf ("r%02u", SB_MAX_DELEGATIONS - 1);
  sb_test_repo_add_target (f->repo, last, "deep", "deep");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "deep", loaded, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpuint (loaded->len, ==, SB_MAX_DELEGATIONS + 1);
}

static void
test_search_role_not_in_snapshot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_delegate (f->repo, "targets", "A", ALL, NULL, FALSE);
  sb_test_repo_add_target (f->repo, "A", "file", "from A");
  sb_test_repo_update_snapshot_meta (f->repo, FALSE);
  json_object_remove_member (snapshot_meta (f), "A.json");
  sb_test_repo_update_timestamp_meta (f->repo, FALSE);
  g_autoptr (SbTrustedSet) ts = new_set (f);
  load_timestamp (f, ts);
  load_snapshot (f, ts);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "file", loaded, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (info);
  /* A was not even requested. */
  const char *const expected[] = { "targets", NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_hash_prefix (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *digest = sb_sha256_hex ("pkg/a.tgz", strlen ("pkg/a.tgz"));
  char prefix[3] = { digest[0], digest[1], '\0' };
  char other[3] = { digest[0] == 'f' ? '0' : 'f', digest[1], '\0' };
  const char *const match[] = { prefix, NULL };
  const char *const miss[] = { other, NULL };
  sb_test_repo_delegate (f->repo, "targets", "bin-miss", NULL, miss, FALSE);
  sb_test_repo_delegate (f->repo, "targets", "bin-match", NULL, match, FALSE);
  sb_test_repo_add_target (f->repo, "bin-match", "pkg/a.tgz", "a");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "pkg/a.tgz", loaded, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  const char *const expected[] = { "targets", "bin-match", NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_succinct (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sb_test_repo_delegate_succinct (f->repo, "targets", 3, "bin");
  SbRole shape = { .name = (char *) "bin", .bit_length = 3, .threshold = 1 };
  g_autofree char *bin = sb_succinct_bin_for_target (&shape, "images/rootfs.img");
  g_autofree char *other = g_strdup (g_str_equal (bin, "bin-0") ? "bin-1" : "bin-0");
  sb_test_repo_add_bin (f->repo, "bin", bin);
  sb_test_repo_add_bin (f->repo, "bin", other);
  sb_test_repo_add_target (f->repo, bin, "images/rootfs.img", "rootfs");
  /* A wrong bin listing the target is never consulted. */
  sb_test_repo_add_target (f->repo, other, "images/rootfs.img", "evil rootfs");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, TRUE);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info = run_search (f, ts, "images/rootfs.img", loaded, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->length, ==, 6);
  const char *const expected[] = { "targets", bin, NULL };
  assert_loaded (loaded, expected);
}

static void
test_search_diamond (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const team_a[] = { "team-a/*", NULL };
  const char *const team_b[] = { "team-b/*", NULL };
  sb_test_repo_delegate (f->repo, "targets", "parent-a", team_a, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "targets", "parent-b", team_b, NULL, FALSE);
  sb_test_repo_delegate (f->repo, "parent-a", "release", team_a, NULL, FALSE);
  g_autoptr (SbSigner) key_a = sb_signer_ref (sb_test_repo_signers (f->repo, "release")->pdata[0]);
  /* parent-b delegates the same role name to another key; the role is signed by A's only. */
  sb_test_repo_delegate (f->repo, "parent-b", "release", team_b, NULL, FALSE);
  GPtrArray *signers = sb_test_repo_signers (f->repo, "release");
  g_ptr_array_set_size (signers, 0);
  g_ptr_array_add (signers, sb_signer_ref (key_a));
  sb_test_repo_add_target (f->repo, "release", "team-a/file", "trusted A");
  sb_test_repo_add_target (f->repo, "release", "team-b/file", "malicious B");
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);

  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SbTargetInfo) info_a = run_search (f, ts, "team-a/file", loaded, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info_a);
  const char *const expected_a[] = { "targets", "parent-a", "release", NULL };
  assert_loaded (loaded, expected_a);

  /* Reached through parent-b, the loaded role must satisfy parent-b's keys: it does not. */
  g_ptr_array_set_size (loaded, 0);
  g_autoptr (SbTargetInfo) info_b = run_search (f, ts, "team-b/file", loaded, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
  g_assert_null (info_b);
  const char *const expected_b[] = { "parent-b", NULL };
  assert_loaded (loaded, expected_b);
}

static void
test_search_role_not_loaded (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = set_ready_for_targets (f, FALSE);
  g_autoptr (SbTargetSearch) search = sb_target_search_new (ts, "file");
  const char *role, *delegator;
  SbTargetInfo *found = NULL;
  g_assert_true (sb_target_search_next (search, &role, &delegator, &found, &error));
  g_assert_cmpstr (role, ==, "targets");
  g_assert_cmpstr (delegator, ==, "root");
  g_assert_false (sb_target_search_next (search, &role, &delegator, &found, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* A search that ended stays ended. */
  g_assert_false (sb_target_search_next (search, &role, &delegator, &found, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
}

/* ---- OTA Community Edition metadata recorded by aktualizr (tests/data/ota-ce/README) ---- */

/* 2018-05-01T00:00:00Z: inside the validity of the recorded prov set. */
#define OTA_CE_PROV_TIME ((gint64) 1525132800)
/* 2018-08-01T00:00:00Z: inside the validity of the fs-snapshot Director targets. */
#define OTA_CE_FS_SNAPSHOT_TIME ((gint64) 1533081600)
/* 2020-01-01T00:00:00Z: the sample1 set expires in 2038. */
#define OTA_CE_SAMPLE_TIME ((gint64) 1577836800)

static GBytes *
ota_ce_file (const char *set, const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "ota-ce", set, name, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (text, len);
}

static SbTrustedSet *
ota_ce_set (const char *set, const char *root_name, gint64 reference_time)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) root = ota_ce_file (set, root_name);
  SbTrustedSet *ts = sb_trusted_set_new_full (root, reference_time, SB_METADATA_OTA_CE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ts);
  return ts;
}

/* An Image repository's full set: root, timestamp, snapshot, targets. */
static void
ota_ce_verify_image_set (const char *set, gint64 reference_time)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = ota_ce_set (set, "root.json", reference_time);
  g_autoptr (GBytes) timestamp = ota_ce_file (set, "timestamp.json");
  g_autoptr (GBytes) snapshot = ota_ce_file (set, "snapshot.json");
  g_autoptr (GBytes) targets = ota_ce_file (set, "targets.json");
  g_assert_true (sb_trusted_set_update_timestamp (ts, timestamp, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sb_trusted_set_update_snapshot (ts, snapshot, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (sb_trusted_set_update_targets (ts, targets, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sb_metadata_get_n_targets (sb_trusted_set_get_targets (ts)), >, 0);
}

static void
test_ota_ce_sample1 (void)
{
  /* ed25519 keys spelled in lower case, no scheme, base64 signatures. */
  ota_ce_verify_image_set ("sample1", OTA_CE_SAMPLE_TIME);
}

static SbMetadata *
ota_ce_parse (const char *set, const char *name, SbMetadataType type)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = ota_ce_file (set, name);
  SbMetadata *md = sb_metadata_new_from_bytes_full (bytes, type, SB_METADATA_OTA_CE, &error);
  g_assert_no_error (error);
  return md;
}

/* RSA keys as PEM with newlines, signed over aktualizr's canonical form. Root and timestamp
 * load. The snapshot and targets were stored re-indented and do not match what the timestamp
 * and snapshot list (neither as bytes nor in canonical form, and the timestamp lists snapshot
 * version 20 where the file is 21), so aktualizr refuses this snapshot, and so does this
 * client. Their signatures still verify. */
static void
test_ota_ce_prov_image (void)
{
  g_autoptr (GError) error = NULL;
  const char *set = "prov/repo";
  g_autoptr (SbTrustedSet) ts = ota_ce_set (set, "root.json", OTA_CE_PROV_TIME);
  g_autoptr (GBytes) timestamp = ota_ce_file (set, "timestamp.json");
  g_assert_true (sb_trusted_set_update_timestamp (ts, timestamp, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) snapshot = ota_ce_file (set, "snapshot.json");
  g_assert_false (sb_trusted_set_update_snapshot (ts, snapshot, FALSE, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);

  SbMetadata *root = sb_trusted_set_get_root (ts);
  g_autoptr (SbMetadata) snap = ota_ce_parse (set, "snapshot.json", SB_METADATA_SNAPSHOT);
  g_assert_true (sb_metadata_verify_delegate (root, SB_ROLE_SNAPSHOT, snap, &error));
  g_assert_no_error (error);
  g_autoptr (SbMetadata) targets = ota_ce_parse (set, "targets.json", SB_METADATA_TARGETS);
  g_assert_true (sb_metadata_verify_delegate (root, SB_ROLE_TARGETS, targets, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sb_metadata_get_n_targets (targets), >, 0);
}

static void
ota_ce_verify_director (const char *set, const char *root_name, gint64 reference_time)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = ota_ce_set (set, root_name, reference_time);
  g_autoptr (GBytes) targets = ota_ce_file (set, "targets.json");
  g_assert_true (sb_trusted_set_update_targets_without_snapshot (ts, targets, &error));
  g_assert_no_error (error);
  /* The Director's first targets are version 0. */
  g_assert_cmpint (sb_metadata_get_version (sb_trusted_set_get_targets (ts)), ==, 0);
}

static void
test_ota_ce_prov_director (void)
{
  ota_ce_verify_director ("prov/director", "root.json", OTA_CE_PROV_TIME);
}

static void
test_ota_ce_fs_snapshot_director (void)
{
  ota_ce_verify_director ("fs-snapshot/director", "1.root.json", OTA_CE_FS_SNAPSHOT_TIME);
}

static void
test_ota_ce_rsassa_pss_root (void)
{
  /* Keys spelled "RSA" and "rsa", one with keyid_hash_algorithms. */
  g_autoptr (SbTrustedSet) ts = ota_ce_set ("rsassa-pss-sha256", "root.json", OTA_CE_SAMPLE_TIME);
}

/* The recorded sets expired in 2018-2019: at a later time each is refused as expired, as
 * aktualizr refuses it. */
static void
test_ota_ce_prov_expired (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = ota_ce_set ("prov/director", "root.json", SB_TEST_NOW);
  g_autoptr (GBytes) targets = ota_ce_file ("prov/director", "targets.json");
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (ts, targets, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_EXPIRED);
}

/* Standard mode refuses every recorded root (capitalised type, no spec_version, no scheme). */
static void
test_ota_ce_standard_mode_refuses (void)
{
  const char *const roots[][2] = { { "sample1", "root.json" },
                                   { "prov/director", "root.json" },
                                   { "prov/repo", "root.json" },
                                   { "rsassa-pss-sha256", "root.json" },
                                   { "fs-snapshot/director", "1.root.json" } };
  for (guint i = 0; i < G_N_ELEMENTS (roots); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) root = ota_ce_file (roots[i][0], roots[i][1]);
      g_autoptr (SbTrustedSet) ts = sb_trusted_set_new (root, OTA_CE_PROV_TIME, &error);
      g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
      g_assert_null (ts);
    }
}


/* ---- compat mode refuses what aktualizr refuses ---- */

/* A capitalised type on the wrong role: a real OTA-CE snapshot given as the timestamp, and a
 * Director root given as its targets. */
static void
test_ota_ce_type_on_wrong_role (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbTrustedSet) ts = ota_ce_set ("sample1", "root.json", OTA_CE_SAMPLE_TIME);
  g_autoptr (GBytes) snapshot = ota_ce_file ("sample1", "snapshot.json");
  g_assert_false (sb_trusted_set_update_timestamp (ts, snapshot, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
  g_clear_error (&error);
  g_autoptr (SbTrustedSet) director = ota_ce_set ("prov/director", "root.json", OTA_CE_PROV_TIME);
  g_autoptr (GBytes) root = ota_ce_file ("prov/director", "root.json");
  g_assert_false (sb_trusted_set_update_targets_without_snapshot (director, root, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_TYPE);
}

/* @set/@name with the first occurrence of @from replaced by @to. */
static GBytes *
ota_ce_file_edited (const char *set, const char *name, const char *from, const char *to)
{
  g_autoptr (GBytes) bytes = ota_ce_file (set, name);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  char *at = strstr (text, from);
  g_assert_nonnull (at);
  *at = '\0';
  char *edited = g_strconcat (text, to, at + strlen (from), NULL);
  return g_bytes_new_take (edited, strlen (edited));
}

/* Keytypes aktualizr does not know, without a scheme: aktualizr refuses the whole root
 * (MetaWithKeys::ParseKeys), and so does compat mode. A spelling only in case is accepted. */
static void
test_ota_ce_unknown_keytype_refused (void)
{
  const char *const spellings[] = { "ECDSA", "ed-25519", "rsa-pss", "RSA " };
  for (guint i = 0; i < G_N_ELEMENTS (spellings); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *to = g_strdup_printf ("\"keytype\" : \"%s\"", spellings[i]);
      g_autoptr (GBytes) root
          = ota_ce_file_edited ("prov/director", "root.json", "\"keytype\" : \"RSA\"", to);
      g_autoptr (SbTrustedSet) ts
          = sb_trusted_set_new_full (root, OTA_CE_PROV_TIME, SB_METADATA_OTA_CE, &error);
      g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, spellings[i]));
      g_assert_null (ts);
    }
}

/* A root holding one RSA key (its PEM has newlines, so the two canonical forms differ), signed
 * over @form, the key with or without a scheme. */
static GBytes *
rsa_root_signed_over (SbSigner *signer, gboolean with_scheme, SbJsonCanonicalForm form)
{
  g_autoptr (GError) error = NULL;
  SbKey *key = sb_signer_get_public (signer);
  const char *keyid = sb_key_get_keyid (key);
  g_autoptr (JsonNode) key_node = sb_key_to_json (key);
  JsonNode *listed = sb_test_deep_copy (key_node);
  if (!with_scheme)
    json_object_remove_member (json_node_get_object (listed), "scheme");

  JsonObject *signed_obj = json_object_new ();
  json_object_set_string_member (signed_obj, "_type", "Root");
  json_object_set_boolean_member (signed_obj, "consistent_snapshot", FALSE);
  json_object_set_string_member (signed_obj, "expires", "2030-01-01T00:00:00Z");
  JsonObject *keys = json_object_new ();
  json_object_set_member (keys, keyid, listed);
  json_object_set_object_member (signed_obj, "keys", keys);
  JsonObject *roles = json_object_new ();
  const char *const names[] = { "root", "snapshot", "targets", "timestamp" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonObject *role = json_object_new ();
      JsonArray *ids = json_array_new ();
      json_array_add_string_element (ids, keyid);
      json_object_set_array_member (role, "keyids", ids);
      json_object_set_int_member (role, "threshold", 1);
      json_object_set_object_member (roles, names[i], role);
    }
  json_object_set_object_member (signed_obj, "roles", roles);
  json_object_set_int_member (signed_obj, "version", 1);
  g_autoptr (JsonNode) signed_node = json_node_init_object (json_node_alloc (), signed_obj);
  json_object_unref (signed_obj);

  g_autoptr (GBytes) payload = sb_json_canonical_form (signed_node, NULL, form, &error);
  g_assert_no_error (error);
  g_autofree char *sig = sb_signer_sign (signer, g_bytes_get_data (payload, NULL),
                                         g_bytes_get_size (payload), &error);
  g_assert_no_error (error);

  JsonObject *sig_obj = json_object_new ();
  json_object_set_string_member (sig_obj, "keyid", keyid);
  json_object_set_string_member (sig_obj, "method", "rsassa-pss-sha256");
  json_object_set_string_member (sig_obj, "sig", sig);
  JsonArray *sigs = json_array_new ();
  json_array_add_object_element (sigs, sig_obj);
  JsonObject *env = json_object_new ();
  json_object_set_array_member (env, "signatures", sigs);
  json_object_set_member (env, "signed", sb_test_deep_copy (signed_node));
  g_autoptr (JsonNode) envelope = json_node_init_object (json_node_alloc (), env);
  json_object_unref (env);
  return sb_test_encode_escaped (envelope);
}

static gboolean
rsa_root_accepted (SbSigner *signer, gboolean with_scheme, SbJsonCanonicalForm form)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) root = rsa_root_signed_over (signer, with_scheme, form);
  g_autoptr (SbTrustedSet) ts
      = sb_trusted_set_new_full (root, SB_TEST_NOW, SB_METADATA_OTA_CE, &error);
  if (ts == NULL)
    {
      g_assert_error (error, SB_ERROR, SB_ERROR_THRESHOLD);
      return FALSE;
    }
  g_assert_no_error (error);
  return TRUE;
}

/* Each form counts only for the keys it belongs to: aktualizr's for a key without a scheme (as
 * OTA-CE writes them), OLPC's for a key that declares one. A signature valid only under the
 * other form is refused. */
static void
test_ota_ce_canonical_form_by_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSigner) signer = sb_signer_generate (SB_KEY_TYPE_RSA, &error);
  g_assert_no_error (error);
  g_assert_true (rsa_root_accepted (signer, FALSE, SB_JSON_CANONICAL_AKTUALIZR));
  g_assert_true (rsa_root_accepted (signer, TRUE, SB_JSON_CANONICAL_OLPC));
  g_assert_false (rsa_root_accepted (signer, TRUE, SB_JSON_CANONICAL_AKTUALIZR));
  g_assert_false (rsa_root_accepted (signer, FALSE, SB_JSON_CANONICAL_OLPC));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/trusted-set/new/valid", test_new_valid);
  ADD ("/trusted-set/new/unsigned-refused", test_new_unsigned_refused);
  ADD ("/trusted-set/new/malformed-refused", test_new_malformed_refused);
  ADD ("/trusted-set/new/wrong-type-refused", test_new_wrong_type_refused);
  ADD ("/trusted-set/new/expired-root-accepted-not-final", test_new_expired_root_accepted);
  ADD ("/trusted-set/full-update", test_full_update);

  ADD ("/trusted-set/root/rotation", test_root_rotation);
  ADD ("/trusted-set/root/signed-only-by-old-keys-refused", test_root_signed_only_by_old);
  ADD ("/trusted-set/root/signed-only-by-new-keys-refused", test_root_signed_only_by_new);
  ADD ("/trusted-set/root/new-threshold-unmet-refused", test_root_new_threshold_unmet);
  ADD ("/trusted-set/root/version-skip-refused", test_root_version_skip);
  ADD ("/trusted-set/root/same-version-refused", test_root_same_version);
  ADD ("/trusted-set/root/older-version-refused", test_root_older_version);
  ADD ("/trusted-set/root/wrong-type-refused", test_root_wrong_type);
  ADD ("/trusted-set/root/bad-spec-version-refused", test_root_bad_spec_version);
  ADD ("/trusted-set/root/expired-intermediate-accepted", test_root_expired_intermediate);
  ADD ("/trusted-set/root/expired-final-refused", test_root_expired_final);
  ADD ("/trusted-set/root/after-timestamp-refused", test_root_after_timestamp_refused);

  ADD ("/trusted-set/fast-forward/timestamp-key-rotation", test_ff_timestamp_rotation);
  ADD ("/trusted-set/fast-forward/snapshot-key-rotation", test_ff_snapshot_rotation);
  ADD ("/trusted-set/fast-forward/threshold-change", test_ff_threshold_change_is_rotation);
  ADD ("/trusted-set/fast-forward/no-rotation", test_ff_no_rotation);

  ADD ("/trusted-set/timestamp/bad-signature-refused", test_timestamp_bad_signature);
  ADD ("/trusted-set/timestamp/unsigned-refused", test_timestamp_unsigned);
  ADD ("/trusted-set/timestamp/wrong-type-refused", test_timestamp_wrong_type);
  ADD ("/trusted-set/timestamp/malformed-refused", test_timestamp_malformed);
  ADD ("/trusted-set/timestamp/rollback-refused", test_timestamp_rollback);
  ADD ("/trusted-set/timestamp/equal-version-unchanged", test_timestamp_equal_version);
  ADD ("/trusted-set/timestamp/equal-version-still-expired", test_timestamp_equal_version_expired);
  ADD ("/trusted-set/timestamp/snapshot-version-rollback-refused",
       test_timestamp_snapshot_rollback);
  ADD ("/trusted-set/timestamp/expired-refused", test_timestamp_expired);
  ADD ("/trusted-set/timestamp/expiry-boundary", test_timestamp_expiry_boundary);
  ADD ("/trusted-set/timestamp/intermediate-guards-rollback",
       test_timestamp_intermediate_guards_rollback);
  ADD ("/trusted-set/timestamp/after-snapshot-refused", test_timestamp_after_snapshot_refused);

  ADD ("/trusted-set/snapshot/before-timestamp-refused", test_snapshot_before_timestamp_refused);
  ADD ("/trusted-set/snapshot/hash-mismatch-refused", test_snapshot_hash_mismatch);
  ADD ("/trusted-set/snapshot/length-mismatch-refused", test_snapshot_length_mismatch);
  ADD ("/trusted-set/snapshot/trusted-local-skips-hashes",
       test_snapshot_trusted_local_skips_hashes);
  ADD ("/trusted-set/snapshot/bad-signature-refused", test_snapshot_bad_signature);
  ADD ("/trusted-set/snapshot/wrong-type-refused", test_snapshot_wrong_type);
  ADD ("/trusted-set/snapshot/version-mismatch-refused", test_snapshot_version_mismatch);
  ADD ("/trusted-set/snapshot/expired-refused", test_snapshot_expired);
  ADD ("/trusted-set/snapshot/role-removed-refused", test_snapshot_role_removed);
  ADD ("/trusted-set/snapshot/meta-version-rollback-refused", test_snapshot_meta_rollback);
  ADD ("/trusted-set/snapshot/meta-versions-forward-accepted", test_snapshot_meta_forward);
  ADD ("/trusted-set/snapshot/after-targets-refused", test_snapshot_after_targets_refused);

  ADD ("/trusted-set/targets/before-snapshot-refused", test_targets_before_snapshot_refused);
  ADD ("/trusted-set/targets/hash-mismatch-refused", test_targets_hash_mismatch);
  ADD ("/trusted-set/targets/length-mismatch-refused", test_targets_length_mismatch);
  ADD ("/trusted-set/targets/version-mismatch-refused", test_targets_version_mismatch);
  ADD ("/trusted-set/targets/rollback-refused", test_targets_rollback);
  ADD ("/trusted-set/targets/missing-from-snapshot-refused", test_targets_missing_from_snapshot);
  ADD ("/trusted-set/targets/bad-signature-refused", test_targets_bad_signature);
  ADD ("/trusted-set/targets/wrong-type-refused", test_targets_wrong_type);
  ADD ("/trusted-set/targets/expired-refused", test_targets_expired);
  ADD ("/trusted-set/delegated/loaded", test_delegated_targets);
  ADD ("/trusted-set/delegated/wrong-key-refused", test_delegated_targets_wrong_key);
  ADD ("/trusted-set/delegated/not-delegated-refused", test_delegated_targets_not_delegated);

  ADD ("/trusted-set/without-snapshot/rollback-refused", test_direct_targets);
  ADD ("/trusted-set/without-snapshot/refusals", test_direct_targets_refusals);
  ADD ("/trusted-set/without-snapshot/root-expired-refused", test_direct_targets_root_expired);

  ADD ("/target-search/top-level", test_search_top_level);
  ADD ("/target-search/preorder-depth-first", test_search_preorder);
  ADD ("/target-search/first-role-wins", test_search_first_role_wins);
  ADD ("/target-search/paths-filter-roles", test_search_paths_filter);
  ADD ("/target-search/terminating-stops-search", test_search_terminating);
  ADD ("/target-search/terminating-nonmatching-ignored", test_search_terminating_nonmatching);
  ADD ("/target-search/cycle-visited-once", test_search_cycle);
  ADD ("/target-search/cap-on-roles-visited", test_search_cap);
  ADD ("/target-search/cap-last-role-allowed", test_search_cap_last_allowed);
  ADD ("/target-search/role-not-in-snapshot-not-requested", test_search_role_not_in_snapshot);
  ADD ("/target-search/path-hash-prefixes", test_search_hash_prefix);
  ADD ("/target-search/succinct-bins", test_search_succinct);
  ADD ("/target-search/diamond-checked-per-delegator", test_search_diamond);
  ADD ("/target-search/role-not-loaded", test_search_role_not_loaded);
#undef ADD
  g_test_add_func ("/trusted-set/ota-ce/recorded/sample1", test_ota_ce_sample1);
  g_test_add_func ("/trusted-set/ota-ce/recorded/prov-image", test_ota_ce_prov_image);
  g_test_add_func ("/trusted-set/ota-ce/recorded/prov-director", test_ota_ce_prov_director);
  g_test_add_func ("/trusted-set/ota-ce/recorded/fs-snapshot-director",
                   test_ota_ce_fs_snapshot_director);
  g_test_add_func ("/trusted-set/ota-ce/recorded/rsassa-pss-root", test_ota_ce_rsassa_pss_root);
  g_test_add_func ("/trusted-set/ota-ce/recorded/expired-later", test_ota_ce_prov_expired);
  g_test_add_func ("/trusted-set/ota-ce/recorded/standard-mode-refuses",
                   test_ota_ce_standard_mode_refuses);
  g_test_add_func ("/trusted-set/ota-ce/refused/type-on-wrong-role", test_ota_ce_type_on_wrong_role);
  g_test_add_func ("/trusted-set/ota-ce/refused/unknown-keytype", test_ota_ce_unknown_keytype_refused);
  g_test_add_func ("/trusted-set/ota-ce/refused/signature-over-the-other-canonical-form",
                   test_ota_ce_canonical_form_by_key);

  return g_test_run ();
}
