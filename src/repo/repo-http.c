/* repo-http.c: the request handling of `serve` (see repo-http.h). */
#include "config.h"

#include "repo-http.h"

#include "repo-store.h"
#include "repo-stream.h"
#include "repo-uptane.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"
#include "uptane/sb-manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Manifests are small; a bigger body is refused before it is parsed. */
#define MANIFEST_MAX_LENGTH (1024 * 1024)

typedef struct
{
  char **prefix; /* decoded segments */
  char *path;
} Mount;

struct _SbRepoServer
{
  char *dir;
  gboolean uptane, ota_ce, verbose, control;
  GPtrArray *mounts;
  SbFaultTable *faults;
  GHashTable *hits; /* decoded path -> count */
  guint64 manifest_seq;
};

static void
mount_free (Mount *m)
{
  g_strfreev (m->prefix);
  g_free (m->path);
  g_free (m);
}

void
sb_repo_server_free (SbRepoServer *srv)
{
  if (srv == NULL)
    return;
  g_free (srv->dir);
  g_ptr_array_unref (srv->mounts);
  sb_fault_table_free (srv->faults);
  g_hash_table_unref (srv->hits);
  g_free (srv);
}

SbFaultTable *
sb_repo_server_get_faults (SbRepoServer *srv)
{
  return srv->faults;
}

static char *
manifests_dir (SbRepoServer *srv)
{
  return g_build_filename (srv->dir, "director", "manifests", NULL);
}

/* The next manifest number continues after those already stored. */
static guint64
last_manifest_seq (SbRepoServer *srv)
{
  g_autofree char *dir = manifests_dir (srv);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint64 max = 0;
  const char *entry;
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      guint64 n = g_ascii_strtoull (entry, NULL, 10);
      max = MAX (max, n);
    }
  return max;
}

SbRepoServer *
sb_repo_server_new (const SbRepoServerOptions *opts, GError **error)
{
  g_autoptr (SbRepoServer) srv = g_new0 (SbRepoServer, 1);
  srv->dir = g_canonicalize_filename (opts->dir, NULL);
  srv->uptane = opts->uptane;
  srv->ota_ce = opts->ota_ce;
  srv->verbose = opts->verbose;
  srv->control = opts->control;
  srv->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify)mount_free);
  srv->faults = sb_fault_table_new ();
  srv->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  static const char *const plain[] = { "metadata", "targets" };
  static const char *const pair[] = { "director/metadata", "image/metadata", "image/targets" };
  const char *const *need = srv->uptane ? pair : plain;
  guint n_need = srv->uptane ? G_N_ELEMENTS (pair) : G_N_ELEMENTS (plain);
  for (guint i = 0; i < n_need; i++)
    {
      g_autofree char *path = g_build_filename (srv->dir, need[i], NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          sb_throw (error, SB_ERROR_NOT_FOUND, "%s has no %s directory: not %s", srv->dir, need[i],
                    srv->uptane ? "an Uptane pair (uptane-init)" : "a repository (init)");
          return NULL;
        }
    }
  for (char **m = opts->mounts; m != NULL && *m != NULL; m++)
    {
      const char *eq = strchr (*m, '=');
      if ((*m)[0] != '/' || eq == NULL || eq == *m + 1 || eq[1] == '\0')
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--mount %s: expected /PREFIX=DIRECTORY", *m);
          return NULL;
        }
      Mount *mount = g_new0 (Mount, 1);
      g_autofree char *prefix = g_strndup (*m + 1, eq - *m - 1);
      mount->prefix = g_strsplit (prefix, "/", -1);
      mount->path = g_canonicalize_filename (eq + 1, NULL);
      g_ptr_array_add (srv->mounts, mount);
      if (!g_file_test (mount->path, G_FILE_TEST_IS_DIR))
        {
          sb_throw (error, SB_ERROR_NOT_FOUND, "--mount %s: %s is not a directory", *m,
                    mount->path);
          return NULL;
        }
    }
  srv->manifest_seq = last_manifest_seq (srv);
  return g_steal_pointer (&srv);
}

/* ---- routing --------------------------------------------------------------------------- */

typedef enum
{
  ROUTE_NONE,
  ROUTE_METADATA, /* dir + one file name */
  ROUTE_FILES,    /* dir + a relative path of safe segments */
  ROUTE_MANIFEST,
  ROUTE_CONTROL,
  ROUTE_INDEX,
} RouteKind;

