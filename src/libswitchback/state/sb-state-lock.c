/* sb-state-lock.c: flock(2) on a lock file, nested within a process; see sb-state-lock.h. */
#include "config.h"

#include "state/sb-state-lock.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

/* One per lock file held (or being taken) in this process. flock(2) locks belong to an open
 * file description, so a second open() of the same file in this process would wait for the
 * first: nested holds share the first one's descriptor instead. */
typedef struct {
  int fd;          /* -1 while the owner is still waiting for the flock */
  GThread *owner;
  guint depth;
} Held;

struct _SbStateLock {
  char *path;
};

static GMutex held_mutex;
static GCond held_cond;
static GHashTable *held; /* path -> Held */

/* One spelling per file ("dir/", "dir/./"), so nested holds find each other. */
static char *
lock_path (const char *dir, const char *name)
{
  g_autofree char *joined = g_build_filename (dir, name, NULL);
  return g_canonicalize_filename (joined, NULL);
}

static void
forget (const char *path)
{
  g_hash_table_remove (held, path);
  g_cond_broadcast (&held_cond);
}

SbStateLock *
sb_state_lock_take (const char *dir, const char *name, gboolean wait, GError **error)
{
  g_return_val_if_fail (dir != NULL && name != NULL, NULL);
  g_autofree char *path = lock_path (dir, name);
  GThread *self = g_thread_self ();

  g_mutex_lock (&held_mutex);
  if (held == NULL)
    held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Held *h;
  while ((h = g_hash_table_lookup (held, path)) != NULL && h->owner != self)
    {
      if (!wait)
        {
          g_mutex_unlock (&held_mutex);
          sb_throw (error, SB_ERROR_SLOT_BUSY, "%s is held by another thread of this process",
                    path);
          return NULL;
        }
      g_cond_wait (&held_cond, &held_mutex);
    }
  if (h != NULL)
    {
      h->depth++;
      g_mutex_unlock (&held_mutex);
      SbStateLock *lock = g_new0 (SbStateLock, 1);
      lock->path = g_steal_pointer (&path);
      return lock;
    }
  /* Claimed before the flock, which may wait, so that this process's other threads wait here
   * rather than on a descriptor of their own. */
  h = g_new0 (Held, 1);
  h->fd = -1;
  h->owner = self;
  h->depth = 1;
  g_hash_table_insert (held, g_strdup (path), h);
  g_mutex_unlock (&held_mutex);

  int fd = -1;
  gboolean ok = sb_durable_mkdir_p (dir, 0700, error);
  if (ok && (fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
    ok = sb_throw_errno (error, SB_ERROR_IO, "opening lock file %s", path);
  if (ok)
    {
      int r;
      do
        r = flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB));
      while (r < 0 && errno == EINTR);
      if (r < 0 && errno == EWOULDBLOCK)
        ok = sb_throw (error, SB_ERROR_SLOT_BUSY, "another process holds %s", path);
      else if (r < 0)
        ok = sb_throw_errno (error, SB_ERROR_IO, "locking %s", path);
    }

  g_mutex_lock (&held_mutex);
  if (!ok)
    {
      if (fd >= 0)
        (void) close (fd);
      forget (path);
      g_mutex_unlock (&held_mutex);
      return NULL;
    }
  h->fd = fd;
  g_mutex_unlock (&held_mutex);
  SbStateLock *lock = g_new0 (SbStateLock, 1);
  lock->path = g_steal_pointer (&path);
  return lock;
}

SbStateLock *
sb_state_lock_acquire (const char *state_dir, GError **error)
{
  return sb_state_lock_take (state_dir, SB_STATE_LOCK_FILE, TRUE, error);
}

void
sb_state_lock_release (SbStateLock *lock)
{
  if (lock == NULL)
    return;
  g_mutex_lock (&held_mutex);
  Held *h = held != NULL ? g_hash_table_lookup (held, lock->path) : NULL;
  g_warn_if_fail (h != NULL && h->owner == g_thread_self ());
  if (h != NULL && --h->depth == 0)
    {
      /* Closing the only descriptor releases the flock. */
      (void) close (h->fd);
      forget (lock->path);
    }
  g_mutex_unlock (&held_mutex);
  g_free (lock->path);
  g_free (lock);
}

gboolean
sb_state_lock_is_held (const char *dir, const char *name)
{
  g_autofree char *path = lock_path (dir, name);
  g_mutex_lock (&held_mutex);
  Held *h = held != NULL ? g_hash_table_lookup (held, path) : NULL;
  gboolean mine = h != NULL && h->owner == g_thread_self () && h->fd >= 0;
  g_mutex_unlock (&held_mutex);
  return mine;
}
