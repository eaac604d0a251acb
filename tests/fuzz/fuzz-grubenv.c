/* fuzz-grubenv.c: a GRUB environment block from disk, then edits of it.
 *
 * The first SB_GRUBENV_SIZE bytes are the block (a shorter input is padded with '#'). The rest
 * is a list of edits, each one byte (even: set, odd: unset), a name and, for set, a value,
 * each ended by a NUL. Without edits one variable is set. Properties: what set accepted, get
 * returns; what unset removed, get no longer returns; and the block saved and loaded again
 * holds the same variables with the same values. */
#include "config.h"

#include "fuzz-util.h"
#include "core/sb-error.h"
#include "install/sb-grubenv.h"

#include <string.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  sb_fuzz_init ();
  return 0;
}

/* The next NUL-ended token at *pos, or NULL at the end. */
static char *
take_token (const uint8_t *data, size_t size, size_t *pos)
{
  if (*pos >= size)
    return NULL;
  const uint8_t *start = data + *pos;
  const uint8_t *nul = memchr (start, '\0', size - *pos);
  size_t len = nul != NULL ? (size_t) (nul - start) : size - *pos;
  *pos += len + 1;
  return g_strndup ((const char *) start, len);
}

static void
assert_same_variables (SbGrubenv *a, SbGrubenv *b)
{
  g_auto (GStrv) names_a = sb_grubenv_get_names (a);
  g_auto (GStrv) names_b = sb_grubenv_get_names (b);
  SB_FUZZ_ASSERT (g_strv_equal ((const char *const *) names_a, (const char *const *) names_b),
                  "the reloaded block has the same names");
  for (guint i = 0; names_a[i] != NULL; i++)
    SB_FUZZ_ASSERT (g_strcmp0 (sb_grubenv_get (a, names_a[i]), sb_grubenv_get (b, names_a[i])) == 0,
                    "the reloaded block has the same values");
}

static void
apply_set (SbGrubenv *env, const char *name, const char *value)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) before = sb_grubenv_get_names (env);
  if (sb_grubenv_set (env, name, value, &error))
    SB_FUZZ_ASSERT (g_strcmp0 (sb_grubenv_get (env, name), value) == 0,
                    "a variable that set accepted reads back");
  else
    {
      g_auto (GStrv) after = sb_grubenv_get_names (env);
      SB_FUZZ_ASSERT (g_strv_equal ((const char *const *) before, (const char *const *) after),
                      "a refused set leaves the block as it was");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t block[SB_GRUBENV_SIZE];
  memset (block, '#', sizeof block);
  memcpy (block, data, MIN (size, sizeof block));
  g_autofree char *path = sb_fuzz_write_file ("grubenv", block, sizeof block);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbGrubenv) env = sb_grubenv_load (path, &error);
  if (env == NULL)
    {
      SB_FUZZ_ASSERT (error != NULL, "a refused block says why");
      return 0;
    }

  size_t pos = sizeof block;
  if (size <= pos)
    apply_set (env, "SB_FUZZ", "1");
  for (guint n = 0; n < 64 && pos < size; n++)
    {
      guint8 op = data[pos++];
      g_autofree char *name = take_token (data, size, &pos);
      if (name == NULL)
        break;
      if (op % 2 == 0)
        {
          g_autofree char *value = take_token (data, size, &pos);
          apply_set (env, name, value != NULL ? value : "");
        }
      else
        {
          sb_grubenv_unset (env, name);
          if (*name != '\0' && *name != '#')
            SB_FUZZ_ASSERT (sb_grubenv_get (env, name) == NULL, "an unset variable is gone");
        }
    }

  /* The bytes in memory must load as they read: what a save would give GRUB. */
  g_autoptr (SbGrubenv) copy = sb_grubenv_copy (env);
  assert_same_variables (env, copy);
  if (!sb_grubenv_save (env, &error))
    {
      SB_FUZZ_ASSERT (!g_error_matches (error, SB_ERROR, SB_ERROR_STATE),
                      "an edited block is still a block");
      return 0;
    }
  g_autoptr (SbGrubenv) again = sb_grubenv_load (path, &error);
  SB_FUZZ_ASSERT (again != NULL, "a saved block loads again");
  assert_same_variables (env, again);
  return 0;
}