typedef struct
{
  RouteKind kind;
  char *file;       /* ROUTE_METADATA, ROUTE_FILES */
  const char *what; /* ROUTE_CONTROL: the action */
} Route;

static gboolean
safe_segment (const char *s)
{
  return s != NULL && *s != '\0' && strcmp (s, ".") != 0 && strcmp (s, "..") != 0
         && strchr (s, '/') == NULL;
}

/* The metadata file @segment names in @dir: decoded and encoded again the way role file names
 * are, so "a%2Fb.json" and "a/b.json" both mean the role "a/b". */
static char *
metadata_file (const char *dir, const char *sub, const char *segment)
{
  if (segment == NULL || *segment == '\0' || strcmp (segment, ".") == 0
      || strcmp (segment, "..") == 0)
    return NULL;
  g_autofree char *enc = g_uri_escape_string (segment, NULL, FALSE);
  return g_build_filename (dir, sub, "metadata", enc, NULL);
}

static char *
files_path (const char *base, char **segs)
{
  if (segs[0] == NULL)
    return NULL;
  for (char **s = segs; *s != NULL; s++)
    if (!safe_segment (*s))
      return NULL;
  g_autofree char *rel = g_strjoinv ("/", segs);
  return g_build_filename (base, rel, NULL);
}

/* OTA Community Edition's Director serves only root and targets (design.md §2). */
static gboolean
ota_ce_director_file (const char *name)
{
  if (strcmp (name, "root.json") == 0 || strcmp (name, "targets.json") == 0)
    return TRUE;
  const char *dot = strchr (name, '.');
  if (dot == NULL || dot == name)
    return FALSE;
  for (const char *p = name; p < dot; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return strcmp (dot, ".root.json") == 0 || strcmp (dot, ".targets.json") == 0;
}

/* Routes a repository area (the segments after its prefix): metadata, targets/, and with
 * the OTA-CE layout delegations/. */
static void
route_repo (SbRepoServer *srv, const char *sub, char **segs, gboolean director, Route *r)
{
  g_autofree char *base = g_build_filename (srv->dir, sub, NULL);
  if (segs[0] == NULL)
    return;
  if (!director && strcmp (segs[0], "targets") == 0)
    {
      g_autofree char *targets = g_build_filename (base, "targets", NULL);
      r->file = files_path (targets, segs + 1);
      r->kind = r->file != NULL ? ROUTE_FILES : ROUTE_NONE;
      return;
    }
  if (srv->ota_ce && !director && strcmp (segs[0], "delegations") == 0 && segs[1] != NULL
      && segs[2] == NULL)
    {
      r->file = metadata_file (srv->dir, sub, segs[1]);
      r->kind = r->file != NULL ? ROUTE_METADATA : ROUTE_NONE;
      return;
    }
  if (segs[1] != NULL)
    return;
  if (director && srv->ota_ce && !ota_ce_director_file (segs[0]))
    return;
  r->file = metadata_file (srv->dir, sub, segs[0]);
  r->kind = r->file != NULL ? ROUTE_METADATA : ROUTE_NONE;
}

static void
route (SbRepoServer *srv, char **segs, Route *r)
{
  memset (r, 0, sizeof *r);
  if (segs[0] == NULL)
    {
      r->kind = ROUTE_INDEX;
      return;
    }
  if (strcmp (segs[0], "_control") == 0 && srv->control && segs[1] != NULL && segs[2] == NULL)
    {
      r->kind = ROUTE_CONTROL;
      r->what = segs[1];
      return;
    }
  for (guint i = 0; i < srv->mounts->len; i++)
    {
      Mount *m = srv->mounts->pdata[i];
      guint k = 0;
      while (m->prefix[k] != NULL && segs[k] != NULL && strcmp (m->prefix[k], segs[k]) == 0)
        k++;
      if (m->prefix[k] == NULL)
        {
          r->file = files_path (m->path, segs + k);
          r->kind = r->file != NULL ? ROUTE_FILES : ROUTE_NONE;
          return;
        }
    }
  if (!srv->uptane)
    {
      if (strcmp (segs[0], "metadata") == 0)
        {
          if (srv->ota_ce && segs[1] != NULL && strcmp (segs[1], "delegations") == 0
              && segs[2] != NULL && segs[3] == NULL)
            {
              r->file = metadata_file (srv->dir, "", segs[2]);
              r->kind = r->file != NULL ? ROUTE_METADATA : ROUTE_NONE;
            }
          else if (segs[1] != NULL && segs[2] == NULL)
            {
              r->file = metadata_file (srv->dir, "", segs[1]);
              r->kind = r->file != NULL ? ROUTE_METADATA : ROUTE_NONE;
            }
        }
      else if (strcmp (segs[0], "targets") == 0)
        {
          g_autofree char *targets = g_build_filename (srv->dir, "targets", NULL);
          r->file = files_path (targets, segs + 1);
          r->kind = r->file != NULL ? ROUTE_FILES : ROUTE_NONE;
        }
      return;
    }
  if (strcmp (segs[0], "director") == 0)
    {
      if (segs[1] != NULL && strcmp (segs[1], "manifest") == 0 && segs[2] == NULL)
        r->kind = ROUTE_MANIFEST;
      else
        route_repo (srv, "director", segs + 1, TRUE, r);
    }
  else if (strcmp (segs[0], "repo") == 0)
    route_repo (srv, "image", segs + 1, FALSE, r);
}

/* ---- answers --------------------------------------------------------------------------- */

static void
log_request (SbRepoServer *srv, SoupServerMessage *msg, const char *path, const char *note)
{
  if (!srv->verbose)
    return;
  g_printerr ("%s %s %u%s%s\n", soup_server_message_get_method (msg), path,
              soup_server_message_get_status (msg), note != NULL ? " " : "",
              note != NULL ? note : "");
}

/* Parses a single "bytes=A-B", "bytes=A-" or "bytes=-N" against @total. Returns FALSE for
 * headers this server does not honour (several ranges, other units): the whole file then. */
static gboolean
parse_range (const char *header, goffset total, goffset *start, goffset *end, gboolean *satisfiable)
{
  if (header == NULL || !g_str_has_prefix (header, "bytes="))
    return FALSE;
  const char *spec = header + strlen ("bytes=");
  if (strchr (spec, ',') != NULL)
    return FALSE;
  const char *dash = strchr (spec, '-');
  if (dash == NULL)
    return FALSE;
  char *e = NULL;
  *satisfiable = TRUE;
  if (dash == spec)
    {
      guint64 n = g_ascii_strtoull (dash + 1, &e, 10);
      if (e == dash + 1 || *e != '\0')
        return FALSE;
      if (n == 0 || total == 0)
        {
          *satisfiable = FALSE;
          return TRUE;
        }
      *start = (goffset)n >= total ? 0 : total - (goffset)n;
      *end = total - 1;
      return TRUE;
    }
  guint64 a = g_ascii_strtoull (spec, &e, 10);
  if (e != dash)
    return FALSE;
  guint64 b = (guint64)total - 1;
  if (dash[1] != '\0')
    {
      b = g_ascii_strtoull (dash + 1, &e, 10);
      if (*e != '\0' || b < a)
        return FALSE;
    }
  if ((goffset)a >= total)
    {
      *satisfiable = FALSE;
      return TRUE;
    }
  *start = (goffset)a;
  *end = MIN ((goffset)b, total - 1);
  return TRUE;
}

static void
serve_file (SbRepoServer *srv, SoupServerMessage *msg, const char *path, const char *file,
            const SbFault *fault, gboolean have_fault)
{
  const char *method = soup_server_message_get_method (msg);
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      sb_repo_stream_respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "only GET and HEAD here\n",
                                   0);
      return;
    }
  SbRepoStreamSpec spec = { 0 };
  spec.fd = -1;
  spec.head = method == SOUP_METHOD_HEAD;
  spec.events = srv->faults;
  spec.path = path;
  spec.content_type
      = g_str_has_suffix (file, ".json") ? "application/json" : "application/octet-stream";
  if (have_fault)
    spec.fault = *fault;
  else
    sb_fault_init (&spec.fault);

  int fd = open (file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd >= 0 && (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)))
    {
      close (fd);
      fd = -1;
    }
  if (fd < 0 && !spec.fault.endless)
    {
      sb_repo_stream_respond_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n", spec.fault.delay_ms);
      return;
    }
  spec.fd = fd;
  spec.total = fd >= 0 ? st.st_size : 0;
  spec.length = spec.total;
  spec.accept_ranges = !spec.fault.ignore_range && !spec.fault.endless;

  const char *range
      = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Range");
  goffset start = 0, end = 0;
  gboolean satisfiable = TRUE;
  if (spec.accept_ranges && parse_range (range, spec.total, &start, &end, &satisfiable))
    {
      if (!satisfiable)
        {
          close (fd);
          g_autofree char *cr = g_strdup_printf ("bytes */%" G_GOFFSET_FORMAT, spec.total);
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Content-Range", cr);
          sb_repo_stream_respond_text (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                                       "range not satisfiable\n", spec.fault.delay_ms);
          return;
        }
      spec.partial = TRUE;
      spec.offset = start;
      spec.length = end - start + 1;
    }
  sb_repo_stream_respond (msg, &spec);
}

