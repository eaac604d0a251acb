/* sb-install.c: a raw image streamed into the inactive slot; see sb-install.h for the
 * transaction and the order of its writes. */
#include "config.h"

#include "install/sb-install.h"
#include "state/sb-test-hooks.h"
#include "state/sb-state-lock.h"
#include "core/sb-crypto.h"
#include "core/sb-error.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The smallest buffer and ring the options accept: below that the threads hand buffers over
 * more often than they work on them. */
#define MIN_BUFFER_SIZE (64 * 1024)
#define MIN_BUFFERS 2
/* Progress callbacks at most this often (microseconds). */
#define PROGRESS_INTERVAL_US (250 * 1000)

const char *
sb_install_step_name (SbInstallStep step)
{
  switch (step)
    {
    case SB_INSTALL_STEP_REHASH:
      return "re-hashing";
    case SB_INSTALL_STEP_DOWNLOAD:
      return "downloading";
    case SB_INSTALL_STEP_VERIFY:
      return "verifying";
    default:
      return "?";
    }
}

void
sb_install_options_init (SbInstallOptions *opts)
{
  *opts = (SbInstallOptions){
    .buffer_size = SB_INSTALL_DEFAULT_BUFFER_SIZE,
    .n_buffers = SB_INSTALL_DEFAULT_BUFFERS,
  };
}

/* ---- the target against install.json ---- */

GHashTable *
sb_install_target_hashes (const SbTargetInfo *info)
{
  GHashTable *h = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GList) members = json_object_get_members (info->hashes);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *v = json_object_get_string_member_with_default (info->hashes, l->data, "");
      g_hash_table_insert (h, g_strdup (l->data), g_ascii_strdown (v, -1));
    }
  return h;
}

gboolean
sb_install_state_matches (const SbInstallState *state, const SbInstallTarget *target, SbSlotId slot)
{
  if (state->state == SB_INSTALL_IDLE || state->slot != slot || state->target == NULL
      || strcmp (state->target, target->name) != 0
      || state->length != (guint64)target->info->length)
    return FALSE;
  g_autoptr (GHashTable) want = sb_install_target_hashes (target->info);
  if (g_hash_table_size (want) != g_hash_table_size (state->hashes))
    return FALSE;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, want);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!sb_hex_digest_equal (v, g_hash_table_lookup (state->hashes, k)))
      return FALSE;
  return TRUE;
}

/* ---- the pipeline: download thread → ring → hasher and writer threads ---- */

typedef struct
{
  guint8 *data;
  gsize len;
  guint64 offset; /* in the slot */
  gint refs;      /* consumers still working on it */
} Chunk;

/* Pushed to a worker's queue to end it. */
static Chunk stop_chunk;

typedef struct
{
  SbBootContext *ctx;
  SbSlotWriter *writer;
  const SbInstallTarget *target;
  const char *what; /* "target NAME into slot X", for messages */
  SbHasher *hasher;
  guint algos;

  Chunk *chunks;
  guint n_chunks;
  GAsyncQueue *free_q, *hash_q, *write_q;
  GThread *hash_thread, *write_thread, *checkpoint_thread;

  /* The download side (calling thread only). */
  Chunk *current;
  guint64 expect_offset; /* where the stream should start */
  guint64 fill_offset;   /* image offset of the next byte received */
  gboolean first_call;
  SbFetchResult fetch_result;
  gint64 last_progress;
  const SbInstallOptions *opts;

  /* Shared between the threads, under @lock. */
  GMutex lock;
  GCond cond;
  guint64 written;      /* the slot holds the image up to here (page cache) */
  guint64 interval;     /* checkpoint interval */
  guint64 checkpointed; /* bytes_done last made durable */
  gboolean stopping;    /* the checkpoint thread finishes */
  GError *error;        /* the first worker error */
  gint failed;          /* atomic: a worker failed */
  guint checkpoints;

  /* install.json writes (checkpoint thread and, once, the download side), under @state_lock. */
  GMutex state_lock;
} Pipeline;

