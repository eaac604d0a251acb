/* repo-json.h: small helpers over json-glib trees for the repository tool. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The member @name of @obj when it is an object, else NULL (json-glib's own accessors warn on
 * a missing member). @obj may be NULL. */
JsonObject *sb_repo_object_member (JsonObject *obj, const char *name);

/* The member @name of @obj when it is a string, else NULL. @obj may be NULL. */
const char *sb_repo_string_member (JsonObject *obj, const char *name);

/* The member @name of @obj when it is an array, else NULL. @obj may be NULL. */
JsonArray *sb_repo_array_member (JsonObject *obj, const char *name);

/* TRUE when @array (may be NULL) holds the string @value. */
gboolean sb_repo_array_has_string (JsonArray *array, const char *value);

/* A copy of @node sharing no object or array with it (json_node_copy shares them). */
JsonNode *sb_repo_deep_copy (JsonNode *node);

G_END_DECLS
