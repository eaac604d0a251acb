/* sb-boot-decide.c: the cases of design.md §4, without any I/O. */
#include "config.h"

#include "install/sb-boot-decide.h"

#include <string.h>

static const char *const case_names[] = {
  [SB_BOOT_EMERGENCY] = "emergency",     [SB_BOOT_REFUSE_OLD] = "refuse-old",
  [SB_BOOT_REFUSE_INCOMPLETE] = "refuse-incomplete",
  [SB_BOOT_TRIAL_COMMIT] = "trial-commit", [SB_BOOT_TRIAL_AWAIT] = "trial-await",
  [SB_BOOT_ROLLED_BACK] = "rolled-back", [SB_BOOT_STAGE_PENDING] = "stage-pending",
  [SB_BOOT_NORMAL] = "normal",           [SB_BOOT_FIRST] = "first",
  [SB_BOOT_FALLBACK] = "fallback",
};

const char *
sb_boot_case_name (SbBootCase kind)
{
  return case_names[kind];
}

/* Is the install's slot on trial: staged, or written with grubenv already pointing at it? */
static gboolean
on_trial (const SbBootInputs *in)
{
  if (in->install_phase == SB_INSTALL_STAGED)
    return TRUE;
  return in->install_phase == SB_INSTALL_WRITTEN
         && (in->booted == in->install_slot || in->grub.tries[in->install_slot] > 0);
}

static gboolean
incomplete (const SbBootInputs *in)
{
  return (in->install_phase == SB_INSTALL_DOWNLOADING || in->install_phase == SB_INSTALL_WRITTEN)
         && !on_trial (in);
}

/* The release counter of the image the booted slot holds, if known. A slot on trial holds the
 * install's image, whose counter is the pending one. */
static gboolean
booted_counter (const SbBootInputs *in, guint64 *out)
{
  if (on_trial (in) && in->install_slot == in->booted && in->has_pending_counter)
    {
      *out = in->pending_counter;
      return TRUE;
    }
  if (in->has_slot_counter[in->booted])
    {
      *out = in->slot_counter[in->booted];
      return TRUE;
    }
  return FALSE;
}

void
sb_boot_decide (const SbBootInputs *in, SbBootDecision *d)
{
  memset (d, 0, sizeof *d);
  gboolean now = in->confirm == SB_CONFIRM_INITRAMFS;
  gboolean trial = on_trial (in);
  gboolean trial_booted = trial && in->install_slot == in->booted;
  gboolean incomplete_booted = incomplete (in) && in->install_slot == in->booted;
  guint64 counter;

  /* GRUB booted this slot only because nothing else was left; the counters are the evidence of
   * what failed, so they stay as they are. */
  if (in->emergency)
    {
      d->kind = SB_BOOT_EMERGENCY;
      return;
    }

  /* Case 4, Uptane image rollback protection on the boot side: whatever put this slot first
   * (a hand-edited grubenv, a stale fallback), an image below the committed release does not
   * run, nor does a half-written one. Never the committed slot itself, which would leave
   * nothing to boot. */
  if (in->has_committed && in->committed != in->booted)
    {
      gboolean older = booted_counter (in, &counter) && counter < in->rollback_counter;
      if (older || incomplete_booted)
        {
          d->kind = older ? SB_BOOT_REFUSE_OLD : SB_BOOT_REFUSE_INCOMPLETE;
          d->set_primary = d->reset_tries = d->disable_booted = d->reboot = TRUE;
          d->primary = in->committed;
          if (trial_booted)
            d->drop_pending = d->end_install = d->report = TRUE;
          return;
        }
    }

  if (trial)
    {
      if (trial_booted)
        {
          /* Case 1: the trial reached the initramfs. */
          d->kind = now ? SB_BOOT_TRIAL_COMMIT : SB_BOOT_TRIAL_AWAIT;
          if (now)
            {
              d->set_committed = d->promote_pending = d->end_install = TRUE;
              d->report = d->report_success = TRUE;
              d->set_primary = d->reset_tries = TRUE;
              d->primary = in->booted;
            }
          return;
        }
      if (in->grub.tries[in->install_slot] == 0)
        {
          /* Case 2: GRUB used up the staged slot's tries and fell back. The pending counter is
           * dropped so the old slot stays bootable. */
          d->kind = SB_BOOT_ROLLED_BACK;
          d->drop_pending = d->end_install = d->report = TRUE;
          d->set_committed = !in->has_committed || in->committed != in->booted;
          d->set_primary = TRUE;
          d->primary = in->booted;
          d->reset_tries = now;
          return;
        }
      /* On trial, but GRUB has not tried it yet. */
      d->kind = SB_BOOT_STAGE_PENDING;
      d->mark_staged = in->install_phase == SB_INSTALL_WRITTEN;
      d->restage = TRUE;
      return;
    }

  if (!in->has_committed)
    d->kind = SB_BOOT_FIRST;
  else if (in->committed == in->booted)
    d->kind = SB_BOOT_NORMAL;
  else
    d->kind = SB_BOOT_FALLBACK;
  if (now)
    {
      /* Case 3 (and the first boot, and a fallback): this slot booted to here, so it keeps its
       * full number of tries and its place. */
      d->set_committed = d->kind != SB_BOOT_NORMAL;
      d->set_primary = d->reset_tries = TRUE;
      d->primary = in->booted;
    }
}

