/* sb-images.h: <state-dir>/images.json, the update cycle's memory of what it wrote into each
 * slot, the trial in flight and the trials that failed (its format: sb-update-cycle.h). Used by
 * the update cycle only. */
#pragma once

#include <gio/gio.h>

#include "install/sb-install.h"
#include "state/sb-install-state.h"

G_BEGIN_DECLS

/* <state-dir>/images.json (its format: sb-update-cycle.h), and how many failed installs it keeps. */
#define SB_UPDATE_IMAGES_FILE "images.json"
#define SB_UPDATE_MAX_FAILED 32

/* One image: in "slots", "trial" (with @slot) or "failed" (with @time). */
typedef struct
{
  SbSlotId slot; /* "trial" only */
  char *target;
  guint64 length;
  GHashTable *hashes; /* algorithm -> lowercase hex */
  char *correlation_id;
  char *time; /* "failed" only */
} SbImageRecord;

void sb_image_record_free (SbImageRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbImageRecord, sb_image_record_free)
/* The record of @t as an install would write it (no slot, no time). */
SbImageRecord *sb_image_record_new_for_target (const SbInstallTarget *t);
/* Same name and length, and every hash both list agrees (at least one in common). */
gboolean sb_image_record_matches (const SbImageRecord *r, const SbInstallTarget *t);

typedef struct
{
  SbImageRecord *slots[2];
  SbImageRecord *trial;
  GPtrArray *failed; /* SbImageRecord, oldest first */
} SbImages;

SbImages *sb_images_new (void);
void sb_images_free (SbImages *im);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbImages, sb_images_free)
/* Reads <state_dir>/images.json; a missing file is an empty memory. Anything malformed is
 * SB_ERROR_STATE naming the file. */
SbImages *sb_images_load (const char *state_dir, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* sb_images_load, except that a damaged file is reported (g_warning) and replaced by an empty
 * memory: it cannot stop updates. */
SbImages *sb_images_load_or_warn (const char *state_dir);
/* Writes it with sb_durable_write. */
gboolean sb_images_save (SbImages *im, const char *state_dir,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* The trial of the last cycle has ended when install.json (@st) no longer holds it: committed
 * if its slot became the committed one, else rolled back (design.md §4 case 2) and remembered as
 * failed. Returns the description of a failure found (free it), or NULL. */
char *sb_images_resolve_trial (SbImages *im, const SbInstallState *st);
/* TRUE when @target, under the same correlation id, already failed its trial boot. */
gboolean sb_images_failed_before (SbImages *im, const SbInstallTarget *target);

/* The image switchback wrote into a slot, as images.json records it. */
typedef struct
{
  char *target;
  char *sha256; /* or NULL when the target listed none */
  guint64 length;
} SbSlotImage;

void sb_slot_image_free (SbSlotImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbSlotImage, sb_slot_image_free)

/* The image in @slot according to <state_dir>/images.json, or NULL (without error) when none is
 * recorded: for the installed image of the manifest and `switchback status`. A damaged file is
 * SB_ERROR_STATE. */
SbSlotImage *sb_update_get_slot_image (const char *state_dir, SbSlotId slot,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
