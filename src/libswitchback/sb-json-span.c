/* sb-json-span.c: parsing with a span map (sb_json_parse_with_span_map): one large object of a
 * document kept as sorted keys and spans of the source instead of a tree. */
#include "config.h"

#include "sb-json.h"
#include "sb-json-private.h"
#include "sb-error.h"

#include <string.h>

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
        g_autoptr (JsonNode) value = sb_json_parse_value (p, depth, -1, error);
        if (value == NULL)
          return NULL;
        if (p->check != NULL && !p->check (key, value, p->check_data, error))
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

  JsonObject *placeholder = json_object_new ();
  map->placeholder = placeholder;
  p->map = g_steal_pointer (&map);
  return json_node_init_object (json_node_alloc (), placeholder);
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
