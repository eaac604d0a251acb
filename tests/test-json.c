/* Tests for sb-json: the strict parser, the canonical encoder (checked byte for byte against
 * securesystemslib's encode_canonical) and the typed getters. */
#include "config.h"

#include "core/sb-error.h"
#include "core/sb-json.h"
#include "sb-test-util.h"

#include <string.h>

typedef struct {
  GError *error;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->error = NULL;
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_error (&f->error);
}

static JsonNode *
parse_len (const char *text, gsize len, GError **error)
{
  return sb_json_parse ((const guint8 *) text, len, error);
}

static JsonNode *
parse (const char *text, GError **error)
{
  return parse_len (text, strlen (text), error);
}

static void
assert_refused_len (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = parse_len (text, len, &error);
  if (node != NULL)
    g_error ("accepted invalid JSON: %.*s", (int) len, text);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
}

static void
assert_refused (const char *text)
{
  assert_refused_len (text, strlen (text));
}

static void
assert_canonical (JsonNode *node, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = sb_json_canonical (node, &error);
  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);
  g_assert_cmpmem (data, len, expected, strlen (expected));
}

/* ---- parsing: accepted documents ---- */

static void
test_parse_scalars (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) t = parse (" true ", &f->error);
  g_assert_no_error (f->error);
  g_assert_true (json_node_get_value_type (t) == G_TYPE_BOOLEAN && json_node_get_boolean (t));

  g_autoptr (JsonNode) n = parse ("null", &f->error);
  g_assert_no_error (f->error);
  g_assert_true (JSON_NODE_HOLDS_NULL (n));

  g_autoptr (JsonNode) s = parse ("\"x\"", &f->error);
  g_assert_no_error (f->error);
  g_assert_cmpstr (json_node_get_string (s), ==, "x");

  g_autoptr (JsonNode) d = parse ("1.5", &f->error);
  g_assert_no_error (f->error);
  g_assert_true (json_node_get_value_type (d) == G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (d), ==, 1.5);
  g_assert_false (sb_json_node_is_int (d));

  g_autoptr (JsonNode) e = parse ("-2E+3", &f->error);
  g_assert_no_error (f->error);
  g_assert_true (json_node_get_value_type (e) == G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_node_get_double (e), ==, -2000.0);

  /* Whole-valued doubles stay doubles: "1.0" is not the integer 1. */
  g_autoptr (JsonNode) w = parse ("1.0", &f->error);
  g_assert_no_error (f->error);
  g_assert_false (sb_json_node_is_int (w));

  /* Underflow rounds to zero, as other parsers do; it is not an error. */
  g_autoptr (JsonNode) u = parse ("1e-400", &f->error);
  g_assert_no_error (f->error);
  g_assert_cmpfloat (json_node_get_double (u), ==, 0.0);
}

static void
test_parse_integers (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *text;
    gint64 value;
  } cases[] = {
    { "0", 0 },
    { "-0", 0 },
    { "7", 7 },
    { "-42", -42 },
    { "9223372036854775807", G_MAXINT64 },
    { "-9223372036854775808", G_MININT64 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = parse (cases[i].text, &error);
      g_assert_no_error (error);
      g_assert_true (sb_json_node_is_int (node));
      g_assert_cmpint (json_node_get_int (node), ==, cases[i].value);
    }
}

static void
test_parse_strings (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) node = parse ("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC"
                                     "\\ud83d\\ude00\xc3\xa9\xef\xbf\xbf\"",
                                     &f->error);
  g_assert_no_error (f->error);
  const char *expected = "a\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9\xef\xbf\xbf";
  g_assert_cmpstr (json_node_get_string (node), ==, expected);

  g_autoptr (JsonNode) empty = parse ("\"\"", &f->error);
  g_assert_no_error (f->error);
  g_assert_cmpstr (json_node_get_string (empty), ==, "");

  /* The largest code point, U+10FFFF, in both spellings. */
  g_autoptr (JsonNode) max = parse ("[\"\\udbff\\udfff\",\"\xf4\x8f\xbf\xbf\"]", &f->error);
  g_assert_no_error (f->error);
  JsonArray *arr = json_node_get_array (max);
  g_assert_cmpstr (json_array_get_string_element (arr, 0), ==, "\xf4\x8f\xbf\xbf");
  g_assert_cmpstr (json_array_get_string_element (arr, 1), ==, "\xf4\x8f\xbf\xbf");
}

static void
test_parse_document_keeps_order (Fixture *f, gconstpointer data)
{
  const char *doc = "\n{\r\n\t\"zeta\" : 1 , \"alpha\":[ 1 ,2, {} , [ ] ],"
                    "\"mid\":{\"b\":null,\"a\":true}}  ";
  g_autoptr (JsonNode) root = parse (doc, &f->error);
  g_assert_no_error (f->error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  JsonObject *obj = json_node_get_object (root);

  /* Members stay in document order, so a re-encoded file keeps its layout and unknown fields. */
  g_autoptr (GList) members = json_object_get_members (obj);
  g_assert_cmpuint (g_list_length (members), ==, 3);
  g_assert_cmpstr (g_list_nth_data (members, 0), ==, "zeta");
  g_assert_cmpstr (g_list_nth_data (members, 1), ==, "alpha");
  g_assert_cmpstr (g_list_nth_data (members, 2), ==, "mid");

  JsonArray *alpha = json_object_get_array_member (obj, "alpha");
  g_assert_cmpuint (json_array_get_length (alpha), ==, 4);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_array_get_element (alpha, 2)));
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_array_get_element (alpha, 3)));

  g_autoptr (GBytes) bytes = g_bytes_new_static (doc, strlen (doc));
  g_autoptr (JsonNode) again = sb_json_parse_bytes (bytes, &f->error);
  g_assert_no_error (f->error);
  g_assert_true (json_node_equal (root, again));
}

