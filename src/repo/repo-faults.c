/* repo-faults.c: the fault switches of `serve` (see repo-faults.h). */
#include "config.h"

#include "repo-faults.h"

#include "core/sb-error.h"

#include <errno.h>
#include <string.h>

void
sb_fault_init (SbFault *fault)
{
  memset (fault, 0, sizeof *fault);
  fault->truncate = -1;
  fault->drop_after = -1;
  fault->pause_after = -1;
}

static gboolean
is_none (const SbFault *f)
{
  return f->delay_ms == 0 && f->throttle_bps == 0 && f->truncate < 0 && !f->corrupt && !f->endless
         && f->status == 0 && f->drop_after < 0 && !f->ignore_range && f->pause_after < 0;
}

static gboolean
parse_number (const char *mode, const char *value, guint64 max, guint64 *out, GError **error)
{
  char *end = NULL;
  if (value == NULL || !g_ascii_isdigit (*value))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "fault %s needs a number (%s=N)", mode,
                     mode);
  errno = 0;
  guint64 n = g_ascii_strtoull (value, &end, 10);
  if (errno != 0 || *end != '\0' || n > max)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "fault %s=%s: not a number up to %" G_GUINT64_FORMAT, mode, value, max);
  *out = n;
  return TRUE;
}

gboolean
sb_fault_parse (const char *modes, SbFault *fault, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (modes, ",", -1);
  for (char **p = parts; *p != NULL; p++)
    {
      char *mode = g_strstrip (*p);
      if (*mode == '\0')
        continue;
      char *eq = strchr (mode, '=');
      const char *value = NULL;
      if (eq != NULL)
        {
          *eq = '\0';
          value = eq + 1;
        }
      guint64 n = 0;
      if (strcmp (mode, "none") == 0)
        sb_fault_init (fault);
      else if (strcmp (mode, "delay") == 0)
        {
          if (!parse_number (mode, value, 3600 * 1000, &n, error))
            return FALSE;
          fault->delay_ms = (guint)n;
        }
      else if (strcmp (mode, "throttle") == 0)
        {
          if (!parse_number (mode, value, G_MAXINT64, &n, error))
            return FALSE;
          if (n == 0)
            return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "fault throttle=0 never sends");
          fault->throttle_bps = n;
        }
      else if (strcmp (mode, "truncate") == 0)
        {
          if (!parse_number (mode, value, G_MAXINT64, &n, error))
            return FALSE;
          fault->truncate = (gint64)n;
        }
      else if (strcmp (mode, "drop-connection-after") == 0)
        {
          if (!parse_number (mode, value, G_MAXINT64, &n, error))
            return FALSE;
          fault->drop_after = (gint64)n;
        }
      else if (strcmp (mode, "pause-after") == 0)
        {
          if (!parse_number (mode, value, G_MAXINT64, &n, error))
            return FALSE;
          fault->pause_after = (gint64)n;
        }
      else if (strcmp (mode, "status") == 0)
        {
          if (!parse_number (mode, value, 599, &n, error))
            return FALSE;
          if (n < 100)
            return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                             "fault status=%s: not an HTTP "
                             "status",
                             value);
          fault->status = (guint)n;
        }
      else if (strcmp (mode, "corrupt") == 0 && value == NULL)
        fault->corrupt = TRUE;
      else if (strcmp (mode, "endless") == 0 && value == NULL)
        fault->endless = TRUE;
      else if (strcmp (mode, "ignore-range") == 0 && value == NULL)
        fault->ignore_range = TRUE;
      else
        return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                         "unknown fault \"%s%s%s\" (known: delay=MS, throttle=BYTES_PER_SEC, "
                         "truncate=N, corrupt, endless, status=CODE, drop-connection-after=N, "
                         "ignore-range, pause-after=N, none)",
                         mode, value != NULL ? "=" : "", value != NULL ? value : "");
    }
  return TRUE;
}