static void
fail (Pipeline *p, GError *error)
{
  g_mutex_lock (&p->lock);
  if (p->error == NULL)
    p->error = error;
  else
    g_error_free (error);
  g_atomic_int_set (&p->failed, 1);
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
}

static void
release_chunk (Pipeline *p, Chunk *c)
{
  if (g_atomic_int_dec_and_test (&c->refs))
    g_async_queue_push (p->free_q, c);
}

static gpointer
hash_thread (gpointer user_data)
{
  Pipeline *p = user_data;
  for (;;)
    {
      Chunk *c = g_async_queue_pop (p->hash_q);
      if (c == &stop_chunk)
        return NULL;
      if (!g_atomic_int_get (&p->failed))
        sb_hasher_update (p->hasher, c->data, c->len);
      release_chunk (p, c);
    }
}

static gpointer
write_thread (gpointer user_data)
{
  Pipeline *p = user_data;
  for (;;)
    {
      Chunk *c = g_async_queue_pop (p->write_q);
      if (c == &stop_chunk)
        return NULL;
      GError *error = NULL;
      /* At most two intervals ahead of the last durable checkpoint, so that a power cut never
       * costs more than that, whatever the disk's writeback does. */
      g_mutex_lock (&p->lock);
      while (!p->failed && c->offset + c->len > p->checkpointed + 2 * p->interval)
        g_cond_wait (&p->cond, &p->lock);
      g_mutex_unlock (&p->lock);
      if (!g_atomic_int_get (&p->failed))
        {
          if (sb_slot_writer_pwrite (p->writer, c->data, c->len, c->offset, &error))
            {
              g_mutex_lock (&p->lock);
              p->written = c->offset + c->len;
              g_cond_broadcast (&p->cond);
              g_mutex_unlock (&p->lock);
              sb_install_test_kill_point_at ("written", c->offset + c->len);
            }
          else
            fail (p, error);
        }
      release_chunk (p, c);
    }
}

/* Makes bytes_done = @done durable in install.json. The slot was fsynced up to @done. */
static gboolean
save_bytes_done (Pipeline *p, guint64 done, GError **error)
{
  g_mutex_lock (&p->state_lock);
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (p->ctx->state_dir, error);
  p->ctx->state->bytes_done = done;
  gboolean ok = lock != NULL && sb_install_state_save (p->ctx->state, p->ctx->state_dir, error);
  g_clear_pointer (&lock, sb_state_lock_release);
  g_mutex_unlock (&p->state_lock);
  return ok;
}

/* Checkpoints off the data path: the fsync covers everything written before it started, so
 * bytes_done may claim what was written when it began, while the writer goes on. */
static gpointer
checkpoint_thread (gpointer user_data)
{
  Pipeline *p = user_data;
  g_mutex_lock (&p->lock);
  for (;;)
    {
      while (!p->stopping && !p->failed && p->written < p->checkpointed + p->interval)
        g_cond_wait (&p->cond, &p->lock);
      if (p->stopping || p->failed)
        break;
      guint64 done = p->written;
      g_mutex_unlock (&p->lock);

      GError *error = NULL;
      gboolean ok = sb_slot_writer_sync (p->writer, &error) && save_bytes_done (p, done, &error);

      g_mutex_lock (&p->lock);
      if (!ok)
        {
          if (p->error == NULL)
            p->error = error;
          else
            g_error_free (error);
          g_atomic_int_set (&p->failed, 1);
          g_cond_broadcast (&p->cond);
          break;
        }
      p->checkpointed = done;
      p->checkpoints++;
      g_cond_broadcast (&p->cond);
      guint n = p->checkpoints;
      g_mutex_unlock (&p->lock);
      sb_install_test_kill_point_at ("checkpoint", n);
      g_mutex_lock (&p->lock);
    }
  g_mutex_unlock (&p->lock);
  return NULL;
}

static void
dispatch (Pipeline *p)
{
  Chunk *c = g_steal_pointer (&p->current);
  if (c == NULL)
    return;
  if (c->len == 0)
    {
      g_async_queue_push (p->free_q, c);
      return;
    }
  g_atomic_int_set (&c->refs, 2);
  g_async_queue_push (p->hash_q, c);
  g_async_queue_push (p->write_q, c);
}

