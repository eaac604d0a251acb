/* sb-ostree-slots.c: the OSTree deployment ↔ boot slot table and its GRUB fragment. */
#include "config.h"

#include "ostree/sb-ostree-slots.h"

#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The table is a few hundred bytes; anything far larger is not ours. */
#define SLOTS_MAX_BYTES (256 * 1024)

struct _SbOstreeSlots
{
  SbOstreeSlotDeployment *a;
  SbOstreeSlotDeployment *b;
};

SbOstreeSlotDeployment *
sb_ostree_slot_deployment_copy (const SbOstreeSlotDeployment *d)
{
  SbOstreeSlotDeployment *c = g_new0 (SbOstreeSlotDeployment, 1);
  c->osname = g_strdup (d->osname);
  c->checksum = g_strdup (d->checksum);
  c->deployserial = d->deployserial;
  c->bootcsum = g_strdup (d->bootcsum);
  c->kernel = g_strdup (d->kernel);
  c->initrd = g_strdup (d->initrd);
  c->options = g_strdup (d->options);
  c->version = g_strdup (d->version);
  c->target = g_strdup (d->target);
  return c;
}

void
sb_ostree_slot_deployment_free (SbOstreeSlotDeployment *d)
{
  if (d == NULL)
    return;
  g_free (d->osname);
  g_free (d->checksum);
  g_free (d->bootcsum);
  g_free (d->kernel);
  g_free (d->initrd);
  g_free (d->options);
  g_free (d->version);
  g_free (d->target);
  g_free (d);
}

static gboolean
is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return FALSE;
  return TRUE;
}

/* Characters that would not survive GRUB: its script parser splits on whitespace and treats
 * quotes and `\` specially, and its `linux` command re-quotes arguments holding them. */
static gboolean
grub_safe (const char *s, gboolean allow_space)
{
  for (const guchar *p = (const guchar *)s; *p; p++)
    {
      if (*p < 0x20 || *p == 0x7f || *p == '\'' || *p == '"' || *p == '\\')
        return FALSE;
      if (*p == ' ' && !allow_space)
        return FALSE;
    }
  return TRUE;
}

static gboolean
valid_path (const char *s)
{
  return s != NULL && s[0] == '/' && strstr (s, "/../") == NULL && grub_safe (s, FALSE);
}

gboolean
sb_ostree_slot_deployment_validate (const SbOstreeSlotDeployment *d, GError **error)
{
  if (d->osname == NULL || *d->osname == '\0' || strchr (d->osname, '/') != NULL
      || g_str_equal (d->osname, ".") || g_str_equal (d->osname, "..")
      || !grub_safe (d->osname, FALSE))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "OSTree deployment: bad osname '%s'",
                     d->osname ? d->osname : "(none)");
  if (!is_sha256_hex (d->checksum))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment of %s: commit checksum '%s' is not 64 lowercase hex "
                     "digits",
                     d->osname, d->checksum ? d->checksum : "(none)");
  if (d->deployserial < 0)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s: negative deployserial %d", d->checksum,
                     d->deployserial);
  if (!is_sha256_hex (d->bootcsum))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s.%d: boot checksum '%s' is not 64 lowercase hex digits",
                     d->checksum, d->deployserial, d->bootcsum ? d->bootcsum : "(none)");
  if (!valid_path (d->kernel))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s.%d: kernel path '%s' is not an absolute path GRUB can "
                     "read",
                     d->checksum, d->deployserial, d->kernel ? d->kernel : "(none)");
  if (d->initrd != NULL && !valid_path (d->initrd))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s.%d: initramfs path '%s' is not an absolute path GRUB "
                     "can read",
                     d->checksum, d->deployserial, d->initrd);
  if (d->options == NULL || !grub_safe (d->options, TRUE))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s.%d: kernel arguments '%s' hold a quote, backslash or "
                     "control character, which GRUB would rewrite",
                     d->checksum, d->deployserial, d->options ? d->options : "(none)");
  g_auto (GStrv) words = g_strsplit (d->options, " ", -1);
  for (char **w = words; *w; w++)
    if (g_str_has_prefix (*w, "ostree="))
      return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                       "OSTree deployment %s.%d: kernel arguments must not carry ostree= (the "
                       "slot adds its own)",
                       d->checksum, d->deployserial);
  if (d->version != NULL && !g_utf8_validate (d->version, -1, NULL))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s.%d: version is not UTF-8", d->checksum, d->deployserial);
  if (d->target != NULL && !g_utf8_validate (d->target, -1, NULL))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "OSTree deployment %s.%d: target name is not UTF-8", d->checksum,
                     d->deployserial);
  return TRUE;
}