/* Stores an accepted manifest and says what it reports. */
static gboolean
store_manifest (SbRepoServer *srv, GBytes *body, JsonNode *manifest, GError **error)
{
  g_autofree char *dir = manifests_dir (srv);
  if (!sb_durable_mkdir_p (dir, 0755, error))
    return FALSE;
  guint64 seq = srv->manifest_seq + 1;
  g_autofree char *name = g_strdup_printf ("%08" G_GUINT64_FORMAT ".json", seq);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  if (!sb_durable_write_bytes (path, body, 0644, error))
    return FALSE;
  srv->manifest_seq = seq;

  JsonObject *signed_obj = sb_repo_object_member (json_node_get_object (manifest), "signed");
  const char *primary = json_object_get_string_member (signed_obj, "primary_ecu_serial");
  g_autoptr (GString) line = g_string_new (NULL);
  g_string_append_printf (line, "manifest %" G_GUINT64_FORMAT " from ECU %s:", seq, primary);
  JsonObject *ecus = sb_repo_object_member (signed_obj, "ecu_version_manifests");
  g_autoptr (GList) serials = ecus != NULL ? json_object_get_members (ecus) : NULL;
  for (GList *l = serials; l != NULL; l = l->next)
    {
      JsonObject *report = sb_repo_object_member (
          sb_repo_object_member (sb_repo_object_member (ecus, l->data), "signed"),
          "installed_image");
      JsonNode *fp = report != NULL && json_object_has_member (report, "filepath")
                         ? json_object_get_member (report, "filepath")
                         : NULL;
      g_string_append_printf (line, " %s runs %s;", (const char *)l->data,
                              fp != NULL && JSON_NODE_HOLDS_VALUE (fp) ? json_node_get_string (fp)
                                                                       : "?");
    }
  JsonObject *inst = sb_repo_object_member (signed_obj, "installation_report");
  JsonObject *report = sb_repo_object_member (inst, "report");
  JsonObject *result = sb_repo_object_member (report, "result");
  if (report != NULL)
    {
      JsonNode *cid = json_object_has_member (report, "correlation_id")
                          ? json_object_get_member (report, "correlation_id")
                          : NULL;
      JsonNode *code = result != NULL && json_object_has_member (result, "code")
                           ? json_object_get_member (result, "code")
                           : NULL;
      g_string_append_printf (
          line, " installation report correlation_id=%s result=%s",
          cid != NULL && JSON_NODE_HOLDS_VALUE (cid) ? json_node_get_string (cid) : "?",
          code != NULL && JSON_NODE_HOLDS_VALUE (code) ? json_node_get_string (code) : "?");
    }
  else
    g_string_append (line, " no installation report");
  printf ("%s (%s)\n", line->str, path);
  fflush (stdout);
  return TRUE;
}

