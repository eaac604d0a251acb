/* sb-bootchooser.h: boot decisions turned into GRUB environment variables (design.md §4).
 *
 * This module and sb-grubenv are the only ones that know the variables GRUB's script reads:
 *
 *   SB_ORDER     slot names in order of preference ("A B")
 *   SB_A_TRIES   boot attempts left for slot A, 0..max-tries
 *   SB_B_TRIES   the same for slot B
 *
 * Everything else says "stage slot B on trial", "commit A", "prefer A", "mark the booted slot
 * good/bad". Changes are made in memory and written with one in-place rewrite of the block.
 *
 * A grubenv without SB_ORDER is a first boot: GRUB's script then starts from "A B" with
 * max-tries for both, and so does sb_bootchooser_get_order(). With SB_ORDER set, a missing tries
 * variable means no tries left, again as the script reads it.
 *
 * The whole-boot operations at the bottom (context, apply, stage, mark-good, mark-bad) also read
 * and write install.json and counters.json in the order that keeps a power cut harmless.
 */
#pragma once

#include <glib.h>

#include "install/sb-boot-decide.h"
#include "state/sb-config.h"
#include "state/sb-install-state.h"
#include "install/sb-slots.h"

G_BEGIN_DECLS

#define SB_GRUBENV_ORDER "SB_ORDER"
#define SB_GRUBENV_A_TRIES "SB_A_TRIES"
#define SB_GRUBENV_B_TRIES "SB_B_TRIES"
/* The largest max-tries the GRUB script generator supports (one digit). */
#define SB_MAX_TRIES_LIMIT 9

typedef struct _SbBootchooser SbBootchooser;

/* Loads the grubenv at @grubenv_path (sb_grubenv_load errors). @max_tries is [boot] max-tries;
 * outside 1..SB_MAX_TRIES_LIMIT is SB_ERROR_CONFIG. */
