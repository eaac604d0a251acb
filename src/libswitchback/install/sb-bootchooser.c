/* sb-bootchooser.c: SB_ORDER and the try counters, and the whole-boot operations over them. */
#include "config.h"

#include "install/sb-bootchooser.h"
#include "core/sb-error.h"
#include "state/sb-test-hooks.h"
#include "install/sb-grubenv.h"
#include "install/sb-install.h"
#include "state/sb-report-queue.h"
#include "state/sb-state-lock.h"

#include <string.h>

struct _SbBootchooser {
  SbGrubenv *env;
  guint max_tries;
};

static const char *const tries_vars[] = { SB_GRUBENV_A_TRIES, SB_GRUBENV_B_TRIES };

SbBootchooser *
sb_bootchooser_open (const char *grubenv_path, guint max_tries, GError **error)
{
  if (max_tries < 1 || max_tries > SB_MAX_TRIES_LIMIT)
    {
      sb_throw (error, SB_ERROR_CONFIG, "[boot] max-tries %u is outside 1..%d", max_tries,
                SB_MAX_TRIES_LIMIT);
      return NULL;
    }
  g_autoptr (SbGrubenv) env = sb_grubenv_load (grubenv_path, error);
  if (env == NULL)
    return NULL;
  SbBootchooser *bc = g_new0 (SbBootchooser, 1);
  bc->env = g_steal_pointer (&env);
  bc->max_tries = max_tries;
  return bc;
}

void
sb_bootchooser_free (SbBootchooser *bc)
{
  if (bc == NULL)
    return;
  sb_grubenv_free (bc->env);
  g_free (bc);
}

gboolean
sb_bootchooser_get_order (SbBootchooser *bc, SbBootOrder *out, GError **error)
{
  const char *path = sb_grubenv_get_path (bc->env);
  const char *order = sb_grubenv_get (bc->env, SB_GRUBENV_ORDER);
  gboolean first_boot = order == NULL || *order == '\0';
  memset (out, 0, sizeof *out);

  /* GRUB's script starts a first boot from "A B" (see grub/switchback.cfg). */
  g_auto (GStrv) names = g_strsplit_set (first_boot ? "A B" : order, " ", -1);
  for (char **n = names; *n != NULL; n++)
    {
      SbSlotId id;
      if (**n == '\0')
        continue;
      if (!sb_slot_id_from_name (*n, &id))
        return sb_throw (error, SB_ERROR_STATE, "%s: %s=\"%s\" names slot \"%s\", not A or B",
                         path, SB_GRUBENV_ORDER, order, *n);
      if (out->n_order < 2 && (out->n_order == 0 || out->order[0] != id))
        out->order[out->n_order++] = id;
    }
  for (SbSlotId s = SB_SLOT_A; s <= SB_SLOT_B; s++)
    {
      const char *t = sb_grubenv_get (bc->env, tries_vars[s]);
      if (t == NULL)
        {
          out->tries[s] = first_boot ? bc->max_tries : 0;
          continue;
        }
      if (strlen (t) != 1 || !g_ascii_isdigit (*t))
        return sb_throw (error, SB_ERROR_STATE, "%s: %s=\"%s\" is not a number of tries (0..9)",
                         path, tries_vars[s], t);
      out->tries[s] = (guint) (*t - '0');
    }
  return TRUE;
}

static gboolean
set_var (SbGrubenv *env, const char *name, const char *value, GError **error)
{
  if (g_strcmp0 (sb_grubenv_get (env, name), value) == 0)
    return TRUE;
  return sb_grubenv_set (env, name, value, error);
}