static gboolean
propagate_worker_error (Pipeline *p, GError **error)
{
  g_mutex_lock (&p->lock);
  if (p->error != NULL)
    g_propagate_error (error, g_error_copy (p->error));
  else
    sb_throw (error, SB_ERROR_INSTALL, "%s: a worker stopped without an error", p->what);
  g_mutex_unlock (&p->lock);
  return FALSE;
}

static void
report_progress (Pipeline *p, SbInstallStep step, guint64 done, gboolean force)
{
  if (p->opts->progress == NULL)
    return;
  gint64 now = g_get_monotonic_time ();
  if (!force && now - p->last_progress < PROGRESS_INTERVAL_US)
    return;
  p->last_progress = now;
  p->opts->progress (step, done, (guint64)p->target->info->length, p->opts->progress_data);
}

/* The first body byte arrives: check where the stream starts. A server that ignored our Range
 * sends the image from byte 0, so everything kept from the earlier run is dropped: the hash
 * starts again and bytes_done goes back to 0 before the slot is overwritten. */
static gboolean
begin_stream (Pipeline *p, GError **error)
{
  p->first_call = FALSE;
  if (p->fetch_result.restarted)
    {
      g_debug ("%s: the server ignored the Range request; starting from byte 0", p->what);
      sb_hasher_free (p->hasher);
      p->hasher = sb_hasher_new (p->algos);
      p->fill_offset = 0;
      if (!save_bytes_done (p, 0, error))
        return FALSE;
      g_mutex_lock (&p->lock);
      p->written = p->checkpointed = 0;
      g_mutex_unlock (&p->lock);
    }
  else if (p->fetch_result.start_offset != p->expect_offset)
    return sb_throw (error, SB_ERROR_DOWNLOAD,
                     "%s: the download started at byte %" G_GUINT64_FORMAT
                     ", not at %" G_GUINT64_FORMAT,
                     p->what, p->fetch_result.start_offset, p->expect_offset);
  return TRUE;
}

static gboolean
sink (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  Pipeline *p = user_data;
  if (p->first_call && !begin_stream (p, error))
    return FALSE;
  guint64 length = (guint64)p->target->info->length;
  /* The fetcher caps the stream at the target length; the ring never carries more. */
  if (len > length - MIN (p->fill_offset, length))
    return sb_throw (error, SB_ERROR_ENDLESS_DATA,
                     "%s: the server sent more than the %" G_GUINT64_FORMAT " bytes of the target",
                     p->what, length);
  while (len > 0)
    {
      if (g_atomic_int_get (&p->failed))
        return propagate_worker_error (p, error);
      if (p->current == NULL)
        {
          p->current = g_async_queue_pop (p->free_q);
          p->current->len = 0;
          p->current->offset = p->fill_offset;
        }
      gsize n = MIN (len, p->opts->buffer_size - p->current->len);
      memcpy (p->current->data + p->current->len, data, n);
      p->current->len += n;
      p->fill_offset += n;
      data += n;
      len -= n;
      if (p->current->len == p->opts->buffer_size)
        dispatch (p);
    }
  sb_install_test_kill_point_at ("received", p->fill_offset);
  report_progress (p, SB_INSTALL_STEP_DOWNLOAD, p->fill_offset, FALSE);
  return TRUE;
}

static void
pipeline_start (Pipeline *p)
{
  p->chunks = g_new0 (Chunk, p->opts->n_buffers);
  p->n_chunks = p->opts->n_buffers;
  p->free_q = g_async_queue_new ();
  p->hash_q = g_async_queue_new ();
  p->write_q = g_async_queue_new ();
  for (guint i = 0; i < p->n_chunks; i++)
    {
      p->chunks[i].data = g_malloc (p->opts->buffer_size);
      g_async_queue_push (p->free_q, &p->chunks[i]);
    }
  p->hash_thread = g_thread_new ("sb-hash", hash_thread, p);
  p->write_thread = g_thread_new ("sb-write", write_thread, p);
  p->checkpoint_thread = g_thread_new ("sb-checkpoint", checkpoint_thread, p);
}