static void
test_parse_depth_limit (Fixture *f, gconstpointer data)
{
  /* SB_JSON_MAX_DEPTH levels are accepted, one more is refused. */
  g_autoptr (GString) ok = g_string_new (NULL);
  for (int i = 0; i < SB_JSON_MAX_DEPTH; i++)
    g_string_append (ok, i % 2 ? "{\"k\":" : "[");
  g_string_append_c (ok, '0');
  for (int i = SB_JSON_MAX_DEPTH - 1; i >= 0; i--)
    g_string_append (ok, i % 2 ? "}" : "]");
  g_autoptr (JsonNode) node = parse (ok->str, &f->error);
  g_assert_no_error (f->error);
  g_assert_nonnull (node);

  g_autoptr (GString) deep = g_string_new (NULL);
  for (int i = 0; i <= SB_JSON_MAX_DEPTH; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i <= SB_JSON_MAX_DEPTH; i++)
    g_string_append_c (deep, ']');
  assert_refused (deep->str);

  /* A hostile depth is refused early, without exhausting the stack. */
  gsize huge = 1 << 20;
  g_autofree char *brackets = g_malloc (huge);
  memset (brackets, '[', huge);
  assert_refused_len (brackets, huge);
  memset (brackets, '{', huge);
  assert_refused_len (brackets, huge);
}

/* ---- parsing: each refusal class ---- */

static void
test_refuse_duplicate_key (Fixture *f, gconstpointer data)
{
  assert_refused ("{\"a\":1,\"a\":1}");
  assert_refused ("{\"a\":1,\"b\":2,\"a\":3}");
  assert_refused ("{\"x\":{\"signed\":{},\"signed\":{}}}");
  assert_refused ("[{\"k\":1},{\"k\":1,\"k\":2}]");
  /* The same key written with an escape is still the same key. */
  assert_refused ("{\"a\":1,\"\\u0061\":2}");

  /* The same key in sibling objects is fine. */
  g_autoptr (JsonNode) node = parse ("[{\"k\":1},{\"k\":2}]", &f->error);
  g_assert_no_error (f->error);
}

static void
test_refuse_invalid_utf8 (Fixture *f, gconstpointer data)
{
  assert_refused ("\"\x80\"");             /* lone continuation byte */
  assert_refused ("\"\xc0\xaf\"");         /* overlong '/' */
  assert_refused ("\"\xc1\xbf\"");         /* overlong */
  assert_refused ("\"\xe0\x80\xaf\"");     /* overlong, three bytes */
  assert_refused ("\"\xf0\x80\x80\xaf\""); /* overlong, four bytes */
  assert_refused ("\"\xed\xa0\x80\"");     /* encoded surrogate U+D800 */
  assert_refused ("\"\xf4\x90\x80\x80\""); /* U+110000 */
  assert_refused ("\"\xf5\x80\x80\x80\""); /* lead byte past F4 */
  assert_refused ("\"\xff\"");
  assert_refused ("\"\xc3\"");             /* truncated before the quote */
  assert_refused ("\"\xe2\x82\"");
  assert_refused_len ("\"\xc3", 2);        /* truncated at end of input */
  assert_refused ("{\"\xc3\x28\":1}");     /* bad continuation in a key */
  assert_refused ("\xef\xbb\xbf{}");      /* a byte order mark is not JSON */
  assert_refused ("\xc3\xa9");             /* valid UTF-8 outside a string is still not JSON */
}

static void
test_refuse_nul (Fixture *f, gconstpointer data)
{
  assert_refused ("\"a\\u0000b\"");
  assert_refused ("{\"a\\u0000\":1}");
  /* A raw NUL byte is an unescaped control character. */
  assert_refused_len ("\"a\0b\"", 5);
  assert_refused_len ("{}\0", 3);
}

static void
test_refuse_lone_surrogate (Fixture *f, gconstpointer data)
{
  assert_refused ("\"\\ud800\"");
  assert_refused ("\"\\udc00\"");
  assert_refused ("\"\\ude00\\ud83d\"");  /* reversed pair */
  assert_refused ("\"\\ud83d\\u0041\"");  /* high then a non-surrogate */
  assert_refused ("\"\\ud83d\\ud83d\"");  /* high then high */
  assert_refused ("\"\\ud83dx\"");
  assert_refused ("\"\\ud83d\\\"");
  assert_refused ("\"\\ud83d");
}

static void
test_refuse_numbers (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "01", "-01", "00", "-00", "007.5",             /* leading zeros */
    "NaN", "-NaN", "Infinity", "-Infinity", "inf", /* not JSON numbers */
    "1e400", "-1e400", "1.5e99999999999",          /* overflow to infinity */
    "+1", ".5", "1.", "1.e3", "1e", "1e+", "-", "--1", "0x10", "1_000", "- 1",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_refused (bad[i]);
}

static void
test_refuse_int_overflow (Fixture *f, gconstpointer data)
{
  assert_refused ("9223372036854775808");
  assert_refused ("-9223372036854775809");
  assert_refused ("18446744073709551616");
  assert_refused ("{\"version\":100000000000000000000}");
  assert_refused ("[99999999999999999999999999999999999999999]");
}

static void
test_refuse_trailing (Fixture *f, gconstpointer data)
{
  assert_refused ("{} x");
  assert_refused ("{}}");
  assert_refused ("1 2");
  assert_refused ("[1]]");
  assert_refused ("\"a\"\"b\"");
  assert_refused ("true false");
  assert_refused ("null,");
}