/* Sets SB_ORDER and both tries on a copy, kept only if all three fit in the block. */
static gboolean
set_all (SbBootchooser *bc, SbSlotId first, const guint tries[2], GError **error)
{
  g_autofree char *order = g_strdup_printf ("%s %s", sb_slot_id_name (first),
                                            sb_slot_id_name (sb_slot_id_other (first)));
  char t[2][4];
  for (guint s = 0; s < 2; s++)
    g_snprintf (t[s], sizeof t[s], "%u", MIN (tries[s], bc->max_tries));
  g_autoptr (SbGrubenv) next = sb_grubenv_copy (bc->env);
  if (!set_var (next, SB_GRUBENV_ORDER, order, error) || !set_var (next, tries_vars[0], t[0], error)
      || !set_var (next, tries_vars[1], t[1], error))
    return FALSE;
  sb_grubenv_free (bc->env);
  bc->env = g_steal_pointer (&next);
  return TRUE;
}

/* The current order and tries, where a damaged SB_ORDER counts as the default: these edits
 * replace it. */
static void
current (SbBootchooser *bc, SbBootOrder *o)
{
  if (!sb_bootchooser_get_order (bc, o, NULL))
    {
      memset (o, 0, sizeof *o);
      o->order[0] = SB_SLOT_A;
      o->order[1] = SB_SLOT_B;
      o->n_order = 2;
    }
}

gboolean
sb_bootchooser_stage (SbBootchooser *bc, SbSlotId slot, GError **error)
{
  const guint tries[2] = { bc->max_tries, bc->max_tries };
  return set_all (bc, slot, tries, error);
}

gboolean
sb_bootchooser_prefer (SbBootchooser *bc, SbSlotId slot, GError **error)
{
  SbBootOrder o;
  current (bc, &o);
  return set_all (bc, slot, o.tries, error);
}

gboolean
sb_bootchooser_commit (SbBootchooser *bc, SbSlotId slot, GError **error)
{
  SbBootOrder o;
  current (bc, &o);
  o.tries[slot] = bc->max_tries;
  return set_all (bc, slot, o.tries, error);
}

gboolean
sb_bootchooser_set_tries (SbBootchooser *bc, SbSlotId slot, guint tries, GError **error)
{
  SbBootOrder o;
  current (bc, &o);
  o.tries[slot] = tries;
  return set_all (bc, o.n_order > 0 ? o.order[0] : SB_SLOT_A, o.tries, error);
}

gboolean
sb_bootchooser_save (SbBootchooser *bc, GError **error)
{
  if (!sb_grubenv_is_dirty (bc->env))
    return TRUE;
  return sb_grubenv_save (bc->env, error);
}

/* The whole-boot operations. */

void
sb_boot_context_free (SbBootContext *ctx)
{
  if (ctx == NULL)
    return;
  sb_bootchooser_free (ctx->bc);
  sb_install_state_free (ctx->state);
  sb_counters_free (ctx->counters);
  g_free (ctx->state_dir);
  g_free (ctx->install_target);
  g_free (ctx->max_tries_warning);
  g_free (ctx);
}

/* Refreshes the decision inputs from the state and counters in memory. */
static void
update_inputs (SbBootContext *ctx)
{
  SbBootInputs *in = &ctx->inputs;
  SbInstallState *st = ctx->state;
  in->has_committed = st->has_committed;
  in->committed = st->committed;
  in->install_phase = st->state;
  in->install_slot = st->slot;
  g_free (ctx->install_target);
  ctx->install_target = g_strdup (st->target);
  in->install_target = ctx->install_target;
  in->rollback_counter = sb_counters_get_rollback_counter (ctx->counters);
  in->has_pending_counter = sb_counters_get_pending (ctx->counters, &in->pending_counter);
  for (SbSlotId s = SB_SLOT_A; s <= SB_SLOT_B; s++)
    in->has_slot_counter[s] = sb_counters_get_slot (ctx->counters, s, &in->slot_counter[s]);
}

/* What grubenv must say when its block is lost, from install.json and counters.json alone:
 * what switchback last wrote there. A staged install is staged again (its trial has not been
 * seen to fail); an incomplete one keeps its slot at no tries; otherwise the committed slot
 * (or, before any commit, the booted one) goes first with full tries, and the other slot keeps
 * tries only when it holds no release known to be below the committed one. */