/* Hands over the last partial buffer and waits for every thread to finish. */
static void
pipeline_finish (Pipeline *p)
{
  dispatch (p);
  g_async_queue_push (p->hash_q, &stop_chunk);
  g_async_queue_push (p->write_q, &stop_chunk);
  g_thread_join (g_steal_pointer (&p->hash_thread));
  g_thread_join (g_steal_pointer (&p->write_thread));
  g_mutex_lock (&p->lock);
  p->stopping = TRUE;
  g_cond_broadcast (&p->cond);
  g_mutex_unlock (&p->lock);
  g_thread_join (g_steal_pointer (&p->checkpoint_thread));
  for (guint i = 0; i < p->n_chunks; i++)
    g_free (p->chunks[i].data);
  g_clear_pointer (&p->chunks, g_free);
  g_clear_pointer (&p->free_q, g_async_queue_unref);
  g_clear_pointer (&p->hash_q, g_async_queue_unref);
  g_clear_pointer (&p->write_q, g_async_queue_unref);
}

static gboolean
rehash_cb (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  Pipeline *p = user_data;
  sb_hasher_update (p->hasher, data, len);
  p->fill_offset += len;
  report_progress (p, SB_INSTALL_STEP_REHASH, p->fill_offset, FALSE);
  return TRUE;
}

/* ---- the transaction ---- */

static guint64
checkpoint_interval (const SbInstallOptions *opts, guint64 length)
{
  if (opts->checkpoint_interval > 0)
    return opts->checkpoint_interval;
  guint64 mib = 1024 * 1024;
  guint64 interval = (length / SB_INSTALL_CHECKPOINTS_PER_IMAGE + mib - 1) / mib * mib;
  return CLAMP (interval, SB_INSTALL_MIN_CHECKPOINT_INTERVAL, SB_INSTALL_MAX_CHECKPOINT_INTERVAL);
}

/* Ends the transaction of an image that did not verify: nothing of it may be staged or
 * resumed. The slot's tries stay 0 (prepare_slot). */
static gboolean
abandon (SbBootContext *ctx, GError **error)
{
  sb_install_state_clear (ctx->state);
  return sb_install_state_save (ctx->state, ctx->state_dir, error);
}

/* One pass from ctx->state->bytes_done to the end of the image, then the final checks.
 * *@out_resumed_bad is set when the image did not verify after bytes were kept from an earlier
 * run (the caller fetches once more from byte 0). */
