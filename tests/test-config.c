/* Tests for sb-config: keys, defaults, bad values, line numbers and conf.d drop-ins. */
#include "config.h"

#include "state/sb-config.h"
#include "core/sb-error.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char *dir;
  char *main_path;
  char *dropin_dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
  f->main_path = g_build_filename (f->dir, "switchback.conf", NULL);
  f->dropin_dir = g_build_filename (f->dir, "conf.d", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->main_path);
  g_free (f->dropin_dir);
}

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

static void
write_dropin (Fixture *f, const char *name, const char *text)
{
  g_assert_cmpint (g_mkdir_with_parents (f->dropin_dir, 0755), ==, 0);
  g_autofree char *p = g_build_filename (f->dropin_dir, name, NULL);
  write_file (p, text);
}

/* Sets every key to something other than its default. */
static const char every_key[] = "[uptane]\n"
                                "director-url=https://director.example.com/api\n"
                                "image-url=https://image.example.com/repo\n"
                                "director-root=/etc/sb/director-root.json\n"
                                "image-root=/etc/sb/image-root.json\n"
                                "vehicle-id=VIN0001\n"
                                "ecu-serial=ecu-123\n"
                                "hardware-id=board-x\n"
                                "poll-interval=60\n"
                                "ota-ce-compat=true\n"
                                "allow-http=true\n"
                                "[tls]\n"
                                "ca=/etc/sb/ca.pem\n"
                                "cert=/etc/sb/client.pem\n"
                                "key=/etc/sb/client.key\n"
                                "[storage]\n"
                                "state-dir=/data/switchback\n"
                                "[slots]\n"
                                "disk=/dev/vda\n"
                                "slot-a=root-one\n"
                                "slot-b=root-two\n"
                                "[ostree]\n"
                                "sysroot=/sysroot\n"
                                "osname=fedora\n"
                                "ostree-url=http://treehub.example.com/ostree\n"
                                "[boot]\n"
                                "grubenv=/efi/grubenv\n"
                                "max-tries=5\n"
                                "confirm=userspace\n"
                                "cmdline-file=/tmp/cmdline\n"
                                "[network]\n"
                                "low-speed-limit=64\n"
                                "low-speed-time=120\n"
                                "connect-timeout=5\n"
                                "retries=0\n"
                                "retry-delay-ms=250\n";

static void
assert_every_key (SbConfig *c)
{
  g_assert_cmpstr (c->director_url, ==, "https://director.example.com/api");
  g_assert_cmpstr (c->image_url, ==, "https://image.example.com/repo");
  g_assert_cmpstr (c->director_root, ==, "/etc/sb/director-root.json");
  g_assert_cmpstr (c->image_root, ==, "/etc/sb/image-root.json");
  g_assert_cmpstr (c->vehicle_id, ==, "VIN0001");
  g_assert_cmpstr (c->ecu_serial, ==, "ecu-123");
  g_assert_cmpstr (c->hardware_id, ==, "board-x");
  g_assert_cmpuint (c->poll_interval, ==, 60);
  g_assert_true (c->ota_ce_compat);
  g_assert_true (c->allow_http);
  g_assert_cmpstr (c->tls_ca, ==, "/etc/sb/ca.pem");
  g_assert_cmpstr (c->tls_cert, ==, "/etc/sb/client.pem");
  g_assert_cmpstr (c->tls_key, ==, "/etc/sb/client.key");
  g_assert_cmpstr (c->state_dir, ==, "/data/switchback");
  g_assert_cmpstr (c->disk, ==, "/dev/vda");
  g_assert_cmpstr (c->slot_a, ==, "root-one");
  g_assert_cmpstr (c->slot_b, ==, "root-two");
  g_assert_cmpstr (c->ostree_sysroot, ==, "/sysroot");
  g_assert_cmpstr (c->ostree_osname, ==, "fedora");
  g_assert_cmpstr (c->ostree_url, ==, "http://treehub.example.com/ostree");
  g_assert_cmpstr (c->grubenv, ==, "/efi/grubenv");
  g_assert_cmpuint (c->max_tries, ==, 5);
  g_assert_cmpint (c->confirm, ==, SB_CONFIRM_USERSPACE);
  g_assert_cmpstr (c->cmdline_file, ==, "/tmp/cmdline");
  g_assert_cmpuint (c->low_speed_limit, ==, 64);
  g_assert_cmpuint (c->low_speed_time, ==, 120);
  g_assert_cmpuint (c->connect_timeout, ==, 5);
  g_assert_cmpuint (c->retries, ==, 0);
  g_assert_cmpuint (c->retry_delay_ms, ==, 250);
}

