/* sb-config.c: the GKeyFile configuration and its conf.d drop-ins (design.md §7).
 *
 * One table describes every key: its section, its kind (which says how it is parsed and what a
 * bad value is told it should have been) and where it lives in SbConfig. Parsing, copying,
 * freeing and printing all walk that table, so a key added to it is handled everywhere.
 */
#include "config.h"

#include "state/sb-config.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "net/sb-fetcher.h"

#include <errno.h>
#include <gio/gio.h>
#include <stddef.h>
#include <string.h>

typedef enum {
  KIND_URL,      /* http(s):// or file:// base URL; empty unsets */
  KIND_PATH,     /* absolute path with a fixed default; never empty */
  KIND_OPT_PATH, /* absolute path; empty unsets */
  KIND_OPT_TEXT, /* free text (ids); empty unsets */
  KIND_PARTNAME, /* GPT partition name; never empty */
  KIND_BOOL,     /* exactly "true" or "false" */
  KIND_UINT,     /* decimal integer within [min, max] */
  KIND_CONFIRM,  /* "initramfs" or "userspace" */
} KeyKind;

typedef struct {
  const char *group;
  const char *key;
  KeyKind kind;
  gsize offset;
  guint min, max;
} KeySpec;

#define STR(field) offsetof (SbConfig, field)

static const KeySpec key_specs[] = {
  { "uptane", "director-url", KIND_URL, STR (director_url), 0, 0 },
  { "uptane", "image-url", KIND_URL, STR (image_url), 0, 0 },
  { "uptane", "director-root", KIND_PATH, STR (director_root), 0, 0 },
  { "uptane", "image-root", KIND_PATH, STR (image_root), 0, 0 },
  { "uptane", "vehicle-id", KIND_OPT_TEXT, STR (vehicle_id), 0, 0 },
  { "uptane", "ecu-serial", KIND_OPT_TEXT, STR (ecu_serial), 0, 0 },
  { "uptane", "hardware-id", KIND_OPT_TEXT, STR (hardware_id), 0, 0 },
  { "uptane", "poll-interval", KIND_UINT, STR (poll_interval), 1, G_MAXUINT32 },
  { "uptane", "ota-ce-compat", KIND_BOOL, STR (ota_ce_compat), 0, 0 },
  { "uptane", "allow-http", KIND_BOOL, STR (allow_http), 0, 0 },
  { "tls", "ca", KIND_OPT_PATH, STR (tls_ca), 0, 0 },
  { "tls", "cert", KIND_OPT_PATH, STR (tls_cert), 0, 0 },
  { "tls", "key", KIND_OPT_PATH, STR (tls_key), 0, 0 },
  { "storage", "state-dir", KIND_PATH, STR (state_dir), 0, 0 },
  { "slots", "disk", KIND_OPT_PATH, STR (disk), 0, 0 },
  { "slots", "slot-a", KIND_PARTNAME, STR (slot_a), 0, 0 },
  { "slots", "slot-b", KIND_PARTNAME, STR (slot_b), 0, 0 },
  { "ostree", "sysroot", KIND_PATH, STR (ostree_sysroot), 0, 0 },
  { "ostree", "osname", KIND_OPT_TEXT, STR (ostree_osname), 0, 0 },
  { "ostree", "ostree-url", KIND_URL, STR (ostree_url), 0, 0 },
  { "boot", "grubenv", KIND_PATH, STR (grubenv), 0, 0 },
  { "boot", "max-tries", KIND_UINT, STR (max_tries), 1, 9 },
  { "boot", "confirm", KIND_CONFIRM, STR (confirm), 0, 0 },
  { "boot", "cmdline-file", KIND_PATH, STR (cmdline_file), 0, 0 },
  /* The fetcher's limits (sb-fetcher.h): a cellular link may need a lower minimum speed or a
   * longer window than the defaults; 0 retries means one attempt. */
  { "network", "low-speed-limit", KIND_UINT, STR (low_speed_limit), 1, G_MAXUINT32 },
  { "network", "low-speed-time", KIND_UINT, STR (low_speed_time), 1, 3600 },
  { "network", "connect-timeout", KIND_UINT, STR (connect_timeout), 1, 600 },
  { "network", "retries", KIND_UINT, STR (retries), 0, 20 },
  { "network", "retry-delay-ms", KIND_UINT, STR (retry_delay_ms), 1, 60000 },
};

