/* sb-json-slice.c: reading values of accepted bytes where they lie (sb-json.h, SbJsonSlice).
 * The strict parser has checked the syntax already, so these readers only find boundaries. */
#include "config.h"

#include "core/sb-json.h"
#include "core/sb-json-private.h"
#include "core/sb-error.h"

#include <string.h>

static SbJsonParser
slice_parser (const SbJsonSlice *value)
{
  SbJsonParser p = { value->data, value->len, 0 };
  sb_json_skip_ws (&p);
  return p;
}

SbJsonKind
sb_json_slice_kind (const SbJsonSlice *value)
{
  SbJsonParser p = slice_parser (value);
  switch (SB_JSON_PEEK (&p))
    {
    case '{':
      return SB_JSON_KIND_OBJECT;
    case '[':
      return SB_JSON_KIND_ARRAY;
    case '"':
      return SB_JSON_KIND_STRING;
    case 't':
    case 'f':
      return SB_JSON_KIND_BOOL;
    case 'n':
      return SB_JSON_KIND_NULL;
    default:
      {
        gboolean is_int = FALSE;
        gint64 i;
        double d;
        if (!sb_json_scan_number (&p, &is_int, &i, &d, NULL))
          return SB_JSON_KIND_NULL;
        return is_int ? SB_JSON_KIND_INT : SB_JSON_KIND_DOUBLE;
      }
    }
}

gboolean
sb_json_slice_get_int (const SbJsonSlice *value, gint64 *out)
{
  SbJsonParser p = slice_parser (value);
  int c = SB_JSON_PEEK (&p);
  if (c != '-' && !g_ascii_isdigit (c))
    return FALSE;
  gboolean is_int = FALSE;
  double d;
  return sb_json_scan_number (&p, &is_int, out, &d, NULL) && is_int;
}

gboolean
sb_json_slice_next_member (const SbJsonSlice *object, gsize *cursor, GString *key,
                           SbJsonSlice *out)
{
  SbJsonParser p = slice_parser (object);
  if (SB_JSON_PEEK (&p) != '{')
    return FALSE;
  if (*cursor == 0)
    *cursor = p.pos + 1;
  p.pos = *cursor;
  sb_json_skip_ws (&p);
  if (SB_JSON_PEEK (&p) == ',')
    {
      p.pos++;
      sb_json_skip_ws (&p);
    }
  if (SB_JSON_PEEK (&p) != '"')
    return FALSE; /* '}' */
  if (key == NULL)
    sb_json_skip_accepted_value (&p);
  else
    {
      g_string_truncate (key, 0);
      if (!sb_json_parse_string_into (&p, key, NULL))
        return FALSE;
    }
  sb_json_skip_ws (&p);
  p.pos++; /* ':' */
  sb_json_skip_ws (&p);
  gsize start = p.pos;
  sb_json_skip_accepted_value (&p);
  *out = (SbJsonSlice){ p.data + start, p.pos - start };
  *cursor = p.pos;
  return TRUE;
}

gboolean
sb_json_slice_get_member (const SbJsonSlice *object, const char *key, SbJsonSlice *out)
{
  SbJsonParser p = slice_parser (object);
  if (SB_JSON_PEEK (&p) != '{')
    return FALSE;
  p.pos++;
  gsize key_len = strlen (key);
  for (;;)
    {
      sb_json_skip_ws (&p);
      if (SB_JSON_PEEK (&p) != '"')
        return FALSE;
      gsize key_at = p.pos;
      sb_json_skip_accepted_value (&p);
      const char *raw = (const char *) p.data + key_at + 1;
      gsize raw_len = p.pos - key_at - 2;
      gboolean match;
      /* A key without escapes is its own decoded form: most keys, compared without a copy. */
      if (memchr (raw, '\\', raw_len) == NULL)
        match = raw_len == key_len && memcmp (raw, key, key_len) == 0;
      else
        {
          g_autoptr (GString) decoded = g_string_new (NULL);
          SbJsonParser q = { p.data, p.len, key_at };
          match = sb_json_parse_string_into (&q, decoded, NULL) && strcmp (decoded->str, key) == 0;
        }
      sb_json_skip_ws (&p);
      p.pos++; /* ':' */
      sb_json_skip_ws (&p);
      gsize start = p.pos;
      sb_json_skip_accepted_value (&p);
      if (match)
        {
          *out = (SbJsonSlice){ p.data + start, p.pos - start };
          return TRUE;
        }
      sb_json_skip_ws (&p);
      if (SB_JSON_PEEK (&p) != ',')
        return FALSE;
      p.pos++;
    }
}

guint
sb_json_slice_get_size (const SbJsonSlice *value)
{
  SbJsonParser p = slice_parser (value);
  int c = SB_JSON_PEEK (&p);
  if (c != '{' && c != '[')
    return 0;
  p.pos++;
  sb_json_skip_ws (&p);
  if (SB_JSON_PEEK (&p) == '}' || SB_JSON_PEEK (&p) == ']')
    return 0;
  guint n = 0;
  for (;;)
    {
      if (c == '{')
        {
          /* The key, then the value. */
          sb_json_skip_accepted_value (&p);
          sb_json_skip_ws (&p);
          p.pos++; /* ':' */
        }
      sb_json_skip_accepted_value (&p);
      n++;
      sb_json_skip_ws (&p);
      if (SB_JSON_PEEK (&p) != ',')
        return n;
      p.pos++;
    }
}
