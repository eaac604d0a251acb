/* sb-json.c: a strict recursive-descent JSON parser and typed getters.
 *
 * json-glib's own parser accepts duplicate keys (the last one wins), so two parsers could read
 * one signed document differently. Metadata is parsed here instead, refusing anything that is
 * not exactly one RFC 8259 value; the result is a plain json-glib tree, or a tree with one
 * large object kept as a span map (sorted keys and spans of the source), which is one parser
 * mode: the tree parser hands the object at the span path to the span map, and the span map
 * parses its members back into trees. Tokens and tree-less validation are in sb-json-scan.c,
 * the canonical encoder in sb-json-canonical.c.
 */
#include "config.h"

#include "core/sb-json.h"
#include "core/sb-json-private.h"
#include "core/sb-error.h"

#include <math.h>
#include <string.h>
static JsonNode *
parse_number (SbJsonParser *p, GError **error)
{
  gboolean is_int = FALSE;
  gint64 i = 0;
  double d = 0;
  if (!sb_json_scan_number (p, &is_int, &i, &d, error))
    return NULL;
  return is_int ? json_node_init_int (json_node_alloc (), i)
                : json_node_init_double (json_node_alloc (), d);
}

static JsonNode *
parse_object (SbJsonParser *p, guint depth, int match, GError **error)
{
  g_autoptr (JsonObject) obj = json_object_new ();

  p->pos++; /* '{' */
  sb_json_skip_ws (p);
  if (SB_JSON_PEEK (p) == '}')
    {
      p->pos++;
      return json_node_init_object (json_node_alloc (), obj);
    }
  for (;;)
    {
      sb_json_skip_ws (p);
      if (SB_JSON_PEEK (p) != '"')
        {
          sb_json_parser_fail (p, error, "expected a string key");
          return NULL;
        }
      gsize key_pos = p->pos;
      g_autofree char *key = sb_json_parse_string (p, error);
      if (key == NULL)
        return NULL;
      if (json_object_has_member (obj, key))
        {
          /* Parsers differ on which duplicate wins; refusing leaves nothing to disagree on. */
          glong shown = MIN (g_utf8_strlen (key, -1), 64);
          g_autofree char *short_key = g_utf8_substring (key, 0, shown);
          p->pos = key_pos;
          sb_json_parser_fail (p, error, "duplicate key \"%s\"", short_key);
          return NULL;
        }
      sb_json_skip_ws (p);
      if (SB_JSON_PEEK (p) != ':')
        {
          sb_json_parser_fail (p, error, "expected ':' after key");
          return NULL;
        }
      p->pos++;
      int child_match = -1;
      if (match >= 0 && p->span_path[match] != NULL && strcmp (key, p->span_path[match]) == 0)
        child_match = match + 1;
      JsonNode *value;
      sb_json_skip_ws (p);
      if (child_match >= 0 && p->span_path[child_match] == NULL && SB_JSON_PEEK (p) == '{'
          && p->map == NULL)
        value = depth >= SB_JSON_MAX_DEPTH
                    ? (sb_json_parser_fail (p, error, "nesting deeper than %d", SB_JSON_MAX_DEPTH), NULL)
                    : sb_json_parse_span_object (p, depth + 1, error);
      else
        value = sb_json_parse_value (p, depth, child_match, error);
      if (value == NULL)
        return NULL;
      json_object_set_member (obj, key, value);
      sb_json_skip_ws (p);
      int c = SB_JSON_PEEK (p);
      p->pos++;
      if (c == '}')
        return json_node_init_object (json_node_alloc (), obj);
      if (c != ',')
        {
          p->pos--;
          sb_json_parser_fail (p, error, "expected ',' or '}' in object");
          return NULL;
        }
    }
}

static JsonNode *
parse_array (SbJsonParser *p, guint depth, GError **error)
{
  g_autoptr (JsonArray) arr = json_array_new ();

  p->pos++; /* '[' */
  sb_json_skip_ws (p);
  if (SB_JSON_PEEK (p) == ']')
    {
      p->pos++;
      return json_node_init_array (json_node_alloc (), arr);
    }
  for (;;)
    {
      JsonNode *value = sb_json_parse_value (p, depth, -1, error);
      if (value == NULL)
        return NULL;
      json_array_add_element (arr, value);
      sb_json_skip_ws (p);
      int c = SB_JSON_PEEK (p);
      p->pos++;
      if (c == ']')
        return json_node_init_array (json_node_alloc (), arr);
      if (c != ',')
        {
          p->pos--;
          sb_json_parser_fail (p, error, "expected ',' or ']' in array");
          return NULL;
        }
    }
}

/* @depth counts the arrays and objects enclosing this value; the bound keeps the recursion (and
 * so the stack) small whatever the input. */
