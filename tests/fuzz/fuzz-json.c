/* fuzz-json.c: the strict JSON parser, the canonical encoder, the span-map parser and the
 * pretty printer, with the properties signatures rely on:
 *   - canonical form is a fixed point: parse(canonical(x)) encodes to the same bytes (when it
 *     holds no raw control character), and aktualizr's form parses back to the same bytes;
 *   - the span-map parse of {"signed": {"targets": ...}} accepts exactly what the tree parse
 *     accepts, and encodes to the same canonical bytes;
 *   - sb_json_pretty's text parses back into a tree with the same canonical form. */
#include "config.h"

#include "fuzz-util.h"
#include "core/sb-json.h"

#include <string.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  sb_fuzz_init ();
  return 0;
}

static gboolean
bytes_equal (GBytes *a, GBytes *b)
{
  return a != NULL && b != NULL && g_bytes_equal (a, b);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) tree = sb_json_parse (data, size, &error);

  static const char *const span_path[] = { "signed", "targets", NULL };
  g_autoptr (GError) span_error = NULL;
  g_autoptr (SbJsonSpanMap) map = NULL;
  g_autoptr (JsonNode) spanned =
      sb_json_parse_with_span_map (bytes, span_path, NULL, NULL, &map, &span_error);
  SB_FUZZ_ASSERT ((tree == NULL) == (spanned == NULL),
                  "the span-map parser accepts what the tree parser accepts");
  if (tree == NULL)
    {
      SB_FUZZ_ASSERT (error != NULL, "a refusal says why");
      return 0;
    }

  g_autoptr (GError) canon_error = NULL;
  g_autoptr (GBytes) canon = sb_json_canonical (tree, &canon_error);
  g_autoptr (GError) canon_span_error = NULL;
  g_autoptr (GBytes) canon_span = sb_json_canonical_with_span_map (spanned, map, &canon_span_error);
  SB_FUZZ_ASSERT ((canon == NULL) == (canon_span == NULL),
                  "a span map encodes when its tree encodes");
  if (canon != NULL)
    {
      SB_FUZZ_ASSERT (bytes_equal (canon, canon_span),
                      "the span map encodes to the tree's canonical bytes");
      /* OLPC canonical JSON writes control characters in strings raw, which is not JSON, so
       * it parses back only without them. aktualizr's form escapes them: that one always
       * parses back, into a tree with the same OLPC bytes. */
      gsize clen;
      const guint8 *cdata = g_bytes_get_data (canon, &clen);
      gboolean has_control = FALSE;
      for (gsize i = 0; i < clen && !has_control; i++)
        has_control = cdata[i] < 0x20;
      if (!has_control)
        {
          g_autoptr (JsonNode) again = sb_json_parse (cdata, clen, &error);
          SB_FUZZ_ASSERT (again != NULL, "canonical output parses");
          g_autoptr (GBytes) canon2 = sb_json_canonical (again, &error);
          SB_FUZZ_ASSERT (bytes_equal (canon, canon2), "canonical form is a fixed point");
        }
      g_autoptr (GError) akt_error = NULL;
      g_autoptr (GBytes) akt = sb_json_canonical_form (tree, NULL, SB_JSON_CANONICAL_AKTUALIZR,
                                                       &akt_error);
      SB_FUZZ_ASSERT (akt != NULL, "aktualizr's form encodes what OLPC's encodes");
      gsize alen;
      const guint8 *adata = g_bytes_get_data (akt, &alen);
      g_autoptr (GError) akt_parse_error = NULL;
      g_autoptr (JsonNode) from_akt = sb_json_parse (adata, alen, &akt_parse_error);
      SB_FUZZ_ASSERT (from_akt != NULL, "aktualizr's canonical output parses");
      g_autoptr (GError) canon3_error = NULL;
      g_autoptr (GBytes) canon3 = sb_json_canonical (from_akt, &canon3_error);
      SB_FUZZ_ASSERT (canon3 != NULL && bytes_equal (canon, canon3),
                      "aktualizr's form parses back to the same OLPC canonical bytes");
    }
  if (map != NULL)
    for (guint i = 0; i < sb_json_span_map_get_size (map); i++)
      {
        guint found;
        const char *key = sb_json_span_map_get_key (map, i);
        SB_FUZZ_ASSERT (sb_json_span_map_find (map, key, &found) && found == i,
                        "every span-map key is found where it is");
        g_autoptr (JsonNode) value = sb_json_span_map_get_value (map, i, &error);
        SB_FUZZ_ASSERT (value != NULL, "every span-map value parses");
      }

  g_autofree char *pretty = sb_json_pretty (tree);
  g_autoptr (JsonNode) reparsed = sb_json_parse ((const guint8 *) pretty, strlen (pretty), &error);
  SB_FUZZ_ASSERT (reparsed != NULL, "pretty output parses back");
  SB_FUZZ_ASSERT (json_node_equal (tree, reparsed), "pretty output parses back to an equal tree");
  return 0;
}
