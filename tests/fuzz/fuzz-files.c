/* fuzz-files.c: every state file switchback reads back, and the config, as damaged files.
 *
 * Byte 0 picks the file: 0 install.json, 1 counters.json, 2 images.json, 3 ostree-slots.json,
 * 4 a queued report, 5 switchback.conf, 6 the kernel command line; the rest is its content.
 * Properties: a file that loads is saved and loaded again; the counters a load accepts, the
 * setters accept too (the state a load yields is one the program could have written); the
 * OSTree slot table and the config write the same text after a second load; the slot read from
 * the command line is the last switchback.slot= word, as the kernel reads parameters. */
#include "config.h"

#include "fuzz-util.h"
#include "state/sb-config.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "install/sb-images.h"
#include "install/sb-slots.h"
#include "state/sb-install-state.h"
#include "core/sb-json.h"
#include "ostree/sb-ostree-slots.h"
#include "state/sb-report-queue.h"
#include "uptane/sb-update-cycle.h"

#include <string.h>
#include <unistd.h>

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  sb_fuzz_init ();
  return 0;
}

/* A second state directory, for the saved copy. */
static const char *
save_dir (void)
{
  static char *dir;
  if (dir == NULL)
    {
      dir = g_build_filename (sb_fuzz_dir (), "saved", NULL);
      g_autoptr (GError) error = NULL;
      SB_FUZZ_ASSERT (sb_durable_mkdir_p (dir, 0700, &error), "making the save directory");
    }
  return dir;
}

static void
clear_saved (const char *name)
{
  g_autofree char *path = g_build_filename (save_dir (), name, NULL);
  (void) unlink (path);
}

static void
fuzz_install_state (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbInstallState) st = sb_install_state_load (sb_fuzz_dir (), &error);
  if (st == NULL)
    return;
  clear_saved (SB_INSTALL_STATE_FILE);
  SB_FUZZ_ASSERT (sb_install_state_save (st, save_dir (), &error), "a loaded install.json saves");
  g_autoptr (SbInstallState) again = sb_install_state_load (save_dir (), &error);
  SB_FUZZ_ASSERT (again != NULL, "a saved install.json loads again");
}

static void
fuzz_counters (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbCounters) c = sb_counters_load (sb_fuzz_dir (), &error);
  if (c == NULL)
    return;
  guint64 pending;
  if (sb_counters_get_pending (c, &pending))
    SB_FUZZ_ASSERT (sb_counters_set_pending (c, pending, &error),
                    "a pending counter that loads is one set_pending accepts");
  SB_FUZZ_ASSERT (sb_counters_set_rollback_counter (c, sb_counters_get_rollback_counter (c),
                                                    &error),
                  "the committed counter that loads is one the setter accepts");
  clear_saved (SB_COUNTERS_FILE);
  SB_FUZZ_ASSERT (sb_counters_save (c, save_dir (), &error), "loaded counters save");
  g_autoptr (SbCounters) again = sb_counters_load (save_dir (), &error);
  SB_FUZZ_ASSERT (again != NULL, "saved counters load again");
  SB_FUZZ_ASSERT (sb_counters_get_rollback_counter (again) == sb_counters_get_rollback_counter (c),
                  "the committed counter survives a save");
}

static void
fuzz_images (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbImages) im = sb_images_load (sb_fuzz_dir (), &error);
  if (im == NULL)
    return;
  clear_saved (SB_UPDATE_IMAGES_FILE);
  SB_FUZZ_ASSERT (sb_images_save (im, save_dir (), &error), "a loaded images.json saves");
  g_autoptr (SbImages) again = sb_images_load (save_dir (), &error);
  SB_FUZZ_ASSERT (again != NULL, "a saved images.json loads again");
}

static void
fuzz_ostree_slots (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbOstreeSlots) slots = sb_ostree_slots_load (path, &error);
  if (slots == NULL)
    return;
  g_autofree char *json = sb_ostree_slots_to_json (slots);
  g_autofree char *grub = sb_ostree_slots_to_grub (slots);
  SB_FUZZ_ASSERT (json != NULL && grub != NULL, "a loaded slot table is written");
  g_autofree char *copy = sb_fuzz_write_file ("ostree-slots-again.json", (const uint8_t *) json,
                                              strlen (json));
  g_autoptr (SbOstreeSlots) again = sb_ostree_slots_load (copy, &error);
  SB_FUZZ_ASSERT (again != NULL, "a written slot table loads again");
  g_autofree char *json2 = sb_ostree_slots_to_json (again);
  SB_FUZZ_ASSERT (strcmp (json, json2) == 0, "a slot table reads back the same");
}