static void
assert_defaults (SbConfig *c)
{
  g_assert_null (c->director_url);
  g_assert_null (c->image_url);
  g_assert_cmpstr (c->director_root, ==, SB_DATADIR "/switchback/director-root.json");
  g_assert_cmpstr (c->image_root, ==, SB_DATADIR "/switchback/image-root.json");
  g_assert_null (c->vehicle_id);
  g_assert_null (c->ecu_serial);
  g_assert_null (c->hardware_id);
  g_assert_cmpuint (c->poll_interval, ==, 3600);
  g_assert_false (c->ota_ce_compat);
  g_assert_false (c->allow_http);
  g_assert_null (c->tls_ca);
  g_assert_null (c->tls_cert);
  g_assert_null (c->tls_key);
  g_assert_cmpstr (c->state_dir, ==, SB_LOCALSTATEDIR "/lib/switchback");
  g_assert_null (c->disk);
  g_assert_cmpstr (c->slot_a, ==, "rootfs-a");
  g_assert_cmpstr (c->slot_b, ==, "rootfs-b");
  g_assert_cmpstr (c->ostree_sysroot, ==, "/");
  g_assert_null (c->ostree_osname);
  g_assert_null (c->ostree_url);
  g_assert_cmpstr (c->grubenv, ==, "/boot/efi/EFI/switchback/grubenv");
  g_assert_cmpuint (c->max_tries, ==, 3);
  g_assert_cmpint (c->confirm, ==, SB_CONFIRM_INITRAMFS);
  g_assert_cmpstr (c->cmdline_file, ==, "/proc/cmdline");
  g_assert_cmpuint (c->low_speed_limit, ==, 1024);
  g_assert_cmpuint (c->low_speed_time, ==, 30);
  g_assert_cmpuint (c->connect_timeout, ==, 30);
  g_assert_cmpuint (c->retries, ==, 3);
  g_assert_cmpuint (c->retry_delay_ms, ==, 1000);
}

static void
test_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  assert_defaults (c);
  g_assert_null (c->path);
}

static void
test_empty_file_is_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  write_file (f->main_path, "# nothing set\n\n[uptane]\n");
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_no_error (error);
  assert_defaults (c);
  g_assert_cmpstr (c->path, ==, f->main_path);
}

static void
test_every_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  write_file (f->main_path, every_key);
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_no_error (error);
  assert_every_key (c);
}

static void
test_whitespace_and_comments (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  const char text[] = "# comment\r\n  [boot]  \r\n  max-tries = 7 \r\n\tconfirm=userspace\r\n";
  g_assert_true (sb_config_merge_data (c, "t.conf", text, strlen (text), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c->max_tries, ==, 7);
  g_assert_cmpint (c->confirm, ==, SB_CONFIRM_USERSPACE);
}

static void
test_empty_value_unsets (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (c, "a.conf", every_key, strlen (every_key), &error));
  g_assert_no_error (error);
  const char text[] = "[uptane]\nhardware-id=\ndirector-url=\n[tls]\nca=\n";
  g_assert_true (sb_config_merge_data (c, "b.conf", text, strlen (text), &error));
  g_assert_no_error (error);
  g_assert_null (c->hardware_id);
  g_assert_null (c->director_url);
  g_assert_null (c->tls_ca);
  /* Keys the second file does not name keep their value. */
  g_assert_cmpstr (c->image_url, ==, "https://image.example.com/repo");
}

typedef struct {
  const char *path;
  const char *text;
  guint line; /* where the bad key is, checked with sb_config_find_line */
  const char *group;
  const char *key;
} BadCase;