char *
sb_ostree_slot_deployment_path (const SbOstreeSlotDeployment *d)
{
  return g_strdup_printf ("/ostree/deploy/%s/deploy/%s.%d", d->osname, d->checksum,
                          d->deployserial);
}

char *
sb_ostree_slot_deployment_bootlink (const SbOstreeSlotDeployment *d)
{
  return g_strdup_printf ("/" SB_OSTREE_BOOTLINK_DIR "/%s/%s.%d", d->osname, d->checksum,
                          d->deployserial);
}

gboolean
sb_ostree_slot_name_valid (const char *slot)
{
  return slot != NULL && (g_str_equal (slot, "A") || g_str_equal (slot, "B"));
}

const char *
sb_ostree_slot_other (const char *slot)
{
  if (slot == NULL)
    return NULL;
  if (g_str_equal (slot, "A"))
    return "B";
  if (g_str_equal (slot, "B"))
    return "A";
  return NULL;
}

SbOstreeSlots *
sb_ostree_slots_new (void)
{
  return g_new0 (SbOstreeSlots, 1);
}

void
sb_ostree_slots_free (SbOstreeSlots *self)
{
  if (self == NULL)
    return;
  sb_ostree_slot_deployment_free (self->a);
  sb_ostree_slot_deployment_free (self->b);
  g_free (self);
}

static SbOstreeSlotDeployment **
slot_ptr (SbOstreeSlots *self, const char *slot)
{
  if (slot == NULL)
    return NULL;
  if (g_str_equal (slot, "A"))
    return &self->a;
  if (g_str_equal (slot, "B"))
    return &self->b;
  return NULL;
}

const SbOstreeSlotDeployment *
sb_ostree_slots_get (SbOstreeSlots *self, const char *slot)
{
  SbOstreeSlotDeployment **p = slot_ptr (self, slot);
  return p ? *p : NULL;
}

static gboolean
same_deployment (const SbOstreeSlotDeployment *d, const char *osname, const char *checksum,
                 int deployserial)
{
  return d != NULL && g_str_equal (d->osname, osname) && g_str_equal (d->checksum, checksum)
         && d->deployserial == deployserial;
}

gboolean
sb_ostree_slots_set (SbOstreeSlots *self, const char *slot, const SbOstreeSlotDeployment *d,
                     GError **error)
{
  SbOstreeSlotDeployment **p = slot_ptr (self, slot);
  if (p == NULL)
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "'%s' is not a slot name (A or B)",
                     slot ? slot : "(none)");
  if (!sb_ostree_slot_deployment_validate (d, error))
    return FALSE;
  /* One deployment in both slots would make a "switch" to the other slot boot the same tree,
   * and pruning one slot's deployment would remove the other's. */
  const SbOstreeSlotDeployment *other = sb_ostree_slots_get (self, sb_ostree_slot_other (slot));
  if (same_deployment (other, d->osname, d->checksum, d->deployserial))
    return sb_throw (error, SB_ERROR_STATE,
                     "OSTree deployment %s/%s.%d is already slot %s; it cannot be slot %s too",
                     d->osname, d->checksum, d->deployserial, sb_ostree_slot_other (slot), slot);
  sb_ostree_slot_deployment_free (*p);
  *p = sb_ostree_slot_deployment_copy (d);
  return TRUE;
}

void
sb_ostree_slots_clear (SbOstreeSlots *self, const char *slot)
{
  SbOstreeSlotDeployment **p = slot_ptr (self, slot);
  if (p == NULL)
    return;
  g_clear_pointer (p, sb_ostree_slot_deployment_free);
}

const char *
sb_ostree_slots_find (SbOstreeSlots *self, const char *osname, const char *checksum,
                      int deployserial)
{
  if (same_deployment (self->a, osname, checksum, deployserial))
    return "A";
  if (same_deployment (self->b, osname, checksum, deployserial))
    return "B";
  return NULL;
}

