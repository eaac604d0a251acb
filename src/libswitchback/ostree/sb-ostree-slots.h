/* sb-ostree-slots.h: which OSTree deployment stands behind boot slot A and which behind B.
 *
 * design.md §4 boots slots, not deployments: GRUB picks slot A or B from SB_ORDER and the try
 * counters, boots it with `switchback.slot=X`, and switchback-boot decides trial, commit and
 * rollback from that name. On an OSTree system both "slots" live in one filesystem as two
 * deployments. This module is the table between the two worlds (docs/ostree.md has the whole
 * design):
 *
 * - The table is a state file on the data partition (`ostree-slots.json` in the state
 *   directory, shared by both deployments because /var is). Each of A and B holds at most one
 *   deployment, named by osname + commit checksum + deployserial (which is what names its
 *   directory, /ostree/deploy/OSNAME/deploy/CHECKSUM.SERIAL), plus what GRUB needs to boot it:
 *   kernel and initramfs paths as libostree wrote them in the deployment's BLS entry, and the
 *   kernel arguments without `ostree=`.
 * - From the table a GRUB script fragment is generated (`/boot/switchback/ostree-slots.cfg`)
 *   that the slot chooser sources. For slot X it sets `sb_ostree_X_linux`, `sb_ostree_X_initrd`
 *   and `sb_ostree_X_options`; the options end with
 *   `ostree=/ostree/switchback/OSNAME/CHECKSUM.SERIAL`, switchback's own bootlink: a relative
 *   symlink to the deployment's directory. ostree-prepare-root takes only a symlink for
 *   `ostree=` (it refuses a directory) and resolves it with realpath(). switchback's link is
 *   named for the deployment, so it never changes while the deployment exists, unlike
 *   libostree's `/ostree/boot.N/…` bootlinks, which flip with every write of the deployment
 *   list; the fragment thus stays bootable across power cuts between libostree's writes and
 *   ours. An empty slot sets all three to ''.
 *
 * The module needs no libostree, so the initramfs helper can read the table too. sb-ostree.c
 * fills it from libostree's deployments.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Name of the table in the state directory. */
#define SB_OSTREE_SLOTS_FILE "ostree-slots.json"
/* The GRUB fragment, relative to the sysroot. libostree keeps a `boot/boot -> .` symlink in the
 * sysroot, so "/boot/…" resolves for GRUB whether /boot is its own filesystem or not. */
#define SB_OSTREE_SLOTS_GRUB_FILE "boot/switchback/ostree-slots.cfg"

/* One deployment as a slot records it. Every string is owned by the struct. */
typedef struct
{
  char *osname;     /* the stateroot, e.g. "debian" */
  char *checksum;   /* the commit: 64 lowercase hex digits */
  int deployserial; /* with checksum, names /ostree/deploy/OSNAME/deploy/CHECKSUM.SERIAL */
  char *bootcsum;   /* checksum of the kernel + initramfs (64 hex), libostree's boot dir name */
  char *kernel;  /* kernel path as in the BLS entry (`linux`), relative to the /boot filesystem */
  char *initrd;  /* initramfs path likewise, or NULL */
  char *options; /* kernel arguments without ostree=, space separated, may be "" */
  char *version; /* the commit's "version" metadata, or NULL */
  char *target;  /* the Uptane target name installed, or NULL (adopted at first start) */
} SbOstreeSlotDeployment;

SbOstreeSlotDeployment *sb_ostree_slot_deployment_copy (const SbOstreeSlotDeployment *d);
void sb_ostree_slot_deployment_free (SbOstreeSlotDeployment *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbOstreeSlotDeployment, sb_ostree_slot_deployment_free)

/* Checks every field of @d: checksums are 64 lowercase hex digits, the osname is a plain
 * name, the paths are absolute, and no field holds a character that GRUB's script parser or
 * its kernel command line quoting would change (whitespace in paths, quotes, backslashes,
 * control characters). Fails with SB_ERROR_INVALID_ARGUMENT naming the field. */