static const BadCase bad_cases[] = {
  { "/config/bad-value/integer", "[uptane]\npoll-interval=soon\n", 2, "uptane", "poll-interval" },
  { "/config/bad-value/integer-zero", "[uptane]\npoll-interval=0\n", 2, "uptane",
    "poll-interval" },
  { "/config/bad-value/integer-negative", "[uptane]\n\npoll-interval=-5\n", 3, "uptane",
    "poll-interval" },
  { "/config/bad-value/max-tries-high", "[boot]\n# x\nmax-tries=10\n", 3, "boot", "max-tries" },
  { "/config/bad-value/max-tries-zero", "[boot]\nmax-tries=0\n", 2, "boot", "max-tries" },
  { "/config/bad-value/confirm", "[boot]\nconfirm=later\n", 2, "boot", "confirm" },
  { "/config/bad-value/boolean-yes", "[uptane]\nota-ce-compat=yes\n", 2, "uptane",
    "ota-ce-compat" },
  { "/config/bad-value/boolean-1", "[uptane]\n\n\nallow-http=1\n", 4, "uptane", "allow-http" },
  { "/config/bad-value/url-scheme", "[uptane]\ndirector-url=ftp://example.com/d\n", 2, "uptane",
    "director-url" },
  { "/config/bad-value/url-not-url", "[uptane]\nimage-url=example.com\n", 2, "uptane",
    "image-url" },
  { "/config/bad-value/url-query", "[ostree]\nostree-url=https://example.com/o?x=1\n", 2,
    "ostree", "ostree-url" },
  { "/config/bad-value/relative-path", "[storage]\nstate-dir=var/lib/sb\n", 2, "storage",
    "state-dir" },
  { "/config/bad-value/empty-required-path", "[boot]\ngrubenv=\n", 2, "boot", "grubenv" },
  { "/config/bad-value/partition-name-too-long",
    "[slots]\nslot-a=abcdefghijklmnopqrstuvwxyz0123456789x\n", 2, "slots", "slot-a" },
  { "/config/bad-value/partition-name-empty", "[slots]\nslot-b=\n", 2, "slots", "slot-b" },
  { "/config/bad-value/network-low-speed-limit-zero", "[network]\nlow-speed-limit=0\n", 2,
    "network", "low-speed-limit" },
  { "/config/bad-value/network-low-speed-time-high", "[network]\n\nlow-speed-time=3601\n", 3,
    "network", "low-speed-time" },
  { "/config/bad-value/network-connect-timeout", "[network]\nconnect-timeout=30s\n", 2,
    "network", "connect-timeout" },
  { "/config/bad-value/network-retries-high", "[network]\nretries=21\n", 2, "network",
    "retries" },
  { "/config/bad-value/network-retry-delay-zero", "[network]\n# x\nretry-delay-ms=0\n", 3,
    "network", "retry-delay-ms" },
  { "/config/unknown-key-network", "[network]\nlow-speed=1\n", 2, "network", "low-speed" },
  { "/config/unknown-key", "[uptane]\ndirector-url=https://d.example\nsurprise=1\n", 3, "uptane",
    "surprise" },
  { "/config/unknown-key-other-section", "[tls]\nstate-dir=/x\n", 2, "tls", "state-dir" },
  { "/config/unknown-section", "\n[uptain]\ndirector-url=https://d.example\n", 2, "uptain",
    NULL },
};

