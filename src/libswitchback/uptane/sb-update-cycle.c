/* sb-update-cycle.c: `switchback update`; see sb-update-cycle.h for the steps and images.json. */
#include "config.h"

#include "uptane/sb-update-cycle.h"
#include "install/sb-bootchooser.h"
#include "core/sb-crypto.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "install/sb-images.h"
#include "core/sb-json.h"
#include "ostree/sb-ostree-install.h"
#include "ostree/sb-ostree-slots.h"
#include "state/sb-report-queue.h"
#include "state/sb-state-lock.h"
#include "uptane/sb-uptane.h"

#include <string.h>

void
sb_update_options_init (SbUpdateOptions *opts)
{
  *opts = (SbUpdateOptions){ .retry_failed = FALSE };
  sb_install_options_init (&opts->install);
}

const char *
sb_update_outcome_name (SbUpdateOutcome outcome)
{
  switch (outcome)
    {
    case SB_UPDATE_NO_UPDATE:
      return "no-update";
    case SB_UPDATE_UP_TO_DATE:
      return "up-to-date";
    case SB_UPDATE_SKIPPED_FAILED:
      return "skipped-failed";
    case SB_UPDATE_STAGED:
      return "staged";
    case SB_UPDATE_ALREADY_STAGED:
      return "already-staged";
    default:
      return "?";
    }
}

void
sb_update_result_clear (SbUpdateResult *result)
{
  g_free (result->target);
  g_free (result->correlation_id);
  g_free (result->manifest_problem);
  g_free (result->clock_problem);
  g_free (result->recorded_failure);
  g_free (result->queued_result);
  *result = (SbUpdateResult){ 0 };
}

/* ---- the cycle ---- */