static gboolean
rebuild_block (SbBootchooser *bc, const SbBootInputs *in, GError **error)
{
  SbSlotId first = in->has_committed ? in->committed : in->booted;
  SbSlotId other = sb_slot_id_other (first);
  if (in->install_phase == SB_INSTALL_STAGED)
    return sb_bootchooser_stage (bc, in->install_slot, error);
  const guint tries[2] = { bc->max_tries, bc->max_tries };
  if (!set_all (bc, first, tries, error))
    return FALSE;
  if (in->install_phase == SB_INSTALL_DOWNLOADING || in->install_phase == SB_INSTALL_WRITTEN)
    return sb_bootchooser_set_tries (bc, in->install_slot, 0, error);
  if (in->has_slot_counter[other] && in->slot_counter[other] < in->rollback_counter)
    return sb_bootchooser_set_tries (bc, other, 0, error);
  return TRUE;
}

/* Rewrites the grubenv at @path, which failed validation, from @ctx's state; in place when the
 * file is a 1024-byte block, else replaced by a fresh block first. */
static gboolean
repair_grubenv (SbBootContext *ctx, const char *path, guint max_tries, GError **error)
{
  g_autoptr (SbBootchooser) bc = g_new0 (SbBootchooser, 1);
  bc->env = sb_grubenv_new_blank (path);
  bc->max_tries = max_tries;
  if (!rebuild_block (bc, &ctx->inputs, error))
    return FALSE;
  g_autoptr (GError) in_place = NULL;
  if (!sb_bootchooser_save (bc, &in_place))
    {
      if (!g_error_matches (in_place, SB_ERROR, SB_ERROR_STATE))
        {
          g_propagate_error (error, g_steal_pointer (&in_place));
          return FALSE;
        }
      /* Not a 1024-byte file: made one, as grub-editenv create does, then written. */
      if (!sb_grubenv_create (path, error) || !sb_grubenv_save (bc->env, error))
        return FALSE;
    }
  ctx->bc = g_steal_pointer (&bc);
  return TRUE;
}

static SbBootContext *
load_context (const SbConfig *config, const char *root, gboolean repair, char **out_repaired,
              GError **error)
{
  g_autoptr (SbBootContext) ctx = g_new0 (SbBootContext, 1);
  SbBootInputs *in = &ctx->inputs;
  g_autofree char *grubenv = root != NULL ? g_build_filename (root, config->grubenv, NULL)
                                          : g_strdup (config->grubenv);
  ctx->state_dir = root != NULL ? g_build_filename (root, config->state_dir, NULL)
                                : g_strdup (config->state_dir);
  in->confirm = config->confirm;
  guint script_max_tries = 0;
  if (!sb_slots_read_cmdline (config->cmdline_file, &in->booted, &in->emergency, error)
      || !sb_slots_read_cmdline_max_tries (config->cmdline_file, &script_max_tries, error))
    return NULL;
  in->max_tries = config->max_tries;
  if (script_max_tries != 0 && script_max_tries != config->max_tries)
    {
      /* The script counts only 1..its max-tries: a higher count written for it is no tries at
       * all, and a trial staged so would never boot. The lower of the two works with both. */
      in->max_tries = MIN (script_max_tries, config->max_tries);
      ctx->max_tries_warning = g_strdup_printf (
          "[boot] max-tries is %u in %s, but the GRUB script that booted this system counts %u "
          "(switchback.max-tries=%u in %s): using %u. Make them one: set max-tries=%u, or "
          "regenerate the script with gen-switchback-cfg.sh %u",
          config->max_tries, config->path != NULL ? config->path : SB_CONFIG_DEFAULT_PATH,
          script_max_tries, script_max_tries, config->cmdline_file, in->max_tries,
          script_max_tries, config->max_tries);
    }
  g_autoptr (GError) env_error = NULL;
  ctx->bc = sb_bootchooser_open (grubenv, in->max_tries, &env_error);
  if (ctx->bc != NULL && !sb_bootchooser_get_order (ctx->bc, &in->grub, &env_error))
    g_clear_pointer (&ctx->bc, sb_bootchooser_free);
  if (ctx->bc == NULL && !(repair && g_error_matches (env_error, SB_ERROR, SB_ERROR_STATE)))
    {
      g_propagate_error (error, g_steal_pointer (&env_error));
      return NULL;
    }
  if ((ctx->state = sb_install_state_load (ctx->state_dir, error)) == NULL
      || (ctx->counters = sb_counters_load (ctx->state_dir, error)) == NULL)
    return NULL;
  update_inputs (ctx);
  if (ctx->bc == NULL)
    {
      if (!repair_grubenv (ctx, grubenv, in->max_tries, error)
          || !sb_bootchooser_get_order (ctx->bc, &in->grub, error))
        {
          g_prefix_error (error, "rewriting %s, which %s: ", grubenv, env_error->message);
          return NULL;
        }
      if (out_repaired != NULL)
        *out_repaired = g_strdup_printf (
            "%s; rewritten from install.json and counters.json: %s=\"%s\" %s=%s %s=%s",
            env_error->message, SB_GRUBENV_ORDER,
            sb_grubenv_get (ctx->bc->env, SB_GRUBENV_ORDER), SB_GRUBENV_A_TRIES,
            sb_grubenv_get (ctx->bc->env, SB_GRUBENV_A_TRIES), SB_GRUBENV_B_TRIES,
            sb_grubenv_get (ctx->bc->env, SB_GRUBENV_B_TRIES));
    }
  return g_steal_pointer (&ctx);
}

