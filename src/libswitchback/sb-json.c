/* sb-json.c: a strict recursive-descent JSON parser and the OLPC canonical encoder.
 *
 * json-glib's own parser accepts duplicate keys (the last one wins), so two parsers could read
 * one signed document differently. Metadata is parsed here instead, refusing anything that is
 * not exactly one RFC 8259 value; the result is a plain json-glib tree.
 */
#include "config.h"

#include "sb-json.h"
#include "sb-error.h"

#include <math.h>
#include <string.h>


typedef struct {
  const guint8 *data;
  gsize len;
  gsize pos;
  /* Span-map parsing (sb_json_parse_with_span_map); span_path NULL otherwise. */
  const char *const *span_path;
  SbJsonMemberCheck check;
  gpointer check_data;
  GBytes *bytes;
  SbJsonSpanMap *map;
} SbJsonParser;

/* One member of a span map: its key in the arena, its value as a span of the source. */
typedef struct {
  guint32 key_off;
  guint32 value_len;
  guint64 value_off;
} SpanMember;

struct _SbJsonSpanMap {
  gint ref_count;
  GBytes *bytes;           /* the whole source document */
  GString *keys;           /* NUL-separated decoded keys */
  GArray *members;         /* SpanMember, sorted by key */
  JsonObject *placeholder; /* the empty object standing for this map in the tree (unowned) */
};

#define SB_JSON_PEEK(p) ((p)->pos < (p)->len ? (int) (p)->data[(p)->pos] : -1)

static gboolean G_GNUC_PRINTF (3, 4)
parse_fail (SbJsonParser *p, GError **error, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return sb_throw (error, SB_ERROR_PARSE, "JSON at byte %" G_GSIZE_FORMAT ": %s", p->pos, msg);
}

