/* sb-slot-id.c: slot names. */
#include "config.h"

#include "core/sb-slot-id.h"

const char *
sb_slot_id_name (SbSlotId id)
{
  return id == SB_SLOT_A ? "A" : "B";
}

gboolean
sb_slot_id_from_name (const char *name, SbSlotId *out_id)
{
  if (g_strcmp0 (name, "A") == 0)
    *out_id = SB_SLOT_A;
  else if (g_strcmp0 (name, "B") == 0)
    *out_id = SB_SLOT_B;
  else
    return FALSE;
  return TRUE;
}

SbSlotId
sb_slot_id_other (SbSlotId id)
{
  return id == SB_SLOT_A ? SB_SLOT_B : SB_SLOT_A;
}
