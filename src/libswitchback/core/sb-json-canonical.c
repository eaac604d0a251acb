/* sb-json-canonical.c: the OLPC canonical JSON encoder that TUF signs (byte-identical to
 * securesystemslib's encode_canonical), for trees and for span maps.
 * The same encoder also writes aktualizr's canonical form (docs/ota-ce.md), which differs only
 * in how strings are escaped. */
#include "config.h"

#include "core/sb-json.h"
#include "core/sb-json-private.h"
#include "core/sb-error.h"

#include <string.h>

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

static const char lower_hex[] = "0123456789abcdef";

static void
append_u_escape (GString *out, guint32 unit)
{
  char esc[7] = { '\\', 'u', lower_hex[(unit >> 12) & 0xf], lower_hex[(unit >> 8) & 0xf],
                  lower_hex[(unit >> 4) & 0xf], lower_hex[unit & 0xf], '\0' };
  g_string_append (out, esc);
}

/* aktualizr's Utils::jsonToCanonicalStr is jsoncpp's writer with no indentation and emitUTF8
 * off (jsoncpp json_writer.cpp, valueToQuotedStringN): '"' and '\\' are escaped, so are
 * \b \f \n \r \t, other control characters become \u00xx, printable ASCII (0x20 to 0x7f) is
 * copied, and every other code point becomes \uxxxx, as a UTF-16 surrogate pair above
 * U+FFFF. Hex digits are lower case. @s is valid UTF-8 of @len bytes. */
static void
aktualizr_string_len (GString *out, const char *s, gsize len)
{
  g_string_append_c (out, '"');
  const char *end = s + len;
  for (const char *c = s; c < end; c = g_utf8_next_char (c))
    {
      guchar b = (guchar) *c;
      switch (b)
        {
        case '"':
          g_string_append (out, "\\\"");
          continue;
        case '\\':
          g_string_append (out, "\\\\");
          continue;
        case '\b':
          g_string_append (out, "\\b");
          continue;
        case '\f':
          g_string_append (out, "\\f");
          continue;
        case '\n':
          g_string_append (out, "\\n");
          continue;
        case '\r':
          g_string_append (out, "\\r");
          continue;
        case '\t':
          g_string_append (out, "\\t");
          continue;
        default:
          break;
        }
      if (b < 0x20)
        append_u_escape (out, b);
      else if (b < 0x80)
        g_string_append_c (out, (char) b);
      else
        {
          gunichar cp = g_utf8_get_char (c);
          if (cp < 0x10000)
            append_u_escape (out, cp);
          else
            {
              cp -= 0x10000;
              append_u_escape (out, 0xd800 + ((cp >> 10) & 0x3ff));
              append_u_escape (out, 0xdc00 + (cp & 0x3ff));
            }
        }
    }
  g_string_append_c (out, '"');
}