static void
test_refuse_syntax (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "", " ", "\n\t", "{", "}", "[", "]", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{,}",
    "{\"a\" 1}", "{\"a\":}", "{a:1}", "{1:1}", "{'a':1}", "'a'", "\"abc", "\"\\x\"", "\"\\u12\"",
    "\"\\u12g4\"", "\"\\", "\"\t\"", "\"\n\"", "tru", "nul", "falsey", "True", "undefined",
    "[1,,2]", "{\"a\":1 \"b\":2}", "/* c */ 1", "\v1", "\f1", "\xc2\xa0" "1",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_refused (bad[i]);
}

static void
test_refuse_every_truncation (Fixture *f, gconstpointer data)
{
  /* Every proper prefix of a document ending in a brace is incomplete: each must be refused
   * cleanly (this walks the parser through every end-of-input path). */
  const char *doc = "{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\\ud83d\\ude00\xc3\xa9\"],\"b\":{}}";
  gsize len = strlen (doc);
  for (gsize i = 0; i < len; i++)
    assert_refused_len (doc, i);
  g_autoptr (JsonNode) node = parse_len (doc, len, &f->error);
  g_assert_no_error (f->error);
}

/* Mutates a valid document at random, deterministically. Whatever is accepted must survive a
 * pretty-print round trip unchanged; whatever is refused must be refused with SB_ERROR_PARSE. */
static void
test_parse_mutations (Fixture *f, gconstpointer data)
{
  const char *doc = "{\"signed\":{\"_type\":\"targets\",\"version\":12,\"targets\":{\"f\xc3\xa9\":"
                    "{\"length\":3,\"hashes\":{\"sha256\":\"ab\"}}},\"x\":[null,true,\"\\u20ac\"]},"
                    "\"signatures\":[{\"keyid\":\"00\",\"sig\":\"ff\"}]}";
  static const guint8 interesting[] = { '{', '}', '[', ']', '"', '\\', ':', ',', '0', '-', 'e', '.',
                                        'u', 0x00, 0x80, 0xc3, 0xed, 0xff, ' ' };
  gsize len = strlen (doc);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240601);
  guint accepted = 0;

  for (int round = 0; round < 20000; round++)
    {
      g_autofree guint8 *buf = g_malloc (len + 4);
      gsize n = len;
      memcpy (buf, doc, len);
      int edits = g_rand_int_range (rand, 1, 4);
      for (int e = 0; e < edits; e++)
        {
          gsize at = (gsize) g_rand_int_range (rand, 0, (gint32) n);
          switch (g_rand_int_range (rand, 0, 3))
            {
            case 0: /* replace */
              buf[at] = g_rand_boolean (rand)
                            ? interesting[g_rand_int_range (rand, 0, G_N_ELEMENTS (interesting))]
                            : (guint8) g_rand_int_range (rand, 0, 256);
              break;
            case 1: /* delete */
              memmove (buf + at, buf + at + 1, n - at - 1);
              n--;
              break;
            default: /* duplicate a byte */
              memmove (buf + at + 1, buf + at, n - at);
              n++;
              break;
            }
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = sb_json_parse (buf, n, &error);
      if (node == NULL)
        {
          g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
          continue;
        }
      g_assert_no_error (error);
      accepted++;
      /* The pretty form is strict JSON again and holds the same tree. (The canonical form is
       * not always JSON: it leaves control characters unescaped.) */
      g_autofree char *pretty = sb_json_pretty (node);
      g_autoptr (JsonNode) again = parse (pretty, &error);
      g_assert_no_error (error);
      g_assert_true (json_node_equal (node, again));
      g_autoptr (GBytes) canon = sb_json_canonical (node, &error);
      if (canon == NULL)
        {
          /* Only a mutation that produced a float may fail to encode. */
          g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
          continue;
        }
      g_autoptr (GBytes) canon2 = sb_json_canonical (again, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (canon, canon2));
    }
  /* The mutations keep some documents valid, or this test would only cover refusals. */
  g_assert_cmpuint (accepted, >, 0);
}

/* ---- canonical encoding ---- */

/* Golden vectors produced by securesystemslib's encode_canonical algorithm (python3). */
static void
test_canonical_golden_root (Fixture *f, gconstpointer data)
{
  const char *doc =
      "{ \"signed\" : { \"_type\": \"root\", \"version\": 1, \"spec_version\": \"1.0.31\",\n"
      " \"expires\": \"2030-01-01T00:00:00Z\", \"consistent_snapshot\": false,\n"
      " \"keys\": { \"ab12\": { \"keytype\": \"ed25519\", \"scheme\": \"ed25519\", \"keyval\": { "
      "\"public\": \"00ff\" } } },\n"
      " \"roles\": { \"root\": { \"keyids\": [\"ab12\"], \"threshold\": 1 } } },\n"
      " \"signatures\": [] }";
  const char *expected =
      "{\"signatures\":[],\"signed\":{\"_type\":\"root\",\"consistent_snapshot\":false,"
      "\"expires\":\"2030-01-01T00:00:00Z\",\"keys\":{\"ab12\":{\"keytype\":\"ed25519\","
      "\"keyval\":{\"public\":\"00ff\"},\"scheme\":\"ed25519\"}},\"roles\":{\"root\":{"
      "\"keyids\":[\"ab12\"],\"threshold\":1}},\"spec_version\":\"1.0.31\",\"version\":1}}";
  g_autoptr (JsonNode) node = parse (doc, &f->error);
  g_assert_no_error (f->error);
  assert_canonical (node, expected);
}

