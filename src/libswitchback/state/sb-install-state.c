/* sb-install-state.c: install.json and counters.json, read strictly and written durably. */
#include "config.h"

#include "state/sb-install-state.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"
#include "state/sb-report-queue.h"

#include <string.h>

/* Both files are small; anything larger is damage, not state. */
#define STATE_FILE_MAX (1024 * 1024)

static const char *const phase_names[] = {
  [SB_INSTALL_IDLE] = "idle",
  [SB_INSTALL_DOWNLOADING] = "downloading",
  [SB_INSTALL_WRITTEN] = "written",
  [SB_INSTALL_STAGED] = "staged",
};

const char *
sb_install_phase_name (SbInstallPhase phase)
{
  return phase_names[phase];
}

/* Reads and parses a state file; a missing one is NULL with *out_missing set and no error.
 * Every other failure is SB_ERROR_STATE naming the file. */
static JsonObject *
load_object (const char *path, gboolean *out_missing, GError **error)
{
  g_autoptr (GError) local = NULL;
  *out_missing = FALSE;
  g_autoptr (GBytes) bytes = sb_read_file (path, STATE_FILE_MAX, &local);
  if (bytes == NULL && g_error_matches (local, SB_ERROR, SB_ERROR_NOT_FOUND))
    {
      *out_missing = TRUE;
      return NULL;
    }
  g_autoptr (JsonNode) root = bytes != NULL ? sb_json_parse_bytes (bytes, &local) : NULL;
  if (root != NULL && !JSON_NODE_HOLDS_OBJECT (root))
    g_set_error (&local, SB_ERROR, SB_ERROR_PARSE, "not a JSON object");
  if (local != NULL)
    {
      sb_throw (error, SB_ERROR_STATE, "state file %s is damaged: %s", path, local->message);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static gboolean
get_uint (JsonObject *obj, const char *key, const char *what, guint64 *out, GError **error)
{
  gint64 v;
  if (!sb_json_get_int (obj, key, what, &v, error))
    return FALSE;
  if (v < 0)
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is negative", what, key);
  *out = (guint64) v;
  return TRUE;
}

static gboolean
get_slot (JsonObject *obj, const char *key, const char *what, SbSlotId *out, GError **error)
{
  const char *s = sb_json_get_string (obj, key, what, error);
  if (s == NULL)
    return FALSE;
  if (!sb_slot_id_from_name (s, out))
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is \"%s\", not A or B", what, key, s);
  return TRUE;
}

static gboolean
check_members (JsonObject *obj, const char *const *known, const char *what, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (known, l->data))
      return sb_throw (error, SB_ERROR_PARSE, "%s: unknown member \"%s\"", what,
                       (const char *) l->data);
  return TRUE;
}

static gboolean
write_object (JsonBuilder *b, const char *path, GError **error)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = sb_json_pretty (root);
  g_autofree char *dir = g_path_get_dirname (path);
  return sb_durable_mkdir_p (dir, 0755, error)
         && sb_durable_write (path, text, strlen (text), 0644, error);
}

/* install.json */

SbInstallState *
sb_install_state_new (void)
{
  SbInstallState *state = g_new0 (SbInstallState, 1);
  state->hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return state;
}

void
sb_install_state_clear (SbInstallState *state)
{
  state->state = SB_INSTALL_IDLE;
  state->slot = SB_SLOT_A;
  g_clear_pointer (&state->target, g_free);
  g_clear_pointer (&state->format, g_free);
  g_clear_pointer (&state->correlation_id, g_free);
  g_hash_table_remove_all (state->hashes);
  state->length = 0;
  state->bytes_done = 0;
  state->has_release_counter = FALSE;
  state->release_counter = 0;
}

void
sb_install_state_free (SbInstallState *state)
{
  if (state == NULL)
    return;
  sb_install_state_clear (state);
  g_hash_table_unref (state->hashes);
  g_free (state);
}

