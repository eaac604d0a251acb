/* Tests for sb-ostree: pulling OSTree commits from an archive repository served on loopback,
 * deploying them into a sysroot in a temporary directory, the slot table, and pruning.
 *
 * The fixtures are made with the real ostree CLI (tests/ostree-helpers.sh). The repository is
 * served by tests/sb-test-httpd, which can fail chosen paths and counts requests per path.
 *
 * The binary also has a small command mode used by the killed-pull test (a pull in a child
 * process that is then killed) and by bench/bench-ostree.sh:
 *   test-ostree tool pull SYSROOT STATE-DIR URL CHECKSUM
 *   test-ostree tool deploy SYSROOT STATE-DIR CHECKSUM SLOT
 *   test-ostree tool prune SYSROOT STATE-DIR COMMITTED-SLOT
 */
#include "config.h"

#include "core/sb-error.h"
#include "ostree/sb-ostree.h"
#include "sb-test-httpd.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define NFILES 24

typedef struct
{
  char *dir;
  char *srv;             /* the archive repository served */
  char *sysroot;         /* the device's sysroot */
  char *state;           /* switchback's state directory */
  char *c1, *c2;         /* two commits of the test OS */
  GPtrArray *c1_objects; /* URL paths of C1's content objects (.filez) */
  SbTestHttpd *httpd;
} Fixture;

static char *
helpers_path (void)
{
  return g_test_build_filename (G_TEST_DIST, "ostree-helpers.sh", NULL);
}

/* Runs tests/ostree-helpers.sh with @args (NULL-terminated); returns its stdout, stripped. */
static char *
helper (const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup ("bash"));
  g_ptr_array_add (argv, helpers_path ());
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("ostree-helpers.sh %s failed: %s", first, err);
  return g_strdup (g_strstrip (out));
}

static void
collect_files (const char *root, const char *rel, GHashTable *files)
{
  g_autofree char *dir = g_build_filename (root, rel, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *r = *rel ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *p = g_build_filename (root, r, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        collect_files (root, r, files);
      else
        {
          char *data = NULL;
          gsize len = 0;
          g_assert_true (g_file_get_contents (p, &data, &len, NULL));
          g_hash_table_insert (files, g_strconcat ("/", r, NULL), g_bytes_new_take (data, len));
        }
    }
}

static GHashTable *
repo_files (const char *repo)
{
  GHashTable *files
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
  collect_files (repo, "", files);
  return files;
}

/* One answered request: the server's loop is running, so freeing it later cannot race its
 * start. */
static void
wait_until_serving (SbTestHttpd *h)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = sb_test_httpd_url (h, "/config");
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->srv = g_build_filename (f->dir, "srv", NULL);
  f->sysroot = g_build_filename (f->dir, "sysroot", NULL);
  f->state = g_build_filename (f->dir, "state", NULL);
  g_assert_cmpint (g_mkdir (f->state, 0755), ==, 0);

  g_autofree char *t1 = g_build_filename (f->dir, "tree1", NULL);
  g_autofree char *t2 = g_build_filename (f->dir, "tree2", NULL);
  g_autofree char *n = g_strdup_printf ("%d", NFILES);
  g_free (helper ("make-tree", t1, "6.1.0", n, "4", NULL));
  g_free (helper ("make-tree", t2, "6.1.1", n, "4", NULL));
  f->c1 = helper ("commit", f->srv, t1, "1.0", NULL);

  /* What C1 alone needs: the content objects in the repository before C2 is committed. */
  g_autoptr (GHashTable) before = repo_files (f->srv);
  f->c1_objects = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, before);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (g_str_has_suffix (key, ".filez"))
      g_ptr_array_add (f->c1_objects, g_strdup (key));
  g_assert_cmpuint (f->c1_objects->len, >=, NFILES);

  f->c2 = helper ("commit", f->srv, t2, "2.0", NULL);
  g_free (helper ("make-sysroot", f->sysroot, "testos", NULL));

  g_autoptr (GHashTable) files = repo_files (f->srv);
  f->httpd = sb_test_httpd_new (files);
  wait_until_serving (f->httpd);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->httpd, sb_test_httpd_free);
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->srv);
  g_free (f->sysroot);
  g_free (f->state);
  g_free (f->c1);
  g_free (f->c2);
  g_ptr_array_unref (f->c1_objects);
}