char *
sb_fault_to_string (const SbFault *f)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  if (f->delay_ms > 0)
    g_ptr_array_add (parts, g_strdup_printf ("delay=%u", f->delay_ms));
  if (f->throttle_bps > 0)
    g_ptr_array_add (parts, g_strdup_printf ("throttle=%" G_GUINT64_FORMAT, f->throttle_bps));
  if (f->truncate >= 0)
    g_ptr_array_add (parts, g_strdup_printf ("truncate=%" G_GINT64_FORMAT, f->truncate));
  if (f->corrupt)
    g_ptr_array_add (parts, g_strdup ("corrupt"));
  if (f->endless)
    g_ptr_array_add (parts, g_strdup ("endless"));
  if (f->status > 0)
    g_ptr_array_add (parts, g_strdup_printf ("status=%u", f->status));
  if (f->drop_after >= 0)
    g_ptr_array_add (parts,
                     g_strdup_printf ("drop-connection-after=%" G_GINT64_FORMAT, f->drop_after));
  if (f->ignore_range)
    g_ptr_array_add (parts, g_strdup ("ignore-range"));
  if (f->pause_after >= 0)
    g_ptr_array_add (parts, g_strdup_printf ("pause-after=%" G_GINT64_FORMAT, f->pause_after));
  if (parts->len == 0)
    return g_strdup ("none");
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (",", (char **)parts->pdata);
}

typedef struct
{
  SbFault fault;
  guint remaining; /* 0: unlimited */
} Entry;

typedef struct
{
  char *path;
  SbFaultReleaseFunc release;
  gpointer data;
} Paused;

typedef struct
{
  guint id;
  char *path;
  guint count;
  SbFaultWaitFunc done;
  gpointer data;
} Waiter;

struct _SbFaultTable
{
  GHashTable *entries; /* path -> Entry */
  GHashTable *pauses;  /* path -> pause count */
  GPtrArray *paused;   /* Paused: answers holding their connection */
  GPtrArray *waiters;  /* Waiter */
  guint next_wait_id;
};

static void
paused_free (gpointer p)
{
  Paused *x = p;
  g_free (x->path);
  g_free (x);
}

static void
waiter_free (gpointer p)
{
  Waiter *w = p;
  g_free (w->path);
  g_free (w);
}

SbFaultTable *
sb_fault_table_new (void)
{
  SbFaultTable *t = g_new0 (SbFaultTable, 1);
  t->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  t->pauses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t->paused = g_ptr_array_new_with_free_func (paused_free);
  t->waiters = g_ptr_array_new_with_free_func (waiter_free);
  t->next_wait_id = 1;
  return t;
}

void
sb_fault_table_free (SbFaultTable *table)
{
  if (table == NULL)
    return;
  g_hash_table_unref (table->entries);
  g_hash_table_unref (table->pauses);
  g_ptr_array_unref (table->paused);
  g_ptr_array_unref (table->waiters);
  g_free (table);
}

gboolean
sb_fault_table_set (SbFaultTable *table, const char *path, const char *modes, guint times,
                    GError **error)
{
  if (path == NULL || (path[0] != '/' && strcmp (path, "*") != 0))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "fault path \"%s\" must start with '/' (or be \"*\" for every path)",
                     path != NULL ? path : "");
  Entry *e = g_hash_table_lookup (table->entries, path);
  SbFault f;
  if (e != NULL)
    f = e->fault;
  else
    sb_fault_init (&f);
  if (!sb_fault_parse (modes, &f, error))
    return FALSE;
  if (is_none (&f))
    {
      g_hash_table_remove (table->entries, path);
      return TRUE;
    }
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      g_hash_table_insert (table->entries, g_strdup (path), e);
    }
  e->fault = f;
  e->remaining = times;
  return TRUE;
}

gboolean
sb_fault_table_set_from_arg (SbFaultTable *table, const char *arg, GError **error)
{
  /* PATH=MODES: the path ends at the first '=' (a mode's own value follows a later one). */
  if (arg[0] == '/' || arg[0] == '*')
    {
      const char *eq = strchr (arg, '=');
      if (eq == NULL)
        return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--fault %s: expected PATH=MODES", arg);
      g_autofree char *path = g_strndup (arg, eq - arg);
      return sb_fault_table_set (table, path, eq + 1, 0, error);
    }
  return sb_fault_table_set (table, "*", arg, 0, error);
}

void
sb_fault_table_clear (SbFaultTable *table)
{
  g_hash_table_remove_all (table->entries);
}

gboolean
sb_fault_table_take (SbFaultTable *table, const char *path, SbFault *out)
{
  const char *key = NULL;
  Entry *e = NULL;
  gpointer k, v;
  if (g_hash_table_lookup_extended (table->entries, path, &k, &v))
    {
      key = k;
      e = v;
    }
  else
    {
      gsize best = 0;
      GHashTableIter iter;
      g_hash_table_iter_init (&iter, table->entries);
      while (g_hash_table_iter_next (&iter, &k, &v))
        {
          const char *pat = k;
          gsize len = strlen (pat);
          if (len == 0 || pat[len - 1] != '*')
            continue;
          if (strncmp (pat, path, len - 1) == 0 && (e == NULL || len > best))
            {
              best = len;
              key = pat;
              e = v;
            }
        }
    }
  if (e == NULL)
    return FALSE;
  *out = e->fault;
  if (e->remaining > 0 && --e->remaining == 0)
    g_hash_table_remove (table->entries, key);
  return TRUE;
}