/* Uptane §5.4.2.1: the Director accepts a vehicle version manifest only when the primary and
 * every reporting ECU signed their parts with their registered keys. @ecus is the registry
 * (sb_repo_load_ecus). */
static JsonNode *
verify_manifest (GBytes *body, GHashTable *ecus, GError **error)
{
  if (g_bytes_get_size (body) > MANIFEST_MAX_LENGTH)
    {
      sb_throw (error, SB_ERROR_ENDLESS_DATA, "manifest larger than %d bytes", MANIFEST_MAX_LENGTH);
      return NULL;
    }
  g_autoptr (JsonNode) parsed = sb_json_parse_bytes (body, error);
  if (parsed == NULL)
    return NULL;
  JsonObject *signed_obj = JSON_NODE_HOLDS_OBJECT (parsed)
                               ? sb_repo_object_member (json_node_get_object (parsed), "signed")
                               : NULL;
  const char *serial = sb_repo_string_member (signed_obj, "primary_ecu_serial");
  if (serial == NULL)
    {
      sb_throw (error, SB_ERROR_PARSE, "manifest: no signed.primary_ecu_serial");
      return NULL;
    }
  JsonObject *reg = g_hash_table_lookup (ecus, serial);
  if (reg == NULL)
    {
      sb_throw (error, SB_ERROR_BAD_ECU_ID,
                "primary ECU %s is not registered (switchback-repo register-ecu)", serial);
      return NULL;
    }
  g_autoptr (GHashTable) keys
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)json_node_unref);
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init (&iter, ecus);
  while (g_hash_table_iter_next (&iter, &k, &v))
    if (strcmp (k, serial) != 0)
      g_hash_table_insert (keys, k, json_node_ref (json_object_get_member (v, "public_key")));
  return sb_manifest_verify_with_keys (body, json_object_get_member (reg, "public_key"), keys,
                                       error);
}

