/* sb-json.h: strict JSON parsing and OLPC canonical JSON encoding, as TUF signs it.
 *
 * Metadata is untrusted input: the parser refuses what a lenient parser would silently accept
 * and what an attacker could use to make two parsers disagree about one document.
 * Trees are json-glib JsonNodes; objects keep their members in document order, so re-encoding
 * keeps fields this client does not know.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deepest nesting of arrays/objects the parser accepts. TUF metadata needs about 6. */
#define SB_JSON_MAX_DEPTH 64

/* Parses @len bytes of UTF-8 JSON into a tree. Refuses, with SB_ERROR_PARSE and the byte
 * offset in the message: invalid UTF-8, a duplicate key in one object, nesting deeper than
 * SB_JSON_MAX_DEPTH, "\u0000" in a string, unpaired surrogates, numbers that are not exact
 * int64 when written without fraction/exponent, NaN/Infinity, leading zeros, trailing bytes
 * after the value, and anything else outside RFC 8259. Numbers with a fraction or exponent
 * become double nodes; sb_json_get_int() and the canonical encoder refuse them. */
JsonNode *sb_json_parse (const guint8 *data, gsize len, GError **error) G_GNUC_WARN_UNUSED_RESULT;
JsonNode *sb_json_parse_bytes (GBytes *bytes, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Encodes @node in OLPC canonical form (securesystemslib's encode_canonical): object keys sorted
 * by their UTF-8 bytes, no insignificant whitespace, strings escaping only '"' and '\\',
 * integers in decimal. A double anywhere in the tree is refused with SB_ERROR_PARSE, because
 * canonical JSON has no floats. The result is what signatures are made over. */
GBytes *sb_json_canonical (JsonNode *node, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* A large JSON object kept as its members' byte spans in the source document instead of a
 * tree: a targets role listing 100,000 targets would otherwise cost a tree node per value.
 * Members are sorted by key (bytewise, the canonical order), so look-up is a binary search. */
typedef struct _SbJsonSpanMap SbJsonSpanMap;
SbJsonSpanMap *sb_json_span_map_ref (SbJsonSpanMap *map);
void sb_json_span_map_unref (SbJsonSpanMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbJsonSpanMap, sb_json_span_map_unref)

/* A value inside bytes that the strict parser has accepted (a member of a span map), read
 * where it lies instead of as a tree. Only ever make one from accepted bytes: the readers below
 * trust the syntax. */
typedef struct
{
  const guint8 *data;
  gsize len;
} SbJsonSlice;

typedef enum
{
  SB_JSON_KIND_OBJECT,
  SB_JSON_KIND_ARRAY,
  SB_JSON_KIND_STRING,
  SB_JSON_KIND_INT, /* an integer that fits int64, as the parser keeps it */
  SB_JSON_KIND_DOUBLE,
  SB_JSON_KIND_BOOL,
  SB_JSON_KIND_NULL,
} SbJsonKind;

SbJsonKind sb_json_slice_kind (const SbJsonSlice *value);
/* The value of member @key of the object @object: TRUE and *out, or FALSE when @object is not
 * an object or has no such member. */
gboolean sb_json_slice_get_member (const SbJsonSlice *object, const char *key, SbJsonSlice *out);
/* The number of members of an object, or of elements of an array; 0 for anything else. */
guint sb_json_slice_get_size (const SbJsonSlice *value);
/* Each member of the object in document order: start with *cursor = 0; TRUE with the decoded
 * key in @key (replacing what it held; NULL: not decoded) and the value in *out, FALSE after
 * the last one. */
gboolean sb_json_slice_next_member (const SbJsonSlice *object, gsize *cursor, GString *key,
                                    SbJsonSlice *out);
/* The integer of an SB_JSON_KIND_INT value; FALSE for any other kind. */
gboolean sb_json_slice_get_int (const SbJsonSlice *value, gint64 *out);

/* Checks one member of the span-mapped object while parsing: @value is its accepted bytes,
 * valid only during the call. Return FALSE with @error set to refuse the document. */
typedef gboolean (*SbJsonMemberCheck) (const char *key, const SbJsonSlice *value,
                                       gpointer user_data, GError **error);

/* Parses @bytes exactly as strictly as sb_json_parse, except for the object found at
 * @span_path (member names from the root, NULL-terminated, e.g. {"signed", "targets", NULL}):
 * each of its members is checked as strictly, without building a tree, passed to @check (may
 * be NULL) and dropped, and the object
 * appears EMPTY in the returned tree. *out_map receives its keys and value spans (and keeps a
 * reference to @bytes), or NULL when the document has no object at @span_path. Duplicate keys
 * in it are refused like anywhere else. */
JsonNode *sb_json_parse_with_span_map (GBytes *bytes, const char *const *span_path,
                                       SbJsonMemberCheck check, gpointer user_data,
                                       SbJsonSpanMap **out_map, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
guint sb_json_span_map_get_size (SbJsonSpanMap *map);
/* The key of member @index (0 .. size-1, in sorted order); borrowed. */
const char *sb_json_span_map_get_key (SbJsonSpanMap *map, guint index);
/* A new tree of member @index's value. */
JsonNode *sb_json_span_map_get_value (SbJsonSpanMap *map, guint index, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;
/* Finds @key; TRUE and its index, or FALSE. */
gboolean sb_json_span_map_find (SbJsonSpanMap *map, const char *key, guint *out_index);
/* The empty object that stands for the map in the parsed tree. */
JsonObject *sb_json_span_map_get_placeholder (SbJsonSpanMap *map);
/* Canonical JSON of @node with the object @map stands for encoded in full (its members in
 * order), so the bytes are exactly those sb_json_canonical gives for the fully parsed tree.
 * @map may be NULL. */
GBytes *sb_json_canonical_with_span_map (JsonNode *node, SbJsonSpanMap *map, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* The two canonical forms signatures are made over. OLPC is TUF's (above). AKTUALIZR is the
 * form aktualizr and OTA Community Edition sign and verify (aktualizr's
 * Utils::jsonToCanonicalStr, jsoncpp's compact writer): the same key order, no whitespace and
 * integers, but strings escape \b \f \n \r \t, other control characters as \u00xx and
 * everything outside ASCII as \uxxxx (lower-case hex, surrogate pairs above U+FFFF). A PEM key
 * inside a signed object is where the two differ in practice: OLPC writes its newlines raw,
 * aktualizr as \n (docs/ota-ce.md). */
typedef enum {
  SB_JSON_CANONICAL_OLPC,
  SB_JSON_CANONICAL_AKTUALIZR,
} SbJsonCanonicalForm;

/* sb_json_canonical_with_span_map in @form (@map may be NULL). */
GBytes *sb_json_canonical_form (JsonNode *node, SbJsonSpanMap *map, SbJsonCanonicalForm form,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Encodes @node as readable JSON (2-space indent, document key order, ending in a newline) for
 * files people read. The result parses back with sb_json_parse into an equal tree; a double
 * stays a double ("2e+195", "5.0"). NaN and infinity, which sb_json_parse never yields, are
 * written as null. */
char *sb_json_pretty (JsonNode *node);

/* Typed, strict accessors for schema checks. Each one names @key (and @what, the object being
 * read, e.g. "root.json signed") in its error, with SB_ERROR_PARSE for a missing member or a
 * wrong type. sb_json_get_int refuses doubles even when they are whole (1.0), and booleans.
 * Returned objects, arrays and strings are borrowed from @obj. */
JsonObject *sb_json_get_object (JsonObject *obj, const char *key, const char *what,
                                GError **error);
JsonArray *sb_json_get_array (JsonObject *obj, const char *key, const char *what, GError **error);
const char *sb_json_get_string (JsonObject *obj, const char *key, const char *what,
                                GError **error);
gboolean sb_json_get_int (JsonObject *obj, const char *key, const char *what, gint64 *out,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean sb_json_get_bool (JsonObject *obj, const char *key, const char *what, gboolean *out,
                           GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* TRUE if @node is a JSON integer (not a double, not a boolean). */
gboolean sb_json_node_is_int (JsonNode *node);

G_END_DECLS
