/* repo-files.h: target names and target files of a repository. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "repo-store.h"

G_BEGIN_DECLS

/* Refuses a target name that could not be stored as a file under targets/ without escaping it:
 * empty, absolute, with an empty, "." or ".." segment, or with control characters
 * (SB_ERROR_UNSAFE_PATH). */
gboolean sb_repo_check_target_name (const char *name, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Copies @src into staged/targets/@name durably and returns its TUF file info
 * ({"length": N, "hashes": {...}}) with the repository's target hashes. The file is mapped,
 * not read into memory, so images of any size stage in bounded memory. */
JsonObject *sb_repo_stage_target_file (SbRepo *repo, const char *name, const char *src,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The file info of the file at @path with the hash algorithms @algos (SbHashAlgo bits), read
 * in one streaming pass. */
JsonObject *sb_repo_file_info (const char *path, guint algos,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