static const char *const known_groups[] = { "uptane", "tls",  "storage", "slots",
                                            "ostree", "boot", "network" };

/* GPT partition names are 36 UTF-16 code units (UEFI §5.3.3). */
#define GPT_NAME_MAX 36

static gboolean
kind_is_string (KeyKind kind)
{
  return kind == KIND_URL || kind == KIND_PATH || kind == KIND_OPT_PATH || kind == KIND_OPT_TEXT
         || kind == KIND_PARTNAME;
}

static char **
field_str (SbConfig *config, const KeySpec *spec)
{
  return (char **) ((guint8 *) config + spec->offset);
}

static const char *
field_str_const (const SbConfig *config, const KeySpec *spec)
{
  return *(char *const *) ((const guint8 *) config + spec->offset);
}

static guint *
field_uint (SbConfig *config, const KeySpec *spec)
{
  return (guint *) ((guint8 *) config + spec->offset);
}

static gboolean *
field_bool (SbConfig *config, const KeySpec *spec)
{
  return (gboolean *) ((guint8 *) config + spec->offset);
}

static SbConfirmMode *
field_confirm (SbConfig *config, const KeySpec *spec)
{
  return (SbConfirmMode *) ((guint8 *) config + spec->offset);
}

static const KeySpec *
find_spec (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_str_equal (key_specs[i].group, group) && g_str_equal (key_specs[i].key, key))
      return &key_specs[i];
  return NULL;
}

static gboolean
group_is_known (const char *group)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known_groups); i++)
    if (g_str_equal (known_groups[i], group))
      return TRUE;
  return FALSE;
}

const char *
sb_confirm_mode_to_string (SbConfirmMode mode)
{
  return mode == SB_CONFIRM_USERSPACE ? "userspace" : "initramfs";
}

SbConfig *
sb_config_new_defaults (void)
{
  SbConfig *config = g_new0 (SbConfig, 1);

  config->director_root = g_strdup (SB_DATADIR "/switchback/director-root.json");
  config->image_root = g_strdup (SB_DATADIR "/switchback/image-root.json");
  config->poll_interval = 3600;
  config->ota_ce_compat = FALSE;
  config->allow_http = FALSE;
  config->state_dir = g_strdup (SB_LOCALSTATEDIR "/lib/switchback");
  config->slot_a = g_strdup ("rootfs-a");
  config->slot_b = g_strdup ("rootfs-b");
  config->ostree_sysroot = g_strdup ("/");
  config->grubenv = g_strdup ("/boot/efi/EFI/switchback/grubenv");
  config->max_tries = 3;
  config->confirm = SB_CONFIRM_INITRAMFS;
  config->cmdline_file = g_strdup ("/proc/cmdline");
  config->low_speed_limit = SB_FETCHER_DEFAULT_LOW_SPEED_LIMIT;
  config->low_speed_time = SB_FETCHER_DEFAULT_LOW_SPEED_TIME;
  config->connect_timeout = SB_FETCHER_DEFAULT_CONNECT_TIMEOUT;
  config->retries = SB_FETCHER_DEFAULT_MAX_RETRIES;
  config->retry_delay_ms = SB_FETCHER_DEFAULT_RETRY_BASE_MS;
  return config;
}

static void
config_clear (SbConfig *config)
{
  g_clear_pointer (&config->path, g_free);
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (kind_is_string (key_specs[i].kind))
      g_clear_pointer (field_str (config, &key_specs[i]), g_free);
}