const char *
sb_ostree_slots_find_commit (SbOstreeSlots *self, const char *checksum, const char *prefer)
{
  gboolean in_a = self->a != NULL && g_str_equal (self->a->checksum, checksum);
  gboolean in_b = self->b != NULL && g_str_equal (self->b->checksum, checksum);
  if (in_a && in_b && sb_ostree_slot_name_valid (prefer))
    return prefer[0] == 'A' ? "A" : "B";
  if (in_a)
    return "A";
  if (in_b)
    return "B";
  return NULL;
}

/* ---- JSON ---- */

static const char *
opt_string (JsonObject *obj, const char *key, const char *what, GError **error, gboolean *ok)
{
  if (!json_object_has_member (obj, key))
    return NULL;
  const char *v = sb_json_get_string (obj, key, what, error);
  if (v == NULL)
    *ok = FALSE;
  return v;
}

static SbOstreeSlotDeployment *
deployment_from_json (JsonObject *obj, const char *what, GError **error)
{
  g_autoptr (SbOstreeSlotDeployment) d = g_new0 (SbOstreeSlotDeployment, 1);
  const char *osname, *checksum, *bootcsum, *kernel, *options;
  gint64 serial = 0;
  gboolean ok = TRUE;

  if ((osname = sb_json_get_string (obj, "osname", what, error)) == NULL
      || (checksum = sb_json_get_string (obj, "checksum", what, error)) == NULL
      || !sb_json_get_int (obj, "deployserial", what, &serial, error)
      || (bootcsum = sb_json_get_string (obj, "bootcsum", what, error)) == NULL
      || (kernel = sb_json_get_string (obj, "kernel", what, error)) == NULL
      || (options = sb_json_get_string (obj, "options", what, error)) == NULL)
    return NULL;
  const char *initrd = opt_string (obj, "initrd", what, error, &ok);
  const char *version = ok ? opt_string (obj, "version", what, error, &ok) : NULL;
  const char *target = ok ? opt_string (obj, "target", what, error, &ok) : NULL;
  if (!ok)
    return NULL;
  if (serial < 0 || serial > G_MAXINT)
    return sb_throw (error, SB_ERROR_PARSE, "%s: deployserial %" G_GINT64_FORMAT " out of range",
                     what, serial),
           NULL;

  d->osname = g_strdup (osname);
  d->checksum = g_strdup (checksum);
  d->deployserial = (int)serial;
  d->bootcsum = g_strdup (bootcsum);
  d->kernel = g_strdup (kernel);
  d->initrd = g_strdup (initrd);
  d->options = g_strdup (options);
  d->version = g_strdup (version);
  d->target = g_strdup (target);
  if (!sb_ostree_slot_deployment_validate (d, error))
    return g_prefix_error (error, "%s: ", what), NULL;
  return g_steal_pointer (&d);
}

