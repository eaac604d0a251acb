/* sb-json-span.c: parsing with a span map (sb_json_parse_with_span_map): one large object of a
 * document kept as sorted keys and spans of the source instead of a tree. */
#include "config.h"

#include "sb-json.h"
#include "sb-json-private.h"
#include "sb-error.h"

#include <string.h>

/* ---- strict checking without a tree ---- */

typedef struct
{
  guint32 off; /* in the scratch string */
  guint32 len;
} KeyRef;

static gboolean
key_refs_equal (const char *base, const KeyRef *x, const KeyRef *y)
{
  return x->len == y->len && memcmp (base + x->off, base + y->off, x->len) == 0;
}

/* Duplicate keys are refused as sb_json_parse refuses them: at the first key, in document
 * order, that an earlier one repeats. @base holds the object's decoded keys. */
static gboolean
check_duplicates (SbJsonParser *p, const char *base, const KeyRef *r, guint n,
                  const gsize *positions, GError **error)
{
  gssize dup = -1;
  if (n <= 8)
    {
      for (guint i = 1; i < n && dup < 0; i++)
        for (guint j = 0; j < i; j++)
          if (key_refs_equal (base, &r[i], &r[j]))
            {
              dup = i;
              break;
            }
    }
  else
    {
      g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < n && dup < 0; i++)
        if (!g_hash_table_add (seen, g_strndup (base + r[i].off, r[i].len)))
          dup = i;
    }
  if (dup < 0)
    return TRUE;
  g_autofree char *key = g_strndup (base + r[dup].off, r[dup].len);
  glong shown = MIN (g_utf8_strlen (key, -1), 64);
  g_autofree char *short_key = g_utf8_substring (key, 0, shown);
  p->pos = positions[dup];
  return sb_json_parser_fail (p, error, "duplicate key \"%s\"", short_key);
}

static gboolean
validate_object (SbJsonParser *p, guint depth, GString *scratch, GError **error)
{
  gsize mark = scratch->len;
  /* A target and its hashes have a few members: arrays on the stack for those. */
  KeyRef few_refs[8];
  gsize few_positions[8];
  guint n = 0;
  g_autoptr (GArray) refs = NULL;
  g_autoptr (GArray) positions = NULL;
  p->pos++; /* '{' */
  sb_json_skip_ws (p);
  if (SB_JSON_PEEK (p) == '}')
    {
      p->pos++;
      return TRUE;
    }
  for (;;)
    {
      sb_json_skip_ws (p);
      if (SB_JSON_PEEK (p) != '"')
        return sb_json_parser_fail (p, error, "expected a string key");
      gsize key_pos = p->pos;
      gsize off = scratch->len;
      if (!sb_json_parse_string_into (p, scratch, error))
        return FALSE;
      if (scratch->len - mark > G_MAXUINT32)
        return sb_json_parser_fail (p, error, "object too large");
      KeyRef ref = { (guint32) (off - mark), (guint32) (scratch->len - off) };
      if (n < G_N_ELEMENTS (few_refs))
        {
          few_refs[n] = ref;
          few_positions[n] = key_pos;
        }
      else
        {
          if (refs == NULL)
            {
              refs = g_array_new (FALSE, FALSE, sizeof (KeyRef));
              positions = g_array_new (FALSE, FALSE, sizeof (gsize));
              g_array_append_vals (refs, few_refs, n);
              g_array_append_vals (positions, few_positions, n);
            }
          g_array_append_val (refs, ref);
          g_array_append_val (positions, key_pos);
        }
      n++;
      sb_json_skip_ws (p);
      if (SB_JSON_PEEK (p) != ':')
        return sb_json_parser_fail (p, error, "expected ':' after key");
      p->pos++;
      if (!sb_json_validate_value (p, depth, scratch, error))
        return FALSE;
      sb_json_skip_ws (p);
      int c = SB_JSON_PEEK (p);
      p->pos++;
      if (c == '}')
        break;
      if (c != ',')
        {
          p->pos--;
          return sb_json_parser_fail (p, error, "expected ',' or '}' in object");
        }
    }
  /* Nested objects have truncated the scratch back to where they began, so this object's
   * keys are still in place, at offsets from @mark. */
  gboolean ok = refs != NULL ? check_duplicates (p, scratch->str + mark, (KeyRef *) refs->data, n,
                                                 (gsize *) positions->data, error)
                             : check_duplicates (p, scratch->str + mark, few_refs, n,
                                                 few_positions, error);
  g_string_truncate (scratch, mark);
  return ok;
}

gboolean
sb_json_validate_value (SbJsonParser *p, guint depth, GString *scratch, GError **error)
{
  sb_json_skip_ws (p);
  int c = SB_JSON_PEEK (p);
  switch (c)
    {
    case -1:
      return sb_json_parser_fail (p, error, "unexpected end of input");
    case '{':
    case '[':
      if (depth >= SB_JSON_MAX_DEPTH)
        return sb_json_parser_fail (p, error, "nesting deeper than %d", SB_JSON_MAX_DEPTH);
      if (c == '{')
        return validate_object (p, depth + 1, scratch, error);
      p->pos++;
      sb_json_skip_ws (p);
      if (SB_JSON_PEEK (p) == ']')
        {
          p->pos++;
          return TRUE;
        }
      for (;;)
        {
          if (!sb_json_validate_value (p, depth + 1, scratch, error))
            return FALSE;
          sb_json_skip_ws (p);
          int d = SB_JSON_PEEK (p);
          p->pos++;
          if (d == ']')
            return TRUE;
          if (d != ',')
            {
              p->pos--;
              return sb_json_parser_fail (p, error, "expected ',' or ']' in array");
            }
        }
    case '"':
      {
        gsize mark = scratch->len;
        gboolean ok = sb_json_parse_string_into (p, scratch, error);
        g_string_truncate (scratch, mark);
        return ok;
      }
    case 't':
      if (sb_json_take_literal (p, "true"))
        return TRUE;
      break;
    case 'f':
      if (sb_json_take_literal (p, "false"))
        return TRUE;
      break;
    case 'n':
      if (sb_json_take_literal (p, "null"))
        return TRUE;
      break;
    default:
      if (c == '-' || g_ascii_isdigit (c))
        {
          gboolean is_int;
          gint64 i;
          double d;
          return sb_json_scan_number (p, &is_int, &i, &d, error);
        }
      break;
    }
  return sb_json_parser_fail (p, error, "unexpected character '%c'",
                              g_ascii_isprint (c) ? c : '?');
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