void
sb_install_state_begin (SbInstallState *state, SbSlotId slot, const char *target,
                        const char *format, guint64 length, GHashTable *hashes,
                        const char *correlation_id, gint64 release_counter)
{
  sb_install_state_clear (state);
  state->state = SB_INSTALL_DOWNLOADING;
  state->slot = slot;
  state->target = g_strdup (target);
  state->format = g_strdup (format);
  state->length = length;
  state->correlation_id = g_strdup (correlation_id);
  state->has_release_counter = release_counter >= 0;
  state->release_counter = release_counter >= 0 ? (guint64) release_counter : 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, hashes);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (state->hashes, g_strdup (k), g_strdup (v));
}

static gboolean
parse_install (SbInstallState *state, JsonObject *obj, GError **error)
{
  static const char *const known[] = { "state", "committed", "slot", "target", "format", "length",
                                       "hashes", "correlation_id", "bytes_done",
                                       "release_counter", NULL };
  const char *what = "install.json";
  if (!check_members (obj, known, what, error))
    return FALSE;
  const char *name = sb_json_get_string (obj, "state", what, error);
  if (name == NULL)
    return FALSE;
  gsize i;
  for (i = 0; i < G_N_ELEMENTS (phase_names) && !g_str_equal (phase_names[i], name); i++)
    ;
  if (i == G_N_ELEMENTS (phase_names))
    return sb_throw (error, SB_ERROR_PARSE, "%s: unknown state \"%s\"", what, name);
  state->state = (SbInstallPhase) i;
  if (json_object_has_member (obj, "committed"))
    {
      if (!get_slot (obj, "committed", what, &state->committed, error))
        return FALSE;
      state->has_committed = TRUE;
    }
  if (state->state == SB_INSTALL_IDLE)
    {
      static const char *const idle_known[] = { "state", "committed", NULL };
      return check_members (obj, idle_known, "install.json (idle)", error);
    }

  const char *target, *format = NULL, *cid = NULL;
  JsonObject *hashes;
  if (!get_slot (obj, "slot", what, &state->slot, error)
      || (target = sb_json_get_string (obj, "target", what, error)) == NULL
      || !get_uint (obj, "length", what, &state->length, error)
      || !get_uint (obj, "bytes_done", what, &state->bytes_done, error)
      || (hashes = sb_json_get_object (obj, "hashes", what, error)) == NULL
      || (json_object_has_member (obj, "format")
          && (format = sb_json_get_string (obj, "format", what, error)) == NULL)
      || (json_object_has_member (obj, "correlation_id")
          && (cid = sb_json_get_string (obj, "correlation_id", what, error)) == NULL))
    return FALSE;
  if (json_object_has_member (obj, "release_counter"))
    {
      if (!get_uint (obj, "release_counter", what, &state->release_counter, error))
        return FALSE;
      state->has_release_counter = TRUE;
    }
  if (state->bytes_done > state->length)
    return sb_throw (error, SB_ERROR_PARSE, "%s: bytes_done is past length", what);
  state->target = g_strdup (target);
  state->format = g_strdup (format);
  state->correlation_id = g_strdup (cid);
  g_autoptr (GList) algos = json_object_get_members (hashes);
  for (GList *l = algos; l != NULL; l = l->next)
    {
      const char *hex = sb_json_get_string (hashes, l->data, "install.json hashes", error);
      if (hex == NULL)
        return FALSE;
      g_hash_table_insert (state->hashes, g_strdup (l->data), g_strdup (hex));
    }
  return TRUE;
}

SbInstallState *
sb_install_state_load (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, SB_INSTALL_STATE_FILE, NULL);
  gboolean missing;
  g_autoptr (JsonObject) obj = load_object (path, &missing, error);
  g_autoptr (SbInstallState) state = sb_install_state_new ();
  if (missing)
    return g_steal_pointer (&state);
  if (obj == NULL)
    return NULL;
  g_autoptr (GError) local = NULL;
  if (!parse_install (state, obj, &local))
    {
      sb_throw (error, SB_ERROR_STATE, "state file %s is damaged: %s", path, local->message);
      return NULL;
    }
  return g_steal_pointer (&state);
}