SbBootchooser *sb_bootchooser_open (const char *grubenv_path, guint max_tries,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_bootchooser_free (SbBootchooser *bc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbBootchooser, sb_bootchooser_free)

/* SB_ORDER and the tries as they are in memory. A slot name other than A or B in SB_ORDER, or
 * tries that are not a number in 0..9, is SB_ERROR_STATE naming the file and the variable. */
gboolean sb_bootchooser_get_order (SbBootchooser *bc, SbBootOrder *out,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* In memory, until sb_bootchooser_save(). Each fails only when the block has no room left for
 * the variables (SB_ERROR_NO_SPACE), and then changes nothing. */
/* A trial of @slot: SB_ORDER "@slot other", both slots max-tries (the fallback gets its full
 * count too, whatever this boot used up). */
gboolean sb_bootchooser_stage (SbBootchooser *bc, SbSlotId slot,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* @slot first in SB_ORDER; tries unchanged. */
gboolean sb_bootchooser_prefer (SbBootchooser *bc, SbSlotId slot,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* @slot first in SB_ORDER with max-tries. */
gboolean sb_bootchooser_commit (SbBootchooser *bc, SbSlotId slot,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Sets @slot's tries (clamped to max-tries). */
gboolean sb_bootchooser_set_tries (SbBootchooser *bc, SbSlotId slot, guint tries,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Writes grubenv in place if anything changed (sb_grubenv_save). */
gboolean sb_bootchooser_save (SbBootchooser *bc, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Everything one boot decision needs, read from the files @config names. */
typedef struct {
  SbBootchooser *bc;
  SbInstallState *state;
  SbCounters *counters;
  char *state_dir;
  char *install_target;
  SbBootInputs inputs; /* kept in step with @state and @counters by the calls below */
  /* Set when [boot] max-tries differs from the max-tries of the GRUB script that booted the
   * system (sb_slots_read_cmdline_max_tries): what to tell the person, naming both. The lower
   * of the two is then the max-tries of this context (inputs.max_tries, what resets, stagings
   * and repairs write): a count the script can read, never above what the config allows. */
  char *max_tries_warning;
} SbBootContext;

/* Reads the kernel command line ([boot] cmdline-file), grubenv ([boot] grubenv), install.json
 * and counters.json ([storage] state-dir). @root, when not NULL, is prefixed to the grubenv and
 * state-dir paths (the initramfs sees the real root under /sysroot); the command line file is
 * taken as it is. Any file that cannot be read is an error naming it. The max-tries is
 * [boot] max-tries, or the GRUB script's when that is lower (max_tries_warning, which the
 * caller shows). */
SbBootContext *sb_boot_context_load (const SbConfig *config, const char *root,
                                     GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* switchback-boot's load: the same, except that a grubenv that fails validation
 * (SB_ERROR_STATE: a torn write, garbage, a wrong size) is not an error. GRUB cannot read such a
 * block and falls back to its default order, so it is rewritten with what switchback last
 * wrote there, decided from install.json and counters.json alone: a staged install staged
 * again; an install still downloading or written, its slot at no tries behind the committed
 * slot; else the committed slot (before any commit, the booted one) first with max-tries, and
 * the other slot with max-tries unless it holds a release below the committed one. The boot
 * decision then reads the rewritten block. When a block was rewritten, @out_repaired (may be
 * NULL) gets a line saying why and what it now says; otherwise it is left alone. A grubenv
 * that is missing or unreadable is an error, as for sb_boot_context_load. */
SbBootContext *sb_boot_context_load_repairing (const SbConfig *config, const char *root,
                                               char **out_repaired,
                                               GError **error) G_GNUC_WARN_UNUSED_RESULT;
void sb_boot_context_free (SbBootContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbBootContext, sb_boot_context_free)

/* Carries out @d (never the reboot, which is the caller's): first grubenv, then the result for
 * the Director, then counters.json, then install.json, so a power cut or a failed write at any
 * point leaves a state from which the next boot reaches the same decision (at worst a result is
 * queued twice, never lost). A grubenv that cannot be written (a read-only ESP) fails the call
 * before anything in the state directory changed. */
gboolean sb_boot_context_apply (SbBootContext *ctx, const SbBootDecision *d,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Before the first byte of an image is written to @slot (design.md §5 idle → downloading): the
 * slot's release counter is forgotten (counters.json) and its tries set to 0 (grubenv), so
 * neither GRUB nor a fallback boots a half-written slot. The booted slot is SB_ERROR_SLOT_BUSY. */
gboolean sb_boot_context_prepare_slot (SbBootContext *ctx, SbSlotId slot,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Stages the written install of @ctx->state for a trial boot (design.md §5 written → staged):
 * counters.json first (the slot's release counter, and the pending counter, refused with
 * SB_ERROR_ROLLBACK below the committed one), then grubenv, then install.json "staged". The
 * install must be in state written (else SB_ERROR_INVALID_ARGUMENT) and not for the booted slot
 * (SB_ERROR_SLOT_BUSY). */
gboolean sb_boot_context_stage_install (SbBootContext *ctx,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* `switchback mark-good`: the booted system passed its health checks. Applies what
 * switchback-boot applies with confirm=initramfs: commits a trial boot (queuing its OK result),
 * or resets the booted slot's tries. A slot the boot helper would refuse as older than the
 * committed release is SB_ERROR_ROLLBACK and nothing changes. @out_message (may be NULL) gets
 * the one-line description of what was done. */
gboolean sb_bootchooser_mark_good (const SbConfig *config, char **out_message,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* `switchback mark-bad`: the booted slot gets no tries and the other slot goes first, so the
 * next boot leaves it (a trial then rolls back, and the next boot queues that result). Making
 * the other slot first when it holds an image below the committed release is SB_ERROR_ROLLBACK.
 * The caller reboots. @out_next (may be NULL) is the slot the next boot uses. */
gboolean sb_bootchooser_mark_bad (const SbConfig *config, SbSlotId *out_next, char **out_message,
                                  GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