static void
fuzz_report (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbReport) report = sb_report_from_bytes (bytes, 1, &error);
  if (report == NULL)
    return;
  g_autoptr (JsonNode) node = sb_report_to_json (report);
  g_autofree char *text = sb_json_pretty (node);
  g_autoptr (GBytes) again_bytes = g_bytes_new (text, strlen (text));
  g_autoptr (SbReport) again = sb_report_from_bytes (again_bytes, 1, &error);
  SB_FUZZ_ASSERT (again != NULL, "a queued report reads back");
}

static void
fuzz_config (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbConfig) config = sb_config_load (path, &error);
  if (config == NULL)
    {
      SB_FUZZ_ASSERT (error != NULL, "a refused config says why");
      return;
    }
  g_autofree char *text = sb_config_to_string (config);
  g_autofree char *copy = sb_fuzz_write_file ("again.conf", (const uint8_t *) text, strlen (text));
  g_autoptr (SbConfig) again = sb_config_load (copy, &error);
  SB_FUZZ_ASSERT (again != NULL, "the effective config loads as a config file");
  g_autofree char *text2 = sb_config_to_string (again);
  SB_FUZZ_ASSERT (strcmp (text, text2) == 0, "the effective config reads back the same");
}

/* The command line as the kernel splits it (spaces, tabs, newlines; a NUL ends it), read here
 * independently of sb_slots_read_cmdline. */
static void
fuzz_cmdline (const char *path, const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  SbSlotId booted = SB_SLOT_A;
  gboolean emergency = FALSE;
  gboolean ok = sb_slots_read_cmdline (path, &booted, &emergency, &error);

  if (size > 64 * 1024)
    {
      SB_FUZZ_ASSERT (!ok && error != NULL, "a command line over the size cap is refused");
      return;
    }
  size_t n = 0;
  while (n < size && data[n] != '\0')
    n++;
  g_autofree char *text = g_strndup ((const char *) data, n);
  g_auto (GStrv) words = g_strsplit_set (text, " \t\n", -1);
  const char *last = NULL;
  gboolean want_emergency = FALSE;
  for (char **w = words; *w != NULL; w++)
    {
      if (strncmp (*w, "switchback.slot=", 16) == 0)
        last = *w + 16;
      else if (strcmp (*w, "switchback.emergency=1") == 0)
        want_emergency = TRUE;
    }
  if (last == NULL)
    {
      SB_FUZZ_ASSERT (!ok && g_error_matches (error, SB_ERROR, SB_ERROR_NOT_FOUND),
                      "no switchback.slot= is not found");
      return;
    }
  gboolean valid = strcmp (last, "A") == 0 || strcmp (last, "B") == 0;
  SB_FUZZ_ASSERT (ok == valid, "a slot is read exactly when the last switchback.slot= is A or B");
  if (!ok)
    {
      SB_FUZZ_ASSERT (g_error_matches (error, SB_ERROR, SB_ERROR_STATE), "another slot is a state error");
      return;
    }
  SB_FUZZ_ASSERT (booted == (last[0] == 'A' ? SB_SLOT_A : SB_SLOT_B), "the last word wins");
  SB_FUZZ_ASSERT (emergency == want_emergency, "switchback.emergency=1 is seen");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  static const char *const names[] = { SB_INSTALL_STATE_FILE, SB_COUNTERS_FILE,
                                       SB_UPDATE_IMAGES_FILE, SB_OSTREE_SLOTS_FILE,
                                       "report.json", "switchback.conf", "cmdline" };
  guint which = data[0] % G_N_ELEMENTS (names);
  g_autofree char *path = sb_fuzz_write_file (names[which], data + 1, size - 1);
  switch (which)
    {
    case 0:
      fuzz_install_state ();
      break;
    case 1:
      fuzz_counters ();
      break;
    case 2:
      fuzz_images ();
      break;
    case 3:
      fuzz_ostree_slots (path);
      break;
    case 4:
      fuzz_report (data + 1, size - 1);
      break;
    case 5:
      fuzz_config (path);
      break;
    default:
      fuzz_cmdline (path, data + 1, size - 1);
      break;
    }
  (void) unlink (path);
  return 0;
}