gboolean
sb_install_state_save (SbInstallState *state, const char *state_dir, GError **error)
{
  if (state->state != SB_INSTALL_IDLE && state->target == NULL)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "an install in state %s needs a target name",
                     sb_install_phase_name (state->state));
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, sb_install_phase_name (state->state));
  if (state->has_committed)
    {
      json_builder_set_member_name (b, "committed");
      json_builder_add_string_value (b, sb_slot_id_name (state->committed));
    }
  if (state->state != SB_INSTALL_IDLE)
    {
      json_builder_set_member_name (b, "slot");
      json_builder_add_string_value (b, sb_slot_id_name (state->slot));
      json_builder_set_member_name (b, "target");
      json_builder_add_string_value (b, state->target);
      if (state->format != NULL)
        {
          json_builder_set_member_name (b, "format");
          json_builder_add_string_value (b, state->format);
        }
      json_builder_set_member_name (b, "length");
      json_builder_add_int_value (b, (gint64) state->length);
      json_builder_set_member_name (b, "hashes");
      json_builder_begin_object (b);
      g_autoptr (GList) algos = g_list_sort (g_hash_table_get_keys (state->hashes),
                                             (GCompareFunc) strcmp);
      for (GList *l = algos; l != NULL; l = l->next)
        {
          json_builder_set_member_name (b, l->data);
          json_builder_add_string_value (b, g_hash_table_lookup (state->hashes, l->data));
        }
      json_builder_end_object (b);
      if (state->correlation_id != NULL)
        {
          json_builder_set_member_name (b, "correlation_id");
          json_builder_add_string_value (b, state->correlation_id);
        }
      json_builder_set_member_name (b, "bytes_done");
      json_builder_add_int_value (b, (gint64) state->bytes_done);
      if (state->has_release_counter)
        {
          json_builder_set_member_name (b, "release_counter");
          json_builder_add_int_value (b, (gint64) state->release_counter);
        }
    }
  json_builder_end_object (b);
  g_autofree char *path = g_build_filename (state_dir, SB_INSTALL_STATE_FILE, NULL);
  return write_object (b, path, error);
}

gboolean
sb_install_state_record_result (const char *state_dir, const char *correlation_id,
                                const char *target, gboolean success, const char *result_code,
                                const char *description, GError **error)
{
  g_autoptr (SbReportQueue) queue = sb_report_queue_open (state_dir, error);
  if (queue == NULL)
    return FALSE;
  g_autoptr (SbReport) report = sb_report_new (correlation_id, target, success, result_code,
                                               description, NULL);
  return sb_report_queue_enqueue (queue, report, error);
}

/* counters.json */

static const char *const repo_names[] = { "director", "image" };

struct _SbCounters {
  GHashTable *versions[2]; /* per repo: role -> guint64 * */
  gboolean has_rollback;
  guint64 rollback;
  gboolean has_pending;
  guint64 pending;
  gboolean has_slot[2];
  guint64 slot[2];
};

SbCounters *
sb_counters_new (void)
{
  SbCounters *c = g_new0 (SbCounters, 1);
  for (guint i = 0; i < 2; i++)
    c->versions[i] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return c;
}

void
sb_counters_free (SbCounters *counters)
{
  if (counters == NULL)
    return;
  for (guint i = 0; i < 2; i++)
    g_hash_table_unref (counters->versions[i]);
  g_free (counters);
}

static int
repo_index (const char *repo)
{
  for (guint i = 0; i < G_N_ELEMENTS (repo_names); i++)
    if (g_strcmp0 (repo, repo_names[i]) == 0)
      return (int) i;
  return -1;
}