static void
handle_manifest (SbRepoServer *srv, SoupServerMessage *msg, guint delay_ms)
{
  if (soup_server_message_get_method (msg) != SOUP_METHOD_PUT)
    {
      sb_repo_stream_respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "PUT the manifest\n",
                                   delay_ms);
      return;
    }
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (GError) error = NULL;
  g_autofree char *director = g_build_filename (srv->dir, "director", NULL);
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;

  /* The registry is read for each manifest, so register-ecu takes effect at once. */
  g_autoptr (GHashTable) ecus = sb_repo_load_ecus (director, &error);
  if (ecus != NULL)
    {
      g_autoptr (JsonNode) manifest = verify_manifest (body, ecus, &error);
      if (manifest == NULL)
        status = SOUP_STATUS_BAD_REQUEST;
      else if (store_manifest (srv, body, manifest, &error))
        {
          sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, "", delay_ms);
          return;
        }
    }
  g_autofree char *text = g_strdup_printf ("manifest refused: %s [%s]\n", error->message,
                                           sb_error_code_name (error->code));
  g_printerr ("%s", text);
  sb_repo_stream_respond_text (msg, status, text, delay_ms);
}

static void
respond_json (SoupServerMessage *msg, JsonNode *node)
{
  g_autofree char *text = sb_json_pretty (node);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

/* GET /_control/paused: the answer waits, without a timeout of its own, for the pause event
 * (repo-faults.h), so a test waits on the event instead of polling. */
typedef struct
{
  SbRepoServer *srv;
  SoupServerMessage *msg;
  guint handle;
  gulong finished_id;
} PauseWait;

static void
pause_wait_free (PauseWait *w)
{
  g_signal_handler_disconnect (w->msg, w->finished_id);
  g_object_unref (w->msg);
  g_free (w);
}

static void
pause_wait_done (gpointer data, guint pauses)
{
  PauseWait *w = data;
  g_autofree char *text = g_strdup_printf ("%u\n", pauses);
  sb_repo_stream_respond_text (w->msg, SOUP_STATUS_OK, text, 0);
  soup_server_message_unpause (w->msg);
  pause_wait_free (w);
}

static void
pause_wait_finished (SoupServerMessage *msg, gpointer data)
{
  PauseWait *w = data;
  sb_fault_table_cancel_wait (w->srv->faults, w->handle);
  pause_wait_free (w);
}

static gboolean
control_count (const char *text, guint *out, GError **error)
{
  char *end = NULL;
  guint64 n = text != NULL ? g_ascii_strtoull (text, &end, 10) : 1;
  if (text != NULL && (*text == '\0' || *end != '\0' || n == 0 || n > G_MAXUINT))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "count=%s: not a number from 1", text);
  *out = (guint)n;
  return TRUE;
}