JsonNode *
sb_json_parse_value (SbJsonParser *p, guint depth, int match, GError **error)
{
  sb_json_skip_ws (p);
  int c = SB_JSON_PEEK (p);
  switch (c)
    {
    case -1:
      sb_json_parser_fail (p, error, "unexpected end of input");
      return NULL;
    case '{':
    case '[':
      if (depth >= SB_JSON_MAX_DEPTH)
        {
          sb_json_parser_fail (p, error, "nesting deeper than %d", SB_JSON_MAX_DEPTH);
          return NULL;
        }
      return c == '{' ? parse_object (p, depth + 1, p->span_path != NULL ? match : -1, error)
                      : parse_array (p, depth + 1, error);
    case '"':
      {
        char *s = sb_json_parse_string (p, error);
        if (s == NULL)
          return NULL;
        JsonNode *node = json_node_init_string (json_node_alloc (), s);
        g_free (s);
        return node;
      }
    case 't':
      if (sb_json_take_literal (p, "true"))
        return json_node_init_boolean (json_node_alloc (), TRUE);
      break;
    case 'f':
      if (sb_json_take_literal (p, "false"))
        return json_node_init_boolean (json_node_alloc (), FALSE);
      break;
    case 'n':
      if (sb_json_take_literal (p, "null"))
        return json_node_init_null (json_node_alloc ());
      break;
    default:
      if (c == '-' || g_ascii_isdigit (c))
        return parse_number (p, error);
      break;
    }
  /* NaN, Infinity, single quotes, bare words: none is JSON. */
  sb_json_parser_fail (p, error, "unexpected character '%c'", g_ascii_isprint (c) ? c : '?');
  return NULL;
}

JsonNode *
sb_json_parse (const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  SbJsonParser p = { data, len, 0 };
  g_autoptr (JsonNode) root = sb_json_parse_value (&p, 0, -1, error);
  if (root == NULL)
    return NULL;
  sb_json_skip_ws (&p);
  if (p.pos != p.len)
    {
      sb_json_parser_fail (&p, error, "trailing data after the JSON value");
      return NULL;
    }
  return g_steal_pointer (&root);
}

JsonNode *
sb_json_parse_bytes (GBytes *bytes, GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);

  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  return sb_json_parse (data, len, error);
}

/* Looks up @key for the typed getters: a missing member is a schema error naming both. */
static JsonNode *
get_member (JsonObject *obj, const char *key, const char *what, GError **error)
{
  JsonNode *node = json_object_get_member (obj, key);
  if (node == NULL)
    sb_throw (error, SB_ERROR_PARSE, "%s: missing \"%s\"", what, key);
  return node;
}

JsonObject *
sb_json_get_object (JsonObject *obj, const char *key, const char *what, GError **error)
{
  g_return_val_if_fail (obj != NULL && key != NULL && what != NULL, NULL);

  JsonNode *node = get_member (obj, key, what, error);
  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not an object", what, key);
      return NULL;
    }
  return json_node_get_object (node);
}

JsonArray *
sb_json_get_array (JsonObject *obj, const char *key, const char *what, GError **error)
{
  g_return_val_if_fail (obj != NULL && key != NULL && what != NULL, NULL);

  JsonNode *node = get_member (obj, key, what, error);
  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not an array", what, key);
      return NULL;
    }
  return json_node_get_array (node);
}

