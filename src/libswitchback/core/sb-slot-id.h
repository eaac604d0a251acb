/* sb-slot-id.h: the names of the two A/B slots, as GRUB's SB_ORDER, switchback.slot= and the
 * state files spell them. Pure: which device a slot is lives in sb-slots. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SB_SLOT_A = 0,
  SB_SLOT_B = 1,
} SbSlotId;

/* "A" or "B": the slot names of SB_ORDER and of switchback.slot=. */
const char *sb_slot_id_name (SbSlotId id);
/* Parses "A" or "B" (exactly). FALSE for anything else. */
gboolean sb_slot_id_from_name (const char *name, SbSlotId *out_id);
SbSlotId sb_slot_id_other (SbSlotId id);

G_END_DECLS