void
sb_config_free (SbConfig *config)
{
  if (config == NULL)
    return;
  config_clear (config);
  g_free (config);
}

SbConfig *
sb_config_copy (const SbConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);

  SbConfig *copy = g_new0 (SbConfig, 1);
  *copy = *config;
  copy->path = g_strdup (config->path);
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (kind_is_string (key_specs[i].kind))
      *field_str (copy, &key_specs[i]) = g_strdup (field_str_const (config, &key_specs[i]));
  return copy;
}

/* Line scanning. GKeyFile drops line numbers, so errors find them in the text again, following
 * GKeyFile's own reading: leading whitespace is skipped, "#" starts a comment, "[name]" opens a
 * section, and the key is what precedes the first "=" with surrounding blanks removed. */

typedef struct {
  const char *data;
  gsize len;
  gsize pos;
  guint number;
} LineReader;

static gboolean
line_reader_next (LineReader *r, const char **start, gsize *len)
{
  if (r->pos >= r->len)
    return FALSE;
  const char *p = r->data + r->pos;
  const char *nl = memchr (p, '\n', r->len - r->pos);
  gsize n = nl != NULL ? (gsize) (nl - p) : r->len - r->pos;
  r->pos += n + (nl != NULL ? 1 : 0);
  r->number++;
  if (n > 0 && p[n - 1] == '\r')
    n--;
  while (n > 0 && (*p == ' ' || *p == '\t'))
    {
      p++;
      n--;
    }
  *start = p;
  *len = n;
  return TRUE;
}

/* The name of a "[name]" line, or NULL when @line is not a section header. */
static char *
line_group_name (const char *line, gsize len)
{
  if (len < 2 || line[0] != '[')
    return NULL;
  const char *close = memchr (line, ']', len);
  if (close == NULL)
    return NULL;
  for (const char *p = close + 1; p < line + len; p++)
    if (*p != ' ' && *p != '\t')
      return NULL;
  return g_strndup (line + 1, (gsize) (close - line - 1));
}

/* The key of a "key = value" line, or NULL. */
static char *
line_key_name (const char *line, gsize len)
{
  const char *eq = memchr (line, '=', len);
  if (eq == NULL)
    return NULL;
  gsize n = (gsize) (eq - line);
  while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  if (n == 0)
    return NULL;
  return g_strndup (line, n);
}

guint
sb_config_find_line (const char *data, gsize len, const char *group, const char *key)
{
  g_return_val_if_fail (data != NULL || len == 0, 0);
  g_return_val_if_fail (group != NULL, 0);

  LineReader r = { data, len, 0, 0 };
  const char *line;
  gsize line_len;
  g_autofree char *current = NULL;
  guint found = 0;

  while (line_reader_next (&r, &line, &line_len))
    {
      if (line_len == 0 || line[0] == '#')
        continue;
      g_autofree char *name = line_group_name (line, line_len);
      if (name != NULL)
        {
          g_free (current);
          current = g_steal_pointer (&name);
          /* A section repeated later is merged by GKeyFile; its first header introduces it. */
          if (key == NULL && found == 0 && g_str_equal (current, group))
            found = r.number;
          continue;
        }
      if (key == NULL || current == NULL || !g_str_equal (current, group))
        continue;
      g_autofree char *k = line_key_name (line, line_len);
      if (k != NULL && g_str_equal (k, key))
        found = r.number;
    }
  return found;
}