JsonNode *
sb_fault_table_to_json (SbFaultTable *table)
{
  JsonObject *obj = json_object_new ();
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init (&iter, table->entries);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      Entry *e = v;
      JsonObject *f = json_object_new ();
      g_autofree char *modes = sb_fault_to_string (&e->fault);
      json_object_set_string_member (f, "modes", modes);
      json_object_set_int_member (f, "remaining", e->remaining);
      json_object_set_object_member (obj, k, f);
    }
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, obj);
  return node;
}

/* ---- pause events ------------------------------------------------------------------------ */

guint
sb_fault_table_get_pauses (SbFaultTable *table, const char *path)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table->pauses, path));
}

/* Answers, and drops, the waiters of @path (NULL: every waiter) whose count is reached (every
 * one of them when @all). Callbacks run after the list is updated, so they may call back. */
static void
answer_waiters (SbFaultTable *table, const char *path, gboolean all)
{
  g_autoptr (GPtrArray) due = g_ptr_array_new_with_free_func (waiter_free);
  for (guint i = 0; i < table->waiters->len;)
    {
      Waiter *w = table->waiters->pdata[i];
      if ((path == NULL || strcmp (w->path, path) == 0)
          && (all || sb_fault_table_get_pauses (table, w->path) >= w->count))
        g_ptr_array_add (due, g_ptr_array_steal_index (table->waiters, i));
      else
        i++;
    }
  for (guint i = 0; i < due->len; i++)
    {
      Waiter *w = due->pdata[i];
      w->done (w->data, sb_fault_table_get_pauses (table, w->path));
    }
}

void
sb_fault_table_paused (SbFaultTable *table, const char *path, SbFaultReleaseFunc release,
                       gpointer data)
{
  Paused *x = g_new0 (Paused, 1);
  x->path = g_strdup (path);
  x->release = release;
  x->data = data;
  g_ptr_array_add (table->paused, x);
  g_hash_table_replace (table->pauses, g_strdup (path),
                        GUINT_TO_POINTER (sb_fault_table_get_pauses (table, path) + 1));
  answer_waiters (table, path, FALSE);
}

void
sb_fault_table_forget_paused (SbFaultTable *table, gpointer data)
{
  for (guint i = 0; i < table->paused->len; i++)
    if (((Paused *)table->paused->pdata[i])->data == data)
      {
        g_ptr_array_remove_index (table->paused, i);
        return;
      }
}

guint
sb_fault_table_release (SbFaultTable *table, const char *path, SbFaultRelease how)
{
  g_autoptr (GPtrArray) due = g_ptr_array_new_with_free_func (paused_free);
  for (guint i = 0; i < table->paused->len;)
    {
      Paused *x = table->paused->pdata[i];
      if (path == NULL || strcmp (x->path, path) == 0)
        g_ptr_array_add (due, g_ptr_array_steal_index (table->paused, i));
      else
        i++;
    }
  for (guint i = 0; i < due->len; i++)
    {
      Paused *x = due->pdata[i];
      x->release (x->data, how);
    }
  return due->len;
}

guint
sb_fault_table_wait (SbFaultTable *table, const char *path, guint count, SbFaultWaitFunc done,
                     gpointer data)
{
  guint now = sb_fault_table_get_pauses (table, path);
  if (now >= count)
    {
      done (data, now);
      return 0;
    }
  Waiter *w = g_new0 (Waiter, 1);
  w->id = table->next_wait_id++;
  if (table->next_wait_id == 0)
    table->next_wait_id = 1;
  w->path = g_strdup (path);
  w->count = count;
  w->done = done;
  w->data = data;
  g_ptr_array_add (table->waiters, w);
  return w->id;
}

void
sb_fault_table_cancel_wait (SbFaultTable *table, guint handle)
{
  for (guint i = 0; i < table->waiters->len; i++)
    if (((Waiter *)table->waiters->pdata[i])->id == handle)
      {
        g_ptr_array_remove_index (table->waiters, i);
        return;
      }
}

void
sb_fault_table_reset_events (SbFaultTable *table)
{
  g_hash_table_remove_all (table->pauses);
  (void)sb_fault_table_release (table, NULL, SB_FAULT_RELEASE_RESUME);
  answer_waiters (table, NULL, TRUE);
}