const char *
sb_json_get_string (JsonObject *obj, const char *key, const char *what, GError **error)
{
  g_return_val_if_fail (obj != NULL && key != NULL && what != NULL, NULL);

  JsonNode *node = get_member (obj, key, what, error);
  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not a string", what, key);
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
sb_json_get_int (JsonObject *obj, const char *key, const char *what, gint64 *out, GError **error)
{
  g_return_val_if_fail (obj != NULL && key != NULL && what != NULL && out != NULL, FALSE);

  JsonNode *node = get_member (obj, key, what, error);
  if (node == NULL)
    return FALSE;
  if (!sb_json_node_is_int (node))
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not an integer", what, key);
  *out = json_node_get_int (node);
  return TRUE;
}

gboolean
sb_json_get_bool (JsonObject *obj, const char *key, const char *what, gboolean *out,
                  GError **error)
{
  g_return_val_if_fail (obj != NULL && key != NULL && what != NULL && out != NULL, FALSE);

  JsonNode *node = get_member (obj, key, what, error);
  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not a boolean", what, key);
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
sb_json_node_is_int (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_INT64;
}

/* ---- the span map ---- */

static int
compare_span_members (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const char *keys = user_data;
  /* Bytewise, as canonical JSON orders keys (UTF-8 byte order is code point order). */
  return strcmp (keys + ((const SpanMember *) a)->key_off,
                 keys + ((const SpanMember *) b)->key_off);
}

/* The object at the span path: each member is parsed with full strictness and handed to the
 * caller's check, then dropped; only its key and the span of its value are kept. */
JsonNode *
sb_json_parse_span_object (SbJsonParser *p, guint depth, GError **error)
{
  g_autoptr (SbJsonSpanMap) map = g_new0 (SbJsonSpanMap, 1);
  map->ref_count = 1;
  map->bytes = g_bytes_ref (p->bytes);
  map->keys = g_string_new (NULL);
  map->members = g_array_new (FALSE, FALSE, sizeof (SpanMember));
  g_autoptr (GString) scratch = g_string_new (NULL);

  p->pos++; /* '{' */
  sb_json_skip_ws (p);
  if (SB_JSON_PEEK (p) == '}')
    p->pos++;
  else
    for (;;)
      {
        sb_json_skip_ws (p);
        if (SB_JSON_PEEK (p) != '"')
          {
            sb_json_parser_fail (p, error, "expected a string key");
            return NULL;
          }
        g_autofree char *key = sb_json_parse_string (p, error);
        if (key == NULL)
          return NULL;
        sb_json_skip_ws (p);
        if (SB_JSON_PEEK (p) != ':')
          {
            sb_json_parser_fail (p, error, "expected ':' after key");
            return NULL;
          }
        p->pos++;
        sb_json_skip_ws (p);
        gsize start = p->pos;
        if (!sb_json_validate_value (p, depth, scratch, error))
          return NULL;
        SbJsonSlice value = { p->data + start, p->pos - start };
        if (p->check != NULL && !p->check (key, &value, p->check_data, error))
          return NULL;
        if (map->keys->len > G_MAXUINT32 - strlen (key) - 1 || p->pos - start > G_MAXUINT32)
          {
            sb_json_parser_fail (p, error, "object too large");
            return NULL;
          }
        SpanMember m = { (guint32) map->keys->len, (guint32) (p->pos - start), start };
        g_string_append_len (map->keys, key, (gssize) strlen (key) + 1);
        g_array_append_val (map->members, m);
        sb_json_skip_ws (p);
        int c = SB_JSON_PEEK (p);
        p->pos++;
        if (c == '}')
          break;
        if (c != ',')
          {
            p->pos--;
            sb_json_parser_fail (p, error, "expected ',' or '}' in object");
            return NULL;
          }
      }

  g_array_sort_with_data (map->members, compare_span_members, map->keys->str);
  for (guint i = 1; i < map->members->len; i++)
    {
      const SpanMember *a = &g_array_index (map->members, SpanMember, i - 1);
      const SpanMember *b = &g_array_index (map->members, SpanMember, i);
      if (strcmp (map->keys->str + a->key_off, map->keys->str + b->key_off) == 0)
        {
          /* Parsers differ on which duplicate wins; refusing leaves nothing to disagree on. */
          glong shown = MIN (g_utf8_strlen (map->keys->str + b->key_off, -1), 64);
          g_autofree char *short_key = g_utf8_substring (map->keys->str + b->key_off, 0, shown);
          p->pos = b->value_off;
          sb_json_parser_fail (p, error, "duplicate key \"%s\"", short_key);
          return NULL;
        }
    }

  /* json_node_init_object takes a reference of its own; the map keeps the one from new. */
  map->placeholder = json_object_new ();
  p->map = g_steal_pointer (&map);
  return json_node_init_object (json_node_alloc (), p->map->placeholder);
}

JsonNode *
sb_json_parse_with_span_map (GBytes *bytes, const char *const *span_path, SbJsonMemberCheck check,
                             gpointer user_data, SbJsonSpanMap **out_map, GError **error)
{
  g_return_val_if_fail (bytes != NULL && span_path != NULL && span_path[0] != NULL, NULL);
  g_return_val_if_fail (out_map != NULL, NULL);

  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  SbJsonParser p = { data != NULL ? data : (const guint8 *) "", len, 0, span_path, check,
                     user_data, bytes, NULL };
  g_autoptr (JsonNode) root = sb_json_parse_value (&p, 0, 0, error);
  g_autoptr (SbJsonSpanMap) map = g_steal_pointer (&p.map);
  if (root == NULL)
    return NULL;
  sb_json_skip_ws (&p);
  if (p.pos != p.len)
    {
      sb_json_parser_fail (&p, error, "trailing data after the JSON value");
      return NULL;
    }
  *out_map = g_steal_pointer (&map);
  return g_steal_pointer (&root);
}

SbJsonSpanMap *
sb_json_span_map_ref (SbJsonSpanMap *map)
{
  g_atomic_int_inc (&map->ref_count);
  return map;
}

void
sb_json_span_map_unref (SbJsonSpanMap *map)
{
  if (map == NULL || !g_atomic_int_dec_and_test (&map->ref_count))
    return;
  /* The map holds its own reference to the placeholder (the parsed tree holds the other). */
  if (map->placeholder != NULL)
    json_object_unref (map->placeholder);
  g_bytes_unref (map->bytes);
  g_string_free (map->keys, TRUE);
  g_array_unref (map->members);
  g_free (map);
}

guint
sb_json_span_map_get_size (SbJsonSpanMap *map)
{
  return map->members->len;
}

const char *
sb_json_span_map_get_key (SbJsonSpanMap *map, guint index)
{
  g_return_val_if_fail (index < map->members->len, NULL);
  return map->keys->str + g_array_index (map->members, SpanMember, index).key_off;
}

JsonNode *
sb_json_span_map_get_value (SbJsonSpanMap *map, guint index, GError **error)
{
  g_return_val_if_fail (index < map->members->len, NULL);
  const SpanMember *m = &g_array_index (map->members, SpanMember, index);
  const guint8 *data = g_bytes_get_data (map->bytes, NULL);
  /* The span was checked when the map was made; parsing it again yields the same value. */
  return sb_json_parse (data + m->value_off, m->value_len, error);
}

gboolean
sb_json_span_map_find (SbJsonSpanMap *map, const char *key, guint *out_index)
{
  guint lo = 0, hi = map->members->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int c = strcmp (key, sb_json_span_map_get_key (map, mid));
      if (c == 0)
        {
          *out_index = mid;
          return TRUE;
        }
      if (c < 0)
        hi = mid;
      else
        lo = mid + 1;
    }
  return FALSE;
}

JsonObject *
sb_json_span_map_get_placeholder (SbJsonSpanMap *map)
{
  return map->placeholder;
}

/* ---- the pretty printer ---- */

/* Written as json-glib's generator writes pretty JSON (2-space indent, "key" : value, strings
 * escaped the same way), except doubles: json-glib appends ".0" to any double without a '.',
 * so 2E195 became "2e+195.0", which is not JSON. */

static void
pretty_indent (GString *out, guint level)
{
  for (guint i = 0; i < level; i++)
    g_string_append (out, "  ");
}

static void
pretty_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *c = (const guchar *) s; *c != '\0'; c++)
    switch (*c)
      {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\b':
        g_string_append (out, "\\b");
        break;
      case '\f':
        g_string_append (out, "\\f");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (*c < 0x20 || *c == 0x7f)
          g_string_append_printf (out, "\\u%04x", *c);
        else
          g_string_append_c (out, (char) *c);
        break;
      }
  g_string_append_c (out, '"');
}