/* GKeyFile's own syntax errors carry no line; this pass finds the first malformed line first. */
static gboolean
check_syntax (const char *name, const char *data, gsize len, GError **error)
{
  LineReader r = { data, len, 0, 0 };
  const char *line;
  gsize line_len;
  gboolean in_group = FALSE;

  const char *invalid = NULL;
  if (!g_utf8_validate_len (data, len, &invalid))
    {
      guint bad_line = 1;
      for (const char *p = data; p < invalid; p++)
        bad_line += *p == '\n';
      return sb_throw (error, SB_ERROR_CONFIG, "%s line %u: not valid UTF-8 text", name,
                       bad_line);
    }
  while (line_reader_next (&r, &line, &line_len))
    {
      if (line_len == 0 || line[0] == '#')
        continue;
      if (line[0] == '[')
        {
          g_autofree char *group = line_group_name (line, line_len);
          if (group == NULL || *group == '\0' || strchr (group, '[') != NULL)
            return sb_throw (error, SB_ERROR_CONFIG,
                             "%s line %u: malformed section header: expected \"[section]\"",
                             name, r.number);
          in_group = TRUE;
          continue;
        }
      g_autofree char *key = line_key_name (line, line_len);
      if (key == NULL)
        return sb_throw (error, SB_ERROR_CONFIG,
                         "%s line %u: expected \"[section]\", \"key = value\" or a \"#\" comment",
                         name, r.number);
      if (!in_group)
        return sb_throw (error, SB_ERROR_CONFIG,
                         "%s line %u: key \"%s\" appears before any [section]", name, r.number,
                         key);
    }
  return TRUE;
}

/* Value parsing. Each failure says where (file, line, section, key), what was found and what was
 * expected. */

static gboolean
bad_value (GError **error, const char *name, guint line, const KeySpec *spec, const char *value,
           const char *expected)
{
  return sb_throw (error, SB_ERROR_CONFIG, "%s line %u: [%s] %s: expected %s, got \"%s\"", name,
                   line, spec->group, spec->key, expected, value);
}

static gboolean
check_url (const char *name, guint line, const KeySpec *spec, const char *value, GError **error)
{
  const char *expected = "an http://, https:// or file:// URL without query or fragment";
  g_autoptr (GUri) uri = g_uri_parse (value, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    return bad_value (error, name, line, spec, value, expected);
  const char *scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);
  if (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0)
    {
      if (host == NULL || *host == '\0')
        return bad_value (error, name, line, spec, value, "a URL with a host name");
      return TRUE;
    }
  if (g_ascii_strcasecmp (scheme, "file") == 0)
    {
      if (*g_uri_get_path (uri) != '/')
        return bad_value (error, name, line, spec, value, "a file:// URL with an absolute path");
      return TRUE;
    }
  return bad_value (error, name, line, spec, value, expected);
}

static gboolean
check_partname (const char *name, guint line, const KeySpec *spec, const char *value,
                GError **error)
{
  glong units = 0;
  g_autofree gunichar2 *utf16 = g_utf8_to_utf16 (value, -1, NULL, &units, NULL);
  if (*value == '\0' || utf16 == NULL || units > GPT_NAME_MAX)
    return bad_value (error, name, line, spec, value,
                      "a GPT partition name of 1 to 36 characters");
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return bad_value (error, name, line, spec, value,
                        "a GPT partition name without control characters");
  return TRUE;
}