static void
test_bad_value (Fixture *f, gconstpointer data)
{
  const BadCase *bc = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  gsize len = strlen (bc->text);

  g_assert_false (sb_config_merge_data (c, "bad.conf", bc->text, len, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
  g_test_message ("%s", error->message);
  /* The line that the error reports is found this way. */
  g_assert_cmpuint (sb_config_find_line (bc->text, len, bc->group, bc->key), ==, bc->line);
  /* The message names the file, the line and the key. */
  g_autofree char *where = g_strdup_printf ("bad.conf line %u", bc->line);
  g_assert_nonnull (strstr (error->message, where));
  g_assert_nonnull (strstr (error->message, bc->key != NULL ? bc->key : bc->group));
  /* A refused file changes nothing. */
  assert_defaults (c);

  /* The same through load, from a file. */
  g_clear_error (&error);
  write_file (f->main_path, bc->text);
  g_autoptr (SbConfig) loaded = sb_config_load (f->main_path, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
  g_assert_null (loaded);
}

static void
test_bad_value_keeps_earlier_keys (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  const char text[] = "[boot]\nmax-tries=5\nconfirm=never\n";
  g_assert_false (sb_config_merge_data (c, "bad.conf", text, strlen (text), &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
  /* max-tries came before the bad line, yet the whole file is refused. */
  g_assert_cmpuint (c->max_tries, ==, 3);
}

static void
test_syntax_errors (Fixture *f, gconstpointer data)
{
  const char *texts[] = {
    "[uptane]\nthis is not a key\n",
    "director-url=https://d.example\n",
    "[uptane\npoll-interval=5\n",
    "[]\n",
    "[boot] trailing\n",
    "[boot]\n=5\n",
    "[boot]\nconfirm=\\q\n",
    "[uptane]\nhardware-id=\xff\xfe\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SbConfig) c = sb_config_new_defaults ();
      g_assert_false (sb_config_merge_data (c, "s.conf", texts[i], strlen (texts[i]), &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
      g_test_message ("case %zu: %s", i, error->message);
    }
}

static void
test_find_line (Fixture *f, gconstpointer data)
{
  const char text[] = "# head\n"              /* 1 */
                      "[uptane]\n"            /* 2 */
                      "  poll-interval = 5\n" /* 3 */
                      "[boot]\r\n"            /* 4 */
                      "max-tries=2\r\n"       /* 5 */
                      "#max-tries=4\n"        /* 6 */
                      "[uptane]\n"            /* 7 */
                      "poll-interval=9\n"     /* 8 */
                      "max-tries=1\n";        /* 9 */
  gsize len = strlen (text);

  g_assert_cmpuint (sb_config_find_line (text, len, "uptane", NULL), ==, 2);
  g_assert_cmpuint (sb_config_find_line (text, len, "boot", NULL), ==, 4);
  /* A repeated key: GKeyFile keeps the last value, so that is the line to report. */
  g_assert_cmpuint (sb_config_find_line (text, len, "uptane", "poll-interval"), ==, 8);
  /* Comments do not count; the key of the same name in another section does not either. */
  g_assert_cmpuint (sb_config_find_line (text, len, "boot", "max-tries"), ==, 5);
  g_assert_cmpuint (sb_config_find_line (text, len, "uptane", "max-tries"), ==, 9);
  g_assert_cmpuint (sb_config_find_line (text, len, "tls", NULL), ==, 0);
  g_assert_cmpuint (sb_config_find_line (text, len, "boot", "confirm"), ==, 0);
  /* Text without a final newline. */
  g_assert_cmpuint (sb_config_find_line ("[a]\nb=1", 7, "a", "b"), ==, 2);
}

static void
test_missing_explicit_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_assert_null (c);
}

static void
test_dropins_override_in_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  write_file (f->main_path, "[boot]\nmax-tries=2\nconfirm=userspace\n"
                            "[uptane]\nhardware-id=main\npoll-interval=10\n");
  /* Written out of order: the name decides, not the creation order. */
  write_dropin (f, "20-late.conf", "[boot]\nmax-tries=7\n[uptane]\nhardware-id=late\n");
  write_dropin (f, "10-early.conf", "[boot]\nmax-tries=5\n[uptane]\npoll-interval=20\n");
  write_dropin (f, "30-ignored.conf.disabled", "[boot]\nmax-tries=9\n");
  write_dropin (f, ".40-hidden.conf", "[boot]\nmax-tries=9\n");
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->max_tries, ==, 7);
  g_assert_cmpstr (c->hardware_id, ==, "late");
  g_assert_cmpuint (c->poll_interval, ==, 20);
  /* Not named by any drop-in: the main file's value. */
  g_assert_cmpint (c->confirm, ==, SB_CONFIRM_USERSPACE);
}

static void
test_dropin_bad_value (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  write_file (f->main_path, "[boot]\nmax-tries=2\n");
  write_dropin (f, "50-bad.conf", "[boot]\nmax-tries=99\n");
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
  g_assert_null (c);
}

static void
test_http_needs_loopback (Fixture *f, gconstpointer data)
{
  struct {
    const char *text;
    gboolean ok;
  } cases[] = {
    { "[uptane]\ndirector-url=http://127.0.0.1:8080/d\n", TRUE },
    { "[uptane]\ndirector-url=http://localhost/d\n", TRUE },
    { "[uptane]\nimage-url=http://[::1]:9000/i\n", TRUE },
    { "[uptane]\nimage-url=https://10.0.2.2/i\n", TRUE },
    { "[uptane]\nimage-url=file:///srv/repo\n", TRUE },
    { "[uptane]\nimage-url=http://10.0.2.2:8000/i\n", FALSE },
    { "[ostree]\nostree-url=http://treehub.example.com/\n", FALSE },
    { "[uptane]\nallow-http=true\nimage-url=http://10.0.2.2:8000/i\n", TRUE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_test_message ("case %zu", i);
      write_file (f->main_path, cases[i].text);
      g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
      if (cases[i].ok)
        g_assert_no_error (error);
      else
        {
          g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
          g_test_message ("%s", error->message);
        }
    }
}

static void
test_http_allowed_by_dropin (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* The rule spans files: the URL in the main file, the permission in a drop-in. */
  write_file (f->main_path, "[uptane]\ndirector-url=http://192.0.2.1/d\n");
  write_dropin (f, "10-http.conf", "[uptane]\nallow-http=true\n");
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_no_error (error);
  g_assert_true (c->allow_http);
}

static void
test_same_slot_names_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  write_file (f->main_path, "[slots]\nslot-b=rootfs-a\n");
  g_autoptr (SbConfig) c = sb_config_load (f->main_path, &error);
  g_assert_error (error, SB_ERROR, SB_ERROR_CONFIG);
  g_assert_null (c);
}

static void
test_to_string_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (c, "a.conf", every_key, strlen (every_key), &error));
  g_assert_no_error (error);
  g_autofree char *text = sb_config_to_string (c);

  g_autoptr (SbConfig) back = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (back, "printed", text, strlen (text), &error));
  g_assert_no_error (error);
  assert_every_key (back);

  /* Defaults print every key too, unset ones empty, and read back as the same defaults. */
  g_autoptr (SbConfig) d = sb_config_new_defaults ();
  g_autofree char *dtext = sb_config_to_string (d);
  g_autoptr (SbConfig) dback = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (dback, "printed", dtext, strlen (dtext), &error));
  g_assert_no_error (error);
  assert_defaults (dback);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_data (kf, dtext, -1, G_KEY_FILE_NONE, NULL));
  gsize n_keys = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g != NULL; g++)
    {
      gsize n = 0;
      g_auto (GStrv) keys = g_key_file_get_keys (kf, *g, &n, NULL);
      n_keys += n;
    }
  g_assert_cmpuint (n_keys, ==, 29);
}