static void
pretty_double (GString *out, double d)
{
  /* JSON has no NaN or infinity; the parser never makes them, a built tree might. */
  if (!isfinite (d))
    {
      g_string_append (out, "null");
      return;
    }
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_dtostr (buf, sizeof buf, d);
  g_string_append (out, buf);
  /* Keep it a double when read back: "5" would parse as an integer. */
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (out, ".0");
}

static void
pretty_node (GString *out, JsonNode *node, guint level)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *obj = json_node_get_object (node);
        g_autoptr (GList) members = json_object_get_members (obj);
        if (members == NULL)
          {
            /* json-glib's quirk, kept so files keep their form: the indent inside. */
            g_string_append_c (out, '{');
            pretty_indent (out, level);
            g_string_append_c (out, '}');
            return;
          }
        g_string_append (out, "{\n");
        for (GList *l = members; l != NULL; l = l->next)
          {
            pretty_indent (out, level + 1);
            pretty_string (out, l->data);
            g_string_append (out, " : ");
            pretty_node (out, json_object_get_member (obj, l->data), level + 1);
            g_string_append (out, l->next != NULL ? ",\n" : "\n");
          }
        pretty_indent (out, level);
        g_string_append_c (out, '}');
        return;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *arr = json_node_get_array (node);
        guint n = json_array_get_length (arr);
        if (n == 0)
          {
            g_string_append (out, "[]");
            return;
          }
        g_string_append (out, "[\n");
        for (guint i = 0; i < n; i++)
          {
            pretty_indent (out, level + 1);
            pretty_node (out, json_array_get_element (arr, i), level + 1);
            g_string_append (out, i + 1 < n ? ",\n" : "\n");
          }
        pretty_indent (out, level);
        g_string_append_c (out, ']');
        return;
      }
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      return;
    case JSON_NODE_VALUE:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      pretty_double (out, json_node_get_double (node));
      break;
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_STRING:
      pretty_string (out, json_node_get_string (node));
      break;
    default:
      g_string_append (out, "null");
      break;
    }
}

char *
sb_json_pretty (JsonNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);

  GString *out = g_string_new (NULL);
  pretty_node (out, node, 0);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}