static void
test_canonical_golden_unicode (Fixture *f, gconstpointer data)
{
  /* Keys sort by code point: U+FF61 before U+1F600, although UTF-16 order would put the
   * surrogate pair of U+1F600 first. Strings escape only '"' and '\\'; control characters,
   * DEL, '/' and non-ASCII are copied verbatim. */
  const char *doc = "{\"z\":\"a\\\"b\\\\c\\/d\\n\\t\\u0001\\u00e9\\ud83d\\ude00\\u007f\","
                    "\"\\u00e9\":1,"
                    "\"a\":[true,false,null,-5,{}],\"A\":[],\"\\ud83d\\ude00\":\"x\",\"\\uff61\":0,"
                    "\"\":-9223372036854775808}";
  const char *expected = "{\"\":-9223372036854775808,\"A\":[],\"a\":[true,false,null,-5,{}],"
                         "\"z\":\"a\\\"b\\\\c/d\n\t\x01\xc3\xa9\xf0\x9f\x98\x80\x7f\","
                         "\"\xc3\xa9\":1,\"\xef\xbd\xa1\":0,\"\xf0\x9f\x98\x80\":\"x\"}";
  g_autoptr (JsonNode) node = parse (doc, &f->error);
  g_assert_no_error (f->error);
  assert_canonical (node, expected);
}

static void
test_canonical_scalars (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    { " 0 ", "0" },
    { "-0", "0" },
    { "9223372036854775807", "9223372036854775807" },
    { "\"\"", "\"\"" },
    { "\"\\\\\\\"\"", "\"\\\\\\\"\"" },
    { " [ ] ", "[]" },
    { " { } ", "{}" },
    { "null", "null" },
    { "[true ,false]", "[true,false]" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = parse (cases[i].in, &error);
      g_assert_no_error (error);
      assert_canonical (node, cases[i].out);
    }
}

static void
test_canonical_built_tree (Fixture *f, gconstpointer data)
{
  /* Trees built in code (as the repository tool does) encode like parsed ones. */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 3);
  json_builder_set_member_name (b, "_type");
  json_builder_add_string_value (b, "snapshot");
  json_builder_set_member_name (b, "meta");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "targets.json");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "none");
  json_builder_add_null_value (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  assert_canonical (root, "{\"_type\":\"snapshot\",\"meta\":{\"targets.json\":{\"version\":1}},"
                          "\"none\":null,\"ok\":true,\"version\":3}");
}

static void
test_canonical_refuses_doubles (Fixture *f, gconstpointer data)
{
  static const char *const docs[] = { "1.5", "{\"a\":1.0}", "[1,[2,{\"b\":3e0}]]", "-0.0" };
  for (gsize i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = parse (docs[i], &error);
      g_assert_no_error (error);
      g_autoptr (GBytes) bytes = sb_json_canonical (node, &error);
      g_assert_null (bytes);
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
    }
}

static void
test_canonical_key_prefixes (Fixture *f, gconstpointer data)
{
  /* A key sorts before every key it is a prefix of, and space (0x20) before letters. */
  g_autoptr (JsonNode) node = parse ("{\"b\":1,\"ab\":2,\"a b\":3,\"a\":4,\"B\":5,\"_\":6}",
                                     &f->error);
  g_assert_no_error (f->error);
  assert_canonical (node, "{\"B\":5,\"_\":6,\"a\":4,\"a b\":3,\"ab\":2,\"b\":1}");
}

static void
test_canonical_refuses_deep_built_tree (Fixture *f, gconstpointer data)
{
  /* A tree built in code has no parser in front of it; the encoder bounds its own recursion. */
  g_autoptr (JsonNode) root = json_node_init_array (json_node_alloc (), json_array_new ());
  JsonArray *arr = json_node_get_array (root);
  for (int i = 0; i < 10000; i++)
    {
      JsonArray *inner = json_array_new ();
      json_array_add_array_element (arr, inner);
      arr = inner;
    }
  g_autoptr (GBytes) bytes = sb_json_canonical (root, &f->error);
  g_assert_null (bytes);
  g_assert_error (f->error, SB_ERROR, SB_ERROR_PARSE);
}

static void
test_canonical_refuses_invalid_utf8 (Fixture *f, gconstpointer data)
{
  /* A tree built in code can hold bytes no parser would produce; they cannot be signed. */
  g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), "bad \xff");
  g_autoptr (GBytes) bytes = sb_json_canonical (node, &f->error);
  g_assert_null (bytes);
  g_assert_error (f->error, SB_ERROR, SB_ERROR_PARSE);
}

/* ---- pretty printing ---- */

static void
test_pretty_round_trip (Fixture *f, gconstpointer data)
{
  const char *doc = "{\"z\":1,\"a\":[\"\\u00e9\\n\\\"\",{},[]],\"m\":{\"y\":null,\"b\":false}}";
  g_autoptr (JsonNode) node = parse (doc, &f->error);
  g_assert_no_error (f->error);
  g_autofree char *pretty = sb_json_pretty (node);
  g_assert_true (g_str_has_prefix (pretty, "{\n  \"z\" : 1,\n"));
  g_assert_true (g_str_has_suffix (pretty, "}\n"));

  /* The output is strict JSON, in document order, with the same content. */
  g_autoptr (JsonNode) again = parse (pretty, &f->error);
  g_assert_no_error (f->error);
  g_assert_true (json_node_equal (node, again));
  g_autoptr (GList) members = json_object_get_members (json_node_get_object (again));
  g_assert_cmpstr (g_list_nth_data (members, 0), ==, "z");
  g_assert_cmpstr (g_list_nth_data (members, 1), ==, "a");
  g_assert_cmpstr (g_list_nth_data (members, 2), ==, "m");
}

