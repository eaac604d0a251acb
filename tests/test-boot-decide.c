/* Tests for sb-boot-decide: the cases of design.md §4 as a pure function of the boot's inputs. */
#include "config.h"

#include "install/sb-boot-decide.h"

#include <string.h>

/* The committed slot A (release 6) booted normally, nothing in flight, GRUB left A 2 tries. */
static SbBootInputs
base (SbConfirmMode confirm)
{
  SbBootInputs in;
  memset (&in, 0, sizeof in);
  in.booted = SB_SLOT_A;
  in.confirm = confirm;
  in.max_tries = 3;
  in.grub.order[0] = SB_SLOT_A;
  in.grub.order[1] = SB_SLOT_B;
  in.grub.n_order = 2;
  in.grub.tries[SB_SLOT_A] = 2;
  in.grub.tries[SB_SLOT_B] = 3;
  in.has_committed = TRUE;
  in.committed = SB_SLOT_A;
  in.install_phase = SB_INSTALL_IDLE;
  in.rollback_counter = 6;
  in.has_slot_counter[SB_SLOT_A] = TRUE;
  in.slot_counter[SB_SLOT_A] = 6;
  return in;
}

/* B staged with release 7 and booted by GRUB (B had 3 tries, now 2). */
static SbBootInputs
trial (SbConfirmMode confirm)
{
  SbBootInputs in = base (confirm);
  in.booted = SB_SLOT_B;
  in.grub.order[0] = SB_SLOT_B;
  in.grub.order[1] = SB_SLOT_A;
  in.grub.tries[SB_SLOT_A] = 3;
  in.grub.tries[SB_SLOT_B] = 2;
  in.install_phase = SB_INSTALL_STAGED;
  in.install_slot = SB_SLOT_B;
  in.install_target = "image-2.bin";
  in.has_pending_counter = TRUE;
  in.pending_counter = 7;
  in.has_slot_counter[SB_SLOT_B] = TRUE;
  in.slot_counter[SB_SLOT_B] = 7;
  return in;
}

static SbBootDecision
decide (const SbBootInputs *in)
{
  SbBootDecision d;
  sb_boot_decide (in, &d);
  /* Every decision has its one log line. */
  g_autofree char *line = sb_boot_decision_describe (in, &d);
  g_assert_nonnull (line);
  g_assert_null (strchr (line, '\n'));
  return d;
}

static gboolean
changes_nothing (const SbBootDecision *d)
{
  return !d->set_committed && !d->promote_pending && !d->drop_pending && !d->end_install
         && !d->mark_staged && !d->report && !d->set_primary && !d->reset_tries
         && !d->disable_booted && !d->restage && !d->reboot;
}

static void
test_trial (void)
{
  SbBootInputs in = trial (SB_CONFIRM_INITRAMFS);
  SbBootDecision d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_TRIAL_COMMIT);
  g_assert_true (d.set_committed && d.promote_pending && d.end_install);
  g_assert_true (d.report && d.report_success);
  g_assert_true (d.set_primary && d.reset_tries);
  g_assert_cmpint (d.primary, ==, SB_SLOT_B);
  g_assert_false (d.drop_pending || d.reboot || d.disable_booted);
  g_autofree char *line = sb_boot_decision_describe (&in, &d);
  g_assert_cmpstr (line, ==, "trial boot of slot B (image-2.bin) committed");

  in = trial (SB_CONFIRM_USERSPACE);
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_TRIAL_AWAIT);
  g_assert_true (changes_nothing (&d));
}

static void
test_rolled_back (void)
{
  for (int c = SB_CONFIRM_INITRAMFS; c <= SB_CONFIRM_USERSPACE; c++)
    {
      SbBootInputs in = trial (c);
      in.booted = SB_SLOT_A;
      in.grub.tries[SB_SLOT_B] = 0;
      in.grub.tries[SB_SLOT_A] = 2;
      SbBootDecision d = decide (&in);
      g_assert_cmpint (d.kind, ==, SB_BOOT_ROLLED_BACK);
      g_assert_true (d.drop_pending && d.end_install && d.report);
      g_assert_false (d.report_success || d.promote_pending || d.reboot);
      g_assert_true (d.set_primary);
      g_assert_cmpint (d.primary, ==, SB_SLOT_A);
      g_assert_cmpint (d.reset_tries, ==, c == SB_CONFIRM_INITRAMFS);
      g_assert_false (d.set_committed);
      g_autofree char *line = sb_boot_decision_describe (&in, &d);
      g_assert_cmpstr (line, ==,
                       "trial boot of slot B (image-2.bin) failed: rolled back to slot A after 3 "
                       "failed boots");
    }
}

static void
test_normal (void)
{
  SbBootInputs in = base (SB_CONFIRM_INITRAMFS);
  SbBootDecision d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_NORMAL);
  g_assert_true (d.set_primary && d.reset_tries);
  g_assert_cmpint (d.primary, ==, SB_SLOT_A);
  g_assert_false (d.set_committed || d.report || d.reboot || d.promote_pending);

  in = base (SB_CONFIRM_USERSPACE);
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_NORMAL);
  g_assert_true (changes_nothing (&d));
}