static gboolean
has_control_chars (const char *value)
{
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

/* Applies one key of @kf to @config. */
static gboolean
apply_key (SbConfig *config, GKeyFile *kf, const char *name, const char *data, gsize len,
           const KeySpec *spec, GError **error)
{
  guint line = sb_config_find_line (data, len, spec->group, spec->key);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *value = NULL;

  if (kind_is_string (spec->kind))
    value = g_key_file_get_string (kf, spec->group, spec->key, &local_error);
  else
    value = g_key_file_get_value (kf, spec->group, spec->key, &local_error);
  if (value == NULL)
    return sb_throw (error, SB_ERROR_CONFIG, "%s line %u: [%s] %s: %s", name, line, spec->group,
                     spec->key, local_error->message);
  g_strstrip (value);

  switch (spec->kind)
    {
    case KIND_URL:
    case KIND_OPT_PATH:
    case KIND_OPT_TEXT:
      if (*value == '\0')
        {
          g_clear_pointer (field_str (config, spec), g_free);
          return TRUE;
        }
      if (spec->kind == KIND_URL && !check_url (name, line, spec, value, error))
        return FALSE;
      if (spec->kind == KIND_OPT_PATH && !g_path_is_absolute (value))
        return bad_value (error, name, line, spec, value, "an absolute path (or nothing)");
      if (spec->kind == KIND_OPT_TEXT && has_control_chars (value))
        return bad_value (error, name, line, spec, value, "text without control characters");
      break;
    case KIND_PATH:
      if (!g_path_is_absolute (value))
        return bad_value (error, name, line, spec, value, "an absolute path");
      break;
    case KIND_PARTNAME:
      if (!check_partname (name, line, spec, value, error))
        return FALSE;
      break;
    case KIND_BOOL:
      if (g_str_equal (value, "true"))
        *field_bool (config, spec) = TRUE;
      else if (g_str_equal (value, "false"))
        *field_bool (config, spec) = FALSE;
      else
        return bad_value (error, name, line, spec, value, "true or false");
      return TRUE;
    case KIND_UINT:
      {
        guint64 n = 0;
        if (!g_ascii_string_to_unsigned (value, 10, spec->min, spec->max, &n, NULL))
          {
            g_autofree char *expected
                = spec->max == G_MAXUINT32
                      ? g_strdup_printf ("a whole number of at least %u", spec->min)
                      : g_strdup_printf ("an integer from %u to %u", spec->min, spec->max);
            return bad_value (error, name, line, spec, value, expected);
          }
        *field_uint (config, spec) = (guint) n;
        return TRUE;
      }
    case KIND_CONFIRM:
      if (g_str_equal (value, "initramfs"))
        *field_confirm (config, spec) = SB_CONFIRM_INITRAMFS;
      else if (g_str_equal (value, "userspace"))
        *field_confirm (config, spec) = SB_CONFIRM_USERSPACE;
      else
        return bad_value (error, name, line, spec, value, "initramfs or userspace");
      return TRUE;
    default:
      g_assert_not_reached ();
    }

  char **field = field_str (config, spec);
  g_free (*field);
  *field = g_steal_pointer (&value);
  return TRUE;
}

gboolean
sb_config_merge_data (SbConfig *config, const char *name, const char *data, gsize len,
                      GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (!check_syntax (name, data != NULL ? data : "", len, error))
    return FALSE;

  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  if (len > 0 && !g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local_error))
    return sb_throw (error, SB_ERROR_CONFIG, "%s: %s", name, local_error->message);

  /* Values go into a copy first, so a file with a bad value changes nothing. */
  g_autoptr (SbConfig) merged = sb_config_copy (config);
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g != NULL; g++)
    {
      if (!group_is_known (*g))
        return sb_throw (error, SB_ERROR_CONFIG,
                         "%s line %u: unknown section [%s]: expected one of [uptane], [tls], "
                         "[storage], [slots], [ostree], [boot]",
                         name, sb_config_find_line (data, len, *g, NULL), *g);
      g_auto (GStrv) keys = g_key_file_get_keys (kf, *g, NULL, NULL);
      for (char **k = keys; k != NULL && *k != NULL; k++)
        {
          const KeySpec *spec = find_spec (*g, *k);
          if (spec == NULL)
            return sb_throw (error, SB_ERROR_CONFIG,
                             "%s line %u: unknown key \"%s\" in section [%s]", name,
                             sb_config_find_line (data, len, *g, *k), *k, *g);
          if (!apply_key (merged, kf, name, data, len, spec, error))
            return FALSE;
        }
    }

  config_clear (config);
  *config = *merged;
  memset (merged, 0, sizeof *merged);
  return TRUE;
}

/* Loading: the main file, then conf.d drop-ins in name order, then the rules that span keys. */