static void
skip_ws (SbJsonParser *p)
{
  while (p->pos < p->len)
    {
      guint8 c = p->data[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

/* @match: how many components of p->span_path the path to this value has matched, or -1. */
static JsonNode *parse_value (SbJsonParser *p, guint depth, int match, GError **error);

/* Decodes one UTF-8 sequence at p->pos, refusing overlong forms, encoded surrogates and code
 * points past U+10FFFF (RFC 3629 §4), so every string in the tree is valid UTF-8 and sorts by
 * code point when compared bytewise. */
static gboolean
take_utf8 (SbJsonParser *p, GString *out, GError **error)
{
  const guint8 *s = p->data + p->pos;
  gsize avail = p->len - p->pos;
  guint8 c = s[0];
  gsize n;
  gunichar cp, min;

  if (c < 0x80)
    {
      n = 1;
      cp = c;
      min = 0;
    }
  else if (c >= 0xc2 && c <= 0xdf)
    {
      n = 2;
      cp = c & 0x1f;
      min = 0x80;
    }
  else if (c >= 0xe0 && c <= 0xef)
    {
      n = 3;
      cp = c & 0x0f;
      min = 0x800;
    }
  else if (c >= 0xf0 && c <= 0xf4)
    {
      n = 4;
      cp = c & 0x07;
      min = 0x10000;
    }
  else
    return parse_fail (p, error, "invalid UTF-8 lead byte 0x%02x", c);

  if (avail < n)
    return parse_fail (p, error, "truncated UTF-8 sequence");
  for (gsize i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return parse_fail (p, error, "invalid UTF-8 continuation byte");
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  if (cp < min)
    return parse_fail (p, error, "overlong UTF-8 sequence");
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return parse_fail (p, error, "UTF-8 encodes U+%04X, which is not a scalar value", cp);
  g_string_append_len (out, (const char *) s, (gssize) n);
  p->pos += n;
  return TRUE;
}

static gboolean
take_hex4 (SbJsonParser *p, gunichar *out, GError **error)
{
  gunichar v = 0;

  if (p->len - p->pos < 4)
    return parse_fail (p, error, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value ((char) p->data[p->pos + i]);
      if (d < 0)
        return parse_fail (p, error, "invalid hex digit in \\u escape");
      v = (v << 4) | (gunichar) d;
    }
  p->pos += 4;
  *out = v;
  return TRUE;
}

/* Parses the \uXXXX escape whose 'u' was just consumed, pairing surrogates. */
static gboolean
take_unicode_escape (SbJsonParser *p, GString *out, GError **error)
{
  gunichar cp;

  if (!take_hex4 (p, &cp, error))
    return FALSE;
  if (cp == 0)
    /* A NUL would truncate the string in every C consumer while other parsers keep it. */
    return parse_fail (p, error, "\\u0000 is not allowed in strings");
  if (cp >= 0xdc00 && cp <= 0xdfff)
    return parse_fail (p, error, "unpaired low surrogate \\u%04X", cp);
  if (cp >= 0xd800 && cp <= 0xdbff)
    {
      gunichar lo;
      if (p->len - p->pos < 2 || p->data[p->pos] != '\\' || p->data[p->pos + 1] != 'u')
        return parse_fail (p, error, "unpaired high surrogate \\u%04X", cp);
      p->pos += 2;
      if (!take_hex4 (p, &lo, error))
        return FALSE;
      if (lo < 0xdc00 || lo > 0xdfff)
        return parse_fail (p, error, "high surrogate \\u%04X not followed by a low one", cp);
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
  g_string_append_unichar (out, cp);
  return TRUE;
}

/* Parses a string starting at the opening quote and appends its decoded text to @out, which is
 * then valid UTF-8 without NUL. */
static gboolean
parse_string_into (SbJsonParser *p, GString *out, GError **error)
{
  p->pos++; /* '"' */
  for (;;)
    {
      if (p->pos >= p->len)
        return parse_fail (p, error, "unterminated string");
      guint8 c = p->data[p->pos];
      if (c == '"')
        {
          p->pos++;
          return TRUE;
        }
      if (c < 0x20)
        return parse_fail (p, error, "unescaped control character 0x%02x in string", c);
      if (c != '\\' && c >= 0x80)
        {
          if (!take_utf8 (p, out, error))
            return FALSE;
          continue;
        }
      if (c != '\\')
        {
          /* A run of plain ASCII (most of any metadata) is copied in one go. */
          gsize end = p->pos + 1;
          while (end < p->len && p->data[end] >= 0x20 && p->data[end] < 0x80
                 && p->data[end] != '"' && p->data[end] != '\\')
            end++;
          g_string_append_len (out, (const char *) p->data + p->pos, (gssize) (end - p->pos));
          p->pos = end;
          continue;
        }
      p->pos++;
      if (p->pos >= p->len)
        return parse_fail (p, error, "unterminated escape");
      c = p->data[p->pos++];
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          g_string_append_c (out, (char) c);
          break;
        case 'b':
          g_string_append_c (out, '\b');
          break;
        case 'f':
          g_string_append_c (out, '\f');
          break;
        case 'n':
          g_string_append_c (out, '\n');
          break;
        case 'r':
          g_string_append_c (out, '\r');
          break;
        case 't':
          g_string_append_c (out, '\t');
          break;
        case 'u':
          if (!take_unicode_escape (p, out, error))
            return FALSE;
          break;
        default:
          p->pos--;
          return parse_fail (p, error, "invalid escape \\%c", g_ascii_isprint (c) ? c : '?');
        }
    }
}

/* Parses a string starting at the opening quote. */
static char *
parse_string (SbJsonParser *p, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  if (!parse_string_into (p, out, error))
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gsize
skip_digits (SbJsonParser *p)
{
  gsize start = p->pos;
  while (p->pos < p->len && g_ascii_isdigit (p->data[p->pos]))
    p->pos++;
  return p->pos - start;
}

/* RFC 8259 §6 number grammar. Integers must fit int64 exactly: a rounded value would make this
 * client and the signer disagree about a version or a length. Sets *out_is_int and either
 * *out_int or *out_double. */
static gboolean
scan_number (SbJsonParser *p, gboolean *out_is_int, gint64 *out_int, double *out_double,
             GError **error)
{
  gsize start = p->pos;
  gboolean negative = FALSE, is_int = TRUE;

  if (SB_JSON_PEEK (p) == '-')
    {
      negative = TRUE;
      p->pos++;
    }
  if (SB_JSON_PEEK (p) == '0')
    {
      p->pos++;
      if (g_ascii_isdigit (SB_JSON_PEEK (p)))
        return parse_fail (p, error, "leading zero in number");
    }
  else if (skip_digits (p) == 0)
    return parse_fail (p, error, "invalid number");
  gsize int_end = p->pos;
  if (SB_JSON_PEEK (p) == '.')
    {
      is_int = FALSE;
      p->pos++;
      if (skip_digits (p) == 0)
        return parse_fail (p, error, "no digits after decimal point");
    }
  if (SB_JSON_PEEK (p) == 'e' || SB_JSON_PEEK (p) == 'E')
    {
      is_int = FALSE;
      p->pos++;
      if (SB_JSON_PEEK (p) == '+' || SB_JSON_PEEK (p) == '-')
        p->pos++;
      if (skip_digits (p) == 0)
        return parse_fail (p, error, "no digits in exponent");
    }

  if (is_int)
    {
      /* Accumulate as a negative number so that INT64_MIN is representable. */
      gint64 v = 0;
      for (gsize i = start + (negative ? 1 : 0); i < int_end; i++)
        {
          int d = p->data[i] - '0';
          if (v < (G_MININT64 + d) / 10 || (!negative && v * 10 - d == G_MININT64))
            {
              p->pos = start;
              return parse_fail (p, error, "integer does not fit in 64 bits");
            }
          v = v * 10 - d;
        }
      *out_is_int = TRUE;
      *out_int = negative ? v : -v;
      return TRUE;
    }

  g_autofree char *text = g_strndup ((const char *) p->data + start, p->pos - start);
  double d = g_ascii_strtod (text, NULL);
  if (isinf (d) || isnan (d))
    {
      p->pos = start;
      return parse_fail (p, error, "number out of range");
    }
  *out_is_int = FALSE;
  *out_double = d;
  return TRUE;
}

static JsonNode *
parse_number (SbJsonParser *p, GError **error)
{
  gboolean is_int = FALSE;
  gint64 i = 0;
  double d = 0;
  if (!scan_number (p, &is_int, &i, &d, error))
    return NULL;
  return is_int ? json_node_init_int (json_node_alloc (), i)
                : json_node_init_double (json_node_alloc (), d);
}

static JsonNode *parse_span_object (SbJsonParser *p, guint depth, GError **error);

static JsonNode *
parse_object (SbJsonParser *p, guint depth, int match, GError **error)
{
  g_autoptr (JsonObject) obj = json_object_new ();

  p->pos++; /* '{' */
  skip_ws (p);
  if (SB_JSON_PEEK (p) == '}')
    {
      p->pos++;
      return json_node_init_object (json_node_alloc (), obj);
    }
  for (;;)
    {
      skip_ws (p);
      if (SB_JSON_PEEK (p) != '"')
        {
          parse_fail (p, error, "expected a string key");
          return NULL;
        }
      gsize key_pos = p->pos;
      g_autofree char *key = parse_string (p, error);
      if (key == NULL)
        return NULL;
      if (json_object_has_member (obj, key))
        {
          /* Parsers differ on which duplicate wins; refusing leaves nothing to disagree on. */
          glong shown = MIN (g_utf8_strlen (key, -1), 64);
          g_autofree char *short_key = g_utf8_substring (key, 0, shown);
          p->pos = key_pos;
          parse_fail (p, error, "duplicate key \"%s\"", short_key);
          return NULL;
        }
      skip_ws (p);
      if (SB_JSON_PEEK (p) != ':')
        {
          parse_fail (p, error, "expected ':' after key");
          return NULL;
        }
      p->pos++;
      int child_match = -1;
      if (match >= 0 && p->span_path[match] != NULL && strcmp (key, p->span_path[match]) == 0)
        child_match = match + 1;
      JsonNode *value;
      skip_ws (p);
      if (child_match >= 0 && p->span_path[child_match] == NULL && SB_JSON_PEEK (p) == '{'
          && p->map == NULL)
        value = depth >= SB_JSON_MAX_DEPTH
                    ? (parse_fail (p, error, "nesting deeper than %d", SB_JSON_MAX_DEPTH), NULL)
                    : parse_span_object (p, depth + 1, error);
      else
        value = parse_value (p, depth, child_match, error);
      if (value == NULL)
        return NULL;
      json_object_set_member (obj, key, value);
      skip_ws (p);
      int c = SB_JSON_PEEK (p);
      p->pos++;
      if (c == '}')
        return json_node_init_object (json_node_alloc (), obj);
      if (c != ',')
        {
          p->pos--;
          parse_fail (p, error, "expected ',' or '}' in object");
          return NULL;
        }
    }
}

static JsonNode *
parse_array (SbJsonParser *p, guint depth, GError **error)
{
  g_autoptr (JsonArray) arr = json_array_new ();

  p->pos++; /* '[' */
  skip_ws (p);
  if (SB_JSON_PEEK (p) == ']')
    {
      p->pos++;
      return json_node_init_array (json_node_alloc (), arr);
    }
  for (;;)
    {
      JsonNode *value = parse_value (p, depth, -1, error);
      if (value == NULL)
        return NULL;
      json_array_add_element (arr, value);
      skip_ws (p);
      int c = SB_JSON_PEEK (p);
      p->pos++;
      if (c == ']')
        return json_node_init_array (json_node_alloc (), arr);
      if (c != ',')
        {
          p->pos--;
          parse_fail (p, error, "expected ',' or ']' in array");
          return NULL;
        }
    }
}

static gboolean
take_literal (SbJsonParser *p, const char *word)
{
  gsize n = strlen (word);
  if (p->len - p->pos < n || memcmp (p->data + p->pos, word, n) != 0)
    return FALSE;
  p->pos += n;
  return TRUE;
}

/* @depth counts the arrays and objects enclosing this value; the bound keeps the recursion (and
 * so the stack) small whatever the input. */
static JsonNode *
parse_value (SbJsonParser *p, guint depth, int match, GError **error)
{
  skip_ws (p);
  int c = SB_JSON_PEEK (p);
  switch (c)
    {
    case -1:
      parse_fail (p, error, "unexpected end of input");
      return NULL;
    case '{':
    case '[':
      if (depth >= SB_JSON_MAX_DEPTH)
        {
          parse_fail (p, error, "nesting deeper than %d", SB_JSON_MAX_DEPTH);
          return NULL;
        }
      return c == '{' ? parse_object (p, depth + 1, p->span_path != NULL ? match : -1, error)
                      : parse_array (p, depth + 1, error);
    case '"':
      {
        char *s = parse_string (p, error);
        if (s == NULL)
          return NULL;
        JsonNode *node = json_node_init_string (json_node_alloc (), s);
        g_free (s);
        return node;
      }
    case 't':
      if (take_literal (p, "true"))
        return json_node_init_boolean (json_node_alloc (), TRUE);
      break;
    case 'f':
      if (take_literal (p, "false"))
        return json_node_init_boolean (json_node_alloc (), FALSE);
      break;
    case 'n':
      if (take_literal (p, "null"))
        return json_node_init_null (json_node_alloc ());
      break;
    default:
      if (c == '-' || g_ascii_isdigit (c))
        return parse_number (p, error);
      break;
    }
  /* NaN, Infinity, single quotes, bare words: none is JSON. */
  parse_fail (p, error, "unexpected character '%c'", g_ascii_isprint (c) ? c : '?');
  return NULL;
}


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
static JsonNode *
parse_span_object (SbJsonParser *p, guint depth, GError **error)
{
  g_autoptr (SbJsonSpanMap) map = g_new0 (SbJsonSpanMap, 1);
  map->ref_count = 1;
  map->bytes = g_bytes_ref (p->bytes);
  map->keys = g_string_new (NULL);
  map->members = g_array_new (FALSE, FALSE, sizeof (SpanMember));

  p->pos++; /* '{' */
  skip_ws (p);
  if (SB_JSON_PEEK (p) == '}')
    p->pos++;
  else
    for (;;)
      {
        skip_ws (p);
        if (SB_JSON_PEEK (p) != '"')
          {
            parse_fail (p, error, "expected a string key");
            return NULL;
          }
        g_autofree char *key = parse_string (p, error);
        if (key == NULL)
          return NULL;
        skip_ws (p);
        if (SB_JSON_PEEK (p) != ':')
          {
            parse_fail (p, error, "expected ':' after key");
            return NULL;
          }
        p->pos++;
        skip_ws (p);
        gsize start = p->pos;
        g_autoptr (JsonNode) value = parse_value (p, depth, -1, error);
        if (value == NULL)
          return NULL;
        if (p->check != NULL && !p->check (key, value, p->check_data, error))
          return NULL;
        if (map->keys->len > G_MAXUINT32 - strlen (key) - 1 || p->pos - start > G_MAXUINT32)
          {
            parse_fail (p, error, "object too large");
            return NULL;
          }
        SpanMember m = { (guint32) map->keys->len, (guint32) (p->pos - start), start };
        g_string_append_len (map->keys, key, (gssize) strlen (key) + 1);
        g_array_append_val (map->members, m);
        skip_ws (p);
        int c = SB_JSON_PEEK (p);
        p->pos++;
        if (c == '}')
          break;
        if (c != ',')
          {
            p->pos--;
            parse_fail (p, error, "expected ',' or '}' in object");
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
          parse_fail (p, error, "duplicate key \"%s\"", short_key);
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
  g_autoptr (JsonNode) root = parse_value (&p, 0, 0, error);
  g_autoptr (SbJsonSpanMap) map = g_steal_pointer (&p.map);
  if (root == NULL)
    return NULL;
  skip_ws (&p);
  if (p.pos != p.len)
    {
      parse_fail (&p, error, "trailing data after the JSON value");
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

JsonNode *
sb_json_parse (const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  SbJsonParser p = { data, len, 0 };
  g_autoptr (JsonNode) root = parse_value (&p, 0, -1, error);
  if (root == NULL)
    return NULL;
  skip_ws (&p);
  if (p.pos != p.len)
    {
      parse_fail (&p, error, "trailing data after the JSON value");
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

/* securesystemslib's _canonical_string_encoder: only '"' and '\\' are escaped; everything
 * else, control characters included, is copied verbatim. */
static gboolean
canonical_string (GString *out, const char *s, GError **error)
{
  if (!g_utf8_validate (s, -1, NULL))
    return sb_throw (error, SB_ERROR_PARSE, "canonical JSON: string is not valid UTF-8");
  g_string_append_c (out, '"');
  const char *run = s;
  for (const char *c = s; *c != '\0'; c++)
    if (*c == '"' || *c == '\\')
      {
        g_string_append_len (out, run, c - run);
        g_string_append_c (out, '\\');
        run = c;
      }
  g_string_append (out, run);
  g_string_append_c (out, '"');
  return TRUE;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  /* strcmp compares as unsigned char: UTF-8 byte order is code point order, which is the
   * order Python's sorted() gives the keys. */
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean canonical_span_map (GString *out, SbJsonSpanMap *map, guint depth, GError **error);

static gboolean
canonical_node (GString *out, JsonNode *node, SbJsonSpanMap *map, guint depth, GError **error)
{
  /* Trees built in code are not depth-checked by the parser; keep the recursion bounded. */
  if (depth > SB_JSON_MAX_DEPTH)
    return sb_throw (error, SB_ERROR_PARSE, "canonical JSON: nesting deeper than %d",
                     SB_JSON_MAX_DEPTH);
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      return TRUE;
    case JSON_NODE_ARRAY:
      {
        JsonArray *arr = json_node_get_array (node);
        guint n = json_array_get_length (arr);
        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            if (!canonical_node (out, json_array_get_element (arr, i), map, depth + 1, error))
              return FALSE;
          }
        g_string_append_c (out, ']');
        return TRUE;
      }
    case JSON_NODE_OBJECT:
      {
        JsonObject *obj = json_node_get_object (node);
        if (map != NULL && obj == map->placeholder)
          return canonical_span_map (out, map, depth, error);
        g_autoptr (GList) members = json_object_get_members (obj);
        g_autoptr (GPtrArray) keys = g_ptr_array_new ();
        for (GList *l = members; l != NULL; l = l->next)
          g_ptr_array_add (keys, l->data);
        g_ptr_array_sort (keys, compare_keys);
        g_string_append_c (out, '{');
        for (guint i = 0; i < keys->len; i++)
          {
            const char *key = keys->pdata[i];
            if (i > 0)
              g_string_append_c (out, ',');
            if (!canonical_string (out, key, error))
              return FALSE;
            g_string_append_c (out, ':');
            if (!canonical_node (out, json_object_get_member (obj, key), map, depth + 1, error))
              {
                g_prefix_error (error, "\"%s\": ", key);
                return FALSE;
              }
          }
        g_string_append_c (out, '}');
        return TRUE;
      }
    case JSON_NODE_VALUE:
      break;
    }

  GType type = json_node_get_value_type (node);
  if (type == G_TYPE_STRING)
    return canonical_string (out, json_node_get_string (node), error);
  if (type == G_TYPE_BOOLEAN)
    {
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      return TRUE;
    }
  if (type == G_TYPE_INT64)
    {
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      return TRUE;
    }
  if (type == G_TYPE_DOUBLE)
    return sb_throw (error, SB_ERROR_PARSE, "canonical JSON has no floating-point numbers");
  return sb_throw (error, SB_ERROR_PARSE, "canonical JSON: cannot encode a %s value",
                   g_type_name (type));
}

/* ---- canonical encoding straight from accepted source ----
 *
 * The values of a span map were accepted by the strict parser when the map was made, so they
 * are encoded from their bytes without building a tree: a json-glib tree per target was most
 * of the cost of checking the signature of a large targets role. Only an object's member keys
 * and value offsets are held, to sort them. */

/* The decoded keys of the objects being encoded, innermost last; each object truncates it back
 * when done. Offsets, never pointers, since it may move as it grows. */
typedef struct
{
  guint32 key_off;
  gsize value_pos;
} RawMember;

/* Past one accepted value: strings by their quotes, containers by bracket depth. */
static void
skip_accepted_value (SbJsonParser *p)
{
  guint level = 0;
  skip_ws (p);
  do
    {
      guint8 c = p->data[p->pos++];
      if (c == '"')
        {
          /* To the first quote not escaped: one not preceded by an odd run of backslashes. */
          for (;;)
            {
              const guint8 *q = memchr (p->data + p->pos, '"', p->len - p->pos);
              if (q == NULL)
                {
                  p->pos = p->len;
                  break;
                }
              gsize at = (gsize) (q - p->data), backslashes = 0;
              while (at - backslashes > p->pos && p->data[at - backslashes - 1] == '\\')
                backslashes++;
              p->pos = at + 1;
              if (backslashes % 2 == 0)
                break;
            }
        }
      else if (c == '{' || c == '[')
        level++;
      else if (c == '}' || c == ']')
        level--;
      else if (level == 0)
        {
          /* A number or a literal: its characters are all letters, digits, '+', '-', '.'. */
          while (p->pos < p->len
                 && (g_ascii_isalnum (p->data[p->pos]) || p->data[p->pos] == '-'
                     || p->data[p->pos] == '+' || p->data[p->pos] == '.'))
            p->pos++;
        }
    }
  while (level > 0 && p->pos < p->len);
}

static gboolean
canonical_string_len (GString *out, const char *s, gsize len)
{
  g_string_append_c (out, '"');
  const char *run = s;
  for (const char *c = s; c < s + len; c++)
    if (*c == '"' || *c == '\\')
      {
        g_string_append_len (out, run, c - run);
        g_string_append_c (out, '\\');
        run = c;
      }
  g_string_append_len (out, run, s + len - run);
  g_string_append_c (out, '"');
  return TRUE;
}

static int
compare_raw_members (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const GString *keys = user_data;
  return strcmp (keys->str + ((const RawMember *) a)->key_off,
                 keys->str + ((const RawMember *) b)->key_off);
}

static gboolean canonical_accepted_value (SbJsonParser *p, GString *out, GString *keys,
                                          GError **error);

static gboolean
canonical_accepted_object (SbJsonParser *p, GString *out, GString *keys, GError **error)
{
  gsize mark = keys->len;
  /* Most objects here (a target, its hashes) have a few members: no allocation for those. */
  RawMember few[8];
  guint n = 0;
  g_autoptr (GArray) many = NULL;
  p->pos++; /* '{' */
  skip_ws (p);
  if (SB_JSON_PEEK (p) != '}')
    for (;;)
      {
        skip_ws (p);
        RawMember m = { (guint32) keys->len, 0 };
        if (!parse_string_into (p, keys, error))
          return FALSE;
        g_string_append_c (keys, '\0');
        skip_ws (p);
        p->pos++; /* ':' */
        skip_ws (p);
        m.value_pos = p->pos;
        if (n < G_N_ELEMENTS (few))
          few[n++] = m;
        else
          {
            if (many == NULL)
              many = g_array_sized_new (FALSE, FALSE, sizeof (RawMember), 2 * n);
            if (many->len == 0)
              g_array_append_vals (many, few, n);
            g_array_append_val (many, m);
          }
        skip_accepted_value (p);
        skip_ws (p);
        if (p->data[p->pos] == '}')
          break;
        p->pos++; /* ',' */
      }
  gsize end = p->pos + 1;
  RawMember *members = many != NULL ? (RawMember *) many->data : few;
  guint n_members = many != NULL ? many->len : n;
  if (n_members > 1)
    g_qsort_with_data (members, (gint) n_members, sizeof (RawMember), compare_raw_members, keys);

  g_string_append_c (out, '{');
  for (guint i = 0; i < n_members; i++)
    {
      const RawMember *m = &members[i];
      if (i > 0)
        g_string_append_c (out, ',');
      const char *key = keys->str + m->key_off;
      canonical_string_len (out, key, strlen (key));
      g_string_append_c (out, ':');
      p->pos = m->value_pos;
      if (!canonical_accepted_value (p, out, keys, error))
        {
          g_prefix_error (error, "\"%s\": ", keys->str + m->key_off);
          return FALSE;
        }
    }
  g_string_append_c (out, '}');
  g_string_truncate (keys, mark);
  p->pos = end;
  return TRUE;
}

static gboolean
canonical_accepted_value (SbJsonParser *p, GString *out, GString *keys, GError **error)
{
  skip_ws (p);
  switch (SB_JSON_PEEK (p))
    {
    case '{':
      return canonical_accepted_object (p, out, keys, error);
    case '[':
      p->pos++;
      skip_ws (p);
      g_string_append_c (out, '[');
      if (SB_JSON_PEEK (p) != ']')
        for (gboolean first = TRUE;; first = FALSE)
          {
            if (!first)
              g_string_append_c (out, ',');
            if (!canonical_accepted_value (p, out, keys, error))
              return FALSE;
            skip_ws (p);
            if (p->data[p->pos] == ']')
              break;
            p->pos++; /* ',' */
          }
      p->pos++;
      g_string_append_c (out, ']');
      return TRUE;
    case '"':
      {
        /* Without a backslash, the source is already the canonical form: nothing to decode,
         * and no '"' or '\\' inside to escape. */
        const guint8 *q = p->data + p->pos + 1, *end = p->data + p->len;
        while (q < end && *q != '"' && *q != '\\')
          q++;
        if (q < end && *q == '"')
          {
            g_string_append_len (out, (const char *) p->data + p->pos,
                                 (gssize) (q + 1 - (p->data + p->pos)));
            p->pos = (gsize) (q + 1 - p->data);
            return TRUE;
          }
        gsize mark = keys->len;
        if (!parse_string_into (p, keys, error))
          return FALSE;
        canonical_string_len (out, keys->str + mark, keys->len - mark);
        g_string_truncate (keys, mark);
        return TRUE;
      }
    case 't':
    case 'f':
    case 'n':
      {
        gsize start = p->pos;
        skip_accepted_value (p);
        g_string_append_len (out, (const char *) p->data + start, (gssize) (p->pos - start));
        return TRUE;
      }
    default:
      {
        gboolean is_int = FALSE;
        gint64 i = 0;
        double d = 0;
        if (!scan_number (p, &is_int, &i, &d, error))
          return FALSE;
        if (!is_int)
          return sb_throw (error, SB_ERROR_PARSE, "canonical JSON has no floating-point numbers");
        g_string_append_printf (out, "%" G_GINT64_FORMAT, i);
        return TRUE;
      }
    }
}

/* The members are already sorted by key; each value is encoded from its accepted bytes, so no
 * tree of the whole object ever exists. */
static gboolean
canonical_span_map (GString *out, SbJsonSpanMap *map, guint depth, GError **error)
{
  const guint8 *data = g_bytes_get_data (map->bytes, NULL);
  g_autoptr (GString) keys = g_string_new (NULL);
  g_string_append_c (out, '{');
  for (guint i = 0; i < map->members->len; i++)
    {
      const char *key = sb_json_span_map_get_key (map, i);
      if (i > 0)
        g_string_append_c (out, ',');
      if (!canonical_string (out, key, error))
        return FALSE;
      g_string_append_c (out, ':');
      const SpanMember *m = &g_array_index (map->members, SpanMember, i);
      SbJsonParser p = { data + m->value_off, m->value_len, 0 };
      if (!canonical_accepted_value (&p, out, keys, error))
        {
          g_prefix_error (error, "\"%s\": ", key);
          return FALSE;
        }
    }
  g_string_append_c (out, '}');
  return TRUE;
}

GBytes *
sb_json_canonical (JsonNode *node, GError **error)
{
  return sb_json_canonical_with_span_map (node, NULL, error);
}

GBytes *
sb_json_canonical_with_span_map (JsonNode *node, SbJsonSpanMap *map, GError **error)
{
  g_return_val_if_fail (node != NULL, NULL);

  /* Canonical output is about as long as the source: reserve that much up front rather than
   * growing (and transiently doubling) a large buffer. */
  gsize hint = map != NULL ? g_bytes_get_size (map->bytes) : 0;
  g_autoptr (GString) out = g_string_sized_new (hint);
  if (!canonical_node (out, node, map, 0, error))
    return NULL;
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

char *
sb_json_pretty (JsonNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_indent_char (gen, ' ');
  json_generator_set_root (gen, node);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, "\n", NULL);
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
