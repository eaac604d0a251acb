/* repo-json.c: small JSON tree helpers (see repo-json.h). */
#include "config.h"

#include "repo-json.h"

JsonObject *
sb_repo_object_member (JsonObject *obj, const char *name)
{
  if (obj == NULL || !json_object_has_member (obj, name))
    return NULL;
  JsonNode *n = json_object_get_member (obj, name);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* A copy sharing nothing with @node: json_node_copy shares objects and arrays, and staged
 * edits must never reach the published tree. */
JsonNode *
sb_repo_deep_copy (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *src = json_node_get_object (node);
        JsonObject *dst = json_object_new ();
        g_autoptr (GList) members = json_object_get_members (src);
        for (GList *l = members; l != NULL; l = l->next)
          json_object_set_member (dst, l->data,
                                  sb_repo_deep_copy (json_object_get_member (src, l->data)));
        JsonNode *out = json_node_new (JSON_NODE_OBJECT);
        json_node_take_object (out, dst);
        return out;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *src = json_node_get_array (node);
        JsonArray *dst = json_array_sized_new (json_array_get_length (src));
        for (guint i = 0; i < json_array_get_length (src); i++)
          json_array_add_element (dst, sb_repo_deep_copy (json_array_get_element (src, i)));
        JsonNode *out = json_node_new (JSON_NODE_ARRAY);
        json_node_take_array (out, dst);
        return out;
      }
    case JSON_NODE_VALUE:
    case JSON_NODE_NULL:
    default:
      return json_node_copy (node);
    }
}

const char *
sb_repo_string_member (JsonObject *obj, const char *name)
{
  if (obj == NULL || !json_object_has_member (obj, name))
    return NULL;
  JsonNode *n = json_object_get_member (obj, name);
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? json_node_get_string (n)
             : NULL;
}

JsonArray *
sb_repo_array_member (JsonObject *obj, const char *name)
{
  if (obj == NULL || !json_object_has_member (obj, name))
    return NULL;
  JsonNode *n = json_object_get_member (obj, name);
  return JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

gboolean
sb_repo_array_has_string (JsonArray *array, const char *value)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *n = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
          && g_strcmp0 (json_node_get_string (n), value) == 0)
        return TRUE;
    }
  return FALSE;
}