/* Doubles stay doubles that parse back: json-glib's generator wrote 2E195 as "2e+195.0". */
static void
test_pretty_doubles_parse_back (Fixture *f, gconstpointer data)
{
  static const char *const docs[] = { "2E195", "[5.0,-0.5,1e-300,2E195,-1E+2,0.1]",
                                      "{\"d\":{\"x\":1.7976931348623157e308}}" };
  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr (JsonNode) node = parse (docs[i], &f->error);
      g_assert_no_error (f->error);
      g_autofree char *pretty = sb_json_pretty (node);
      g_autoptr (JsonNode) again = parse (pretty, &f->error);
      g_assert_no_error (f->error);
      g_assert_true (json_node_equal (node, again));
    }
  g_autoptr (JsonNode) five = parse ("[5.0]", &f->error);
  g_autofree char *text = sb_json_pretty (five);
  g_assert_cmpstr (text, ==, "[\n  5.0\n]\n");
}

/* Without doubles the text is what json-glib's pretty generator writes, so state files that
 * sb_json_pretty writes keep their form. */
static void
test_pretty_matches_json_glib (Fixture *f, gconstpointer data)
{
  const char *doc = "{\"a\":{},\"b\":[],\"c\":[1,{\"x\":null,\"y\":true,\"z\":[[]]}],"
                    "\"d\":\"q\\\"\\\\\\n\\t\\u0001\\u007f\\u00e9/\",\"e\":-5,\"f\":{\"g\":{}}}";
  g_autoptr (JsonNode) node = parse (doc, &f->error);
  g_assert_no_error (f->error);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_indent_char (gen, ' ');
  json_generator_set_root (gen, node);
  g_autofree char *expected_text = json_generator_to_data (gen, NULL);
  g_autofree char *expected = g_strconcat (expected_text, "\n", NULL);
  g_autofree char *pretty = sb_json_pretty (node);
  g_assert_cmpstr (pretty, ==, expected);
}

/* ---- typed getters ---- */

static void
test_getters (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) node = parse ("{\"o\":{},\"a\":[1],\"s\":\"x\",\"i\":-3,\"b\":true,"
                                     "\"d\":1.0,\"n\":null,\"bs\":\"true\"}",
                                     &f->error);
  g_assert_no_error (f->error);
  JsonObject *obj = json_node_get_object (node);
  g_autoptr (GError) error = NULL;
  gint64 i = 0;
  gboolean b = FALSE;

  g_assert_nonnull (sb_json_get_object (obj, "o", "test", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (sb_json_get_array (obj, "a", "test", &error)), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_json_get_string (obj, "s", "test", &error), ==, "x");
  g_assert_no_error (error);
  g_assert_true (sb_json_get_int (obj, "i", "test", &i, &error));
  g_assert_no_error (error);
  g_assert_cmpint (i, ==, -3);
  g_assert_true (sb_json_get_bool (obj, "b", "test", &b, &error));
  g_assert_no_error (error);
  g_assert_true (b);
}

