/* sb-images.c: images.json; see sb-images.h and, for the format, sb-update-cycle.h. */
#include "config.h"

#include "install/sb-images.h"
#include "core/sb-crypto.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

#define IMAGES_FILE_MAX (256 * 1024)

void
sb_image_record_free (SbImageRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->target);
  g_clear_pointer (&r->hashes, g_hash_table_unref);
  g_free (r->correlation_id);
  g_free (r->time);
  g_free (r);
}


void
sb_images_free (SbImages *im)
{
  sb_image_record_free (im->slots[0]);
  sb_image_record_free (im->slots[1]);
  sb_image_record_free (im->trial);
  g_ptr_array_unref (im->failed);
  g_free (im);
}

SbImageRecord *
sb_image_record_new_for_target (const SbInstallTarget *t)
{
  SbImageRecord *r = g_new0 (SbImageRecord, 1);
  r->target = g_strdup (t->name);
  r->length = (guint64)t->info->length;
  r->correlation_id = g_strdup (t->correlation_id);
  r->hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GList) members = json_object_get_members (t->info->hashes);
  for (GList *l = members; l != NULL; l = l->next)
    g_hash_table_insert (
        r->hashes, g_strdup (l->data),
        g_ascii_strdown (json_object_get_string_member_with_default (t->info->hashes, l->data, ""),
                         -1));
  return r;
}

/* Same name and length, and every hash both list agrees (at least one in common). */
gboolean
sb_image_record_matches (const SbImageRecord *r, const SbInstallTarget *t)
{
  if (r == NULL || strcmp (r->target, t->name) != 0 || r->length != (guint64)t->info->length)
    return FALSE;
  guint common = 0;
  g_autoptr (GList) members = json_object_get_members (t->info->hashes);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *mine = g_hash_table_lookup (r->hashes, l->data);
      if (mine == NULL)
        continue;
      if (!sb_hex_digest_equal (
              mine, json_object_get_string_member_with_default (t->info->hashes, l->data, "")))
        return FALSE;
      common++;
    }
  return common > 0;
}

static SbImageRecord *
record_parse (JsonNode *node, gboolean with_slot, const char *what, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      sb_throw (error, SB_ERROR_PARSE, "%s is not an object", what);
      return NULL;
    }
  JsonObject *obj = json_node_get_object (node);
  g_autoptr (SbImageRecord) r = g_new0 (SbImageRecord, 1);
  gint64 length;
  const char *s;
  JsonObject *hashes;
  if ((s = sb_json_get_string (obj, "target", what, error)) == NULL)
    return NULL;
  r->target = g_strdup (s);
  if (!sb_json_get_int (obj, "length", what, &length, error))
    return NULL;
  if (length < 0)
    {
      sb_throw (error, SB_ERROR_PARSE, "%s: negative length", what);
      return NULL;
    }
  r->length = (guint64)length;
  if ((hashes = sb_json_get_object (obj, "hashes", what, error)) == NULL)
    return NULL;
  r->hashes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GList) members = json_object_get_members (hashes);
  for (GList *l = members; l != NULL; l = l->next)
    {
      if ((s = sb_json_get_string (hashes, l->data, what, error)) == NULL)
        return NULL;
      g_hash_table_insert (r->hashes, g_strdup (l->data), g_ascii_strdown (s, -1));
    }
  if (json_object_has_member (obj, "correlation_id"))
    {
      if ((s = sb_json_get_string (obj, "correlation_id", what, error)) == NULL)
        return NULL;
      r->correlation_id = g_strdup (s);
    }
  if (json_object_has_member (obj, "time"))
    {
      if ((s = sb_json_get_string (obj, "time", what, error)) == NULL)
        return NULL;
      r->time = g_strdup (s);
    }
  if (with_slot)
    {
      if ((s = sb_json_get_string (obj, "slot", what, error)) == NULL)
        return NULL;
      if (!sb_slot_id_from_name (s, &r->slot))
        {
          sb_throw (error, SB_ERROR_PARSE, "%s: slot \"%s\" is not A or B", what, s);
          return NULL;
        }
    }
  return g_steal_pointer (&r);
}

SbImages *
sb_images_new (void)
{
  SbImages *im = g_new0 (SbImages, 1);
  im->failed = g_ptr_array_new_with_free_func ((GDestroyNotify)sb_image_record_free);
  return im;
}

static gboolean
images_parse (SbImages *im, GBytes *bytes, GError **error)
{
  g_autoptr (JsonNode) root = sb_json_parse_bytes (bytes, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return sb_throw (error, SB_ERROR_PARSE, "not a JSON object");
  JsonObject *obj = json_node_get_object (root);
  if (json_object_has_member (obj, "slots"))
    {
      JsonObject *slots = sb_json_get_object (obj, "slots", "images", error);
      if (slots == NULL)
        return FALSE;
      for (SbSlotId id = SB_SLOT_A; id <= SB_SLOT_B; id++)
        {
          JsonNode *n = json_object_get_member (slots, sb_slot_id_name (id));
          if (n != NULL && (im->slots[id] = record_parse (n, FALSE, "slot", error)) == NULL)
            return FALSE;
        }
    }
  JsonNode *trial = json_object_get_member (obj, "trial");
  if (trial != NULL && (im->trial = record_parse (trial, TRUE, "trial", error)) == NULL)
    return FALSE;
  if (json_object_has_member (obj, "failed"))
    {
      JsonArray *failed = sb_json_get_array (obj, "failed", "images", error);
      if (failed == NULL)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (failed); i++)
        {
          SbImageRecord *r = record_parse (json_array_get_element (failed, i), FALSE, "failed", error);
          if (r == NULL)
            return FALSE;
          g_ptr_array_add (im->failed, r);
        }
    }
  return TRUE;
}