SbBootContext *
sb_boot_context_load (const SbConfig *config, const char *root, GError **error)
{
  return load_context (config, root, FALSE, NULL, error);
}

SbBootContext *
sb_boot_context_load_repairing (const SbConfig *config, const char *root, char **out_repaired,
                                GError **error)
{
  return load_context (config, root, TRUE, out_repaired, error);
}

gboolean
sb_boot_context_apply (SbBootContext *ctx, const SbBootDecision *d, GError **error)
{
  SbBootInputs *in = &ctx->inputs;
  SbInstallState *st = ctx->state;

  /* grubenv first. It lives on the ESP, which can fail to take a write (mounted read-only, a
   * full or damaged FAT) while the data partition takes one. Written last, such a failure left
   * a half-applied decision: install.json committed, the counter raised and the OK result
   * queued, while GRUB still ran the trial and later fell back to a slot now below the counter.
   * Written first, a failure changes nothing, and the next boot decides the same again. A power
   * cut after it is the same: every decision's grubenv is also what the next boot, reading the
   * unchanged state directory, decides to write (sb-boot-decide.h). */
  if ((d->restage && !sb_bootchooser_stage (ctx->bc, in->install_slot, error))
      || (d->set_primary && d->reset_tries && !sb_bootchooser_commit (ctx->bc, d->primary, error))
      || (d->set_primary && !d->reset_tries && !sb_bootchooser_prefer (ctx->bc, d->primary, error))
      || (d->disable_booted && !sb_bootchooser_set_tries (ctx->bc, in->booted, 0, error))
      || !sb_bootchooser_save (ctx->bc, error)
      || !sb_bootchooser_get_order (ctx->bc, &in->grub, error))
    return FALSE;

  /* Queued before the state changes: if power fails after it, the next boot decides the same
   * and queues it again; queued last, it could be lost. */
  if (d->report)
    {
      g_autofree char *msg = sb_boot_decision_describe (in, d);
      if (!sb_install_state_record_result (ctx->state_dir, st->correlation_id, st->target,
                                           d->report_success,
                                           d->report_success ? SB_RESULT_OK
                                                             : SB_RESULT_INSTALL_FAILED,
                                           msg, error))
        return FALSE;
    }

  if (d->promote_pending || d->drop_pending)
    {
      guint64 pending, left;
      SbSlotId other = sb_slot_id_other (in->booted);
      /* The slot left behind ran the release committed so far, at most: recorded as that, a
       * factory image whose release nobody wrote down is refused by case 4 like any older
       * image, instead of becoming committed when a hand-edited grubenv boots it. */
      if (d->promote_pending && !sb_counters_get_slot (ctx->counters, other, &left))
        sb_counters_set_slot (ctx->counters, other,
                              sb_counters_get_rollback_counter (ctx->counters));
      if (d->promote_pending && sb_counters_get_pending (ctx->counters, &pending))
        sb_counters_set_slot (ctx->counters, in->booted, pending);
      if (d->promote_pending)
        sb_counters_promote_pending (ctx->counters);
      if (d->drop_pending)
        sb_counters_clear_pending (ctx->counters);
      if (!sb_counters_save (ctx->counters, ctx->state_dir, error))
        return FALSE;
      sb_install_test_kill_point ("apply-counters");
    }

  if (d->set_committed || d->end_install || d->mark_staged)
    {
      if (d->set_committed)
        {
          st->has_committed = TRUE;
          st->committed = in->booted;
        }
      if (d->mark_staged)
        st->state = SB_INSTALL_STAGED;
      if (d->end_install)
        sb_install_state_clear (st);
      if (!sb_install_state_save (st, ctx->state_dir, error))
        return FALSE;
      sb_install_test_kill_point ("apply-state");
    }
  update_inputs (ctx);
  return TRUE;
}