SbOstreeSlots *
sb_ostree_slots_load (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (path, SLOTS_MAX_BYTES, &local_error);
  if (bytes == NULL)
    {
      if (g_error_matches (local_error, SB_ERROR, SB_ERROR_NOT_FOUND))
        return sb_ostree_slots_new ();
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  g_autoptr (SbOstreeSlots) self = sb_ostree_slots_new ();
  g_autoptr (JsonNode) root = sb_json_parse_bytes (bytes, &local_error);
  JsonObject *slots = NULL;
  if (root != NULL && !JSON_NODE_HOLDS_OBJECT (root))
    sb_throw (&local_error, SB_ERROR_PARSE, "not a JSON object");
  else if (root != NULL)
    slots = sb_json_get_object (json_node_get_object (root), "slots", "slot table", &local_error);

  for (guint i = 0; slots != NULL && i < 2 && local_error == NULL; i++)
    {
      const char *name = i == 0 ? "A" : "B";
      if (!json_object_has_member (slots, name))
        continue;
      g_autofree char *what = g_strdup_printf ("slot %s", name);
      JsonObject *obj = sb_json_get_object (slots, name, what, &local_error);
      g_autoptr (SbOstreeSlotDeployment) d
          = obj ? deployment_from_json (obj, what, &local_error) : NULL;
      if (d != NULL && !sb_ostree_slots_set (self, name, d, &local_error))
        break;
    }
  if (slots != NULL && local_error == NULL)
    {
      g_autoptr (GList) members = json_object_get_members (slots);
      for (GList *l = members; l != NULL && local_error == NULL; l = l->next)
        if (!sb_ostree_slot_name_valid (l->data))
          sb_throw (&local_error, SB_ERROR_PARSE, "unknown slot '%s'", (const char *)l->data);
    }
  if (local_error != NULL)
    return sb_throw (error, SB_ERROR_STATE, "OSTree slot table %s: %s", path, local_error->message),
           NULL;
  return g_steal_pointer (&self);
}

static void
add_string (JsonBuilder *b, const char *key, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
}

char *
sb_ostree_slots_to_json (SbOstreeSlots *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "slots");
  json_builder_begin_object (b);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "A" : "B";
      const SbOstreeSlotDeployment *d = sb_ostree_slots_get (self, name);
      if (d == NULL)
        continue;
      json_builder_set_member_name (b, name);
      json_builder_begin_object (b);
      add_string (b, "osname", d->osname);
      add_string (b, "checksum", d->checksum);
      json_builder_set_member_name (b, "deployserial");
      json_builder_add_int_value (b, d->deployserial);
      add_string (b, "bootcsum", d->bootcsum);
      add_string (b, "kernel", d->kernel);
      add_string (b, "initrd", d->initrd);
      add_string (b, "options", d->options);
      add_string (b, "version", d->version);
      add_string (b, "target", d->target);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return sb_json_pretty (root);
}

/* ---- GRUB ---- */

/* A '#' comment line must not let a newline in metadata end the comment. */
static char *
comment_safe (const char *s)
{
  char *c = g_strdup (s ? s : "");
  for (char *p = c; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      *p = '?';
  return c;
}

char *
sb_ostree_slots_to_grub (SbOstreeSlots *self)
{
  GString *s = g_string_new (NULL);
  g_string_append (s,
                   "# switchback: the OSTree deployment behind each boot slot (design.md §4).\n"
                   "# Generated from " SB_OSTREE_SLOTS_FILE " in the state directory; switchback "
                   "rewrites it.\n"
                   "# Boot slot X with: linux ${sb_ostree_X_linux} ${sb_ostree_X_options} "
                   "switchback.slot=X\n"
                   "#                   initrd ${sb_ostree_X_initrd}\n");
  GString *present = g_string_new (NULL);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "A" : "B";
      const SbOstreeSlotDeployment *d = sb_ostree_slots_get (self, name);
      if (d == NULL)
        {
          g_string_append_printf (s,
                                  "# slot %s: empty\n"
                                  "set sb_ostree_%s_linux=''\n"
                                  "set sb_ostree_%s_initrd=''\n"
                                  "set sb_ostree_%s_options=''\n",
                                  name, name, name, name);
          continue;
        }
      /* Every value was checked by sb_ostree_slot_deployment_validate: no quote can end the
       * single-quoted word early. */
      g_autofree char *path = sb_ostree_slot_deployment_bootlink (d);
      g_autofree char *version = comment_safe (d->version);
      g_autofree char *target = comment_safe (d->target);
      g_string_append_printf (s, "# slot %s: %s commit %s version '%s' target '%s'\n", name,
                              d->osname, d->checksum, version, target);
      g_string_append_printf (s, "set sb_ostree_%s_linux='/boot%s'\n", name, d->kernel);
      g_string_append_printf (s, "set sb_ostree_%s_initrd='%s%s'\n", name, d->initrd ? "/boot" : "",
                              d->initrd ? d->initrd : "");
      g_string_append_printf (s, "set sb_ostree_%s_options='%s%sostree=%s'\n", name, d->options,
                              *d->options ? " " : "", path);
      if (present->len > 0)
        g_string_append_c (present, ' ');
      g_string_append (present, name);
    }
  g_string_append_printf (s, "set sb_ostree_slots='%s'\n", present->str);
  g_string_free (present, TRUE);
  return g_string_free (s, FALSE);
}