static SbOstree *
open_sysroot (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  SbOstree *o = sb_ostree_open (f->sysroot, NULL, f->state, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (o);
  return o;
}

static SbOstreePullOptions
pull_options (Fixture *f)
{
  SbOstreePullOptions opts = { .url = sb_test_httpd_get_base_url (f->httpd) };
  return opts;
}

static guint
object_hits (Fixture *f)
{
  guint n = 0;
  for (guint i = 0; i < f->c1_objects->len; i++)
    n += sb_test_httpd_get_hits (f->httpd, f->c1_objects->pdata[i]);
  return n;
}

static char *
commit_path (const char *checksum)
{
  return g_strdup_printf ("/objects/%.2s/%s.commit", checksum, checksum + 2);
}

static void
pull_ok (Fixture *f, SbOstree *o, const char *checksum)
{
  g_autoptr (GError) error = NULL;
  SbOstreePullOptions opts = pull_options (f);
  g_assert_true (sb_ostree_pull (o, checksum, &opts, NULL, &error));
  g_assert_no_error (error);
}

/* The device as it left the factory: C1 deployed by the ostree CLI with a root= argument. */
static void
provision (Fixture *f)
{
  g_free (helper ("provision", f->sysroot, "testos", f->srv, f->c1, "root=/dev/vda2", "rw", NULL));
}

static char *
deployment_dir (Fixture *f, const char *checksum, int serial)
{
  g_autofree char *name = g_strdup_printf ("%s.%d", checksum, serial);
  return g_build_filename (f->sysroot, "ostree", "deploy", "testos", "deploy", name, NULL);
}

/* The deployments libostree lists, in its order, as "CHECKSUM.SERIAL" joined by spaces. */
static char *
deployment_list (Fixture *f)
{
  g_autoptr (GFile) path = g_file_new_for_path (f->sysroot);
  g_autoptr (OstreeSysroot) sysroot = ostree_sysroot_new (path);
  g_autoptr (GError) error = NULL;
  g_assert_true (ostree_sysroot_load (sysroot, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) all = ostree_sysroot_get_deployments (sysroot);
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < all->len; i++)
    g_string_append_printf (s, "%s%s.%d", i ? " " : "", ostree_deployment_get_csum (all->pdata[i]),
                            ostree_deployment_get_deployserial (all->pdata[i]));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
read_text (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&text);
}

/* ---- targets and pulls ---- */

static void
test_target_shape (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_ostree_check_target ("os-1", f->c1, 0, &error));
  g_assert_no_error (error);
  g_assert_false (sb_ostree_check_target ("os-1", f->c1, 4096, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);
  g_autofree char *upper = g_ascii_strup (f->c1, -1);
  g_assert_false (sb_ostree_check_target ("os-1", upper, 0, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_false (sb_ostree_check_target ("os-1", "abc", 0, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
}

static void
test_pull_options_from_config (Fixture *f, gconstpointer data)
{
  g_autoptr (SbConfig) config = sb_config_new_defaults ();
  config->ostree_url = g_strdup ("https://treehub.example/repo");
  config->tls_ca = g_strdup ("/etc/switchback/ca.pem");
  config->tls_cert = g_strdup ("/etc/switchback/client.pem");
  config->tls_key = g_strdup ("/var/lib/switchback/ecu/client.key");
  SbOstreePullOptions opts;
  sb_ostree_pull_options_init (&opts, config, NULL);
  g_assert_cmpstr (opts.url, ==, "https://treehub.example/repo");
  g_assert_cmpstr (opts.tls_ca, ==, config->tls_ca);
  g_assert_cmpstr (opts.tls_cert, ==, config->tls_cert);
  g_assert_cmpstr (opts.tls_key, ==, config->tls_key);
  g_assert_false (opts.allow_http);
  /* A target's custom.uri names its own repository. */
  g_assert_false (opts.url_from_metadata);
  sb_ostree_pull_options_init (&opts, config, "https://cdn.example/os");
  g_assert_cmpstr (opts.url, ==, "https://cdn.example/os");
  g_assert_true (opts.url_from_metadata);
  sb_ostree_pull_options_init (&opts, config, "");
  g_assert_cmpstr (opts.url, ==, "https://treehub.example/repo");
  g_assert_false (opts.url_from_metadata);
}

static void
test_pull_verifies (Fixture *f, gconstpointer data)
{
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_ostree_verify_commit (o, f->c1, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_clear_error (&error);

  pull_ok (f, o, f->c1);
  g_assert_true (sb_ostree_verify_commit (o, f->c1, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (object_hits (f), ==, f->c1_objects->len);
  g_autofree char *cp = commit_path (f->c1);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, cp), ==, 1);

  /* GPG is off (Uptane vouches for the checksum); TLS files would be set here too. */
  OstreeRepo *repo = sb_ostree_get_repo (o);
  gboolean gpg = TRUE;
  g_assert_true (ostree_repo_remote_get_gpg_verify (repo, SB_OSTREE_REMOTE, &gpg, &error));
  g_assert_no_error (error);
  g_assert_false (gpg);

  /* A complete commit is not fetched again. */
  pull_ok (f, o, f->c1);
  g_assert_cmpuint (sb_test_httpd_get_hits (f->httpd, cp), ==, 1);
  g_assert_cmpuint (object_hits (f), ==, f->c1_objects->len);
}

static void
test_pull_plain_http_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  /* Never contacted: the URL is refused before any request (TEST-NET-1, RFC 5737). */
  SbOstreePullOptions opts = { .url = "http://192.0.2.1/repo" };
  g_assert_false (sb_ostree_pull (o, f->c1, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_URL_REFUSED);
  g_clear_error (&error);
  /* A target's custom.uri may not make the pull read local files (sb-url-policy.h). */
  g_autofree char *local = g_strconcat ("file://", f->srv, NULL);
  SbOstreePullOptions from_metadata = { .url = local, .url_from_metadata = TRUE };
  g_assert_false (sb_ostree_pull (o, f->c1, &from_metadata, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_URL_REFUSED);
  g_clear_error (&error);
  SbOstreePullOptions none = { .url = NULL };
  g_assert_false (sb_ostree_pull (o, f->c1, &none, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
}

static void
test_pull_wrong_commit (Fixture *f, gconstpointer data)
{
  /* The server answers for C1 with C2's commit object: a commit the target does not name. */
  g_autofree char *p1 = commit_path (f->c1);
  g_autofree char *p2 = commit_path (f->c2);
  g_autofree char *file2 = g_build_filename (f->srv, p2, NULL);
  g_autofree char *data2 = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (file2, &data2, &len, NULL));
  g_autoptr (GBytes) body = g_bytes_new (data2, len);
  sb_test_httpd_set_file (f->httpd, p1, body);

  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  SbOstreePullOptions opts = pull_options (f);
  g_assert_false (sb_ostree_pull (o, f->c1, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_HASH_MISMATCH);
  g_assert_cmpuint (object_hits (f), ==, 0);
  g_clear_error (&error);
  g_assert_false (sb_ostree_verify_commit (o, f->c1, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

static void
test_pull_commit_not_found (Fixture *f, gconstpointer data)
{
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  g_autofree char *absent = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "no such commit", -1);
  SbOstreePullOptions opts = pull_options (f);
  g_assert_false (sb_ostree_pull (o, absent, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_ON_SERVER);
}

static void
test_pull_object_not_found (Fixture *f, gconstpointer data)
{
  SbTestFault gone = { .status = 404 };
  sb_test_httpd_set_fault (f->httpd, f->c1_objects->pdata[0], &gone);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  SbOstreePullOptions opts = pull_options (f);
  g_assert_false (sb_ostree_pull (o, f->c1, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
  g_clear_error (&error);
  g_assert_false (sb_ostree_verify_commit (o, f->c1, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
}

static guint
count_staged_objects (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return 0;
  guint n = 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        n += count_staged_objects (p);
      else if (g_str_has_suffix (name, ".file"))
        n++;
    }
  return n;
}

static char *
staging_root (Fixture *f)
{
  return g_build_filename (f->sysroot, "ostree", "repo", "tmp", NULL);
}

typedef struct {
  SbTestHttpd *httpd;
  char *staging;
} ReleaseWhenStaged;

/* Releases the server's held answers once the pull has staged an object: an event, not a delay. */
static gpointer
release_when_staged (gpointer data)
{
  ReleaseWhenStaged *r = data;
  sb_test_httpd_wait_held (r->httpd);
  while (count_staged_objects (r->staging) < 1)
    g_usleep (10 * 1000);
  sb_test_httpd_release (r->httpd);
  return NULL;
}

static void
test_pull_resumes_after_failure (Fixture *f, gconstpointer data)
{
  /* One object's connection is held after a byte until another object is staged, then cut,
   * every time. */
  SbTestFault cut = { .hold_after = 1, .drop = TRUE, .drop_after = 2 };
  guint n = f->c1_objects->len;
  sb_test_httpd_set_fault (f->httpd, f->c1_objects->pdata[0], &cut);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  SbOstreePullOptions opts = pull_options (f);
  opts.network_retries = 1;
  g_autofree char *staging = staging_root (f);
  ReleaseWhenStaged r = { f->httpd, staging };
  GThread *releaser = g_thread_new ("release-when-staged", release_when_staged, &r);
  gboolean pulled = sb_ostree_pull (o, f->c1, &opts, NULL, &error);
  g_thread_join (releaser);
  g_assert_false (pulled);
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
  g_clear_error (&error);
  g_assert_false (sb_ostree_verify_commit (o, f->c1, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);

  g_autofree char *tmp = staging_root (f);
  guint staged = count_staged_objects (tmp);
  g_assert_cmpuint (staged, >=, 1);
  sb_test_httpd_set_fault (f->httpd, f->c1_objects->pdata[0], NULL);
  guint first = object_hits (f);
  pull_ok (f, o, f->c1);
  guint second = object_hits (f) - first;
  g_test_message ("objects: %u, staged by the failed pull: %u, fetched by the next: %u", n, staged,
                  second);
  /* Exactly what was missing is fetched. */
  g_assert_cmpuint (second, ==, n - staged);
}

static void
test_pull_resumes_after_kill (Fixture *f, gconstpointer data)
{
  /* One object is held after its first byte until the test releases it, so the pull in the
   * child cannot finish before it is killed, however slow or fast the machine is. */
  SbTestFault held = { .hold_after = 1 };
  guint n = f->c1_objects->len;
  sb_test_httpd_set_fault (f->httpd, f->c1_objects->pdata[n - 1], &held);

  g_autoptr (GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);
  g_assert_no_error (error);
  const char *argv[]
      = { self_exe, "tool", "pull", f->sysroot, f->state, sb_test_httpd_get_base_url (f->httpd),
          f->c1,    NULL };
  GPid pid = 0;
  g_spawn_async (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &error);
  g_assert_no_error (error);

  /* Kill it once some objects are on disk in libostree's staging directory (the held one
   * keeps the pull running until then), or fail at once if the child ended by itself. */
  g_autofree char *tmp = staging_root (f);
  guint staged = 0;
  int status = 0;
  while ((staged = count_staged_objects (tmp)) < 4)
    {
      g_assert_cmpint (waitpid (pid, &status, WNOHANG), ==, 0);
      g_usleep (10 * 1000);
    }
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFSIGNALED (status));
  staged = count_staged_objects (tmp);
  g_assert_cmpuint (staged, <, n);

  sb_test_httpd_set_fault (f->httpd, f->c1_objects->pdata[n - 1], NULL);
  sb_test_httpd_release (f->httpd);
  guint first = object_hits (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  pull_ok (f, o, f->c1);
  guint second = object_hits (f) - first;
  g_test_message ("objects: %u, staged when killed: %u, fetched after: %u", n, staged, second);
  g_assert_cmpuint (second, ==, n - staged);
}

/* libostree's reserve set above the free space of the filesystem. */
static void
reserve_everything (Fixture *f)
{
  g_autofree char *repo = g_build_filename (f->sysroot, "ostree", "repo", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (repo);
  g_autoptr (GFileInfo) info
      = g_file_query_filesystem_info (file, G_FILE_ATTRIBUTE_FILESYSTEM_SIZE, NULL, NULL);
  g_assert_nonnull (info);
  guint64 size_mb = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_SIZE) >> 20;
  g_autoptr (OstreeRepo) r = ostree_repo_new (file);
  g_autoptr (GError) error = NULL;
  g_assert_true (ostree_repo_open (r, NULL, &error));
  g_autoptr (GKeyFile) config = ostree_repo_copy_config (r);
  g_autofree char *value = g_strdup_printf ("%" G_GUINT64_FORMAT "MB", size_mb + 1024);
  g_key_file_set_string (config, "core", "min-free-space-size", value);
  g_key_file_remove_key (config, "core", "min-free-space-percent", NULL);
  g_assert_true (ostree_repo_write_config (r, config, &error));
  g_assert_no_error (error);
}

static void
test_pull_no_space_checked_first (Fixture *f, gconstpointer data)
{
  reserve_everything (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  SbOstreePullOptions opts = pull_options (f);
  g_assert_false (sb_ostree_pull (o, f->c1, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_test_message ("%s", error->message);
  /* Refused from ostree.sizes before any content was fetched. */
  g_assert_cmpuint (object_hits (f), ==, 0);
  guint64 needed = 0;
  g_clear_error (&error);
  g_assert_false (sb_ostree_check_space (o, f->c1, &needed, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_assert_cmpuint (needed, >=, NFILES * 4096);
}

static void
test_pull_no_space_from_libostree (Fixture *f, gconstpointer data)
{
  /* Without ostree.sizes only libostree's own reserve check can stop the pull. */
  g_autofree char *t3 = g_build_filename (f->dir, "tree3", NULL);
  g_free (helper ("make-tree", t3, "6.1.2", "4", "4", NULL));
  g_autofree char *c3 = helper ("commit", f->srv, t3, "3.0", "--no-sizes", NULL);
  g_autoptr (GHashTable) files = repo_files (f->srv);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, files);
  while (g_hash_table_iter_next (&it, &k, &v))
    sb_test_httpd_set_file (f->httpd, k, v);

  reserve_everything (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  guint64 needed = 0;
  SbOstreePullOptions opts = pull_options (f);
  g_assert_false (sb_ostree_pull (o, c3, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NO_SPACE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_true (sb_ostree_check_space (o, c3, &needed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (needed, ==, G_MAXUINT64);
}

static void
test_pull_tls (Fixture *f, gconstpointer data)
{
  g_autofree char *pki = g_build_filename (f->dir, "pki", NULL);
  g_assert_cmpint (g_mkdir (pki, 0700), ==, 0);
  g_autoptr (GError) error = NULL;
  if (!sb_test_make_tls_files (pki, &error))
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_test_skip ("openssl is not installed");
      return;
    }
  g_autofree char *ca = g_build_filename (pki, "ca.pem", NULL);
  g_autofree char *cert = g_build_filename (pki, "server.pem", NULL);
  g_autofree char *key = g_build_filename (pki, "server.key", NULL);
  g_autofree char *ccert = g_build_filename (pki, "client.pem", NULL);
  g_autofree char *ckey = g_build_filename (pki, "client.key", NULL);
  g_autoptr (GHashTable) files = repo_files (f->srv);
  g_autoptr (SbTestHttpd) https = sb_test_httpd_new_tls (files, cert, key, ca);
  g_autoptr (SbOstree) o = open_sysroot (f);

  /* Mutual TLS: without the client certificate the server refuses. */
  SbOstreePullOptions opts
      = { .url = sb_test_httpd_get_base_url (https), .tls_ca = ca, .network_retries = 1 };
  g_assert_false (sb_ostree_pull (o, f->c1, &opts, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_DOWNLOAD);
  g_clear_error (&error);

  opts.tls_cert = ccert;
  opts.tls_key = ckey;
  g_assert_true (sb_ostree_pull (o, f->c1, &opts, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *remote_ca = NULL;
  g_assert_true (ostree_repo_get_remote_option (sb_ostree_get_repo (o), SB_OSTREE_REMOTE,
                                                "tls-ca-path", NULL, &remote_ca, &error));
  g_assert_cmpstr (remote_ca, ==, ca);
}

/* ---- deploy, slots, prune ---- */

static void
test_deploy_adopts_and_keeps_committed (Fixture *f, gconstpointer data)
{
  provision (f);
  /* A local change to /etc in the running deployment, which the new one must keep. */
  g_autofree char *dep1 = deployment_dir (f, f->c1, 0);
  g_autofree char *conf1 = g_build_filename (dep1, "etc", "switchback-test.conf", NULL);
  g_assert_true (g_file_set_contents (conf1, "changed on the device\n", -1, NULL));

  g_autoptr (SbOstree) o = open_sysroot (f);
  g_assert_cmpstr (sb_ostree_get_osname (o), ==, "testos");
  pull_ok (f, o, f->c2);
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_ostree_deploy (o, f->c2, "B", "testos-2.0", NULL, &error));
  g_assert_no_error (error);

  /* The provisioned deployment became slot A, the new one slot B. */
  SbOstreeSlots *slots = sb_ostree_get_slots (o);
  const SbOstreeSlotDeployment *a = sb_ostree_slots_get (slots, "A");
  const SbOstreeSlotDeployment *b = sb_ostree_slots_get (slots, "B");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (a->checksum, ==, f->c1);
  g_assert_cmpstr (a->version, ==, "1.0");
  g_assert_null (a->target);
  g_assert_cmpstr (b->checksum, ==, f->c2);
  g_assert_cmpstr (b->version, ==, "2.0");
  g_assert_cmpstr (b->target, ==, "testos-2.0");
  g_assert_cmpstr (sb_ostree_slots_find_commit (slots, f->c2, NULL), ==, "B");

  /* Not the default: the committed deployment stays first for libostree. */
  g_autofree char *list = deployment_list (f);
  g_autofree char *want = g_strdup_printf ("%s.0 %s.0", f->c1, f->c2);
  g_assert_cmpstr (list, ==, want);

  /* The merge deployment's kernel arguments and /etc were kept. */
  g_assert_cmpstr (b->options, ==, "root=/dev/vda2 rw");
  g_autofree char *dep2 = deployment_dir (f, f->c2, 0);
  g_autofree char *conf2 = g_build_filename (dep2, "etc", "switchback-test.conf", NULL);
  g_autofree char *merged = read_text (conf2);
  g_assert_cmpstr (merged, ==, "changed on the device\n");

  /* The table on disk says the same, and the GRUB fragment boots what it names. */
  g_autoptr (SbOstreeSlots) disk = sb_ostree_slots_load (sb_ostree_get_slots_path (o), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_ostree_slots_get (disk, "B")->checksum, ==, f->c2);
  g_autofree char *grub = read_text (sb_ostree_get_grub_path (o));
  g_autofree char *opt_b = g_strdup_printf (
      "set sb_ostree_B_options='root=/dev/vda2 rw ostree=/ostree/switchback/testos/%s.0'", f->c2);
  g_assert_nonnull (strstr (grub, opt_b));
  /* ostree= names switchback's bootlink, a relative symlink (ostree-prepare-root takes only a
   * symlink) that resolves to the deployment inside the sysroot. */
  g_autofree char *link_b = g_strdup_printf ("%s/ostree/switchback/testos/%s.0", f->sysroot, f->c2);
  g_autofree char *link_target = g_file_read_link (link_b, &error);
  g_assert_no_error (error);
  g_autofree char *want_target = g_strdup_printf ("../../deploy/testos/deploy/%s.0", f->c2);
  g_assert_cmpstr (link_target, ==, want_target);
  g_autofree char *link_a = g_strdup_printf ("%s/ostree/switchback/testos/%s.0", f->sysroot, f->c1);
  g_assert_true (g_file_test (link_a, G_FILE_TEST_IS_SYMLINK));
  g_autofree char *kernel_b = g_build_filename (f->sysroot, "boot", b->kernel, NULL);
  g_autofree char *initrd_b = g_build_filename (f->sysroot, "boot", b->initrd, NULL);
  g_autofree char *kernel_text = read_text (kernel_b);
  g_assert_cmpstr (kernel_text, ==, "kernel 6.1.1\n");
  g_assert_true (g_file_test (initrd_b, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (dep2, G_FILE_TEST_IS_DIR));

  /* Deploying the same commit again (a retried install) leaves things as they are. */
  g_assert_true (sb_ostree_deploy (o, f->c2, "B", "testos-2.0", NULL, &error));
  g_assert_no_error (error);
  g_autofree char *again = deployment_list (f);
  g_assert_cmpstr (again, ==, want);

  /* Offline, the installed commit is the one of the slot the caller says booted. */
  g_autofree char *inst_a = sb_ostree_get_installed_checksum (o, "A", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (inst_a, ==, f->c1);
  g_autofree char *inst_b = sb_ostree_get_installed_checksum (o, "B", &error);
  g_assert_cmpstr (inst_b, ==, f->c2);
  g_assert_null (sb_ostree_get_booted_slot (o));

  /* ostree admin upgrade is told that this system is not updated by it. */
  g_autofree char *origin_path = g_strconcat (dep2, ".origin", NULL);
  g_autofree char *origin = read_text (origin_path);
  g_assert_nonnull (strstr (origin, "unconfigured-state="));
  g_assert_nonnull (strstr (origin, "target=testos-2.0"));
}

static void
test_deploy_replaces_inactive (Fixture *f, gconstpointer data)
{
  provision (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  pull_ok (f, o, f->c2);
  g_assert_true (sb_ostree_deploy (o, f->c2, "B", "testos-2.0", NULL, &error));
  g_assert_no_error (error);

  /* The trial of B was committed: B first for libostree, A kept as the rollback. */
  g_assert_true (sb_ostree_prune (o, "B", NULL, &error));
  g_assert_no_error (error);
  g_autofree char *list = deployment_list (f);
  g_autofree char *want = g_strdup_printf ("%s.0 %s.0", f->c2, f->c1);
  g_assert_cmpstr (list, ==, want);

  /* The next update goes into A, replacing C1's deployment; C1 leaves the repository. */
  g_autofree char *t3 = g_build_filename (f->dir, "tree3", NULL);
  g_free (helper ("make-tree", t3, "6.1.2", "2", "4", NULL));
  g_autofree char *c3 = helper ("commit", f->srv, t3, "3.0", NULL);
  g_autoptr (GHashTable) files = repo_files (f->srv);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, files);
  while (g_hash_table_iter_next (&it, &k, &v))
    sb_test_httpd_set_file (f->httpd, k, v);
  pull_ok (f, o, c3);
  g_assert_true (sb_ostree_deploy (o, c3, "A", "testos-3.0", NULL, &error));
  g_assert_no_error (error);

  g_free (list);
  g_free (want);
  list = deployment_list (f);
  want = g_strdup_printf ("%s.0 %s.0", f->c2, c3);
  g_assert_cmpstr (list, ==, want);
  g_autofree char *dep1 = deployment_dir (f, f->c1, 0);
  g_assert_false (g_file_test (dep1, G_FILE_TEST_EXISTS));
  /* C1's bootlink went with it; C3's and C2's are there. */
  g_autofree char *link1 = g_strdup_printf ("%s/ostree/switchback/testos/%s.0", f->sysroot, f->c1);
  g_autofree char *link3 = g_strdup_printf ("%s/ostree/switchback/testos/%s.0", f->sysroot, c3);
  g_assert_false (g_file_test (link1, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_test (link3, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpstr (sb_ostree_slots_get (sb_ostree_get_slots (o), "A")->checksum, ==, c3);
  g_assert_cmpstr (sb_ostree_slots_get (sb_ostree_get_slots (o), "B")->checksum, ==, f->c2);
  gboolean have = TRUE;
  g_assert_true (ostree_repo_has_object (sb_ostree_get_repo (o), OSTREE_OBJECT_TYPE_COMMIT, f->c1,
                                         &have, NULL, &error));
  g_assert_false (have);
}

static void
test_deploy_refuses_active_slot (Fixture *f, gconstpointer data)
{
  provision (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  pull_ok (f, o, f->c2);
  g_assert_true (sb_ostree_deploy (o, f->c2, "B", NULL, NULL, &error));
  g_assert_no_error (error);
  /* A holds the committed deployment: deploying "into A" while A is active is refused, and
   * nothing changes. */
  g_autofree char *before = deployment_list (f);
  g_autofree char *grub_before = read_text (sb_ostree_get_grub_path (o));
  g_assert_false (sb_ostree_deploy (o, f->c2, "C", NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (sb_ostree_prune (o, "A", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sb_ostree_deploy (o, f->c2, "A", NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  g_autofree char *after = deployment_list (f);
  g_assert_cmpstr (after, ==, before);
  g_autofree char *grub_after = read_text (sb_ostree_get_grub_path (o));
  g_assert_cmpstr (grub_after, ==, grub_before);
}

static void
test_deploy_needs_complete_commit (Fixture *f, gconstpointer data)
{
  provision (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_ostree_deploy (o, f->c2, "B", NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (sb_ostree_slots_get (sb_ostree_get_slots (o), "B"));
}

static void
test_deploy_sysroot_locked (Fixture *f, gconstpointer data)
{
  provision (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  pull_ok (f, o, f->c2);
  g_autoptr (GFile) path = g_file_new_for_path (f->sysroot);
  g_autoptr (OstreeSysroot) other = ostree_sysroot_new (path);
  g_autoptr (GError) error = NULL;
  g_assert_true (ostree_sysroot_lock (other, &error));
  g_assert_no_error (error);
  g_assert_false (sb_ostree_deploy (o, f->c2, "B", NULL, NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_SLOT_BUSY);
  ostree_sysroot_unlock (other);
  g_clear_error (&error);
  g_assert_true (sb_ostree_deploy (o, f->c2, "B", NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_prune_after_rollback (Fixture *f, gconstpointer data)
{
  provision (f);
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autoptr (GError) error = NULL;
  pull_ok (f, o, f->c2);
  g_assert_true (sb_ostree_deploy (o, f->c2, "B", NULL, NULL, &error));
  g_assert_no_error (error);

  /* Someone deployed by hand next to the slots: not a slot, so pruning removes it. */
  g_autofree char *sysroot_arg = g_strdup_printf ("--sysroot=%s", f->sysroot);
  const char *argv[]
      = { "ostree", "admin", "deploy", sysroot_arg, "--os=testos", "--retain", f->c1, NULL };
  int status = -1;
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_autofree char *three = deployment_list (f);
  g_assert_cmpuint (strlen (three), ==, 3 * 66 + 2);

  /* GRUB fell back to A: A stays committed and first, B stays as it is. */
  g_assert_true (sb_ostree_prune (o, "A", NULL, &error));
  g_assert_no_error (error);
  g_autofree char *list = deployment_list (f);
  g_autofree char *want = g_strdup_printf ("%s.0 %s.0", f->c1, f->c2);
  g_assert_cmpstr (list, ==, want);
  g_autofree char *extra = deployment_dir (f, f->c1, 1);
  g_assert_false (g_file_test (extra, G_FILE_TEST_EXISTS));

  /* B's deployment removed by hand: the table and the GRUB fragment forget it. */
  const char *undeploy[] = { "ostree", "admin", "undeploy", sysroot_arg, "1", NULL };
  g_spawn_sync (NULL, (char **)undeploy, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_true (sb_ostree_prune (o, "A", NULL, &error));
  g_assert_no_error (error);
  g_assert_null (sb_ostree_slots_get (sb_ostree_get_slots (o), "B"));
  g_autofree char *grub = read_text (sb_ostree_get_grub_path (o));
  g_assert_nonnull (strstr (grub, "set sb_ostree_B_linux=''\n"));
  g_assert_nonnull (strstr (grub, "set sb_ostree_slots='A'\n"));

  /* The committed slot must have a deployment. */
  g_assert_false (sb_ostree_prune (o, "B", NULL, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_STATE);
}

static void
test_open_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstree) none = sb_ostree_open (f->dir, NULL, f->state, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autoptr (SbOstree) wrong = sb_ostree_open (f->sysroot, "otheros", f->state, NULL, &error);
  g_assert_null (wrong);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autoptr (SbOstree) escape = sb_ostree_open (f->sysroot, "../..", f->state, NULL, &error);
  g_assert_null (escape);
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
  g_clear_error (&error);
  /* An empty sysroot has no installed commit yet. */
  g_autoptr (SbOstree) o = open_sysroot (f);
  g_autofree char *inst = sb_ostree_get_installed_checksum (o, "A", &error);
  g_assert_null (inst);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

/* ---- command mode ---- */

static int
tool_main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  if (argc == 7 && g_str_equal (argv[2], "pull"))
    {
      g_autoptr (SbOstree) o = sb_ostree_open (argv[3], NULL, argv[4], NULL, &error);
      SbOstreePullOptions opts = { .url = argv[5], .progress = isatty (2) };
      ok = o != NULL && sb_ostree_pull (o, argv[6], &opts, NULL, &error);
    }
  else if (argc == 7 && g_str_equal (argv[2], "deploy"))
    {
      g_autoptr (SbOstree) o = sb_ostree_open (argv[3], NULL, argv[4], NULL, &error);
      ok = o != NULL && sb_ostree_deploy (o, argv[5], argv[6], NULL, NULL, &error);
    }
  else if (argc == 6 && g_str_equal (argv[2], "prune"))
    {
      g_autoptr (SbOstree) o = sb_ostree_open (argv[3], NULL, argv[4], NULL, &error);
      ok = o != NULL && sb_ostree_prune (o, argv[5], NULL, &error);
    }
  else
    {
      g_printerr ("usage: %s tool pull SYSROOT STATE-DIR URL CHECKSUM\n"
                  "       %s tool deploy SYSROOT STATE-DIR CHECKSUM SLOT\n"
                  "       %s tool prune SYSROOT STATE-DIR COMMITTED-SLOT\n",
                  argv[0], argv[0], argv[0]);
      return 2;
    }
  if (!ok)
    {
      g_printerr ("%s: %s (%s)\n", argv[2], error->message,
                  error->domain == SB_ERROR ? sb_error_code_name (error->code) : "other");
      return 1;
    }
  return 0;
}

static gboolean
have_tools (void)
{
  g_autofree char *ostree = g_find_program_in_path ("ostree");
  g_autofree char *bash = g_find_program_in_path ("bash");
  return ostree != NULL && bash != NULL;
}

int
main (int argc, char **argv)
{
  /* libostree sets the immutable bit on deployments when it can; temporary sysroots must be
   * removable. */
  g_setenv ("OSTREE_SYSROOT_DEBUG", "mutable-deployments", TRUE);
  if (argc >= 2 && g_str_equal (argv[1], "tool"))
    return tool_main (argc, argv);

  g_test_init (&argc, &argv, NULL);
  if (!have_tools ())
    {
      printf ("1..0 # SKIP the ostree CLI is not installed\n");
      return 0;
    }
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/ostree/target/shape", test_target_shape);
  ADD ("/ostree/open/errors", test_open_errors);
  ADD ("/ostree/pull/options-from-config", test_pull_options_from_config);
  ADD ("/ostree/pull/verified-and-not-repeated", test_pull_verifies);
  ADD ("/ostree/pull/plain-http-refused", test_pull_plain_http_refused);
  ADD ("/ostree/pull/wrong-commit-refused", test_pull_wrong_commit);
  ADD ("/ostree/pull/commit-not-found", test_pull_commit_not_found);
  ADD ("/ostree/pull/object-not-found", test_pull_object_not_found);
  ADD ("/ostree/pull/resumes-after-failure", test_pull_resumes_after_failure);
  ADD ("/ostree/pull/resumes-after-kill", test_pull_resumes_after_kill);
  ADD ("/ostree/pull/no-space-checked-first", test_pull_no_space_checked_first);
  ADD ("/ostree/pull/no-space-from-libostree", test_pull_no_space_from_libostree);
  ADD ("/ostree/pull/mutual-tls", test_pull_tls);
  ADD ("/ostree/deploy/adopts-and-keeps-committed", test_deploy_adopts_and_keeps_committed);
  ADD ("/ostree/deploy/replaces-inactive", test_deploy_replaces_inactive);
  ADD ("/ostree/deploy/refuses-active-slot", test_deploy_refuses_active_slot);
  ADD ("/ostree/deploy/needs-complete-commit", test_deploy_needs_complete_commit);
  ADD ("/ostree/deploy/sysroot-locked", test_deploy_sysroot_locked);
  ADD ("/ostree/prune/after-rollback", test_prune_after_rollback);
  return g_test_run ();
}