static gboolean
parse_counters (SbCounters *c, JsonObject *obj, GError **error)
{
  static const char *const known[] = { "director", "image", "image-rollback-counter",
                                       "pending-image-rollback-counter", "slots", NULL };
  const char *what = "counters.json";
  if (!check_members (obj, known, what, error))
    return FALSE;
  for (guint r = 0; r < G_N_ELEMENTS (repo_names); r++)
    {
      if (!json_object_has_member (obj, repo_names[r]))
        continue;
      JsonObject *roles = sb_json_get_object (obj, repo_names[r], what, error);
      if (roles == NULL)
        return FALSE;
      g_autoptr (GList) names = json_object_get_members (roles);
      for (GList *l = names; l != NULL; l = l->next)
        {
          guint64 v;
          if (!get_uint (roles, l->data, repo_names[r], &v, error))
            return FALSE;
          g_hash_table_insert (c->versions[r], g_strdup (l->data), g_memdup2 (&v, sizeof v));
        }
    }
  if (json_object_has_member (obj, "image-rollback-counter"))
    {
      if (!get_uint (obj, "image-rollback-counter", what, &c->rollback, error))
        return FALSE;
      c->has_rollback = TRUE;
    }
  if (json_object_has_member (obj, "pending-image-rollback-counter"))
    {
      if (!get_uint (obj, "pending-image-rollback-counter", what, &c->pending, error))
        return FALSE;
      c->has_pending = TRUE;
    }
  if (json_object_has_member (obj, "slots"))
    {
      JsonObject *slots = sb_json_get_object (obj, "slots", what, error);
      static const char *const slot_names[] = { "A", "B", NULL };
      if (slots == NULL || !check_members (slots, slot_names, "counters.json slots", error))
        return FALSE;
      for (SbSlotId s = SB_SLOT_A; s <= SB_SLOT_B; s++)
        {
          if (!json_object_has_member (slots, sb_slot_id_name (s)))
            continue;
          if (!get_uint (slots, sb_slot_id_name (s), "counters.json slots", &c->slot[s], error))
            return FALSE;
          c->has_slot[s] = TRUE;
        }
    }
  /* What sb_counters_set_pending refuses, load refuses too: a pending release counter below
   * the committed one is never written, so such a file is damaged (design.md §3). */
  if (c->has_pending && c->has_rollback && c->pending < c->rollback)
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "pending-image-rollback-counter %" G_GUINT64_FORMAT
                     " is below the committed image-rollback-counter %" G_GUINT64_FORMAT,
                     c->pending, c->rollback);
  return TRUE;
}

static SbCounters *
counters_load_path (const char *path, GError **error)
{
  gboolean missing;
  g_autoptr (JsonObject) obj = load_object (path, &missing, error);
  g_autoptr (SbCounters) c = sb_counters_new ();
  if (missing)
    return g_steal_pointer (&c);
  if (obj == NULL)
    return NULL;
  g_autoptr (GError) local = NULL;
  if (!parse_counters (c, obj, &local))
    {
      sb_throw (error, SB_ERROR_STATE, "state file %s is damaged: %s", path, local->message);
      return NULL;
    }
  return g_steal_pointer (&c);
}

SbCounters *
sb_counters_load (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, SB_COUNTERS_FILE, NULL);
  return counters_load_path (path, error);
}

/* Uptane §5.4.4 / TUF §5.3.5: what is on disk is the floor for what replaces it. */
static gboolean
check_not_lower (SbCounters *next, SbCounters *disk, const char *path, GError **error)
{
  for (guint r = 0; r < G_N_ELEMENTS (repo_names); r++)
    {
      GHashTableIter it;
      gpointer role, v;
      g_hash_table_iter_init (&it, disk->versions[r]);
      while (g_hash_table_iter_next (&it, &role, &v))
        {
          guint64 *mine = g_hash_table_lookup (next->versions[r], role);
          if (mine != NULL && *mine >= *(guint64 *) v)
            continue;
          g_autofree char *to = mine != NULL ? g_strdup_printf ("%" G_GUINT64_FORMAT, *mine)
                                             : g_strdup ("none");
          return sb_throw (error, SB_ERROR_ROLLBACK,
                           "%s: refusing to lower the %s %s version from %" G_GUINT64_FORMAT
                           " to %s", path, repo_names[r], (const char *) role, *(guint64 *) v, to);
        }
    }
  if (disk->has_rollback && (!next->has_rollback || next->rollback < disk->rollback))
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "%s: refusing to lower the image rollback counter from %" G_GUINT64_FORMAT,
                     path, disk->rollback);
  return TRUE;
}

static void
add_uint (JsonBuilder *b, const char *name, guint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, (gint64) v);
}