gboolean
sb_ostree_slots_save (SbOstreeSlots *self, const char *state_path, const char *grub_path,
                      GError **error)
{
  g_autofree char *json = sb_ostree_slots_to_json (self);
  if (!sb_durable_write (state_path, json, strlen (json), 0644, error))
    return g_prefix_error (error, "OSTree slot table: "), FALSE;
  if (grub_path == NULL)
    return TRUE;

  g_autofree char *dir = g_path_get_dirname (grub_path);
  if (!sb_durable_mkdir_p (dir, 0755, error))
    return g_prefix_error (error, "GRUB fragment directory %s: ", dir), FALSE;
  g_autofree char *grub = sb_ostree_slots_to_grub (self);
  if (!sb_durable_write (grub_path, grub, strlen (grub), 0644, error))
    return g_prefix_error (error, "GRUB fragment for the OSTree slots: "), FALSE;
  return TRUE;
}

/* TRUE if @name is "CHECKSUM.SERIAL" of a deployment in @self whose osname is @osname. */
static gboolean
names_slot_deployment (SbOstreeSlots *self, const char *osname, const char *name)
{
  for (guint i = 0; i < 2; i++)
    {
      const SbOstreeSlotDeployment *d = i == 0 ? self->a : self->b;
      if (d == NULL || !g_str_equal (d->osname, osname))
        continue;
      g_autofree char *want = g_strdup_printf ("%s.%d", d->checksum, d->deployserial);
      if (g_str_equal (want, name))
        return TRUE;
    }
  return FALSE;
}

/* Creates the bootlink of @d under @sysroot_path unless it is there: a relative symlink made
 * under a temporary name and renamed, so a power cut leaves it absent or whole. */
