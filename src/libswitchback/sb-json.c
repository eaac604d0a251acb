/* sb-json.c: a strict recursive-descent JSON parser and typed getters.
 *
 * json-glib's own parser accepts duplicate keys (the last one wins), so two parsers could read
 * one signed document differently. Metadata is parsed here instead, refusing anything that is
 * not exactly one RFC 8259 value; the result is a plain json-glib tree. The span maps are in
 * sb-json-span.c and the canonical encoder in sb-json-canonical.c.
 */
#include "config.h"

#include "sb-json.h"
#include "sb-json-private.h"
#include "sb-error.h"

#include <math.h>
#include <string.h>

gboolean
sb_json_parser_fail (SbJsonParser *p, GError **error, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return sb_throw (error, SB_ERROR_PARSE, "JSON at byte %" G_GSIZE_FORMAT ": %s", p->pos, msg);
}

void
sb_json_skip_ws (SbJsonParser *p)
{
  while (p->pos < p->len)
    {
      guint8 c = p->data[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

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
    return sb_json_parser_fail (p, error, "invalid UTF-8 lead byte 0x%02x", c);

  if (avail < n)
    return sb_json_parser_fail (p, error, "truncated UTF-8 sequence");
  for (gsize i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return sb_json_parser_fail (p, error, "invalid UTF-8 continuation byte");
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  if (cp < min)
    return sb_json_parser_fail (p, error, "overlong UTF-8 sequence");
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return sb_json_parser_fail (p, error, "UTF-8 encodes U+%04X, which is not a scalar value", cp);
  g_string_append_len (out, (const char *) s, (gssize) n);
  p->pos += n;
  return TRUE;
}

static gboolean
take_hex4 (SbJsonParser *p, gunichar *out, GError **error)
{
  gunichar v = 0;

  if (p->len - p->pos < 4)
    return sb_json_parser_fail (p, error, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value ((char) p->data[p->pos + i]);
      if (d < 0)
        return sb_json_parser_fail (p, error, "invalid hex digit in \\u escape");
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
    return sb_json_parser_fail (p, error, "\\u0000 is not allowed in strings");
  if (cp >= 0xdc00 && cp <= 0xdfff)
    return sb_json_parser_fail (p, error, "unpaired low surrogate \\u%04X", cp);
  if (cp >= 0xd800 && cp <= 0xdbff)
    {
      gunichar lo;
      if (p->len - p->pos < 2 || p->data[p->pos] != '\\' || p->data[p->pos + 1] != 'u')
        return sb_json_parser_fail (p, error, "unpaired high surrogate \\u%04X", cp);
      p->pos += 2;
      if (!take_hex4 (p, &lo, error))
        return FALSE;
      if (lo < 0xdc00 || lo > 0xdfff)
        return sb_json_parser_fail (p, error, "high surrogate \\u%04X not followed by a low one", cp);
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
  g_string_append_unichar (out, cp);
  return TRUE;
}

/* Parses a string starting at the opening quote and appends its decoded text to @out, which is
 * then valid UTF-8 without NUL. */
gboolean
sb_json_parse_string_into (SbJsonParser *p, GString *out, GError **error)
{
  p->pos++; /* '"' */
  for (;;)
    {
      if (p->pos >= p->len)
        return sb_json_parser_fail (p, error, "unterminated string");
      guint8 c = p->data[p->pos];
      if (c == '"')
        {
          p->pos++;
          return TRUE;
        }
      if (c < 0x20)
        return sb_json_parser_fail (p, error, "unescaped control character 0x%02x in string", c);
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
        return sb_json_parser_fail (p, error, "unterminated escape");
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
          return sb_json_parser_fail (p, error, "invalid escape \\%c", g_ascii_isprint (c) ? c : '?');
        }
    }
}

/* Parses a string starting at the opening quote. */
char *
sb_json_parse_string (SbJsonParser *p, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  if (!sb_json_parse_string_into (p, out, error))
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
gboolean
sb_json_scan_number (SbJsonParser *p, gboolean *out_is_int, gint64 *out_int, double *out_double,
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
        return sb_json_parser_fail (p, error, "leading zero in number");
    }
  else if (skip_digits (p) == 0)
    return sb_json_parser_fail (p, error, "invalid number");
  gsize int_end = p->pos;
  if (SB_JSON_PEEK (p) == '.')
    {
      is_int = FALSE;
      p->pos++;
      if (skip_digits (p) == 0)
        return sb_json_parser_fail (p, error, "no digits after decimal point");
    }
  if (SB_JSON_PEEK (p) == 'e' || SB_JSON_PEEK (p) == 'E')
    {
      is_int = FALSE;
      p->pos++;
      if (SB_JSON_PEEK (p) == '+' || SB_JSON_PEEK (p) == '-')
        p->pos++;
      if (skip_digits (p) == 0)
        return sb_json_parser_fail (p, error, "no digits in exponent");
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
              return sb_json_parser_fail (p, error, "integer does not fit in 64 bits");
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
      return sb_json_parser_fail (p, error, "number out of range");
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

gboolean
sb_json_take_literal (SbJsonParser *p, const char *word)
{
  gsize n = strlen (word);
  if (p->len - p->pos < n || memcmp (p->data + p->pos, word, n) != 0)
    return FALSE;
  p->pos += n;
  return TRUE;
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
