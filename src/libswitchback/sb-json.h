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

/* Encodes @node as readable JSON (2-space indent, document key order, ending in a newline) for
 * files people read. The result parses back with sb_json_parse into an equal tree. */
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