static void
test_getters_refuse (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) node = parse ("{\"o\":{},\"a\":[1],\"s\":\"x\",\"i\":-3,\"b\":true,"
                                     "\"d\":1.0,\"n\":null,\"bs\":\"true\",\"is\":\"1\"}",
                                     &f->error);
  g_assert_no_error (f->error);
  JsonObject *obj = json_node_get_object (node);
  gint64 i = 0;
  gboolean b = FALSE;

  static const char *const not_int[] = { "d", "b", "n", "is", "o", "a", "missing" };
  for (gsize k = 0; k < G_N_ELEMENTS (not_int); k++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (sb_json_get_int (obj, not_int[k], "test", &i, &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
    }
  static const char *const not_bool[] = { "bs", "i", "n", "missing" };
  for (gsize k = 0; k < G_N_ELEMENTS (not_bool); k++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (sb_json_get_bool (obj, not_bool[k], "test", &b, &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
    }
  static const char *const not_string[] = { "i", "n", "o", "a", "missing" };
  for (gsize k = 0; k < G_N_ELEMENTS (not_string); k++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (sb_json_get_string (obj, not_string[k], "test", &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
    }
  static const char *const not_object[] = { "a", "n", "s", "missing" };
  for (gsize k = 0; k < G_N_ELEMENTS (not_object); k++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (sb_json_get_object (obj, not_object[k], "test", &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
    }
  static const char *const not_array[] = { "o", "n", "s", "missing" };
  for (gsize k = 0; k < G_N_ELEMENTS (not_array); k++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (sb_json_get_array (obj, not_array[k], "test", &error));
      g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
    }
  g_assert_false (sb_json_node_is_int (NULL));
  g_assert_false (sb_json_node_is_int (json_object_get_member (obj, "b")));
}

static const char *const span_path[] = { "signed", "targets", NULL };

static GBytes *
span_doc (void)
{
  const char *doc = "{\"signatures\": [], \"signed\": {\"_type\": \"targets\", \"targets\": "
                    "{\"z/b\": {\"length\": 2, \"custom\": {\"k\": [1, \"\\u00e9\"]}}, "
                    "\"a\": {\"length\": 1}, \"\xc3\xa9\": {\"length\": 3}}, \"version\": 7}}";
  return g_bytes_new (doc, strlen (doc));
}

static void
test_span_map_canonical_matches_tree (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) doc = span_doc ();
  g_autoptr (SbJsonSpanMap) map = NULL;
  g_autoptr (JsonNode) lazy =
      sb_json_parse_with_span_map (doc, span_path, NULL, NULL, &map, &error);
  g_assert_no_error (error);
  g_assert_nonnull (map);
  g_autoptr (JsonNode) full = sb_json_parse_bytes (doc, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) a = sb_json_canonical_with_span_map (lazy, map, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) b = sb_json_canonical (full, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (a, b));
  /* The tree itself holds no member of the mapped object. */
  JsonObject *signed_obj = json_object_get_object_member (json_node_get_object (lazy), "signed");
  JsonObject *targets = json_object_get_object_member (signed_obj, "targets");
  g_assert_true (targets == sb_json_span_map_get_placeholder (map));
  g_assert_cmpuint (json_object_get_size (targets), ==, 0);
}

/* The values of a span map are encoded from their bytes, not from a tree: whatever the
 * whitespace, escapes, nesting and key order, the result is the tree encoder's byte for byte. */
static void
test_span_map_canonical_from_source (Fixture *f, gconstpointer data)
{
  static const char *const values[] = {
    "{\"length\":1}",
    " { \"z\" : [ 1 , -0 , 9223372036854775807 , -9223372036854775808 ] , \"a\" : { } } ",
    "{\"b\":{\"d\":[[],{},[[\"x\"]]],\"c\":null},\"a\":[true,false,null]}",
    "{\"s\":\"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t \\u00e9\\ud83d\\ude00 \xe2\x82\xac\"}",
    "{\"\\u00e9\":1,\"e\":2,\"E\":3,\"e\\u0301\":4,\"\":5,\"a b\":6,\"ab\":7}",
    "{\"k\":\"}]{[,\\\\\\\"\",\"l\":[\"]\",\"}\"]}",
    "\"just a string\"",
    "[1,{\"y\":1,\"x\":2}]",
    "42",
    "true",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *doc = g_strdup_printf (
          "{\"signed\": {\"targets\": {\"t2\": %s, \"t1\": {\"n\": [%s]}}}}", values[i], values[i]);
      g_autoptr (GBytes) bytes = g_bytes_new (doc, strlen (doc));
      g_autoptr (SbJsonSpanMap) map = NULL;
      g_autoptr (JsonNode) lazy =
          sb_json_parse_with_span_map (bytes, span_path, NULL, NULL, &map, &error);
      g_assert_no_error (error);
      g_autoptr (JsonNode) full = sb_json_parse_bytes (bytes, &error);
      g_assert_no_error (error);
      g_autoptr (GBytes) a = sb_json_canonical_with_span_map (lazy, map, &error);
      g_assert_no_error (error);
      g_autoptr (GBytes) b = sb_json_canonical (full, &error);
      g_assert_no_error (error);
      if (!g_bytes_equal (a, b))
        g_error ("value %" G_GSIZE_FORMAT ": %.*s != %.*s", i, (int) g_bytes_get_size (a),
                 (const char *) g_bytes_get_data (a, NULL), (int) g_bytes_get_size (b),
                 (const char *) g_bytes_get_data (b, NULL));
    }
}

/* A float inside a mapped value cannot be signed canonically, as in a tree. */
static void
test_span_map_canonical_refuses_double (Fixture *f, gconstpointer data)
{
  const char *doc = "{\"signed\": {\"targets\": {\"t\": {\"custom\": {\"x\": [1.5]}}}}}";
  g_autoptr (GBytes) bytes = g_bytes_new (doc, strlen (doc));
  g_autoptr (SbJsonSpanMap) map = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) lazy =
      sb_json_parse_with_span_map (bytes, span_path, NULL, NULL, &map, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) a = sb_json_canonical_with_span_map (lazy, map, &error);
  g_assert_null (a);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
}

/* Inside a span map, values are checked without building a tree: exactly as strictly, with the
 * same message (and so the same byte position) whenever a document is refused. */
static void
test_span_map_checks_like_tree (Fixture *f, gconstpointer data)
{
  static const char *const values[] = {
    /* accepted */
    "1", "-0", "[]", "{}", "\"\\u00e9\\ud83d\\ude00\"", "[1,[2,[3,{\"a\":[]}]]]",
    "{\"b\":1,\"a\":{\"c\":[true,false,null]},\"\\u0062x\":2.5e3}",
    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9}",
    /* refused: duplicates, small and large objects, escaped spellings, nested */
    "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}", "{\"x\":{\"a\":1,\"b\":{},\"a\":3}}",
    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
    "\"k3\":3}",
    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
    "\"k9\":{},\"k1\":1}",
    /* refused: numbers and syntax */
    "01", "-01", "NaN", "1e400", "+1", ".5", "1.", "1e", "-", "0x10", "9223372036854775808",
    "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{1:1}",
    "'a'", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\t\"", "tru", "nul", "falsey", "True",
    "[1,,2]", "\"\\u0000\"", "\"\\udc00\"", "\"\\ud800x\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
    "\"\xf4\x90\x80\x80\"", "\"\xc3\"", "{\"a\":[1,-2.5e3,true,false,null,\"x\"],\"b\":{",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *doc = g_strdup_printf ("{\"signed\": {\"targets\": {\"t\": %s}}}", values[i]);
      g_autoptr (GBytes) bytes = g_bytes_new (doc, strlen (doc));
      g_autoptr (GError) tree_error = NULL;
      g_autoptr (GError) span_error = NULL;
      g_autoptr (SbJsonSpanMap) map = NULL;
      g_autoptr (JsonNode) tree = sb_json_parse_bytes (bytes, &tree_error);
      g_autoptr (JsonNode) lazy =
          sb_json_parse_with_span_map (bytes, span_path, NULL, NULL, &map, &span_error);
      if ((tree == NULL) != (lazy == NULL))
        g_error ("value %" G_GSIZE_FORMAT " (%s): tree %s, span map %s", i, values[i],
                 tree != NULL ? "accepts" : tree_error->message,
                 lazy != NULL ? "accepts" : span_error->message);
      if (tree == NULL)
        {
          g_assert_error (span_error, SB_ERROR, SB_ERROR_PARSE);
          g_assert_cmpstr (span_error->message, ==, tree_error->message);
        }
    }
  /* Nesting: the depth limit is the same. */
  for (guint depth = SB_JSON_MAX_DEPTH - 4; depth <= SB_JSON_MAX_DEPTH + 1; depth++)
    {
      g_autoptr (GString) doc = g_string_new ("{\"signed\": {\"targets\": {\"t\": ");
      for (guint d = 0; d < depth; d++)
        g_string_append_c (doc, '[');
      for (guint d = 0; d < depth; d++)
        g_string_append_c (doc, ']');
      g_string_append (doc, "}}}");
      g_autoptr (GBytes) bytes = g_bytes_new (doc->str, doc->len);
      g_autoptr (GError) e1 = NULL;
      g_autoptr (GError) e2 = NULL;
      g_autoptr (SbJsonSpanMap) map = NULL;
      g_autoptr (JsonNode) tree = sb_json_parse_bytes (bytes, &e1);
      g_autoptr (JsonNode) lazy = sb_json_parse_with_span_map (bytes, span_path, NULL, NULL, &map,
                                                               &e2);
      g_assert_true ((tree == NULL) == (lazy == NULL));
      if (tree == NULL)
        g_assert_cmpstr (e1->message, ==, e2->message);
    }
}

/* The readers of accepted bytes. */
static void
test_slice_readers (Fixture *f, gconstpointer data)
{
  const char *text = " { \"length\" : 42 , \"h\\u0061shes\" : {\"sha256\": \"ab\", \"x\": [1, {\"y\": \"}\"}]},"
                     " \"neg\": -7, \"d\": 1.5, \"s\": \"q\\\"}\", \"b\": true, \"n\": null, \"e\": {} } ";
  SbJsonSlice obj = { (const guint8 *) text, strlen (text) };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) check = sb_json_parse (obj.data, obj.len, &error);
  g_assert_no_error (error);

  g_assert_cmpint (sb_json_slice_kind (&obj), ==, SB_JSON_KIND_OBJECT);
  g_assert_cmpuint (sb_json_slice_get_size (&obj), ==, 8);
  SbJsonSlice v;
  gint64 i = 0;
  g_assert_true (sb_json_slice_get_member (&obj, "length", &v));
  g_assert_true (sb_json_slice_get_int (&v, &i));
  g_assert_cmpint (i, ==, 42);
  g_assert_true (sb_json_slice_get_member (&obj, "neg", &v));
  g_assert_true (sb_json_slice_get_int (&v, &i));
  g_assert_cmpint (i, ==, -7);
  g_assert_true (sb_json_slice_get_member (&obj, "d", &v));
  g_assert_cmpint (sb_json_slice_kind (&v), ==, SB_JSON_KIND_DOUBLE);
  g_assert_false (sb_json_slice_get_int (&v, &i));
  g_assert_true (sb_json_slice_get_member (&obj, "hashes", &v)); /* an escaped key */
  g_assert_cmpint (sb_json_slice_kind (&v), ==, SB_JSON_KIND_OBJECT);
  g_assert_cmpuint (sb_json_slice_get_size (&v), ==, 2);
  SbJsonSlice x;
  g_assert_true (sb_json_slice_get_member (&v, "x", &x));
  g_assert_cmpint (sb_json_slice_kind (&x), ==, SB_JSON_KIND_ARRAY);
  g_assert_cmpuint (sb_json_slice_get_size (&x), ==, 2);
  g_assert_true (sb_json_slice_get_member (&obj, "s", &v));
  g_assert_cmpint (sb_json_slice_kind (&v), ==, SB_JSON_KIND_STRING);
  g_assert_true (sb_json_slice_get_member (&obj, "b", &v));
  g_assert_cmpint (sb_json_slice_kind (&v), ==, SB_JSON_KIND_BOOL);
  g_assert_true (sb_json_slice_get_member (&obj, "n", &v));
  g_assert_cmpint (sb_json_slice_kind (&v), ==, SB_JSON_KIND_NULL);
  g_assert_true (sb_json_slice_get_member (&obj, "e", &v));
  g_assert_cmpuint (sb_json_slice_get_size (&v), ==, 0);
  g_assert_false (sb_json_slice_get_member (&obj, "missing", &v));
  g_assert_false (sb_json_slice_get_member (&x, "y", &v)); /* not an object */

  static const char *const keys[] = { "length", "hashes", "neg", "d", "s", "b", "n", "e" };
  g_autoptr (GString) key = g_string_new ("stale");
  gsize cursor = 0;
  guint n = 0;
  while (sb_json_slice_next_member (&obj, &cursor, key, &v))
    {
      g_assert_cmpuint (n, <, G_N_ELEMENTS (keys));
      g_assert_cmpstr (key->str, ==, keys[n]);
      n++;
    }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (keys));
}

static void
test_span_map_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) doc = span_doc ();
  g_autoptr (SbJsonSpanMap) map = NULL;
  g_autoptr (JsonNode) root = sb_json_parse_with_span_map (doc, span_path, NULL, NULL, &map,
                                                           &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sb_json_span_map_get_size (map), ==, 3);
  /* Sorted bytewise: "a" < "z/b" < "\xc3\xa9". */
  g_assert_cmpstr (sb_json_span_map_get_key (map, 0), ==, "a");
  g_assert_cmpstr (sb_json_span_map_get_key (map, 1), ==, "z/b");
  guint i = 99;
  g_assert_true (sb_json_span_map_find (map, "z/b", &i));
  g_assert_cmpuint (i, ==, 1);
  g_assert_false (sb_json_span_map_find (map, "missing", &i));
  g_autoptr (JsonNode) v = sb_json_span_map_get_value (map, i, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (v), "length"), ==, 2);
}