/* One cycle at a time: a second one fails at once rather than waiting for a download. */
static SbStateLock *
take_cycle_lock (const char *state_dir, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  SbStateLock *lock = sb_state_lock_take (state_dir, SB_UPDATE_LOCK_FILE, FALSE, &local_error);
  if (lock == NULL && g_error_matches (local_error, SB_ERROR, SB_ERROR_SLOT_BUSY))
    {
      g_autofree char *path = g_build_filename (state_dir, SB_UPDATE_LOCK_FILE, NULL);
      sb_throw (error, SB_ERROR_SLOT_BUSY, "another update cycle holds %s", path);
      return NULL;
    }
  if (lock == NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return lock;
}

/* Queues a failed install result for the Director; a failure to queue is a warning, since the
 * install error itself is what the caller reports. */
static void
record_failure (SbBootContext *ctx, const SbInstallTarget *t, const char *code, const GError *why,
                SbUpdateResult *result)
{
  g_autoptr (GError) error = NULL;
  if (!sb_install_state_record_result (ctx->state_dir, t->correlation_id, t->name, FALSE, code,
                                       why->message, &error))
    {
      g_warning ("could not queue the %s result of %s: %s", code, t->name, error->message);
      return;
    }
  g_free (result->queued_result);
  result->queued_result = g_strdup (code);
}

/* The result code of an install failure, or NULL for failures that are not the image's (a
 * download is resumed, a busy slot or bad state is local). */
static const char *
failure_code (const GError *error)
{
  if (error->domain != SB_ERROR)
    return NULL;
  switch ((SbErrorCode)error->code)
    {
    case SB_ERROR_LENGTH_MISMATCH:
    case SB_ERROR_HASH_MISMATCH:
      return SB_RESULT_VERIFICATION_FAILED;
    case SB_ERROR_NO_SPACE:
    case SB_ERROR_INSTALL:
    case SB_ERROR_IO:
    case SB_ERROR_UNSUPPORTED:
    case SB_ERROR_INVALID_ARGUMENT:
      return SB_RESULT_INSTALL_FAILED;
    default:
      return NULL;
    }
}

/* The Director assigns the image the booted slot runs: a staged install of another image must
 * not be tried at the next boot. Its slot loses its tries first (a boot in between falls back to
 * the booted slot), then install.json ends the transaction. */
static gboolean
unstage (SbBootContext *ctx, SbImages *im, GError **error)
{
  SbInstallState *st = ctx->state;
  if (st->state == SB_INSTALL_IDLE || st->slot == ctx->inputs.booted)
    return TRUE;
  g_clear_pointer (&im->trial, sb_image_record_free);
  if (!sb_images_save (im, ctx->state_dir, error)
      || !sb_boot_context_prepare_slot (ctx, st->slot, error))
    return FALSE;
  sb_install_state_clear (st);
  return sb_install_state_save (st, ctx->state_dir, error);
}

/* Step 3 for either kind of target: a raw image streamed into the slot's partition, or an
 * OSTree commit pulled and deployed into the slot (sb-ostree-install.h). */
static gboolean
install_image (SbBootContext *ctx, const SbConfig *config, SbSlots *slots, SbFetcher *fetcher,
               const SbInstallTarget *t, const SbUpdateOptions *opts, SbInstallStats *stats,
               GError **error)
{
  if (sb_ostree_install_is_ostree (t))
    return sb_ostree_install (ctx, config, t, stats, NULL, error);
  if (slots == NULL)
    return sb_throw (error, SB_ERROR_CONFIG,
                     "target %s is a raw image, but no [slots] disk is configured to write it to",
                     t->name);
  return sb_install_raw (ctx, slots, fetcher, t, &opts->install, stats, error);
}

/* The boot context read again, under the state lock the caller holds: what another command
 * (mark-good, mark-bad, an edit of grubenv) wrote since the last read is what the next writes
 * start from, instead of being overwritten by a stale copy. */
static gboolean
reload_context (SbBootContext **ctx, const SbConfig *config, GError **error)
{
  g_clear_pointer (ctx, sb_boot_context_free);
  return (*ctx = sb_boot_context_load (config, NULL, error)) != NULL;
}

/* After the image is written, under the state lock: grubenv and install.json read again, and
 * the install they describe must still be this one, written into @slot. */
static gboolean
reload_for_staging (SbBootContext **ctx, const SbConfig *config, const SbInstallTarget *t,
                    SbSlotId slot, GError **error)
{
  if (!reload_context (ctx, config, error))
    return FALSE;
  SbInstallState *st = (*ctx)->state;
  if (!sb_install_state_matches (st, t, slot) || st->state != SB_INSTALL_WRITTEN)
    return sb_throw (error, SB_ERROR_STATE,
                     "target %s was written into slot %s, but install.json now says %s (%s); "
                     "not staging it",
                     t->name, sb_slot_id_name (slot), sb_install_phase_name (st->state),
                     st->target != NULL ? st->target : "no target");
  return TRUE;
}

static gboolean
install_locked (SbBootContext **ctxp, const SbConfig *config, SbImages *im, SbSlots *slots,
                SbFetcher *fetcher, const SbInstallTarget *t, const SbUpdateOptions *opts,
                SbUpdateResult *result, GError **error)
{
  /* Everything up to the download under the state lock, from a fresh read. */
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (config->state_dir, error);
  if (lock == NULL || !reload_context (ctxp, config, error))
    return FALSE;
  SbBootContext *ctx = *ctxp;
  SbInstallState *st = ctx->state;
  SbSlotId booted = ctx->inputs.booted, slot = sb_slot_id_other (booted);
  result->booted = booted;
  result->slot = slot;
  g_free (result->target);
  result->target = g_strdup (t->name);
  g_free (result->correlation_id);
  result->correlation_id = g_strdup (t->correlation_id);
  result->length = (guint64)t->info->length;

  if (t->format != NULL && strcmp (t->format, SB_INSTALL_FORMAT_BINARY) != 0
      && !sb_ostree_install_is_ostree (t))
    return sb_throw (error, SB_ERROR_UNSUPPORTED,
                     "target %s has format %s; switchback installs %s and %s targets", t->name,
                     t->format, SB_INSTALL_FORMAT_BINARY, SB_INSTALL_FORMAT_OSTREE);
  if (sb_image_record_matches (im->slots[booted], t))
    {
      result->outcome = SB_UPDATE_UP_TO_DATE;
      return unstage (ctx, im, error);
    }
  if (st->state == SB_INSTALL_STAGED && sb_install_state_matches (st, t, slot))
    {
      result->outcome = SB_UPDATE_ALREADY_STAGED;
      return TRUE;
    }
  if (!opts->retry_failed && sb_images_failed_before (im, t))
    {
      result->outcome = SB_UPDATE_SKIPPED_FAILED;
      return TRUE;
    }

  /* Uptane §5.4.4.2 already refuses an image below the committed release; checked again here,
   * before any byte is fetched, because staging it would have to lower a counter. */
  guint64 committed = sb_counters_get_rollback_counter (ctx->counters);
  if (committed > 0 && (!t->has_release_counter || t->release_counter < committed))
    {
      g_autoptr (GError) refusal = NULL;
      g_autofree char *counter = t->has_release_counter
                                     ? g_strdup_printf ("%" G_GUINT64_FORMAT, t->release_counter)
                                     : g_strdup ("none");
      sb_throw (&refusal, SB_ERROR_ROLLBACK,
                "target %s has release counter %s, below the committed %" G_GUINT64_FORMAT
                " (rollback attack)",
                t->name, counter, committed);
      record_failure (ctx, t, SB_RESULT_VERIFICATION_FAILED, refusal, result);
      g_propagate_error (error, g_steal_pointer (&refusal));
      return FALSE;
    }

  /* A new install: the slot's old image and any staged trial are forgotten before its first
   * byte is overwritten. */
  if (!sb_install_state_matches (st, t, slot) && (im->trial != NULL || im->slots[slot] != NULL))
    {
      g_clear_pointer (&im->trial, sb_image_record_free);
      g_clear_pointer (&im->slots[slot], sb_image_record_free);
      if (!sb_images_save (im, ctx->state_dir, error))
        return FALSE;
    }

  /* The download runs without the state lock: the installer takes it for each write of its
   * own (sb-install.h), and a mark-good or mark-bad meanwhile waits for one write, not for the
   * image. */
  g_clear_pointer (&lock, sb_state_lock_release);
  g_autoptr (GError) install_error = NULL;
  if (!install_image (ctx, config, slots, fetcher, t, opts, &result->stats, &install_error))
    {
      const char *code = failure_code (install_error);
      if (code != NULL)
        record_failure (ctx, t, code, install_error, result);
      g_propagate_error (error, g_steal_pointer (&install_error));
      return FALSE;
    }
  sb_install_test_kill_point ("update-installed");

  if ((lock = sb_state_lock_acquire (config->state_dir, error)) == NULL
      || !reload_for_staging (ctxp, config, t, slot, error))
    return FALSE;
  ctx = *ctxp;
  st = ctx->state;

  /* Remembered before GRUB may try it, so that a failed trial is known as such. */
  g_autoptr (SbImageRecord) trial = sb_image_record_new_for_target (t);
  trial->slot = slot;
  sb_image_record_free (im->slots[slot]);
  im->slots[slot] = sb_image_record_new_for_target (t);
  sb_image_record_free (im->trial);
  im->trial = g_steal_pointer (&trial);
  if (!sb_images_save (im, ctx->state_dir, error))
    return FALSE;
  sb_install_test_kill_point ("update-recorded");

  g_autoptr (GError) stage_error = NULL;
  if (!sb_boot_context_stage_install (ctx, &stage_error))
    {
      if (g_error_matches (stage_error, SB_ERROR, SB_ERROR_ROLLBACK))
        {
          /* The counters refused it: it may never be booted, so the install ends here. */
          g_autoptr (GError) end_error = NULL;
          record_failure (ctx, t, SB_RESULT_VERIFICATION_FAILED, stage_error, result);
          g_clear_pointer (&im->trial, sb_image_record_free);
          sb_install_state_clear (st);
          if (!sb_images_save (im, ctx->state_dir, &end_error)
              || !sb_install_state_save (st, ctx->state_dir, &end_error))
            g_warning ("%s", end_error->message);
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&stage_error),
                                  "staging target %s in slot %s: ", t->name,
                                  sb_slot_id_name (slot));
      return FALSE;
    }
  sb_install_test_kill_point ("update-staged");
  result->outcome = SB_UPDATE_STAGED;
  return TRUE;
}

