/* sb-boot-decide.h: what switchback-boot does with a boot (design.md §4), as a pure function.
 *
 * Inputs are what GRUB and the state directory say: the booted slot and the emergency flag from
 * the kernel command line, the boot order and tries GRUB left in grubenv, the committed slot
 * and the staged install from install.json, and the counters from counters.json. The output is
 * one case and the effects that go with it; sb_bootchooser_apply() carries them out. Nothing
 * here reads or writes anything, so every case is unit-tested.
 *
 * The install in flight matters in two ways. Its slot is on trial when install.json says
 * "staged", or says "written" while GRUB already has tries for it or booted it (staging writes
 * counters.json, then grubenv, then install.json, so a power cut can leave "written" behind an
 * already staged grubenv). Its slot is incomplete while it is "downloading", or "written" and not
 * yet in grubenv; sb_boot_context_prepare_slot() took its tries away before the first byte was
 * written, so GRUB only boots it by hand or in an emergency.
 *
 * The cases, checked in this order:
 *
 * - EMERGENCY: GRUB found no slot with tries left (switchback.emergency=1). Nothing changes, so
 *   the counters stay as evidence; `switchback mark-good` or `mark-bad` decides.
 * - REFUSE_OLD (§4 case 4): the booted slot's image has a release counter below the committed
 *   one, and it is not the committed slot. The committed slot goes first with full tries, the
 *   booted one gets no tries, and the system reboots. An install on trial in that slot is rolled
 *   back. A slot of unknown release (never written by switchback) is not refused.
 * - REFUSE_INCOMPLETE: the same, for a booted slot that is incomplete. The install stays, so
 *   it can resume.
 * - TRIAL_COMMIT / TRIAL_AWAIT (§4 case 1): the booted slot is on trial. With confirm=initramfs
 *   it is committed now: committed slot, pending counter promoted, tries reset, first in
 *   SB_ORDER, and an OK result queued. With confirm=userspace nothing changes until
 *   `switchback mark-good`.
 * - ROLLED_BACK (§4 case 2): an install is staged, another slot booted, and the staged slot has
 *   no tries left: GRUB gave up on it. The failure is queued as a result, the install and the
 *   pending counter are dropped, and the booted slot goes first.
 * - STAGE_PENDING: a slot is on trial, but GRUB still has tries for it and booted the other one,
 *   so the trial has not happened yet. The staging is completed (install.json "staged") and
 *   written to grubenv again; the next boot tries it.
 * - NORMAL (§4 case 3): the committed slot booted with no trial. Its tries are reset.
 * - FIRST: no slot was ever committed (first start): the booted slot becomes the committed one.
 * - FALLBACK: no trial, and the slot that booted is not the committed one but is neither older
 *   nor incomplete (the committed slot ran out of tries before the hook ran). It becomes
 *   committed.
 *
 * With confirm=userspace, NORMAL, FIRST and FALLBACK change nothing in the initramfs either:
 * `switchback mark-good` applies them after the health checks. The other cases act in both
 * modes, because none of them trusts the booted system.
 */
#pragma once

#include <glib.h>

#include "state/sb-config.h"
#include "state/sb-install-state.h"
#include "install/sb-slots.h"

G_BEGIN_DECLS

/* The SB_ variables of grubenv, parsed (sb-bootchooser.h reads them). */
typedef struct {
  SbSlotId order[2]; /* SB_ORDER, each slot at most once, first occurrence */
  guint n_order;
  guint tries[2];    /* SB_A_TRIES, SB_B_TRIES */
} SbBootOrder;

typedef struct {
  SbSlotId booted;
  gboolean emergency;
  SbConfirmMode confirm;
  guint max_tries; /* [boot] max-tries: what a reset sets, and GRUB's attempts per trial */
  SbBootOrder grub;

  gboolean has_committed;
  SbSlotId committed;
  SbInstallPhase install_phase; /* install.json "state" */
  SbSlotId install_slot;         /* install.json "slot", when not idle */
  const char *install_target;    /* for messages; may be NULL */

  guint64 rollback_counter; /* committed; 0 when none */
  gboolean has_pending_counter;
  guint64 pending_counter;
  gboolean has_slot_counter[2];
  guint64 slot_counter[2];
} SbBootInputs;

typedef enum {
  SB_BOOT_EMERGENCY,
  SB_BOOT_REFUSE_OLD,
  SB_BOOT_REFUSE_INCOMPLETE,
  SB_BOOT_TRIAL_COMMIT,
  SB_BOOT_TRIAL_AWAIT,
  SB_BOOT_ROLLED_BACK,
  SB_BOOT_STAGE_PENDING,
  SB_BOOT_NORMAL,
  SB_BOOT_FIRST,
  SB_BOOT_FALLBACK,
} SbBootCase;

/* "emergency", "refuse-old", "trial-commit", ... for logs and tests. */
const char *sb_boot_case_name (SbBootCase kind);

typedef struct {
  SbBootCase kind;
  /* State directory effects. */
  gboolean set_committed;   /* committed slot := booted */
  gboolean promote_pending; /* pending counter becomes the committed one and the booted slot's */
  gboolean drop_pending;    /* pending counter dropped */
  gboolean end_install;     /* install.json back to idle */
  gboolean mark_staged;     /* install.json written -> staged */
  gboolean report;          /* queue a result for the staged install */
  gboolean report_success;
  /* grubenv effects. */
  gboolean set_primary;     /* SB_ORDER starts with @primary */
  SbSlotId primary;
  gboolean reset_tries;     /* @primary's tries := max-tries */
  gboolean disable_booted;  /* the booted slot's tries := 0 */
  gboolean restage;         /* the trial slot first, both slots max-tries */
  gboolean reboot;
} SbBootDecision;

/* Decides what to do with this boot. Always succeeds. */
void sb_boot_decide (const SbBootInputs *in, SbBootDecision *out);

/* The one log line for a decision, e.g. "trial boot of slot B committed". */
char *sb_boot_decision_describe (const SbBootInputs *in, const SbBootDecision *d);

G_END_DECLS