gboolean
sb_boot_context_prepare_slot (SbBootContext *ctx, SbSlotId slot, GError **error)
{
  if (slot == ctx->inputs.booted)
    return sb_throw (error, SB_ERROR_SLOT_BUSY, "slot %s is the booted slot",
                     sb_slot_id_name (slot));
  /* Before the first byte: the slot no longer holds the release it held, and GRUB must not
   * fall back into a half-written slot. */
  sb_counters_clear_slot (ctx->counters, slot);
  sb_counters_clear_pending (ctx->counters);
  if (!sb_counters_save (ctx->counters, ctx->state_dir, error)
      || !sb_bootchooser_set_tries (ctx->bc, slot, 0, error)
      || !sb_bootchooser_save (ctx->bc, error)
      || !sb_bootchooser_get_order (ctx->bc, &ctx->inputs.grub, error))
    return FALSE;
  update_inputs (ctx);
  return TRUE;
}

gboolean
sb_boot_context_stage_install (SbBootContext *ctx, GError **error)
{
  SbInstallState *st = ctx->state;
  if (st->state != SB_INSTALL_WRITTEN)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "the install is %s; only a written and verified image is staged",
                     sb_install_phase_name (st->state));
  if (st->slot == ctx->inputs.booted)
    return sb_throw (error, SB_ERROR_SLOT_BUSY, "slot %s is the booted slot; it cannot be staged",
                     sb_slot_id_name (st->slot));

  /* counters.json, then grubenv, then install.json: see sb-boot-decide.h for how the boot
   * helper reads each intermediate state. */
  if (st->has_release_counter)
    {
      if (!sb_counters_set_pending (ctx->counters, st->release_counter, error))
        return FALSE;
      sb_counters_set_slot (ctx->counters, st->slot, st->release_counter);
    }
  else
    {
      sb_counters_clear_pending (ctx->counters);
      sb_counters_clear_slot (ctx->counters, st->slot);
    }
  if (!sb_counters_save (ctx->counters, ctx->state_dir, error)
      || !sb_bootchooser_stage (ctx->bc, st->slot, error)
      || !sb_bootchooser_save (ctx->bc, error))
    return FALSE;
  st->state = SB_INSTALL_STAGED;
  if (!sb_install_state_save (st, ctx->state_dir, error)
      || !sb_bootchooser_get_order (ctx->bc, &ctx->inputs.grub, error))
    return FALSE;
  update_inputs (ctx);
  return TRUE;
}

/* Everything a verdict reads, read once before the state lock is taken: an unknown booted slot
 * or a missing grubenv fails with nothing written (not even state.lock or the state directory).
 * The decision itself reads it all again under the lock. */