static gboolean
refuse_b (const char *key, const SbJsonSlice *value, gpointer user_data, GError **error)
{
  (*(guint *) user_data)++;
  if (g_str_equal (key, "z/b"))
    return sb_throw (error, SB_ERROR_PARSE, "no z/b here");
  return TRUE;
}

static void
test_span_map_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) doc = span_doc ();
  g_autoptr (SbJsonSpanMap) map = NULL;
  guint calls = 0;
  g_autoptr (JsonNode) root = sb_json_parse_with_span_map (doc, span_path, refuse_b, &calls,
                                                           &map, &error);
  g_assert_null (root);
  g_assert_null (map);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_assert_cmpuint (calls, ==, 1);
  g_clear_error (&error);

  const char *dup = "{\"signed\": {\"targets\": {\"x\": 1, \"y\": 2, \"x\": 3}}}";
  g_autoptr (GBytes) dupb = g_bytes_new_static (dup, strlen (dup));
  g_autoptr (JsonNode) r2 = sb_json_parse_with_span_map (dupb, span_path, NULL, NULL, &map,
                                                         &error);
  g_assert_null (r2);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_clear_error (&error);

  const char *bad = "{\"signed\": {\"targets\": {\"x\": 01}}}";
  g_autoptr (GBytes) badb = g_bytes_new_static (bad, strlen (bad));
  g_autoptr (JsonNode) r3 = sb_json_parse_with_span_map (badb, span_path, NULL, NULL, &map,
                                                         &error);
  g_assert_null (r3);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_clear_error (&error);

  /* No object at the path: an ordinary tree, no map. */
  const char *none = "{\"signed\": {\"targets\": [1]}, \"targets\": {}}";
  g_autoptr (GBytes) noneb = g_bytes_new_static (none, strlen (none));
  g_autoptr (JsonNode) r4 = sb_json_parse_with_span_map (noneb, span_path, NULL, NULL, &map,
                                                         &error);
  g_assert_no_error (error);
  g_assert_nonnull (r4);
  g_assert_null (map);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/json/parse/valid/scalars", test_parse_scalars);
  ADD ("/json/pretty/doubles-parse-back", test_pretty_doubles_parse_back);
  ADD ("/json/pretty/matches-json-glib-without-doubles", test_pretty_matches_json_glib);
  ADD ("/json/parse/valid/integers-exact-int64", test_parse_integers);
  ADD ("/json/parse/valid/strings-and-escapes", test_parse_strings);
  ADD ("/json/parse/valid/document-keeps-member-order", test_parse_document_keeps_order);
  ADD ("/json/parse/depth-limit", test_parse_depth_limit);
  ADD ("/json/parse/refuse/duplicate-key", test_refuse_duplicate_key);
  ADD ("/json/parse/refuse/invalid-utf8", test_refuse_invalid_utf8);
  ADD ("/json/parse/refuse/nul", test_refuse_nul);
  ADD ("/json/parse/refuse/lone-surrogate", test_refuse_lone_surrogate);
  ADD ("/json/parse/refuse/bad-numbers", test_refuse_numbers);
  ADD ("/json/parse/refuse/int64-overflow", test_refuse_int_overflow);
  ADD ("/json/parse/refuse/trailing-data", test_refuse_trailing);
  ADD ("/json/parse/refuse/syntax", test_refuse_syntax);
  ADD ("/json/parse/refuse/every-truncation", test_refuse_every_truncation);
  ADD ("/json/parse/mutations-never-crash", test_parse_mutations);
  ADD ("/json/canonical/golden-root", test_canonical_golden_root);
  ADD ("/json/canonical/golden-unicode-sort-and-escaping", test_canonical_golden_unicode);
  ADD ("/json/canonical/scalars", test_canonical_scalars);
  ADD ("/json/canonical/built-tree", test_canonical_built_tree);
  ADD ("/json/canonical/key-prefixes-sort-first", test_canonical_key_prefixes);
  ADD ("/json/canonical/refuse-doubles", test_canonical_refuses_doubles);
  ADD ("/json/canonical/refuse-deep-built-tree", test_canonical_refuses_deep_built_tree);
  ADD ("/json/canonical/refuse-invalid-utf8", test_canonical_refuses_invalid_utf8);
  ADD ("/json/pretty/round-trip", test_pretty_round_trip);
  ADD ("/json/get/typed", test_getters);
  ADD ("/json/span-map/canonical-matches-full-tree", test_span_map_canonical_matches_tree);
  ADD ("/json/span-map/canonical-from-source", test_span_map_canonical_from_source);
  ADD ("/json/span-map/canonical-refuses-double", test_span_map_canonical_refuses_double);
  ADD ("/json/span-map/sorted-lookup", test_span_map_lookup);
  ADD ("/json/span-map/checks-like-tree", test_span_map_checks_like_tree);
  ADD ("/json/slice/readers", test_slice_readers);
  ADD ("/json/span-map/refusals", test_span_map_refusals);
  ADD ("/json/get/refuse-wrong-type-or-missing", test_getters_refuse);
#undef ADD

  return g_test_run ();
}