/* A missing file is an empty history; a damaged one is SB_ERROR_STATE. */
SbImages *
sb_images_load (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, SB_UPDATE_IMAGES_FILE, NULL);
  g_autoptr (SbImages) im = sb_images_new ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) bytes = sb_read_file (path, IMAGES_FILE_MAX, &local);
  if (bytes == NULL && g_error_matches (local, SB_ERROR, SB_ERROR_NOT_FOUND))
    return g_steal_pointer (&im);
  if (bytes != NULL && images_parse (im, bytes, &local))
    return g_steal_pointer (&im);
  sb_throw (error, SB_ERROR_STATE, "state file %s is damaged: %s", path, local->message);
  return NULL;
}

static void
add_record (JsonBuilder *b, const SbImageRecord *r, gboolean with_slot)
{
  json_builder_begin_object (b);
  if (with_slot)
    {
      json_builder_set_member_name (b, "slot");
      json_builder_add_string_value (b, sb_slot_id_name (r->slot));
    }
  json_builder_set_member_name (b, "target");
  json_builder_add_string_value (b, r->target);
  json_builder_set_member_name (b, "length");
  json_builder_add_int_value (b, (gint64)r->length);
  json_builder_set_member_name (b, "hashes");
  json_builder_begin_object (b);
  g_autoptr (GList) keys = g_list_sort (g_hash_table_get_keys (r->hashes), (GCompareFunc)strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      json_builder_set_member_name (b, l->data);
      json_builder_add_string_value (b, g_hash_table_lookup (r->hashes, l->data));
    }
  json_builder_end_object (b);
  if (r->correlation_id != NULL)
    {
      json_builder_set_member_name (b, "correlation_id");
      json_builder_add_string_value (b, r->correlation_id);
    }
  if (r->time != NULL)
    {
      json_builder_set_member_name (b, "time");
      json_builder_add_string_value (b, r->time);
    }
  json_builder_end_object (b);
}

gboolean
sb_images_save (SbImages *im, const char *state_dir, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "slots");
  json_builder_begin_object (b);
  for (SbSlotId id = SB_SLOT_A; id <= SB_SLOT_B; id++)
    if (im->slots[id] != NULL)
      {
        json_builder_set_member_name (b, sb_slot_id_name (id));
        add_record (b, im->slots[id], FALSE);
      }
  json_builder_end_object (b);
  if (im->trial != NULL)
    {
      json_builder_set_member_name (b, "trial");
      add_record (b, im->trial, TRUE);
    }
  json_builder_set_member_name (b, "failed");
  json_builder_begin_array (b);
  for (guint i = 0; i < im->failed->len; i++)
    add_record (b, im->failed->pdata[i], FALSE);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = sb_json_pretty (root);
  g_autofree char *path = g_build_filename (state_dir, SB_UPDATE_IMAGES_FILE, NULL);
  return sb_durable_write (path, text, strlen (text), 0644, error);
}

void
sb_slot_image_free (SbSlotImage *image)
{
  if (image == NULL)
    return;
  g_free (image->target);
  g_free (image->sha256);
  g_free (image);
}

SbSlotImage *
sb_update_get_slot_image (const char *state_dir, SbSlotId slot, GError **error)
{
  g_autoptr (SbImages) im = sb_images_load (state_dir, error);
  if (im == NULL || im->slots[slot] == NULL)
    return NULL;
  SbSlotImage *image = g_new0 (SbSlotImage, 1);
  image->target = g_strdup (im->slots[slot]->target);
  image->sha256 = g_strdup (g_hash_table_lookup (im->slots[slot]->hashes, "sha256"));
  image->length = im->slots[slot]->length;
  return image;
}

/* The trial of the last cycle has ended when install.json no longer holds it: committed if its
 * slot became the committed one, else rolled back (design.md §4 case 2), and then remembered as
 * failed. Returns the description of a failure found, or NULL. */
char *
sb_images_resolve_trial (SbImages *im, const SbInstallState *st)
{
  SbImageRecord *t = im->trial;
  if (t == NULL)
    return NULL;
  if (st->state != SB_INSTALL_IDLE && st->slot == t->slot && g_strcmp0 (st->target, t->target) == 0)
    return NULL; /* still written or staged: no boot has decided yet */
  im->trial = NULL;
  if (st->has_committed && st->committed == t->slot)
    {
      sb_image_record_free (t);
      return NULL;
    }
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  t->time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  char *msg = g_strdup_printf ("the trial boot of %s in slot %s failed; it is not installed again "
                               "for correlation id %s",
                               t->target, sb_slot_id_name (t->slot),
                               t->correlation_id != NULL ? t->correlation_id : "(none)");
  g_ptr_array_add (im->failed, t);
  while (im->failed->len > SB_UPDATE_MAX_FAILED)
    g_ptr_array_remove_index (im->failed, 0);
  return msg;
}

gboolean
sb_images_failed_before (SbImages *im, const SbInstallTarget *target)
{
  for (guint i = 0; i < im->failed->len; i++)
    {
      SbImageRecord *r = im->failed->pdata[i];
      if (sb_image_record_matches (r, target) && g_strcmp0 (r->correlation_id, target->correlation_id) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A damaged images.json cannot stop updates: it is reported and replaced at the next save
 * (what it held only spares a retry of a failed image and names the installed one). */
SbImages *
sb_images_load_or_warn (const char *state_dir)
{
  g_autoptr (GError) error = NULL;
  SbImages *im = sb_images_load (state_dir, &error);
  if (im != NULL)
    return im;
  g_warning ("%s; starting a new one", error->message);
  return sb_images_new ();
}