/* Loads what one cycle works on and records the outcome of the previous trial. */
static SbBootContext *
open_cycle (SbConfig *config, SbImages **out_images, SbSlots **out_slots, SbUpdateResult *result,
            GError **error)
{
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (config->state_dir, error);
  if (lock == NULL)
    return NULL;
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (config, NULL, error);
  if (ctx == NULL)
    return NULL;
  if (ctx->max_tries_warning != NULL)
    g_printerr ("switchback: warning: %s\n", ctx->max_tries_warning);
  /* An OSTree system has no partitions for raw images: no [slots] disk. */
  g_autoptr (SbSlots) slots = NULL;
  if (!sb_ostree_install_is_configured (config)
      && (slots = sb_slots_load_config (config, error)) == NULL)
    return NULL;
  g_autoptr (SbImages) im = sb_images_load_or_warn (ctx->state_dir);
  gboolean had_trial = im->trial != NULL;
  g_autofree char *failure = sb_images_resolve_trial (im, ctx->state);
  if (had_trial && im->trial == NULL && !sb_images_save (im, ctx->state_dir, error))
    return NULL;
  /* A trial that ended leaves OSTree deployments to bring in line with the slots. */
  g_autoptr (GError) settle_error = NULL;
  if (!sb_ostree_install_settle (config, ctx->state, NULL, &settle_error))
    g_warning ("%s", settle_error->message);
  g_free (result->recorded_failure);
  result->recorded_failure = g_steal_pointer (&failure);
  result->booted = ctx->inputs.booted;
  result->slot = sb_slot_id_other (ctx->inputs.booted);
  *out_images = g_steal_pointer (&im);
  *out_slots = g_steal_pointer (&slots);
  return g_steal_pointer (&ctx);
}

