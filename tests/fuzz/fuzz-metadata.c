/* fuzz-metadata.c: one metadata file of any role, parsed as untrusted bytes.
 * Byte 0 picks the role (root, timestamp, snapshot, targets); the rest is the file. Then every
 * accessor an updater uses on a parsed file is called, so each parsed field is read. */
#include "config.h"

#include "fuzz-util.h"
#include "core/sb-delegation.h"
#include "core/sb-metadata.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  sb_fuzz_init ();
  return 0;
}

static void
walk_role (SbMetadata *md, const SbRole *role)
{
  if (role == NULL)
    return;
  for (guint i = 0; i < role->n_keyids; i++)
    {
    (void) sb_metadata_get_key (md, role->keyids[i]);
    }
  (void) sb_role_delegates_path (role, "a/b.img");
  if (role->bit_length > 0)
    {
      g_autofree char *bin = sb_succinct_bin_for_target (role, "a/b.img");
      SB_FUZZ_ASSERT (bin != NULL && sb_succinct_has_bin (role, bin),
                      "a succinct role has the bin it names for a target");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  SbMetadataType type = (SbMetadataType) (data[0] % 4);
  g_autoptr (GBytes) bytes = g_bytes_new (data + 1, size - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbMetadata) md = sb_metadata_new_from_bytes (bytes, type, &error);
  if (md == NULL)
    {
      SB_FUZZ_ASSERT (error != NULL, "a refusal sets the error");
      return 0;
    }
  SB_FUZZ_ASSERT (sb_metadata_get_type (md) == type, "the parsed type is the requested one");
  (void) sb_metadata_get_version (md);
  (void) sb_metadata_is_expired (md, 1700000000);
  (void) sb_metadata_get_spec_version (md);
  SB_FUZZ_ASSERT (sb_metadata_get_signed_bytes (md) != NULL, "a parsed file has signed bytes");
  (void) sb_metadata_get_signature (md, "0000");
  switch (type)
    {
    case SB_METADATA_ROOT:
      (void) sb_metadata_get_consistent_snapshot (md);
      for (guint i = 0; i < 4; i++)
        walk_role (md, sb_metadata_get_role (md, sb_metadata_type_name ((SbMetadataType) i)));
      break;
    case SB_METADATA_TIMESTAMP:
      (void) sb_metadata_get_snapshot_meta (md);
      break;
    case SB_METADATA_SNAPSHOT:
      {
        GHashTable *files = sb_metadata_get_meta_files (md);
        SB_FUZZ_ASSERT (files != NULL, "a snapshot has its meta files");
        (void) sb_metadata_get_meta (md, "targets.json");
        break;
      }
    case SB_METADATA_TARGETS:
      {
        guint n = sb_metadata_get_n_targets (md);
        for (guint i = 0; i < n; i++)
          {
            const char *path = sb_metadata_get_target_path (md, i);
            SB_FUZZ_ASSERT (path != NULL, "every listed target has a path");
            g_autoptr (GError) local = NULL;
            g_autoptr (SbTargetInfo) info = sb_metadata_get_target (md, path);
            if (info != NULL)
              {
                guint algos;
                if (sb_target_info_get_hash_algos (info, &algos, &local)
                    && sb_target_info_verify_bytes (info, (const guint8 *) "", 0, NULL))
                  SB_FUZZ_ASSERT (info->length == 0, "only a target of length 0 matches no bytes");
              }
          }
        if (sb_metadata_has_delegations (md))
          {
            guint nd = 0;
            const SbRole *const *roles = sb_metadata_get_delegated_roles (md, &nd);
            for (guint i = 0; i < nd; i++)
              walk_role (md, roles[i]);
            walk_role (md, sb_metadata_get_succinct_roles (md));
          }
        break;
      }
    }
  return 0;
}