/* One string in @form; @s must be NUL-terminated valid UTF-8 for the OLPC form's checks. */
static gboolean
form_string (GString *out, const char *s, SbJsonCanonicalForm form, GError **error)
{
  if (form == SB_JSON_CANONICAL_OLPC)
    return canonical_string (out, s, error);
  if (!g_utf8_validate (s, -1, NULL))
    return sb_throw (error, SB_ERROR_PARSE, "canonical JSON: string is not valid UTF-8");
  aktualizr_string_len (out, s, strlen (s));
  return TRUE;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  /* strcmp compares as unsigned char: UTF-8 byte order is code point order, which is the
   * order Python's sorted() gives the keys. */
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean canonical_span_map (GString *out, SbJsonSpanMap *map, guint depth,
                                    SbJsonCanonicalForm form, GError **error);

static gboolean
canonical_node (GString *out, JsonNode *node, SbJsonSpanMap *map, guint depth,
                SbJsonCanonicalForm form, GError **error)
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
            if (!canonical_node (out, json_array_get_element (arr, i), map, depth + 1, form,
                                 error))
              return FALSE;
          }
        g_string_append_c (out, ']');
        return TRUE;
      }
    case JSON_NODE_OBJECT:
      {
        JsonObject *obj = json_node_get_object (node);
        if (map != NULL && obj == map->placeholder)
          return canonical_span_map (out, map, depth, form, error);
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
            if (!form_string (out, key, form, error))
              return FALSE;
            g_string_append_c (out, ':');
            if (!canonical_node (out, json_object_get_member (obj, key), map, depth + 1, form,
                                 error))
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
    return form_string (out, json_node_get_string (node), form, error);
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

void
sb_json_skip_accepted_value (SbJsonParser *p)
{
  guint level = 0;
  sb_json_skip_ws (p);
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
canonical_string_len (GString *out, const char *s, gsize len, SbJsonCanonicalForm form)
{
  if (form == SB_JSON_CANONICAL_AKTUALIZR)
    {
      aktualizr_string_len (out, s, len);
      return TRUE;
    }
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
                                          SbJsonCanonicalForm form, GError **error);

static gboolean
canonical_accepted_object (SbJsonParser *p, GString *out, GString *keys,
                           SbJsonCanonicalForm form, GError **error)
{
  gsize mark = keys->len;
  /* Most objects here (a target, its hashes) have a few members: no allocation for those. */
  RawMember few[8];
  guint n = 0;
  g_autoptr (GArray) many = NULL;
  p->pos++; /* '{' */
  sb_json_skip_ws (p);
  if (SB_JSON_PEEK (p) != '}')
    for (;;)
      {
        sb_json_skip_ws (p);
        RawMember m = { (guint32) keys->len, 0 };
        if (!sb_json_parse_string_into (p, keys, error))
          return FALSE;
        g_string_append_c (keys, '\0');
        sb_json_skip_ws (p);
        p->pos++; /* ':' */
        sb_json_skip_ws (p);
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
        sb_json_skip_accepted_value (p);
        sb_json_skip_ws (p);
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
      canonical_string_len (out, key, strlen (key), form);
      g_string_append_c (out, ':');
      p->pos = m->value_pos;
      if (!canonical_accepted_value (p, out, keys, form, error))
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
canonical_accepted_value (SbJsonParser *p, GString *out, GString *keys,
                          SbJsonCanonicalForm form, GError **error)
{
  sb_json_skip_ws (p);
  switch (SB_JSON_PEEK (p))
    {
    case '{':
      return canonical_accepted_object (p, out, keys, form, error);
    case '[':
      p->pos++;
      sb_json_skip_ws (p);
      g_string_append_c (out, '[');
      if (SB_JSON_PEEK (p) != ']')
        for (gboolean first = TRUE;; first = FALSE)
          {
            if (!first)
              g_string_append_c (out, ',');
            if (!canonical_accepted_value (p, out, keys, form, error))
              return FALSE;
            sb_json_skip_ws (p);
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
         * and no '"' or '\\' inside to escape. In aktualizr's form only printable ASCII is
         * copied as it stands. */
        const guint8 *q = p->data + p->pos + 1, *end = p->data + p->len;
        while (q < end && *q != '"' && *q != '\\'
               && (form == SB_JSON_CANONICAL_OLPC || (*q >= 0x20 && *q < 0x80)))
          q++;
        if (q < end && *q == '"')
          {
            g_string_append_len (out, (const char *) p->data + p->pos,
                                 (gssize) (q + 1 - (p->data + p->pos)));
            p->pos = (gsize) (q + 1 - p->data);
            return TRUE;
          }
        gsize mark = keys->len;
        if (!sb_json_parse_string_into (p, keys, error))
          return FALSE;
        canonical_string_len (out, keys->str + mark, keys->len - mark, form);
        g_string_truncate (keys, mark);
        return TRUE;
      }
    case 't':
    case 'f':
    case 'n':
      {
        gsize start = p->pos;
        sb_json_skip_accepted_value (p);
        g_string_append_len (out, (const char *) p->data + start, (gssize) (p->pos - start));
        return TRUE;
      }
    default:
      {
        gboolean is_int = FALSE;
        gint64 i = 0;
        double d = 0;
        if (!sb_json_scan_number (p, &is_int, &i, &d, error))
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
canonical_span_map (GString *out, SbJsonSpanMap *map, guint depth, SbJsonCanonicalForm form,
                    GError **error)
{
  const guint8 *data = g_bytes_get_data (map->bytes, NULL);
  g_autoptr (GString) keys = g_string_new (NULL);
  g_string_append_c (out, '{');
  for (guint i = 0; i < map->members->len; i++)
    {
      const char *key = sb_json_span_map_get_key (map, i);
      if (i > 0)
        g_string_append_c (out, ',');
      if (!form_string (out, key, form, error))
        return FALSE;
      g_string_append_c (out, ':');
      const SpanMember *m = &g_array_index (map->members, SpanMember, i);
      SbJsonParser p = { data + m->value_off, m->value_len, 0 };
      if (!canonical_accepted_value (&p, out, keys, form, error))
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
  return sb_json_canonical_form (node, map, SB_JSON_CANONICAL_OLPC, error);
}

GBytes *
sb_json_canonical_form (JsonNode *node, SbJsonSpanMap *map, SbJsonCanonicalForm form,
                        GError **error)
{
  g_return_val_if_fail (node != NULL, NULL);

  /* Canonical output is about as long as the source: reserve that much up front rather than
   * growing (and transiently doubling) a large buffer. */
  gsize hint = map != NULL ? g_bytes_get_size (map->bytes) : 0;
  g_autoptr (GString) out = g_string_sized_new (hint);
  if (!canonical_node (out, node, map, 0, form, error))
    return NULL;
  return g_string_free_to_bytes (g_steal_pointer (&out));
}