gboolean
sb_counters_save (SbCounters *counters, const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, SB_COUNTERS_FILE, NULL);
  g_autoptr (SbCounters) disk = counters_load_path (path, error);
  if (disk == NULL || !check_not_lower (counters, disk, path, error))
    return FALSE;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  for (guint r = 0; r < G_N_ELEMENTS (repo_names); r++)
    {
      json_builder_set_member_name (b, repo_names[r]);
      json_builder_begin_object (b);
      g_autoptr (GList) roles = g_list_sort (g_hash_table_get_keys (counters->versions[r]),
                                             (GCompareFunc) strcmp);
      for (GList *l = roles; l != NULL; l = l->next)
        add_uint (b, l->data, *(guint64 *) g_hash_table_lookup (counters->versions[r], l->data));
      json_builder_end_object (b);
    }
  if (counters->has_rollback)
    add_uint (b, "image-rollback-counter", counters->rollback);
  if (counters->has_pending)
    add_uint (b, "pending-image-rollback-counter", counters->pending);
  json_builder_set_member_name (b, "slots");
  json_builder_begin_object (b);
  for (SbSlotId s = SB_SLOT_A; s <= SB_SLOT_B; s++)
    if (counters->has_slot[s])
      add_uint (b, sb_slot_id_name (s), counters->slot[s]);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return write_object (b, path, error);
}

gboolean
sb_counters_get_version (SbCounters *counters, const char *repo, const char *role,
                         guint64 *out_version)
{
  int r = repo_index (repo);
  guint64 *v = r < 0 ? NULL : g_hash_table_lookup (counters->versions[r], role);
  if (v == NULL)
    return FALSE;
  *out_version = *v;
  return TRUE;
}

gboolean
sb_counters_set_version (SbCounters *counters, const char *repo, const char *role,
                         guint64 version, GError **error)
{
  int r = repo_index (repo);
  if (r < 0)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "\"%s\" is not a repository (director or image)", repo);
  guint64 *old = g_hash_table_lookup (counters->versions[r], role);
  if (old != NULL && version < *old)
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "%s %s version %" G_GUINT64_FORMAT " is below the %" G_GUINT64_FORMAT
                     " already seen", repo, role, version, *old);
  g_hash_table_insert (counters->versions[r], g_strdup (role),
                       g_memdup2 (&version, sizeof version));
  return TRUE;
}

guint64
sb_counters_get_rollback_counter (SbCounters *counters)
{
  return counters->has_rollback ? counters->rollback : 0;
}

gboolean
sb_counters_set_rollback_counter (SbCounters *counters, guint64 value, GError **error)
{
  if (counters->has_rollback && value < counters->rollback)
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "image release counter %" G_GUINT64_FORMAT
                     " is below the committed %" G_GUINT64_FORMAT, value, counters->rollback);
  counters->has_rollback = TRUE;
  counters->rollback = value;
  return TRUE;
}

gboolean
sb_counters_get_pending (SbCounters *counters, guint64 *out_value)
{
  if (counters->has_pending)
    *out_value = counters->pending;
  return counters->has_pending;
}

gboolean
sb_counters_set_pending (SbCounters *counters, guint64 value, GError **error)
{
  /* Uptane: a release counter may never go below the one committed for this ECU (design.md §3). */
  if (value < sb_counters_get_rollback_counter (counters))
    return sb_throw (error, SB_ERROR_ROLLBACK,
                     "image release counter %" G_GUINT64_FORMAT
                     " is below the committed %" G_GUINT64_FORMAT, value, counters->rollback);
  counters->has_pending = TRUE;
  counters->pending = value;
  return TRUE;
}

void
sb_counters_clear_pending (SbCounters *counters)
{
  counters->has_pending = FALSE;
  counters->pending = 0;
}

void
sb_counters_promote_pending (SbCounters *counters)
{
  if (!counters->has_pending)
    return;
  if (counters->pending > sb_counters_get_rollback_counter (counters) || !counters->has_rollback)
    {
      counters->rollback = counters->pending;
      counters->has_rollback = TRUE;
    }
  sb_counters_clear_pending (counters);
}

gboolean
sb_counters_get_slot (SbCounters *counters, SbSlotId slot, guint64 *out_value)
{
  if (counters->has_slot[slot])
    *out_value = counters->slot[slot];
  return counters->has_slot[slot];
}

void
sb_counters_set_slot (SbCounters *counters, SbSlotId slot, guint64 value)
{
  counters->has_slot[slot] = TRUE;
  counters->slot[slot] = value;
}

void
sb_counters_clear_slot (SbCounters *counters, SbSlotId slot)
{
  counters->has_slot[slot] = FALSE;
  counters->slot[slot] = 0;
}