gboolean
sb_update_install_target (SbConfig *config, SbFetcher *fetcher, const SbInstallTarget *target,
                          const SbUpdateOptions *opts, SbUpdateResult *result, GError **error)
{
  SbUpdateOptions defaults;
  if (opts == NULL)
    {
      sb_update_options_init (&defaults);
      opts = &defaults;
    }
  g_autoptr (SbStateLock) cycle = take_cycle_lock (config->state_dir, error);
  if (cycle == NULL)
    return FALSE;
  g_autoptr (SbImages) im = NULL;
  g_autoptr (SbSlots) slots = NULL;
  g_autoptr (SbBootContext) ctx = open_cycle (config, &im, &slots, result, error);
  return ctx != NULL
         && install_locked (&ctx, config, im, slots, fetcher, target, opts, result, error);
}

static void
send_manifest (SbUptane *uptane, const SbConfig *config, SbImages *im, SbSlotId booted,
               SbUpdateResult *result)
{
  SbInstalledImage installed = { 0 };
  const SbImageRecord *r = im->slots[booted];
  if (r != NULL)
    installed
        = (SbInstalledImage){ r->target, g_hash_table_lookup (r->hashes, "sha256"), r->length };
  /* On OSTree the booted deployment's commit is the installed image, whatever the cycle last
   * wrote into the slot (a factory deployment was never written by it). Read without
   * libostree, from ostree= or the slot table (sb-ostree-slots.h). */
  g_autofree char *os_commit = NULL;
  g_autofree char *os_target = NULL;
  if (sb_ostree_install_is_configured (config)
      && sb_ostree_slots_booted_commit (config->state_dir, config->cmdline_file,
                                        sb_slot_id_name (booted), &os_commit, &os_target, NULL,
                                        NULL)
      && os_commit != NULL)
    {
      const char *name = os_target;
      if (name == NULL && r != NULL && g_strcmp0 (installed.sha256, os_commit) == 0)
        name = r->target;
      installed = (SbInstalledImage){ name != NULL ? name : os_commit, os_commit, 0 };
    }
  g_autoptr (GError) error = NULL;
  guint sent = 0;
  gboolean ok = sb_uptane_send_manifest (
      uptane, installed.sha256 != NULL ? &installed : NULL, &sent, &error);
  result->reports_sent += sent;
  if (!ok)
    {
      g_free (result->manifest_problem);
      result->manifest_problem = g_strdup (error->message);
    }
}

/* The one image the Director assigns to this primary, or NULL. */
static SbUptaneTarget *
pick_target (SbUptaneUpdate *update, const char *ecu_serial, GError **error)
{
  SbUptaneTarget *found = NULL;
  for (guint i = 0; i < update->targets->len; i++)
    {
      SbUptaneTarget *t = update->targets->pdata[i];
      if (g_strcmp0 (t->ecu_serial, ecu_serial) != 0)
        continue;
      if (found != NULL)
        {
          sb_throw (error, SB_ERROR_BAD_ECU_ID,
                    "the Director assigns both %s and %s to ECU %s; one image per ECU", found->name,
                    t->name, ecu_serial);
          return NULL;
        }
      found = t;
    }
  return found;
}

