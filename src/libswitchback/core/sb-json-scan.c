/* sb-json-scan.c: the tokens of strict JSON (strings, numbers, literals, whitespace) and
 * validation of a whole value without building a tree, for the parser in sb-json.c and the
 * encoders that work straight from accepted source. Every rule of RFC 8259 that the parser
 * enforces is enforced here once.
 */
#include "config.h"

#include "core/sb-json.h"
#include "core/sb-json-private.h"
#include "core/sb-error.h"

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

gboolean
sb_json_take_literal (SbJsonParser *p, const char *word)
{
  gsize n = strlen (word);
  if (p->len - p->pos < n || memcmp (p->data + p->pos, word, n) != 0)
    return FALSE;
  p->pos += n;
  return TRUE;
}

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

