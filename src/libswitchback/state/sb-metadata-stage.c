/* sb-metadata-stage.c: the working copy of a trusted metadata directory (see
 * sb-metadata-stage.h). */
#include "config.h"

#include "state/sb-metadata-stage.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest file copied when hard links are not supported: four times the largest targets
 * role an updater downloads (8 MiB). */
#define STAGE_COPY_MAX (32 * 1024 * 1024)

struct _SbMetadataStage {
  char *dir;           /* the trusted directory */
  char *staging;       /* its working copy */
  GHashTable *trusted; /* file names in the trusted directory at open */
};

void
sb_metadata_stage_free (SbMetadataStage *s)
{
  if (s == NULL)
    return;
  g_free (s->dir);
  g_free (s->staging);
  g_clear_pointer (&s->trusted, g_hash_table_unref);
  g_free (s);
}

const char *
sb_metadata_stage_get_path (SbMetadataStage *s)
{
  return s->staging;
}

gboolean
sb_metadata_stage_was_trusted (SbMetadataStage *s, const char *name)
{
  return g_hash_table_contains (s->trusted, name);
}

gboolean
sb_metadata_stage_discard (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (path, 0, &local_error);
  if (d == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      return sb_throw (error, SB_ERROR_IO, "Opening %s: %s", path, local_error->message);
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (unlink (child) < 0 && errno != ENOENT)
        return sb_throw_errno (error, SB_ERROR_IO, "Removing %s", child);
    }
  if (rmdir (path) < 0 && errno != ENOENT)
    return sb_throw_errno (error, SB_ERROR_IO, "Removing %s", path);
  return TRUE;
}

/* The regular files directly in @path; a missing directory has none. */
static GHashTable *
list_files (const char *path, GError **error)
{
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (path, 0, &local_error);
  if (d == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&names);
      sb_throw (error, SB_ERROR_IO, "Opening %s: %s", path, local_error->message);
      return NULL;
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      GStatBuf st;
      if (g_lstat (child, &st) == 0 && S_ISREG (st.st_mode))
        g_hash_table_add (names, g_strdup (name));
    }
  return g_steal_pointer (&names);
}

GHashTable *
sb_metadata_stage_list (SbMetadataStage *s, GError **error)
{
  return list_files (s->staging, error);
}

static gboolean
stage_file (const char *from, const char *to, GError **error)
{
  if (link (from, to) == 0)
    return TRUE;
  if (errno != EPERM && errno != EXDEV && errno != EMLINK && errno != ENOTSUP)
    return sb_throw_errno (error, SB_ERROR_IO, "Linking %s to %s", from, to);
  g_autoptr (GBytes) data = sb_read_file (from, STAGE_COPY_MAX, error);
  if (data == NULL)
    return FALSE;
  return sb_durable_write_bytes (to, data, 0644, error);
}

SbMetadataStage *
sb_metadata_stage_open (const char *dir, const char *staging_dir, GError **error)
{
  g_autoptr (SbMetadataStage) s = g_new0 (SbMetadataStage, 1);
  s->dir = g_strdup (dir);
  s->staging = g_strdup (staging_dir);

  /* A working copy left by a crash holds nothing that was committed: start again. */
  if (!sb_metadata_stage_discard (s->staging, error))
    return NULL;
  if (g_mkdir (s->staging, 0755) < 0)
    {
      sb_throw_errno (error, SB_ERROR_IO, "Creating %s", s->staging);
      return NULL;
    }
  s->trusted = list_files (dir, error);
  if (s->trusted == NULL)
    return NULL;
  GHashTableIter iter;
  gpointer name;
  g_hash_table_iter_init (&iter, s->trusted);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    {
      g_autofree char *from = g_build_filename (dir, name, NULL);
      g_autofree char *to = g_build_filename (s->staging, name, NULL);
      if (!stage_file (from, to, error))
        return NULL;
    }
  return g_steal_pointer (&s);
}

static gboolean
same_file (const char *a, const char *b)
{
  GStatBuf sa, sb;
  return g_lstat (a, &sa) == 0 && g_lstat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

/* Moves @name from the working copy into the trusted directory; *@moved tells whether it
 * changed anything (an unchanged file is the same inode in both). */
static gboolean
commit_file (SbMetadataStage *s, const char *name, gboolean *moved, GError **error)
{
  g_autofree char *from = g_build_filename (s->staging, name, NULL);
  g_autofree char *to = g_build_filename (s->dir, name, NULL);
  *moved = FALSE;
  if (same_file (from, to))
    return TRUE;
  /* The new file was written and fsynced by sb_durable_write; the rename is atomic, and the
   * directory fsync after it makes it durable. */
  if (rename (from, to) < 0)
    return sb_throw_errno (error, SB_ERROR_IO, "Moving verified metadata %s to %s", from, to);
  *moved = TRUE;
  return TRUE;
}

gboolean
sb_metadata_stage_commit (SbMetadataStage *s, GError **error)
{
  g_autoptr (GHashTable) staged = list_files (s->staging, error);
  if (staged == NULL || !sb_durable_mkdir_p (s->dir, 0755, error))
    return FALSE;
  /* root.json first, and durable before anything else moves: without the fsync between the
   * steps, a power cut could keep a later rename (a timestamp signed by the new root's keys)
   * and lose the root's, leaving files beside a root that does not know their keys. */
  gboolean moved = FALSE;
  if (g_hash_table_contains (staged, "root.json")
      && (!commit_file (s, "root.json", &moved, error)
          || (moved && !sb_fsync_dir (s->dir, error))))
    return FALSE;
  GHashTableIter iter;
  gpointer name;
  g_hash_table_iter_init (&iter, staged);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (strcmp (name, "root.json") != 0 && !commit_file (s, name, &moved, error))
      return FALSE;
  /* Files the client removed (TUF §5.3.11 fast-forward recovery). */
  g_hash_table_iter_init (&iter, s->trusted);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (!g_hash_table_contains (staged, name))
      {
        g_autofree char *path = g_build_filename (s->dir, name, NULL);
        if (unlink (path) < 0 && errno != ENOENT)
          return sb_throw_errno (error, SB_ERROR_IO, "Removing %s", path);
      }
  if (!sb_fsync_dir (s->dir, error))
    return FALSE;
  return sb_metadata_stage_discard (s->staging, error);
}
