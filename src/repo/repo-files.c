/* repo-files.c: target names and target files (see repo-files.h). */
#include "config.h"

#include "repo-files.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-file-hash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

gboolean
sb_repo_check_target_name (const char *name, GError **error)
{
  if (name == NULL || *name == '\0')
    return sb_throw (error, SB_ERROR_UNSAFE_PATH, "empty target name");
  if (name[0] == '/')
    return sb_throw (error, SB_ERROR_UNSAFE_PATH, "target name \"%s\" is absolute", name);
  if (!g_utf8_validate (name, -1, NULL))
    return sb_throw (error, SB_ERROR_UNSAFE_PATH, "target name is not UTF-8");
  for (const char *p = name; *p != '\0'; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return sb_throw (error, SB_ERROR_UNSAFE_PATH, "target name \"%s\" holds a control character",
                       name);
  g_auto (GStrv) segments = g_strsplit (name, "/", -1);
  for (char **s = segments; *s != NULL; s++)
    if (**s == '\0' || strcmp (*s, ".") == 0 || strcmp (*s, "..") == 0)
      return sb_throw (error, SB_ERROR_UNSAFE_PATH,
                       "target name \"%s\" has an empty, \".\" or \"..\" segment", name);
  return TRUE;
}

static JsonObject *
file_info_from_hasher (SbHasher *hasher, guint algos, guint64 length)
{
  JsonObject *info = json_object_new ();
  json_object_set_int_member (info, "length", (gint64)length);
  JsonObject *hashes = json_object_new ();
  if (algos & SB_HASH_SHA256)
    json_object_set_string_member (hashes, "sha256", sb_hasher_get_hex (hasher, SB_HASH_SHA256));
  if (algos & SB_HASH_SHA512)
    json_object_set_string_member (hashes, "sha512", sb_hasher_get_hex (hasher, SB_HASH_SHA512));
  json_object_set_object_member (info, "hashes", hashes);
  return info;
}

JsonObject *
sb_repo_file_info (const char *path, guint algos, GError **error)
{
  g_autoptr (SbHasher) hasher = sb_hasher_new (algos);
  guint64 total = 0;
  if (!sb_hasher_update_file (hasher, path, G_MAXUINT64, &total, error))
    return NULL;
  return file_info_from_hasher (hasher, algos, total);
}

JsonObject *
sb_repo_stage_target_file (SbRepo *repo, const char *name, const char *src, GError **error)
{
  if (!sb_repo_check_target_name (name, error))
    return NULL;

  /* Mapped, not read: an image of several GiB goes through the page cache, not the heap. */
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (src, FALSE, &local_error);
  if (mapped == NULL)
    {
      sb_throw (error,
                g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? SB_ERROR_NOT_FOUND
                                                                                : SB_ERROR_IO,
                "%s", local_error->message);
      return NULL;
    }
  const guint8 *data = (const guint8 *)g_mapped_file_get_contents (mapped);
  gsize len = g_mapped_file_get_length (mapped);
  if (data == NULL)
    data = (const guint8 *)"";

  g_autoptr (SbHasher) hasher = sb_hasher_new (sb_repo_get_target_hashes (repo));
  sb_hasher_update (hasher, data, len);

  g_autofree char *dest
      = g_build_filename (sb_repo_get_dir (repo), "staged", "targets", name, NULL);
  g_autofree char *parent = g_path_get_dirname (dest);
  if (!sb_durable_mkdir_p (parent, 0755, error) || !sb_durable_write (dest, data, len, 0644, error))
    return NULL;
  return file_info_from_hasher (hasher, sb_repo_get_target_hashes (repo), len);
}