static void
handle_control (SbRepoServer *srv, SoupServerMessage *msg, const char *what, GHashTable *query)
{
  const char *method = soup_server_message_get_method (msg);
  const char *path = query != NULL ? g_hash_table_lookup (query, "path") : NULL;
  g_autoptr (GError) error = NULL;

  if (strcmp (what, "fault") == 0 && (method == SOUP_METHOD_POST || method == SOUP_METHOD_PUT))
    {
      const char *mode = query != NULL ? g_hash_table_lookup (query, "mode") : NULL;
      const char *value = query != NULL ? g_hash_table_lookup (query, "value") : NULL;
      const char *times = query != NULL ? g_hash_table_lookup (query, "times") : NULL;
      g_autofree char *modes = value != NULL && mode != NULL
                                   ? g_strdup_printf ("%s=%s", mode, value)
                                   : g_strdup (mode);
      if (path == NULL || modes == NULL)
        sb_throw (&error, SB_ERROR_INVALID_ARGUMENT, "give path=PATH and mode=MODES");
      else if (sb_fault_table_set (srv->faults, path, modes,
                                   times != NULL ? (guint)g_ascii_strtoull (times, NULL, 10) : 0,
                                   &error))
        {
          sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, "ok\n", 0);
          return;
        }
    }
  else if (strcmp (what, "paused") == 0 && method == SOUP_METHOD_GET)
    {
      const char *count_text = query != NULL ? g_hash_table_lookup (query, "count") : NULL;
      guint count = 1;
      if (path == NULL)
        sb_throw (&error, SB_ERROR_INVALID_ARGUMENT, "give path=PATH [count=N]");
      else if (control_count (count_text, &count, &error))
        {
          if (sb_fault_table_get_pauses (srv->faults, path) >= count)
            {
              g_autofree char *n
                  = g_strdup_printf ("%u\n", sb_fault_table_get_pauses (srv->faults, path));
              sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, n, 0);
              return;
            }
          PauseWait *w = g_new0 (PauseWait, 1);
          w->srv = srv;
          w->msg = g_object_ref (msg);
          w->finished_id
              = g_signal_connect (msg, "finished", G_CALLBACK (pause_wait_finished), w);
          soup_server_message_pause (msg);
          w->handle = sb_fault_table_wait (srv->faults, path, count, pause_wait_done, w);
          return;
        }
    }
  else if (strcmp (what, "release") == 0 && method == SOUP_METHOD_POST)
    {
      const char *how = query != NULL ? g_hash_table_lookup (query, "how") : NULL;
      if (path == NULL)
        sb_throw (&error, SB_ERROR_INVALID_ARGUMENT, "give path=PATH [how=resume|cut]");
      else if (how != NULL && strcmp (how, "resume") != 0 && strcmp (how, "cut") != 0)
        sb_throw (&error, SB_ERROR_INVALID_ARGUMENT, "how=%s: expected resume or cut", how);
      else
        {
          guint n = sb_fault_table_release (srv->faults, path,
                                            how != NULL && strcmp (how, "cut") == 0
                                                ? SB_FAULT_RELEASE_CUT
                                                : SB_FAULT_RELEASE_RESUME);
          g_autofree char *text = g_strdup_printf ("%u\n", n);
          sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, text, 0);
          return;
        }
    }
  else if (strcmp (what, "reset") == 0 && method == SOUP_METHOD_POST)
    {
      sb_fault_table_clear (srv->faults);
      sb_fault_table_reset_events (srv->faults);
      g_hash_table_remove_all (srv->hits);
      sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, "ok\n", 0);
      return;
    }
  else if (strcmp (what, "faults") == 0 && method == SOUP_METHOD_GET)
    {
      g_autoptr (JsonNode) node = sb_fault_table_to_json (srv->faults);
      respond_json (msg, node);
      return;
    }
  else if (strcmp (what, "hits") == 0 && method == SOUP_METHOD_GET)
    {
      if (path != NULL)
        {
          g_autofree char *n
              = g_strdup_printf ("%u\n", GPOINTER_TO_UINT (g_hash_table_lookup (srv->hits, path)));
          sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, n, 0);
          return;
        }
      JsonObject *obj = json_object_new ();
      GHashTableIter iter;
      gpointer k, v;
      g_hash_table_iter_init (&iter, srv->hits);
      while (g_hash_table_iter_next (&iter, &k, &v))
        json_object_set_int_member (obj, k, GPOINTER_TO_UINT (v));
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (node, obj);
      respond_json (msg, node);
      return;
    }
  else
    sb_throw (&error, SB_ERROR_NOT_FOUND,
              "unknown control request %s %s (POST fault, POST reset, GET faults, GET hits, GET paused, POST release)",
              method, what);
  g_autofree char *text = g_strdup_printf ("%s\n", error->message);
  sb_repo_stream_respond_text (msg,
                               g_error_matches (error, SB_ERROR, SB_ERROR_NOT_FOUND)
                                   ? SOUP_STATUS_NOT_FOUND
                                   : SOUP_STATUS_BAD_REQUEST,
                               text, 0);
}