static gboolean
stream_once (Pipeline *p, SbFetcher *fetcher, SbInstallStats *stats, gboolean *out_resumed_bad,
             GError **error)
{
  SbBootContext *ctx = p->ctx;
  const SbInstallTarget *target = p->target;
  guint64 length = (guint64)target->info->length;
  guint64 resume = MIN (ctx->state->bytes_done, length);

  *out_resumed_bad = FALSE;
  p->hasher = sb_hasher_new (p->algos);
  p->fill_offset = 0;
  if (resume > 0)
    {
      if (!sb_slot_writer_read_back (p->writer, resume, rehash_cb, p, error))
        return FALSE;
      report_progress (p, SB_INSTALL_STEP_REHASH, resume, TRUE);
      stats->resumed_from = resume;
      sb_install_test_kill_point ("rehashed");
    }

  p->expect_offset = p->fill_offset = resume;
  p->written = p->checkpointed = resume;
  p->first_call = TRUE;
  p->failed = 0;
  p->stopping = FALSE;
  g_clear_error (&p->error);

  g_autoptr (GError) stream_error = NULL;
  gboolean streamed = TRUE;
  if (resume < length)
    {
      pipeline_start (p);
      streamed = sb_fetcher_stream (fetcher, target->url, resume, length, sink, p, &p->fetch_result,
                                    &stream_error);
      pipeline_finish (p);
      if (p->failed && p->error != NULL)
        {
          /* A worker stopped the stream (or failed after its end): its error says why. */
          streamed = FALSE;
          g_clear_error (&stream_error);
          stream_error = g_error_copy (p->error);
        }
      stats->restarted = stats->restarted || p->fetch_result.restarted;
      stats->fetched += p->fill_offset - (p->fetch_result.restarted ? 0 : resume);
      stats->checkpoints += p->checkpoints;
      p->checkpoints = 0;
      report_progress (p, SB_INSTALL_STEP_DOWNLOAD, p->fill_offset, TRUE);
    }
  sb_install_test_kill_point ("streamed");

  /* What is in the slot is made durable either way: after a cut transfer, so that the next
   * run resumes from here. */
  guint64 have = p->written;
  if (!sb_slot_writer_sync (p->writer, error))
    return FALSE;
  sb_install_test_kill_point ("synced");
  if (!streamed)
    {
      g_autoptr (GError) save_error = NULL;
      if (!g_atomic_int_get (&p->failed) && have > ctx->state->bytes_done
          && !save_bytes_done (p, have, &save_error))
        g_warning ("%s: %s", p->what, save_error->message);
      g_propagate_prefixed_error (error, g_steal_pointer (&stream_error), "%s: ", p->what);
      return FALSE;
    }

  report_progress (p, SB_INSTALL_STEP_VERIFY, have, TRUE);
  g_autoptr (GError) verify_error = NULL;
  gboolean verified
      = have == length ? sb_target_info_verify_hasher (target->info, have, p->hasher, &verify_error)
                       : sb_throw (&verify_error, SB_ERROR_LENGTH_MISMATCH,
                                   "the server sent %" G_GUINT64_FORMAT
                                   " bytes; the target has %" G_GUINT64_FORMAT,
                                   have, length);
  if (!verified)
    {
      *out_resumed_bad = resume > 0 && !p->fetch_result.restarted;
      g_propagate_prefixed_error (error, g_steal_pointer (&verify_error),
                                  "slot %s: ", sb_slot_id_name (p->ctx->state->slot));
      return FALSE;
    }
  sb_install_test_kill_point ("verified");
  return TRUE;
}

/* stream_once, and once more from byte 0 when a resumed image did not verify. An image that
 * does not verify ends the transaction. */
