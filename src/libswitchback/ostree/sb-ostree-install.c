/* sb-ostree-install.c: an OSTREE target into the inactive slot; see sb-ostree-install.h. Built
 * into the OSTree module (sb-ostree-module.h), not into the core library. */
#include "config.h"

#include "ostree/sb-ostree-install.h"
#include "ostree/sb-ostree-module.h"
#include "core/sb-error.h"
#include "ostree/sb-ostree.h"

#include <string.h>

/* The install cannot go on with this commit: the transaction ends so that the slot, whose tries
 * prepare_slot took, is never staged with it. */
static void
end_install (SbBootContext *ctx, const char *what)
{
  g_autoptr (GError) error = NULL;
  sb_install_state_clear (ctx->state);
  if (!sb_install_state_save (ctx->state, ctx->state_dir, &error))
    g_warning ("%s: ending the install: %s", what, error->message);
}

gboolean
sb_ostree_install_in_process (SbBootContext *ctx, const SbConfig *config,
                              const SbInstallTarget *target, SbInstallStats *out_stats,
                              GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (ctx != NULL && config != NULL, FALSE);
  g_return_val_if_fail (target != NULL && target->name != NULL && target->info != NULL, FALSE);

  SbInstallStats stats_local;
  SbInstallStats *stats = out_stats != NULL ? out_stats : &stats_local;
  SbSlotId slot = sb_slot_id_other (ctx->inputs.booted);
  *stats = (SbInstallStats){ .slot = slot };
  g_autofree char *what
      = g_strdup_printf ("target %s into slot %s", target->name, sb_slot_id_name (slot));

  /* 1. The same refusals as for a raw image (sb-install.h): the slot to replace is the
   * fallback of an unconfirmed boot while the booted slot is on trial or not committed. */
  SbInstallState *st = ctx->state;
  if (!sb_ostree_install_is_ostree (target))
    return sb_throw (error, SB_ERROR_UNSUPPORTED, "%s: format %s is not %s", what,
                     target->format != NULL ? target->format : "(none)",
                     SB_INSTALL_FORMAT_OSTREE);
  if (st->state != SB_INSTALL_IDLE && st->slot == ctx->inputs.booted)
    return sb_throw (error, SB_ERROR_SLOT_BUSY,
                     "%s: the booted slot %s holds the %s install of %s; confirm it (switchback "
                     "mark-good) or reject it (mark-bad) first",
                     what, sb_slot_id_name (ctx->inputs.booted), sb_install_phase_name (st->state),
                     st->target != NULL ? st->target : "(unnamed)");
  if (st->has_committed && st->committed != ctx->inputs.booted)
    return sb_throw (error, SB_ERROR_SLOT_BUSY,
                     "%s: slot %s is the committed slot and slot %s, booted, is not confirmed; "
                     "run switchback mark-good first",
                     what, sb_slot_id_name (st->committed), sb_slot_id_name (ctx->inputs.booted));
  const char *checksum
      = json_object_get_string_member_with_default (target->info->hashes, "sha256", NULL);
  if (checksum == NULL)
    return sb_throw (error, SB_ERROR_PARSE, "%s: an OSTree target lists no sha256 (the commit)",
                     what);
  if (!sb_ostree_check_target (target->name, checksum, target->info->length, error))
    return FALSE;
  if (sb_install_state_matches (st, target, slot)
      && (st->state == SB_INSTALL_WRITTEN || st->state == SB_INSTALL_STAGED))
    {
      stats->already_written = TRUE;
      return TRUE;
    }
  SbOstreePullOptions pull_opts;
  sb_ostree_pull_options_init (&pull_opts, config, target->url);
  if (pull_opts.url == NULL || pull_opts.url[0] == '\0')
    return sb_throw (error, SB_ERROR_CONFIG,
                     "%s: the target has no custom.uri and [ostree] ostree-url is not set", what);
  g_autoptr (SbOstree) ostree = sb_ostree_open_config (config, cancellable, error);
  if (ostree == NULL)
    return FALSE;

  /* 2. install.json first, then the slot's tries go (sb-boot-decide.h never boots a slot that
   * is being written). */
  if (!(sb_install_state_matches (st, target, slot) && st->state == SB_INSTALL_DOWNLOADING))
    {
      g_autoptr (GHashTable) hashes = sb_install_target_hashes (target->info);
      sb_install_state_begin (st, slot, target->name, target->format, 0, hashes,
                              target->correlation_id,
                              target->has_release_counter && target->release_counter <= G_MAXINT64
                                  ? (gint64)target->release_counter
                                  : -1);
      if (!sb_install_state_save (st, ctx->state_dir, error))
        return FALSE;
    }
  sb_install_test_kill_point ("begun");
  if (!sb_boot_context_prepare_slot (ctx, slot, error))
    return FALSE;
  sb_install_test_kill_point ("prepared");

  /* 3. and 4. */
  g_autoptr (GError) local = NULL;
  if (!sb_ostree_pull (ostree, checksum, &pull_opts, cancellable, &local))
    {
      if (g_error_matches (local, SB_ERROR, SB_ERROR_HASH_MISMATCH))
        end_install (ctx, what);
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", what);
      return FALSE;
    }
  sb_install_test_kill_point ("streamed");
  if (!sb_ostree_deploy (ostree, checksum, sb_slot_id_name (slot), target->name, cancellable,
                         error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  sb_install_test_kill_point ("verified");

  /* 5. */
  st->state = SB_INSTALL_WRITTEN;
  st->bytes_done = 0;
  if (!sb_install_state_save (st, ctx->state_dir, error))
    return FALSE;
  sb_install_test_kill_point ("written-state");
  return TRUE;
}

gboolean
sb_ostree_install_settle_in_process (const SbConfig *config, const SbInstallState *state,
                                     GCancellable *cancellable, GError **error)
{
  if (!sb_ostree_install_needs_settle (config, state))
    return TRUE;
  g_autoptr (SbOstree) ostree = sb_ostree_open_config (config, cancellable, error);
  if (ostree == NULL)
    return FALSE;
  if (!sb_ostree_prune (ostree, sb_slot_id_name (state->committed), cancellable, error))
    {
      g_prefix_error (error, "pruning the OSTree deployments after the trial of slot %s: ",
                      sb_slot_id_name (state->committed));
      return FALSE;
    }
  return TRUE;
}
