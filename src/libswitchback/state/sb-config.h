/* sb-config.h: /etc/switchback/switchback.conf (GKeyFile) plus conf.d drop-ins (design.md §7).
 *
 * Every key has a documented default (data/switchback.conf lists them all). Loading refuses an
 * unknown section or key, and a bad value, with SB_ERROR_CONFIG naming the file, the key, the line
 * and what was expected. Drop-ins (`conf.d/ *.conf` next to the main file, in name order)
 * override the main file key by key.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SB_CONFIG_DEFAULT_PATH SB_SYSCONFDIR "/switchback/switchback.conf"

typedef enum {
  SB_CONFIRM_INITRAMFS, /* switchback-boot commits a trial boot itself (default) */
  SB_CONFIRM_USERSPACE, /* the commit waits for `switchback mark-good` */
} SbConfirmMode;

typedef struct {
  char *path; /* the main file loaded, or NULL when only defaults apply */

  /* [uptane] */
  char *director_url;  /* required for check/update */
  char *image_url;     /* required for check/update */
  char *director_root; /* default SB_DATADIR/switchback/director-root.json */
  char *image_root;    /* default SB_DATADIR/switchback/image-root.json */
  char *vehicle_id;    /* default: the primary ECU serial */
  char *ecu_serial;    /* default: the ECU key id (filled in by the identity module) */
  char *hardware_id;   /* default: the hostname */
  guint poll_interval; /* seconds, default 3600 */
  gboolean ota_ce_compat; /* default false */
  gboolean allow_http;    /* plain http:// to non-loopback hosts; default false */

  /* [tls] */
  char *tls_ca;   /* CA bundle for the servers; default: the system store */
  char *tls_cert; /* client certificate (mutual TLS) */
  char *tls_key;  /* client key, must be mode 0600 */

  /* [storage] */
  char *state_dir; /* default SB_LOCALSTATEDIR/lib/switchback */

  /* [slots] */
  char *disk;   /* block device or disk image file holding the GPT */
  char *slot_a; /* GPT partition name, default "rootfs-a" */
  char *slot_b; /* default "rootfs-b" */

  /* [ostree] */
  char *ostree_sysroot; /* default "/" */
  char *ostree_osname;  /* default NULL: the booted deployment's */
  char *ostree_url;

  /* [boot] */
  char *grubenv;       /* default "/boot/efi/EFI/switchback/grubenv" */
  guint max_tries;     /* 1..9, default 3 */
  SbConfirmMode confirm;
  char *cmdline_file;  /* default "/proc/cmdline" */

  /* [network]: the fetcher's limits (sb-fetcher.h, docs in README.md) */
  guint low_speed_limit; /* bytes/s, default 1024 */
  guint low_speed_time;  /* seconds of the window, 1..3600, default 30 */
  guint connect_timeout; /* seconds, 1..600, default 30 */
  guint retries;         /* after the first attempt, 0..20, default 3 */
  guint retry_delay_ms;  /* first backoff, doubled each time, 1..60000, default 1000 */
} SbConfig;

/* A config with every default set. */
SbConfig *sb_config_new_defaults (void);

/* Loads @path (or SB_CONFIG_DEFAULT_PATH when NULL; a missing default file means defaults)
 * and its conf.d drop-ins over the defaults. An explicitly given @path that does not exist is
 * SB_ERROR_NOT_FOUND; anything wrong inside a file is SB_ERROR_CONFIG. After all files are merged,
 * cross-key rules are checked: slot-a and slot-b differ, and a plain http:// URL to a host that is
 * not loopback needs allow-http=true (design.md §2). */
SbConfig *sb_config_load (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Parses one file's text over @config (used by load; exposed for tests). @name is used in
 * error messages. Keys the text sets replace the values in @config; an empty value for a key
 * without a fixed default (URLs, ids, TLS files, disk, osname) unsets it. On error @config is
 * unchanged. Cross-key rules are left to sb_config_load. */
gboolean sb_config_merge_data (SbConfig *config, const char *name, const char *data, gsize len,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The effective configuration as GKeyFile text, every key included (for `switchback config`). */
char *sb_config_to_string (SbConfig *config);

/* The same as a JSON object (for `switchback config --json`): "path" (the main file, or null),
 * then one object per section with every key; booleans and numbers are JSON booleans and numbers,
 * an unset key is null. */
JsonNode *sb_config_to_json (SbConfig *config);

/* A deep copy of @config. */
SbConfig *sb_config_copy (const SbConfig *config);

/* The 1-based line of @key in section @group of the GKeyFile text @data (the last one when the key
 * is repeated, as GKeyFile keeps the last value), or of the section header itself when @key is
 * NULL. 0 when absent. This is how load errors name the line. */
guint sb_config_find_line (const char *data, gsize len, const char *group, const char *key);

/* Fails with SB_ERROR_CONFIG for a command that needs [@section] @key, which @config leaves
 * unset: "[uptane] director-url is not set in /etc/switchback/switchback.conf", naming the main
 * file loaded (or the default path, which does not exist), then ": @why" when @why is not NULL.
 * Returns FALSE, for `return sb_config_throw_unset (…);`. */
gboolean sb_config_throw_unset (const SbConfig *config, const char *section, const char *key,
                                const char *why, GError **error);

/* "initramfs" or "userspace". */
const char *sb_confirm_mode_to_string (SbConfirmMode mode);

/* The largest config file (main or drop-in) load reads. */
#define SB_CONFIG_MAX_FILE_SIZE (1024 * 1024)

void sb_config_free (SbConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbConfig, sb_config_free)

G_END_DECLS