static gboolean
cycle_locked (SbConfig *config, SbIdentity *identity, const SbUpdateOptions *opts,
              SbUpdateResult *result, GError **error)
{
  g_autoptr (SbImages) im = NULL;
  g_autoptr (SbSlots) slots = NULL;
  g_autoptr (SbBootContext) ctx = open_cycle (config, &im, &slots, result, error);
  if (ctx == NULL)
    return FALSE;
  g_autoptr (SbUptane) uptane = sb_uptane_new (config, identity, error);
  if (uptane == NULL)
    return FALSE;

  /* Uptane §5.4.2: the cycle starts with the vehicle version manifest, and with it any result
   * the boot helper queued (such as a rolled-back trial). */
  send_manifest (uptane, config, im, ctx->inputs.booted, result);
  sb_install_test_kill_point ("update-reported");

  g_autoptr (SbUptaneUpdate) update = sb_uptane_check (uptane, error);
  if (update == NULL)
    return FALSE;
  if (sb_uptane_get_clock_problem (uptane) != NULL)
    result->clock_problem = g_strdup (sb_uptane_get_clock_problem (uptane));
  sb_install_test_kill_point ("update-verified");

  /* The check raised the role versions in counters.json: install_locked installs and stages
   * from a fresh read, so that saving the counters never meets a stale copy (which
   * sb_counters_save refuses). */

  g_autoptr (GError) pick_error = NULL;
  SbUptaneTarget *ut = pick_target (update, sb_identity_get_ecu_serial (identity), &pick_error);
  if (pick_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&pick_error));
      return FALSE;
    }
  if (ut == NULL)
    {
      result->outcome = SB_UPDATE_NO_UPDATE;
      return TRUE;
    }
  /* A raw image comes from the Image repository (or its custom.uri); an OSTree commit from its
   * custom.uri, else [ostree] ostree-url. */
  gboolean is_ostree = g_strcmp0 (ut->format, SB_INSTALL_FORMAT_OSTREE) == 0;
  g_autofree char *url = is_ostree ? g_strdup (ut->uri) : sb_uptane_target_url (uptane, ut);
  if (url == NULL && !is_ostree)
    return sb_throw (error, SB_ERROR_STATE, "target %s: no URL to fetch it from", ut->name);
  SbInstallTarget target = {
    .name = ut->name,
    .info = ut->image != NULL ? ut->image : ut->director,
    .url = url,
    .format = ut->format,
    .correlation_id = update->correlation_id,
    .has_release_counter = ut->has_release_counter,
    .release_counter = ut->release_counter,
  };

  g_autoptr (GError) install_error = NULL;
  if (install_locked (&ctx, config, im, slots, sb_uptane_get_fetcher (uptane), &target, opts,
                      result, &install_error))
    return TRUE;
  /* The Director hears of a failure now rather than at the next cycle. */
  if (result->queued_result != NULL)
    send_manifest (uptane, config, im, ctx->inputs.booted, result);
  g_propagate_error (error, g_steal_pointer (&install_error));
  return FALSE;
}

gboolean
sb_update_cycle_check_config (SbConfig *config, GError **error)
{
  if (!sb_uptane_check_config (config, error))
    return FALSE;
  /* Read as open_cycle reads them, but before any lock file or key exists: an unknown booted
   * slot, a missing grubenv or a disk without the slots fails here, with nothing written. */
  g_autoptr (SbBootContext) ctx = sb_boot_context_load (config, NULL, error);
  if (ctx == NULL)
    return FALSE;
  g_autoptr (SbSlots) slots = NULL;
  return sb_ostree_install_is_configured (config)
         || (slots = sb_slots_load_config (config, error)) != NULL;
}

gboolean
sb_update_cycle_run (SbConfig *config, SbIdentity *identity, const SbUpdateOptions *opts,
                     SbUpdateResult *result, GError **error)
{
  SbUpdateOptions defaults;
  if (opts == NULL)
    {
      sb_update_options_init (&defaults);
      opts = &defaults;
    }
  g_autoptr (SbStateLock) cycle = take_cycle_lock (config->state_dir, error);
  if (cycle == NULL)
    return FALSE;
  return cycle_locked (config, identity, opts, result, error);
}