typedef struct {
  char *name;
  GBytes *data;
} LoadedFile;

static void
loaded_file_free (LoadedFile *f)
{
  g_free (f->name);
  g_bytes_unref (f->data);
  g_free (f);
}

static gboolean
merge_file (SbConfig *config, GPtrArray *loaded, const char *path, GBytes *bytes, GError **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  if (!sb_config_merge_data (config, path, data, len, error))
    return FALSE;
  LoadedFile *f = g_new0 (LoadedFile, 1);
  f->name = g_strdup (path);
  f->data = g_bytes_ref (bytes);
  g_ptr_array_add (loaded, f);
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The drop-in files of @dir, sorted by name; an absent conf.d is no drop-ins. */
static GPtrArray *
list_dropins (const char *dir, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local_error);
  if (d == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&names);
      sb_throw (error, SB_ERROR_CONFIG, "reading drop-in directory %s: %s", dir,
                local_error->message);
      return NULL;
    }
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    if (entry[0] != '.' && g_str_has_suffix (entry, ".conf"))
      g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

/* Where @key was last set, for errors about a value that only became wrong in combination. */
static char *
locate_key (GPtrArray *loaded, const char *group, const char *key)
{
  for (guint i = loaded->len; i > 0; i--)
    {
      LoadedFile *f = loaded->pdata[i - 1];
      gsize len = 0;
      const char *data = g_bytes_get_data (f->data, &len);
      guint line = sb_config_find_line (data, len, group, key);
      if (line > 0)
        return g_strdup_printf ("%s line %u: ", f->name, line);
    }
  return g_strdup ("");
}

static gboolean
host_is_loopback (const char *host)
{
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

static gboolean
check_cross_keys (SbConfig *config, GPtrArray *loaded, GError **error)
{
  if (g_str_equal (config->slot_a, config->slot_b))
    {
      g_autofree char *where = locate_key (loaded, "slots", "slot-b");
      return sb_throw (error, SB_ERROR_CONFIG,
                       "%s[slots] slot-b: expected a partition name other than slot-a's, got "
                       "\"%s\" for both",
                       where, config->slot_b);
    }

  /* design.md §2: plain http is for loopback (tests, a local mirror) unless the user says so. */
  if (config->allow_http)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    {
      const KeySpec *spec = &key_specs[i];
      const char *url = spec->kind == KIND_URL ? field_str_const (config, spec) : NULL;
      if (url == NULL)
        continue;
      g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
      if (uri == NULL || g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0)
        continue;
      if (!host_is_loopback (g_uri_get_host (uri)))
        {
          g_autofree char *where = locate_key (loaded, spec->group, spec->key);
          return sb_throw (error, SB_ERROR_CONFIG,
                           "%s[%s] %s: expected https:// for host \"%s\", got \"%s\" (plain "
                           "http:// to a host that is not loopback needs [uptane] allow-http=true)",
                           where, spec->group, spec->key, g_uri_get_host (uri), url);
        }
    }
  return TRUE;
}

SbConfig *
sb_config_load (const char *path, GError **error)
{
  const char *main_path = path != NULL ? path : SB_CONFIG_DEFAULT_PATH;
  g_autoptr (SbConfig) config = sb_config_new_defaults ();
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func ((GDestroyNotify) loaded_file_free);
  g_autoptr (GError) local_error = NULL;

  g_autoptr (GBytes) main_bytes = sb_read_file (main_path, SB_CONFIG_MAX_FILE_SIZE, &local_error);
  if (main_bytes == NULL)
    {
      /* Without a config file switchback runs on defaults; a file named on purpose must exist. */
      if (path != NULL || !g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "loading config file %s: ", main_path);
          return NULL;
        }
      g_clear_error (&local_error);
    }
  else
    {
      if (!merge_file (config, loaded, main_path, main_bytes, error))
        return NULL;
      config->path = g_strdup (main_path);
    }

  g_autofree char *dir = g_path_get_dirname (main_path);
  g_autofree char *dropin_dir = g_build_filename (dir, "conf.d", NULL);
  g_autoptr (GPtrArray) dropins = list_dropins (dropin_dir, error);
  if (dropins == NULL)
    return NULL;
  for (guint i = 0; i < dropins->len; i++)
    {
      g_autofree char *p = g_build_filename (dropin_dir, dropins->pdata[i], NULL);
      g_autoptr (GBytes) bytes = sb_read_file (p, SB_CONFIG_MAX_FILE_SIZE, error);
      if (bytes == NULL)
        {
          g_prefix_error (error, "loading drop-in %s: ", p);
          return NULL;
        }
      if (!merge_file (config, loaded, p, bytes, error))
        return NULL;
    }

  if (!check_cross_keys (config, loaded, error))
    return NULL;
  return g_steal_pointer (&config);
}