char *
sb_boot_decision_describe (const SbBootInputs *in, const SbBootDecision *d)
{
  const char *x = sb_slot_id_name (in->booted);
  const char *other = sb_slot_id_name (sb_slot_id_other (in->booted));
  g_autofree char *target = in->install_target != NULL
                                ? g_strdup_printf (" (%s)", in->install_target)
                                : g_strdup ("");
  const char *waiting = in->confirm == SB_CONFIRM_USERSPACE ? "; waiting for switchback mark-good"
                                                            : "";
  guint64 counter = 0;

  switch (d->kind)
    {
    case SB_BOOT_EMERGENCY:
      return g_strdup_printf ("emergency boot of slot %s: no slot had boot attempts left; boot "
                              "state left for switchback mark-good or mark-bad", x);
    case SB_BOOT_REFUSE_OLD:
      (void) booted_counter (in, &counter);
      return g_strdup_printf ("slot %s holds release %" G_GUINT64_FORMAT
                              ", below the committed release %" G_GUINT64_FORMAT
                              ": refused, rebooting into slot %s",
                              x, counter, in->rollback_counter,
                              sb_slot_id_name (in->committed));
    case SB_BOOT_REFUSE_INCOMPLETE:
      return g_strdup_printf ("slot %s is being rewritten by an unfinished install: refused, "
                              "rebooting into slot %s",
                              x, sb_slot_id_name (in->committed));
    case SB_BOOT_TRIAL_COMMIT:
      return g_strdup_printf ("trial boot of slot %s%s committed", x, target);
    case SB_BOOT_TRIAL_AWAIT:
      return g_strdup_printf ("trial boot of slot %s%s%s", x, target, waiting);
    case SB_BOOT_ROLLED_BACK:
      return g_strdup_printf ("trial boot of slot %s%s failed: rolled back to slot %s after %u "
                              "failed boots",
                              sb_slot_id_name (in->install_slot), target, x, in->max_tries);
    case SB_BOOT_STAGE_PENDING:
      return g_strdup_printf ("slot %s%s is staged but was not tried yet: it boots next",
                              sb_slot_id_name (in->install_slot), target);
    case SB_BOOT_NORMAL:
      return g_strdup_printf ("normal boot of slot %s%s", x, waiting);
    case SB_BOOT_FIRST:
      return g_strdup_printf ("first boot of slot %s%s", x,
                              *waiting != '\0' ? waiting : ": it is now the committed slot");
    case SB_BOOT_FALLBACK:
      return g_strdup_printf ("slot %s booted instead of the committed slot %s%s", x, other,
                              *waiting != '\0' ? waiting : ": it is now the committed slot");
    default:
      g_assert_not_reached ();
    }
}