static void
test_refuse_old (void)
{
  for (int c = SB_CONFIRM_INITRAMFS; c <= SB_CONFIRM_USERSPACE; c++)
    {
      SbBootInputs in = base (c);
      in.booted = SB_SLOT_B;
      in.has_slot_counter[SB_SLOT_B] = TRUE;
      in.slot_counter[SB_SLOT_B] = 5;
      SbBootDecision d = decide (&in);
      g_assert_cmpint (d.kind, ==, SB_BOOT_REFUSE_OLD);
      g_assert_true (d.reboot && d.set_primary && d.reset_tries && d.disable_booted);
      g_assert_cmpint (d.primary, ==, SB_SLOT_A);
      g_assert_false (d.report || d.set_committed || d.end_install);

      /* Equal is not older: the same release in the other slot boots (and is adopted). */
      in.slot_counter[SB_SLOT_B] = 6;
      d = decide (&in);
      g_assert_cmpint (d.kind, ==, SB_BOOT_FALLBACK);
      g_assert_false (d.reboot);

      /* Unknown release: not refused. */
      in.has_slot_counter[SB_SLOT_B] = FALSE;
      d = decide (&in);
      g_assert_cmpint (d.kind, ==, SB_BOOT_FALLBACK);
    }

  /* The committed slot itself is never refused, even if the counters disagree with it. */
  SbBootInputs in = base (SB_CONFIRM_INITRAMFS);
  in.slot_counter[SB_SLOT_A] = 2;
  SbBootDecision d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_NORMAL);

  /* A trial image below the committed release is refused and its install rolled back. */
  in = trial (SB_CONFIRM_INITRAMFS);
  in.rollback_counter = 8;
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_REFUSE_OLD);
  g_assert_true (d.drop_pending && d.end_install && d.report && !d.report_success);
  g_assert_false (d.promote_pending);
}

static void
test_refuse_incomplete (void)
{
  SbBootInputs in = base (SB_CONFIRM_INITRAMFS);
  in.booted = SB_SLOT_B;
  in.install_phase = SB_INSTALL_DOWNLOADING;
  in.install_slot = SB_SLOT_B;
  SbBootDecision d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_REFUSE_INCOMPLETE);
  g_assert_true (d.reboot && d.disable_booted);
  g_assert_false (d.end_install || d.report);

  /* Booting the committed slot during a download is a normal boot. */
  in.booted = SB_SLOT_A;
  in.grub.tries[SB_SLOT_B] = 0;
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_NORMAL);
  /* Written, not staged yet, and GRUB has no tries for it: still a normal boot. */
  in.install_phase = SB_INSTALL_WRITTEN;
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_NORMAL);
  g_assert_false (d.mark_staged || d.restage);
}

static void
test_stage_pending (void)
{
  /* Staged, but the other slot booted while GRUB still has tries for the staged one. */
  SbBootInputs in = trial (SB_CONFIRM_USERSPACE);
  in.booted = SB_SLOT_A;
  in.grub.tries[SB_SLOT_B] = 3;
  SbBootDecision d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_STAGE_PENDING);
  g_assert_true (d.restage);
  g_assert_false (d.mark_staged || d.report || d.end_install || d.set_primary);

  /* grubenv staged, install.json still written: the staging is completed. */
  in.install_phase = SB_INSTALL_WRITTEN;
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_STAGE_PENDING);
  g_assert_true (d.mark_staged && d.restage);

  /* ... and when GRUB booted it, it is the trial. */
  in.booted = SB_SLOT_B;
  in.confirm = SB_CONFIRM_INITRAMFS;
  d = decide (&in);
  g_assert_cmpint (d.kind, ==, SB_BOOT_TRIAL_COMMIT);
}

static void
test_first_and_fallback (void)
{
  for (int c = SB_CONFIRM_INITRAMFS; c <= SB_CONFIRM_USERSPACE; c++)
    {
      SbBootInputs in = base (c);
      in.has_committed = FALSE;
      SbBootDecision d = decide (&in);
      g_assert_cmpint (d.kind, ==, SB_BOOT_FIRST);
      g_assert_cmpint (d.set_committed, ==, c == SB_CONFIRM_INITRAMFS);

      in = base (c);
      in.booted = SB_SLOT_B;
      d = decide (&in);
      g_assert_cmpint (d.kind, ==, SB_BOOT_FALLBACK);
      g_assert_cmpint (d.set_committed, ==, c == SB_CONFIRM_INITRAMFS);
      if (c == SB_CONFIRM_INITRAMFS)
        g_assert_cmpint (d.primary, ==, SB_SLOT_B);
      else
        g_assert_true (changes_nothing (&d));
    }
}

static void
test_emergency (void)
{
  SbBootInputs cases[] = { base (SB_CONFIRM_INITRAMFS), trial (SB_CONFIRM_INITRAMFS),
                           trial (SB_CONFIRM_USERSPACE) };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      cases[i].emergency = TRUE;
      cases[i].grub.tries[0] = cases[i].grub.tries[1] = 0;
      SbBootDecision d = decide (&cases[i]);
      g_assert_cmpint (d.kind, ==, SB_BOOT_EMERGENCY);
      g_assert_true (changes_nothing (&d));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/boot-decide/case1/trial-commit-or-await", test_trial);
  g_test_add_func ("/boot-decide/case2/rolled-back-keeps-counters", test_rolled_back);
  g_test_add_func ("/boot-decide/case3/normal-boot-resets-tries", test_normal);
  g_test_add_func ("/boot-decide/case4/older-slot-refused", test_refuse_old);
  g_test_add_func ("/boot-decide/half-written-slot-refused", test_refuse_incomplete);
  g_test_add_func ("/boot-decide/staged-not-yet-tried", test_stage_pending);
  g_test_add_func ("/boot-decide/first-boot-and-fallback", test_first_and_fallback);
  g_test_add_func ("/boot-decide/emergency-changes-nothing", test_emergency);
  return g_test_run ();
}
