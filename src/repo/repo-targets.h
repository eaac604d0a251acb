/* repo-targets.h: listing target files, shared by add-target and uptane-add-image. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "repo-store.h"

G_BEGIN_DECLS

/* Parses @text as the JSON object of a target's "custom" (new reference);
 * SB_ERROR_PARSE or SB_ERROR_INVALID_ARGUMENT when it is not one. */
JsonObject *sb_repo_parse_custom (const char *text, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Stages the file @file as target @name with @custom (may be NULL) in @role, or when @role is
 * NULL in the role sb_repo_role_for_target picks; a listing of @name in any other role is
 * dropped, so exactly one role lists it. *out_role (may be NULL) receives the role. */
gboolean sb_repo_add_target (SbRepo *repo, const char *file, const char *name, const char *role,
                             JsonObject *custom, char **out_role,
                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
