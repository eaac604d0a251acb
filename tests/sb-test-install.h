/* sb-test-install.h: the system the install tests run on. A GPT disk image file made by
 * sfdisk (esp, rootfs-a, rootfs-b, data), a grubenv made by grub-editenv, a state directory, a
 * kernel command line file, a config naming them, and a loopback HTTP server (sb-test-httpd)
 * serving the image to install at /image.bin. */
#pragma once

#include <glib.h>

#include "install/sb-bootchooser.h"
#include "state/sb-config.h"
#include "net/sb-fetcher.h"
#include "install/sb-install.h"
#include "core/sb-metadata.h"
#include "install/sb-slots.h"
#include "sb-test-httpd.h"

G_BEGIN_DECLS

#define MIB (1024 * 1024)
/* Each slot; the disk is 32 MiB. */
#define TEST_SLOT_SIZE (8 * MIB)
#define TEST_IMAGE_PATH "/image.bin"
#define TEST_WHOLE_SLOT G_MAXUINT64

typedef struct
{
  char *dir;
  char *disk;
  char *grubenv;
  char *state_dir;
  char *cmdline;
  SbConfig *config;
  SbTestHttpd *httpd;
  SbFetcherOptions fetcher_opts;
  GBytes *image;      /* served at TEST_IMAGE_PATH */
  SbTargetInfo *info; /* its length, sha256 and sha512 */
  char *url;
  guint64 slot_offset[2];
  guint64 slot_size[2];
  char *slot_a_sha256; /* the whole of slot A as set up, which no install may change */
} InstallFixture;

/* Returns FALSE (and marks the test skipped) when sfdisk or grub-editenv is missing. A booted
 * slot A, SB_ORDER "A B" with max tries for both, an image of @image_len pseudo-random bytes. */
gboolean install_fixture_setup (InstallFixture *f, gsize image_len);
void install_fixture_teardown (InstallFixture *f);

/* Deterministic pseudo-random bytes. */
GBytes *install_random_bytes (gsize len, guint32 seed);
/* A target description of @content: its length, sha256 and sha512. */
SbTargetInfo *install_target_info (const char *name, GBytes *content);
/* Serves @image at TEST_IMAGE_PATH and describes it in f->info (replacing both). */
void install_fixture_set_image (InstallFixture *f, GBytes *image);

/* sha256 of the first @len bytes of slot @id, or of the whole slot (TEST_WHOLE_SLOT). */
char *install_fixture_slot_sha256 (InstallFixture *f, SbSlotId id, guint64 len);
/* Writes @len bytes of @data at @offset in slot @id. */
void install_fixture_write_slot (InstallFixture *f, SbSlotId id, guint64 offset, const void *data,
                                 gsize len);
/* The kernel command line names slot @slot ("A" or "B"). */
void install_fixture_boot (InstallFixture *f, const char *slot);
/* `grub-editenv list`'s value of @name, or NULL. */
char *install_fixture_grubenv_get (InstallFixture *f, const char *name);
/* Overwrites a state file with @json. */
void install_fixture_write_state (InstallFixture *f, const char *name, const char *json);

SbBootContext *install_fixture_context (InstallFixture *f);
SbSlots *install_fixture_slots (InstallFixture *f);
SbFetcher *install_fixture_fetcher (InstallFixture *f);
/* An install target for f->info at f->url, format BINARY, no release counter. */
SbInstallTarget install_fixture_target (InstallFixture *f, const char *correlation_id);

/* Asserts slot A is as set up. */
void install_fixture_assert_active_intact (InstallFixture *f);

G_END_DECLS