static gboolean
check_readable (const SbConfig *config, GError **error)
{
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (config, NULL, error);
  return ctx != NULL;
}

gboolean
sb_bootchooser_mark_good (const SbConfig *config, char **out_message, GError **error)
{
  if (!check_readable (config, error))
    return FALSE;
  /* From the read to the last write, so that an update cycle's step cannot slip in between. */
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (config->state_dir, error);
  if (lock == NULL)
    return FALSE;
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (config, NULL, error);
  if (ctx == NULL)
    return FALSE;
  if (ctx->max_tries_warning != NULL)
    g_printerr ("switchback: warning: %s\n", ctx->max_tries_warning);
  /* The health checks passed: decide as the boot helper does when it confirms by itself, also
   * after an emergency boot (someone judged the system good). */
  ctx->inputs.confirm = SB_CONFIRM_INITRAMFS;
  ctx->inputs.emergency = FALSE;
  SbBootDecision d;
  sb_boot_decide (&ctx->inputs, &d);
  g_autofree char *msg = sb_boot_decision_describe (&ctx->inputs, &d);
  if (d.reboot)
    return sb_throw (error, SB_ERROR_ROLLBACK, "not marking slot %s good: %s",
                     sb_slot_id_name (ctx->inputs.booted), msg);
  if (!sb_boot_context_apply (ctx, &d, error))
    return FALSE;
  if (out_message != NULL)
    *out_message = g_steal_pointer (&msg);
  return TRUE;
}

gboolean
sb_bootchooser_mark_bad (const SbConfig *config, SbSlotId *out_next, char **out_message,
                         GError **error)
{
  if (!check_readable (config, error))
    return FALSE;
  /* The checks below read install.json: a download that begins after them must wait for the
   * grubenv write, or the half-written slot could be handed tries. */
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (config->state_dir, error);
  if (lock == NULL)
    return FALSE;
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (config, NULL, error);
  if (ctx == NULL)
    return FALSE;
  if (ctx->max_tries_warning != NULL)
    g_printerr ("switchback: warning: %s\n", ctx->max_tries_warning);
  SbBootInputs *in = &ctx->inputs;
  SbSlotId bad = in->booted, next = sb_slot_id_other (in->booted);
  gboolean trial = (in->install_phase == SB_INSTALL_STAGED
                    || in->install_phase == SB_INSTALL_WRITTEN)
                   && in->install_slot == bad;
  if (!trial)
    {
      /* Leaving the booted slot must not hand the system to an older or unfinished image. */
      if (in->has_slot_counter[next] && in->slot_counter[next] < in->rollback_counter)
        return sb_throw (error, SB_ERROR_ROLLBACK,
                         "not marking slot %s bad: slot %s holds release %" G_GUINT64_FORMAT
                         ", below the committed release %" G_GUINT64_FORMAT,
                         sb_slot_id_name (bad), sb_slot_id_name (next), in->slot_counter[next],
                         in->rollback_counter);
      if (in->install_phase != SB_INSTALL_IDLE && in->install_slot == next
          && in->install_phase != SB_INSTALL_STAGED)
        return sb_throw (error, SB_ERROR_SLOT_BUSY,
                         "not marking slot %s bad: slot %s is being rewritten by an unfinished "
                         "install", sb_slot_id_name (bad), sb_slot_id_name (next));
    }
  /* A trial slot is left with no tries, which the next boot reads as a failed trial (case 2). */
  if (!sb_bootchooser_set_tries (ctx->bc, bad, 0, error)
      || !(trial ? sb_bootchooser_prefer (ctx->bc, next, error)
                 : sb_bootchooser_commit (ctx->bc, next, error))
      || !sb_bootchooser_save (ctx->bc, error))
    return FALSE;
  if (out_next != NULL)
    *out_next = next;
  if (out_message != NULL)
    *out_message = g_strdup_printf ("slot %s marked bad: the next boot uses slot %s%s",
                                    sb_slot_id_name (bad), sb_slot_id_name (next),
                                    trial ? " and records the failed install" : "");
  return TRUE;
}
