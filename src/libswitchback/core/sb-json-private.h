/* sb-json-private.h: what the token scanner (sb-json-scan.c), the parser and span maps
 * (sb-json.c), the canonical encoder (sb-json-canonical.c) and the slicer (sb-json-slice.c)
 * share. Not for use outside the sb-json* files. */
#pragma once

#include "core/sb-json.h"

G_BEGIN_DECLS

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
  JsonObject *placeholder; /* the empty object standing for this map in the tree (a reference) */
};

#define SB_JSON_PEEK(p) ((p)->pos < (p)->len ? (int) (p)->data[(p)->pos] : -1)

/* Fails at the parser's position: SB_ERROR_PARSE "JSON at byte N: ...". Returns FALSE. */
gboolean sb_json_parser_fail (SbJsonParser *p, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);
void sb_json_skip_ws (SbJsonParser *p);
/* The string at the opening quote, decoded and appended to @out (valid UTF-8, no NUL). */
gboolean sb_json_parse_string_into (SbJsonParser *p, GString *out,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;
char *sb_json_parse_string (SbJsonParser *p, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* RFC 8259 number: an exact int64 (*out_is_int) or a finite double. */
gboolean sb_json_scan_number (SbJsonParser *p, gboolean *out_is_int, gint64 *out_int,
                              double *out_double, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* One value; @match: how many components of p->span_path the path to it has matched, or -1. */
JsonNode *sb_json_parse_value (SbJsonParser *p, guint depth, int match,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Checks one value exactly as strictly as sb_json_parse_value, building nothing. @scratch
 * holds decoded keys while their objects are open; it is as long afterwards as before. */
gboolean sb_json_validate_value (SbJsonParser *p, guint depth, GString *scratch,
                                 GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Consumes @word (true, false, null) when the input has it next. */
gboolean sb_json_take_literal (SbJsonParser *p, const char *word);
/* Past one value of accepted bytes, by quotes and bracket depth. */
void sb_json_skip_accepted_value (SbJsonParser *p);
/* The object at the span path, at its '{': sets p->map, returns the empty placeholder node. */
JsonNode *sb_json_parse_span_object (SbJsonParser *p, guint depth,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
