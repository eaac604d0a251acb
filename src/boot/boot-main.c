/* switchback-boot: the initramfs side of the boot protocol (design.md §4).
 *
 * Run by the dracut pre-pivot hook after the new root is mounted and before switch-root. It
 * reads the booted slot from the kernel command line, grubenv and the state directory, decides
 * with sb_boot_decide(), logs one line, and applies the decision. A grubenv that fails
 * validation is first rewritten from install.json and counters.json
 * (sb_boot_context_load_repairing). It never stops a boot: when anything cannot be read or
 * written it says so and exits 0, leaving the boot as GRUB made it.
 *
 * Exit status: 0, also after an error; 10 when the decision needs a reboot (a refused slot)
 * and --reboot was not given or the reboot failed; 2 for a usage error.
 */
#include "config.h"

#include "install/sb-bootchooser.h"
#include "state/sb-config.h"
#include "core/sb-error.h"
#include "state/sb-install-state.h"
#include "state/sb-report-queue.h"
#include "state/sb-state-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#define EXIT_REBOOT_NEEDED 10

static gboolean opt_stderr;

/* One line to the kernel log, where the boot's messages are read later (journalctl -k), or to
 * stderr when /dev/kmsg cannot be written. @level is a syslog priority. */
static void
log_line (int level, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
log_line (int level, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *line = g_strdup_printf ("<%d>switchback: %s\n", level, msg);
  int fd = opt_stderr ? -1 : open ("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0)
    {
      gboolean ok = write (fd, line, strlen (line)) == (ssize_t) strlen (line);
      (void) close (fd);
      if (ok)
        return;
    }
  /* Without the priority prefix, which only the kernel reads. */
  fprintf (stderr, "%s", strchr (line, '>') + 1);
}

#define LOG_ERR 3
#define LOG_WARNING 4
#define LOG_NOTICE 5

/* The state could not be read: say so where the Director will see it, if the state directory
 * takes a file at all. */
static void
report_unreadable (const char *state_dir, const GError *cause)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *desc = g_strdup_printf ("switchback-boot left the boot alone: %s",
                                           cause->message);
  if (state_dir == NULL
      || !sb_install_state_record_result (state_dir, NULL, NULL, FALSE, SB_RESULT_INTERNAL_ERROR,
                                          desc, &error))
    log_line (LOG_WARNING, "could not queue an error report either%s%s",
              error != NULL ? ": " : "", error != NULL ? error->message : "");
}

static int
print_paths (const SbConfig *config)
{
  g_print ("config=%s\n", config->path != NULL ? config->path : SB_CONFIG_DEFAULT_PATH);
  g_print ("grubenv=%s\n", config->grubenv);
  g_print ("state-dir=%s\n", config->state_dir);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *opt_config = NULL;
  g_autofree char *opt_root = NULL;
  gboolean opt_reboot = FALSE;
  gboolean opt_print_paths = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Configuration file (default " SB_CONFIG_DEFAULT_PATH ")", "FILE" },
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &opt_root,
      "Where the booted root is mounted; prefixed to the grubenv and state-dir paths", "DIR" },
    { "reboot", 0, 0, G_OPTION_ARG_NONE, &opt_reboot,
      "Reboot when the decision needs it (else exit with status 10)", NULL },
    { "stderr", 0, 0, G_OPTION_ARG_NONE, &opt_stderr, "Log to stderr instead of /dev/kmsg",
      NULL },
    { "print-paths", 0, 0, G_OPTION_ARG_NONE, &opt_print_paths,
      "Print the config, grubenv and state-dir paths (for the initramfs hook) and exit", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) opts = g_option_context_new ("- decide trial, commit or rollback "
                                                          "of the booted slot");
  g_option_context_add_main_entries (opts, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (opts, &argc, &argv, &error) || argc != 1)
    {
      g_printerr ("switchback-boot: %s\n", error != NULL ? error->message : "unexpected argument");
      return 2;
    }

  g_autoptr (SbConfig) config = sb_config_load (opt_config, &error);
  if (config == NULL)
    {
      if (opt_print_paths)
        {
          g_printerr ("switchback-boot: %s\n", error->message);
          return 1;
        }
      log_line (LOG_ERR, "%s; boot left alone", error->message);
      return 0;
    }
  if (opt_print_paths)
    return print_paths (config);

  /* Nothing else should run this early, but a state writer started by hand would: the state
   * lock, as every command that writes state takes it. Not having it never stops the boot. */
  g_autofree char *lock_dir = opt_root != NULL
                                  ? g_build_filename (opt_root, config->state_dir, NULL)
                                  : g_strdup (config->state_dir);
  g_autoptr (SbStateLock) lock = sb_state_lock_acquire (lock_dir, &error);
  if (lock == NULL)
    {
      log_line (LOG_WARNING, "going on without the state lock: %s", error->message);
      g_clear_error (&error);
    }

  /* A grubenv GRUB cannot read (a torn write, garbage) is rewritten here: left alone, GRUB
   * would go on booting its default order whatever the state directory says. */
  g_autofree char *repaired = NULL;
  g_autoptr (SbBootContext) ctx
      = sb_boot_context_load_repairing (config, opt_root, &repaired, &error);
  if (repaired != NULL)
    log_line (LOG_WARNING, "%s", repaired);
  if (ctx == NULL)
    {
      log_line (LOG_ERR, "cannot read the boot state: %s; boot left alone", error->message);
      g_autofree char *state_dir = opt_root != NULL
                                       ? g_build_filename (opt_root, config->state_dir, NULL)
                                       : g_strdup (config->state_dir);
      report_unreadable (state_dir, error);
      return 0;
    }

  if (ctx->max_tries_warning != NULL)
    log_line (LOG_WARNING, "%s", ctx->max_tries_warning);

  SbBootDecision d;
  sb_boot_decide (&ctx->inputs, &d);
  g_autofree char *msg = sb_boot_decision_describe (&ctx->inputs, &d);
  log_line (d.kind == SB_BOOT_REFUSE_OLD || d.kind == SB_BOOT_REFUSE_INCOMPLETE
                    || d.kind == SB_BOOT_ROLLED_BACK || d.kind == SB_BOOT_EMERGENCY
                ? LOG_WARNING
                : LOG_NOTICE,
            "%s", msg);
  if (!sb_boot_context_apply (ctx, &d, &error))
    {
      log_line (LOG_ERR, "applying \"%s\" failed: %s; boot left as it is", msg, error->message);
      report_unreadable (ctx->state_dir, error);
      return 0;
    }
  if (!d.reboot)
    return 0;
  if (!opt_reboot)
    return EXIT_REBOOT_NEEDED;
  log_line (LOG_NOTICE, "rebooting");
  sync ();
  if (reboot (RB_AUTOBOOT) < 0)
    log_line (LOG_ERR, "reboot failed: %s", g_strerror (errno));
  return EXIT_REBOOT_NEEDED;
}
