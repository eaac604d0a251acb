/* sb-metadata-stage.h: a working copy of a trusted metadata directory, for verification that
 * must succeed as a whole before anything it stored counts as trusted.
 *
 * A TUF client persists each file as soon as it verifies (TUF §5). An Uptane primary verifies
 * more than one repository and then applies its own rules across them (Uptane §5.4.4.2); a
 * Director targets file that verifies but is refused by those rules must not become the trusted
 * state. So the client works on a working copy: every file of the trusted directory hard-linked
 * into it (copied where links are not supported), which is safe because sb_durable_write
 * replaces files with a new inode and never writes into one. When everything passed, commit
 * moves the new files into the trusted directory (a rename each) and removes the files the
 * client removed, fsyncing the directory after root.json moved and again at the end. Until then the trusted directory is untouched, and
 * discarding the working copy undoes everything.
 *
 * A power cut during a commit leaves each file old or new, each one verified on its own, which
 * is what TUF asks of stored metadata; root.json moves first, and its rename is made durable (the
 * directory fsynced) before any other file moves, so files signed by new keys never sit beside
 * a root that does not know them. The trusted directory holds plain files only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SbMetadataStage SbMetadataStage;

/* Makes @staging_dir a working copy of @dir: a working copy left behind (by a crash) is removed
 * first; @dir may not exist yet (the first run), then the copy starts empty. */
SbMetadataStage *sb_metadata_stage_open (const char *dir, const char *staging_dir,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_metadata_stage_free (SbMetadataStage *stage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbMetadataStage, sb_metadata_stage_free)

/* The working copy, to hand to the client as its metadata directory. */
const char *sb_metadata_stage_get_path (SbMetadataStage *stage);

/* TRUE when @name was a file of the trusted directory when the stage was opened. */
gboolean sb_metadata_stage_was_trusted (SbMetadataStage *stage, const char *name);

/* The names of the regular files in the working copy now (a set: name -> name). */
GHashTable *sb_metadata_stage_list (SbMetadataStage *stage, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Makes the working copy the trusted directory's content (see above; @dir is created when
 * missing) and removes the working copy. */
gboolean sb_metadata_stage_commit (SbMetadataStage *stage, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

/* Removes the working copy @staging_dir (a directory of plain files) if it exists. */
gboolean sb_metadata_stage_discard (const char *staging_dir, GError **error)
    G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