static gboolean
make_bootlink (const char *sysroot_path, const SbOstreeSlotDeployment *d, GError **error)
{
  g_autofree char *rel = sb_ostree_slot_deployment_bootlink (d);
  g_autofree char *link = g_build_filename (sysroot_path, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (link);
  /* From /ostree/switchback/OSNAME/ to /ostree/deploy/OSNAME/deploy/. */
  g_autofree char *target
      = g_strdup_printf ("../../deploy/%s/deploy/%s.%d", d->osname, d->checksum, d->deployserial);
  g_autofree char *have = g_file_read_link (link, NULL);
  if (have != NULL && g_str_equal (have, target))
    return TRUE;
  if (!sb_durable_mkdir_p (dir, 0755, error))
    return g_prefix_error (error, "OSTree bootlink directory %s: ", dir), FALSE;
  g_autofree char *tmp = g_strconcat (link, ".tmp", NULL);
  if ((unlink (tmp) < 0 && errno != ENOENT) || symlink (target, tmp) < 0 || rename (tmp, link) < 0)
    {
      int saved = errno;
      (void)unlink (tmp);
      return sb_throw (error, saved == ENOSPC ? SB_ERROR_NO_SPACE : SB_ERROR_IO,
                       "OSTree bootlink %s for slot deployment %s.%d: %s", link, d->checksum,
                       d->deployserial, g_strerror (saved));
    }
  return sb_fsync_dir (dir, error);
}

gboolean
sb_ostree_slots_sync_bootlinks (SbOstreeSlots *self, const char *sysroot_path,
                                gboolean remove_others, GError **error)
{
  g_return_val_if_fail (self != NULL && sysroot_path != NULL, FALSE);

  for (guint i = 0; i < 2; i++)
    {
      const SbOstreeSlotDeployment *d = i == 0 ? self->a : self->b;
      if (d != NULL && !make_bootlink (sysroot_path, d, error))
        return FALSE;
    }
  if (!remove_others)
    return TRUE;

  g_autofree char *top = g_build_filename (sysroot_path, SB_OSTREE_BOOTLINK_DIR, NULL);
  g_autoptr (GDir) osdirs = g_dir_open (top, 0, NULL);
  if (osdirs == NULL)
    return TRUE; /* no bootlink made yet */
  const char *osname;
  while ((osname = g_dir_read_name (osdirs)) != NULL)
    {
      g_autofree char *osdir = g_build_filename (top, osname, NULL);
      g_autoptr (GError) local = NULL;
      g_autoptr (GDir) links = g_dir_open (osdir, 0, &local);
      if (links == NULL)
        return sb_throw (error, SB_ERROR_IO, "OSTree bootlink directory %s: %s", osdir,
                         local->message);
      const char *name;
      while ((name = g_dir_read_name (links)) != NULL)
        {
          if (names_slot_deployment (self, osname, name))
            continue;
          g_autofree char *path = g_build_filename (osdir, name, NULL);
          if (!sb_durable_unlink (path, error))
            return g_prefix_error (error, "stale OSTree bootlink: "), FALSE;
        }
    }
  return TRUE;
}

char *
sb_ostree_checksum_from_ostree_arg (const char *value)
{
  g_return_val_if_fail (value != NULL, NULL);
  /* /ostree/switchback/OSNAME/CHECKSUM.SERIAL or /ostree/deploy/OSNAME/deploy/CHECKSUM.SERIAL:
   * the last component names the deployment. libostree's /ostree/boot.N/OSNAME/BOOTCSUM/SERIAL
   * does not, and gives NULL. */
  g_auto (GStrv) parts = g_strsplit (value, "/", -1);
  guint n = g_strv_length (parts);
  gboolean shape = (n == 5 && g_str_equal (parts[0], "") && g_str_equal (parts[1], "ostree")
                    && g_str_equal (parts[2], "switchback") && *parts[3] != '\0')
                   || (n == 6 && g_str_equal (parts[0], "") && g_str_equal (parts[1], "ostree")
                       && g_str_equal (parts[2], "deploy") && *parts[3] != '\0'
                       && g_str_equal (parts[4], "deploy"));
  if (!shape)
    return NULL;
  const char *last = parts[n - 1];
  const char *dot = strchr (last, '.');
  if (dot == NULL || dot - last != 64 || dot[1] == '\0')
    return NULL;
  for (const char *p = dot + 1; *p; p++)
    if (*p < '0' || *p > '9')
      return NULL;
  g_autofree char *checksum = g_strndup (last, 64);
  return is_sha256_hex (checksum) ? g_steal_pointer (&checksum) : NULL;
}

/* The value of the last ostree= word of the kernel command line in @path, or NULL. */
static gboolean
read_ostree_arg (const char *path, char **out_value, GError **error)
{
  *out_value = NULL;
  if (path == NULL)
    return TRUE;
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (path, 64 * 1024, &local);
  if (bytes == NULL)
    {
      if (g_error_matches (local, SB_ERROR, SB_ERROR_NOT_FOUND))
        return TRUE;
      return sb_throw (error, SB_ERROR_IO, "kernel command line %s: %s", path, local->message);
    }
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_auto (GStrv) words = g_strsplit_set (text, " \t\n", -1);
  for (char **w = words; *w != NULL; w++)
    if (g_str_has_prefix (*w, "ostree="))
      {
        g_free (*out_value);
        *out_value = g_strdup (*w + strlen ("ostree="));
      }
  return TRUE;
}

gboolean
sb_ostree_slots_booted_commit (const char *state_dir, const char *cmdline_file,
                               const char *booted_slot, char **out_checksum, char **out_target,
                               const char **out_from, GError **error)
{
  g_return_val_if_fail (state_dir != NULL && out_checksum != NULL && out_target != NULL, FALSE);
  *out_checksum = NULL;
  *out_target = NULL;
  if (out_from != NULL)
    *out_from = NULL;

  g_autofree char *arg = NULL;
  if (!read_ostree_arg (cmdline_file, &arg, error))
    return FALSE;
  g_autofree char *table_path = g_build_filename (state_dir, SB_OSTREE_SLOTS_FILE, NULL);
  g_autoptr (SbOstreeSlots) table = sb_ostree_slots_load (table_path, error);
  if (table == NULL)
    return FALSE;
  const SbOstreeSlotDeployment *d
      = booted_slot != NULL ? sb_ostree_slots_get (table, booted_slot) : NULL;

  /* What the kernel was told to boot wins over the table: it is what runs. */
  g_autofree char *checksum = arg != NULL ? sb_ostree_checksum_from_ostree_arg (arg) : NULL;
  const char *from = checksum != NULL ? "cmdline" : NULL;
  if (checksum == NULL && d != NULL)
    {
      checksum = g_strdup (d->checksum);
      from = "slot-table";
    }
  if (checksum == NULL)
    return TRUE;
  if (d != NULL && g_str_equal (d->checksum, checksum))
    *out_target = g_strdup (d->target);
  *out_checksum = g_steal_pointer (&checksum);
  if (out_from != NULL)
    *out_from = from;
  return TRUE;
}