static char *
index_text (SbRepoServer *srv)
{
  if (srv->uptane)
    return g_strdup_printf ("switchback-repo serving the Uptane pair %s%s\n"
                            "  /director/  the Director (PUT /director/manifest)\n"
                            "  /repo/      the Image repository, targets under /repo/targets/\n",
                            srv->dir, srv->ota_ce ? " (OTA-CE layout)" : "");
  return g_strdup_printf ("switchback-repo serving the TUF repository %s%s\n"
                          "  /metadata/  metadata\n  /targets/   target files\n",
                          srv->dir, srv->ota_ce ? " (OTA-CE layout)" : "");
}

static void
handler (SoupServer *soup, SoupServerMessage *msg, const char *unused_path, GHashTable *query,
         gpointer user_data)
{
  SbRepoServer *srv = user_data;
  /* Segments are split before they are decoded, so "%2F" inside a role name stays in it. */
  const char *raw = g_uri_get_path (soup_server_message_get_uri (msg));
  g_autofree char *decoded = g_uri_unescape_string (raw, NULL);
  const char *path = decoded != NULL ? decoded : raw;
  g_auto (GStrv) raw_segs = g_strsplit (raw[0] == '/' ? raw + 1 : raw, "/", -1);
  g_autoptr (GPtrArray) segs = g_ptr_array_new_with_free_func (g_free);
  gboolean bad = FALSE;
  for (char **s = raw_segs; *s != NULL; s++)
    {
      if (**s == '\0' && s[1] == NULL && s != raw_segs)
        break; /* a trailing slash */
      char *d = g_uri_unescape_string (*s, NULL);
      bad = bad || d == NULL;
      g_ptr_array_add (segs, d != NULL ? d : g_strdup (""));
    }
  if (segs->len == 1 && *(const char *)segs->pdata[0] == '\0')
    g_ptr_array_set_size (segs, 0);
  g_ptr_array_add (segs, NULL);

  g_hash_table_replace (
      srv->hits, g_strdup (path),
      GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (srv->hits, path)) + 1));
  Route r;
  route (srv, (char **)segs->pdata, &r);
  if (bad)
    r.kind = ROUTE_NONE;

  if (r.kind == ROUTE_CONTROL)
    {
      handle_control (srv, msg, r.what, query);
      log_request (srv, msg, path, NULL);
      return;
    }

  SbFault fault;
  gboolean have_fault = sb_fault_table_take (srv->faults, path, &fault);
  g_autofree char *note = have_fault ? sb_fault_to_string (&fault) : NULL;
  if (!have_fault)
    sb_fault_init (&fault);

  if (fault.status != 0)
    {
      g_autofree char *text = g_strdup_printf ("fault: status %u\n", fault.status);
      sb_repo_stream_respond_text (msg, fault.status, text, fault.delay_ms);
    }
  else if (r.kind == ROUTE_MANIFEST)
    handle_manifest (srv, msg, fault.delay_ms);
  else if (r.kind == ROUTE_METADATA || r.kind == ROUTE_FILES)
    serve_file (srv, msg, path, r.file, &fault, have_fault);
  else if (r.kind == ROUTE_INDEX)
    {
      g_autofree char *text = index_text (srv);
      sb_repo_stream_respond_text (msg, SOUP_STATUS_OK, text, fault.delay_ms);
    }
  else if (fault.endless)
    serve_file (srv, msg, path, "/nonexistent", &fault, have_fault);
  else
    sb_repo_stream_respond_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n", fault.delay_ms);
  log_request (srv, msg, path, note);
  g_free (r.file);
}

void
sb_repo_server_attach (SbRepoServer *srv, SoupServer *soup)
{
  soup_server_add_handler (soup, NULL, handler, srv, NULL);
}