char *
sb_config_to_string (SbConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);

  g_autoptr (GKeyFile) kf = g_key_file_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    {
      const KeySpec *spec = &key_specs[i];
      switch (spec->kind)
        {
        case KIND_BOOL:
          g_key_file_set_value (kf, spec->group, spec->key,
                                *field_bool (config, spec) ? "true" : "false");
          break;
        case KIND_UINT:
          g_key_file_set_uint64 (kf, spec->group, spec->key, *field_uint (config, spec));
          break;
        case KIND_CONFIRM:
          g_key_file_set_value (kf, spec->group, spec->key,
                                sb_confirm_mode_to_string (*field_confirm (config, spec)));
          break;
        default:
          {
            const char *v = field_str_const (config, spec);
            g_key_file_set_string (kf, spec->group, spec->key, v != NULL ? v : "");
          }
        }
    }
  return g_key_file_to_data (kf, NULL, NULL);
}

JsonNode *
sb_config_to_json (SbConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);

  g_autoptr (JsonObject) root = json_object_new ();
  if (config->path != NULL)
    json_object_set_string_member (root, "path", config->path);
  else
    json_object_set_null_member (root, "path");
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    {
      const KeySpec *spec = &key_specs[i];
      JsonObject *group = json_object_has_member (root, spec->group)
                              ? json_object_get_object_member (root, spec->group)
                              : NULL;
      if (group == NULL)
        {
          group = json_object_new ();
          json_object_set_object_member (root, spec->group, group);
        }
      switch (spec->kind)
        {
        case KIND_BOOL:
          json_object_set_boolean_member (group, spec->key, *field_bool (config, spec));
          break;
        case KIND_UINT:
          json_object_set_int_member (group, spec->key, *field_uint (config, spec));
          break;
        case KIND_CONFIRM:
          json_object_set_string_member (group, spec->key,
                                         sb_confirm_mode_to_string (*field_confirm (config, spec)));
          break;
        default:
          {
            /* An unset key is null, so a reader tells it from an empty value. */
            const char *v = field_str_const (config, spec);
            if (v != NULL)
              json_object_set_string_member (group, spec->key, v);
            else
              json_object_set_null_member (group, spec->key);
          }
        }
    }
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, root);
  return node;
}

gboolean
sb_config_throw_unset (const SbConfig *config, const char *section, const char *key,
                       const char *why, GError **error)
{
  if (config->path != NULL)
    return sb_throw (error, SB_ERROR_CONFIG, "[%s] %s is not set in %s%s%s", section, key,
                     config->path, why != NULL ? ": " : "", why != NULL ? why : "");
  return sb_throw (error, SB_ERROR_CONFIG,
                   "[%s] %s is not set in %s (there is no such file, so only the defaults "
                   "apply)%s%s",
                   section, key, SB_CONFIG_DEFAULT_PATH, why != NULL ? ": " : "",
                   why != NULL ? why : "");
}