static gboolean
stream_and_verify (Pipeline *p, SbFetcher *fetcher, SbInstallStats *stats, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean resumed_bad = FALSE;
  if (stream_once (p, fetcher, stats, &resumed_bad, &local_error))
    return TRUE;
  if (resumed_bad)
    {
      g_debug ("%s; fetching it again from byte 0", local_error->message);
      stats->refetched = TRUE;
      g_clear_error (&local_error);
      g_clear_pointer (&p->hasher, sb_hasher_free);
      if (!save_bytes_done (p, 0, error))
        return FALSE;
      if (stream_once (p, fetcher, stats, &resumed_bad, &local_error))
        return TRUE;
    }
  if (g_error_matches (local_error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH)
      || g_error_matches (local_error, SB_ERROR, SB_ERROR_HASH_MISMATCH))
    {
      g_autoptr (GError) abandon_error = NULL;
      if (!abandon (p->ctx, &abandon_error))
        g_warning ("%s: %s", p->what, abandon_error->message);
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
sb_install_raw (SbBootContext *ctx, SbSlots *slots, SbFetcher *fetcher,
                const SbInstallTarget *target, const SbInstallOptions *opts,
                SbInstallStats *out_stats, GError **error)
{
  g_return_val_if_fail (ctx != NULL && slots != NULL && fetcher != NULL, FALSE);
  g_return_val_if_fail (
      target != NULL && target->name != NULL && target->info != NULL && target->url != NULL, FALSE);

  SbInstallOptions defaults;
  if (opts == NULL)
    {
      sb_install_options_init (&defaults);
      opts = &defaults;
    }
  if (opts->buffer_size < MIN_BUFFER_SIZE || opts->n_buffers < MIN_BUFFERS)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "install buffers of %" G_GSIZE_FORMAT " bytes x %u are too small",
                     opts->buffer_size, opts->n_buffers);

  SbInstallStats stats_local;
  SbInstallStats *stats = out_stats != NULL ? out_stats : &stats_local;
  SbSlotId slot = sb_slot_id_other (ctx->inputs.booted);
  *stats = (SbInstallStats){ .slot = slot };
  g_autofree char *what
      = g_strdup_printf ("target %s into slot %s", target->name, sb_slot_id_name (slot));
  guint64 length = (guint64)target->info->length;

  /* Steps 1 and 2 under the state lock (sb-state-lock.h), so that no mark-good or mark-bad
   * acts on the state between the checks and the writes; the download after them runs without
   * it. A caller that holds it already (the update cycle) nests. */
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (ctx->state_dir, error);
  if (lock == NULL)
    return FALSE;

  /* 1. Everything that can refuse the image, before anything changes. The other slot is the
   * fallback of an unconfirmed boot: while the booted slot is on trial, or has not been
   * committed, overwriting it would leave nothing to fall back to. */
  SbInstallState *st = ctx->state;
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
  if (target->format != NULL && strcmp (target->format, SB_INSTALL_FORMAT_BINARY) != 0)
    return sb_throw (error, SB_ERROR_UNSUPPORTED, "%s: format %s is not a raw image (%s)", what,
                     target->format, SB_INSTALL_FORMAT_BINARY);
  guint algos = 0;
  if (!sb_target_info_get_hash_algos (target->info, &algos, error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  if (sb_install_state_matches (ctx->state, target, slot)
      && (ctx->state->state == SB_INSTALL_WRITTEN || ctx->state->state == SB_INSTALL_STAGED))
    {
      stats->already_written = TRUE;
      return TRUE;
    }
  g_autoptr (SbSlotWriter) writer = sb_slot_writer_open (slots, slot, ctx->inputs.booted, error);
  if (writer == NULL)
    return FALSE;
  if (!sb_slot_writer_check_fits (writer, length, error))
    {
      g_prefix_error (error, "target %s: ", target->name);
      return FALSE;
    }

  /* 2. install.json first: a slot that is being written is never booted, whatever grubenv says
   * (sb-boot-decide.h), and then its tries go. */
  if (!(sb_install_state_matches (ctx->state, target, slot)
        && ctx->state->state == SB_INSTALL_DOWNLOADING))
    {
      g_autoptr (GHashTable) hashes = sb_install_target_hashes (target->info);
      sb_install_state_begin (ctx->state, slot, target->name, target->format, length, hashes,
                              target->correlation_id,
                              target->has_release_counter && target->release_counter <= G_MAXINT64
                                  ? (gint64)target->release_counter
                                  : -1);
      if (!sb_install_state_save (ctx->state, ctx->state_dir, error))
        return FALSE;
    }
  sb_install_test_kill_point ("begun");
  if (!sb_boot_context_prepare_slot (ctx, slot, error))
    return FALSE;
  sb_install_test_kill_point ("prepared");
  g_clear_pointer (&lock, sb_state_lock_release);

  /* 3. and 4. */
  Pipeline p = {
    .ctx = ctx,
    .writer = writer,
    .target = target,
    .what = what,
    .algos = algos,
    .opts = opts,
    /* A buffer never spans more than one interval, so the writer's wait above always leaves
     * the checkpoint thread a full interval to make durable. */
    .interval = MAX (checkpoint_interval (opts, length), (guint64)opts->buffer_size),
  };
  g_mutex_init (&p.lock);
  g_cond_init (&p.cond);
  g_mutex_init (&p.state_lock);
  gboolean ok = stream_and_verify (&p, fetcher, stats, error);
  g_clear_pointer (&p.hasher, sb_hasher_free);
  g_clear_error (&p.error);
  g_mutex_clear (&p.lock);
  g_cond_clear (&p.cond);
  g_mutex_clear (&p.state_lock);
  if (!ok)
    return FALSE;

  ctx->state->state = SB_INSTALL_WRITTEN;
  ctx->state->bytes_done = length;
  if ((lock = sb_state_lock_acquire (ctx->state_dir, error)) == NULL
      || !sb_install_state_save (ctx->state, ctx->state_dir, error)
      || !sb_slot_writer_close (writer, error))
    return FALSE;
  g_clear_pointer (&lock, sb_state_lock_release);
  sb_install_test_kill_point ("written-state");
  return TRUE;
}