gboolean sb_ostree_slot_deployment_validate (const SbOstreeSlotDeployment *d,
                                             GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The deployment's directory relative to the sysroot, which is also the value of its
 * `ostree=` kernel argument: "/ostree/deploy/OSNAME/deploy/CHECKSUM.SERIAL". */
char *sb_ostree_slot_deployment_path (const SbOstreeSlotDeployment *d);

/* Where switchback keeps its bootlinks, relative to the sysroot. */
#define SB_OSTREE_BOOTLINK_DIR "ostree/switchback"

/* The deployment's bootlink relative to the sysroot, the value of the `ostree=` kernel
 * argument that boots it: "/ostree/switchback/OSNAME/CHECKSUM.SERIAL", a symlink to
 * "../../deploy/OSNAME/deploy/CHECKSUM.SERIAL". */
char *sb_ostree_slot_deployment_bootlink (const SbOstreeSlotDeployment *d);

/* The commit checksum that an `ostree=` kernel argument @value names: the CHECKSUM of
 * switchback's bootlink (/ostree/switchback/OSNAME/CHECKSUM.SERIAL) or of a deployment
 * directory (/ostree/deploy/OSNAME/deploy/CHECKSUM.SERIAL); NULL for anything else
 * (libostree's /ostree/boot.N/… links name the kernel's checksum, not the commit's). Reads
 * nothing. */
char *sb_ostree_checksum_from_ostree_arg (const char *value);

/* TRUE if @slot is "A" or "B", the slot names of design.md §4. */
gboolean sb_ostree_slot_name_valid (const char *slot);

/* The other slot: "B" for "A", "A" for "B", NULL for anything else. */
const char *sb_ostree_slot_other (const char *slot);

typedef struct _SbOstreeSlots SbOstreeSlots;

/* An empty table. */
SbOstreeSlots *sb_ostree_slots_new (void);

/* Reads the table at @path. A missing file is an empty table (first start). A file that is
 * not a valid table is SB_ERROR_STATE naming the file and the field. */
SbOstreeSlots *sb_ostree_slots_load (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Serialises the table (readable JSON). */
char *sb_ostree_slots_to_json (SbOstreeSlots *self);

/* The GRUB script fragment for the table (see the comment at the top). */
char *sb_ostree_slots_to_grub (SbOstreeSlots *self);

/* Makes the table durable: first @state_path (sb_durable_write, 0644), then the GRUB fragment
 * at @grub_path (its directory is created if missing). The state file is written first so
 * that the table is never older than what GRUB boots; callers order their libostree writes
 * around this call (see sb-ostree.c). @grub_path may be NULL to write only the state. */
gboolean sb_ostree_slots_save (SbOstreeSlots *self, const char *state_path, const char *grub_path,
                               GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The deployment in @slot, or NULL when the slot is empty or @slot is not a slot name. The
 * result is owned by the table and valid until it changes. */
const SbOstreeSlotDeployment *sb_ostree_slots_get (SbOstreeSlots *self, const char *slot);

/* Puts a copy of @d into @slot (replacing what was there), after
 * sb_ostree_slot_deployment_validate. A deployment is in one slot at most: putting the
 * deployment of the other slot here is refused with SB_ERROR_STATE. */
gboolean sb_ostree_slots_set (SbOstreeSlots *self, const char *slot,
                              const SbOstreeSlotDeployment *d,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Empties @slot. */
void sb_ostree_slots_clear (SbOstreeSlots *self, const char *slot);

/* The slot ("A" or "B") that holds the deployment @osname/@checksum.@deployserial, or NULL. */
const char *sb_ostree_slots_find (SbOstreeSlots *self, const char *osname, const char *checksum,
                                  int deployserial);

/* The slot that holds a deployment of commit @checksum (any serial), or NULL. When both do,
 * @prefer is returned if it is one of them. */
const char *sb_ostree_slots_find_commit (SbOstreeSlots *self, const char *checksum,
                                         const char *prefer);

/* The commit the running OSTree system booted, for `switchback status` and the version report,
 * read without libostree: the `ostree=` argument of the kernel command line in @cmdline_file
 * when it names a deployment (sb_ostree_checksum_from_ostree_arg), else the deployment that
 * the slot table in @state_dir puts in @booted_slot (may be NULL: unknown). Sets
 * @out_checksum (NULL when neither tells) and @out_target (the Uptane target name the table
 * records for that commit in @booted_slot, or NULL: adopted at first start, or not in the
 * table). @out_from, if not NULL, gets "cmdline" or "slot-table" (static strings) or NULL.
 * A missing command line file or table is no error; an unreadable or invalid table is
 * SB_ERROR_STATE, an unreadable command line SB_ERROR_IO. */
gboolean sb_ostree_slots_booted_commit (const char *state_dir, const char *cmdline_file,
                                        const char *booted_slot, char **out_checksum,
                                        char **out_target, const char **out_from,
                                        GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Creates the bootlink (sb_ostree_slot_deployment_bootlink) of each deployment in the table
 * under @sysroot_path, durably, before a fragment that names it is written. With
 * @remove_others, also removes every other link under SB_OSTREE_BOOTLINK_DIR: call it so
 * after the fragment no longer names them. Errors: SB_ERROR_IO, SB_ERROR_NO_SPACE. */
gboolean sb_ostree_slots_sync_bootlinks (SbOstreeSlots *self, const char *sysroot_path,
                                         gboolean remove_others,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

void sb_ostree_slots_free (SbOstreeSlots *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SbOstreeSlots, sb_ostree_slots_free)

G_END_DECLS