/* data/switchback.conf lists every key, commented out, with its default. */
static void
test_example_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "switchback.conf",
                                                 NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);

  /* As shipped, it sets nothing. */
  g_autoptr (SbConfig) shipped = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (shipped, path, text, strlen (text), &error));
  g_assert_no_error (error);
  assert_defaults (shipped);

  /* With every "#key=value" line uncommented it still parses, names all 29 keys and gives the
   * defaults (the paths under the data directory depend on the build prefix). */
  g_autoptr (GString) uncommented = g_string_new (NULL);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n_keys = 0;
  for (char **l = lines; *l != NULL; l++)
    {
      const char *line = *l;
      if (line[0] == '#' && g_ascii_islower (line[1]) && strchr (line, '=') != NULL
          && strchr (line, ' ') == NULL)
        {
          line++;
          n_keys++;
        }
      g_string_append_printf (uncommented, "%s\n", line);
    }
  g_assert_cmpuint (n_keys, ==, 29);
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (c, path, uncommented->str, uncommented->len, &error));
  g_assert_no_error (error);
  g_free (c->director_root);
  c->director_root = g_strdup (SB_DATADIR "/switchback/director-root.json");
  g_free (c->image_root);
  c->image_root = g_strdup (SB_DATADIR "/switchback/image-root.json");
  g_free (c->state_dir);
  c->state_dir = g_strdup (SB_LOCALSTATEDIR "/lib/switchback");
  assert_defaults (c);
}

static void
test_copy (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) c = sb_config_new_defaults ();
  g_assert_true (sb_config_merge_data (c, "a.conf", every_key, strlen (every_key), &error));
  g_assert_no_error (error);
  g_autoptr (SbConfig) copy = sb_config_copy (c);
  g_clear_pointer (&c, sb_config_free);
  assert_every_key (copy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/config/defaults", test_defaults);
  ADD ("/config/load/empty-file-is-defaults", test_empty_file_is_defaults);
  ADD ("/config/load/every-key-parsed", test_every_key);
  ADD ("/config/load/whitespace-and-comments", test_whitespace_and_comments);
  ADD ("/config/load/empty-value-unsets", test_empty_value_unsets);
  ADD ("/config/load/missing-explicit-file-refused", test_missing_explicit_file);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    g_test_add (bad_cases[i].path, Fixture, &bad_cases[i], setup, test_bad_value, teardown);
  ADD ("/config/bad-value/whole-file-refused", test_bad_value_keeps_earlier_keys);
  ADD ("/config/syntax-error", test_syntax_errors);
  ADD ("/config/line/found-for-key-and-section", test_find_line);
  ADD ("/config/dropins/override-in-name-order", test_dropins_override_in_order);
  ADD ("/config/dropins/bad-value-refused", test_dropin_bad_value);
  ADD ("/config/http/non-loopback-needs-allow-http", test_http_needs_loopback);
  ADD ("/config/http/allowed-by-dropin", test_http_allowed_by_dropin);
  ADD ("/config/slots/same-name-refused", test_same_slot_names_refused);
  ADD ("/config/to-string/round-trip", test_to_string_round_trip);
  ADD ("/config/example-file/lists-every-default", test_example_file);
  ADD ("/config/copy", test_copy);
  return g_test_run ();
}
