/* sb-uptane-verify.c: the Uptane checks on verified Director and Image repository metadata
 * (see sb-uptane-verify.h). */
#include "config.h"

#include "core/sb-uptane-verify.h"

#include "core/sb-crypto.h"
#include "core/sb-error.h"
#include "core/sb-json.h"

#include <string.h>

void
sb_uptane_target_free (SbUptaneTarget *target)
{
  if (target == NULL)
    return;
  g_free (target->ecu_serial);
  g_free (target->hardware_id);
  g_free (target->name);
  g_free (target->format);
  g_free (target->uri);
  g_free (target->version);
  g_clear_pointer (&target->director, sb_target_info_free);
  g_clear_pointer (&target->image, sb_target_info_free);
  g_free (target);
}

const char *
sb_uptane_target_get_sha256 (const SbUptaneTarget *target)
{
  const SbTargetInfo *info = target->image != NULL ? target->image : target->director;
  if (info == NULL || !json_object_has_member (info->hashes, "sha256"))
    return NULL;
  JsonNode *node = json_object_get_member (info->hashes, "sha256");
  return JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) : NULL;
}

const char *
sb_uptane_attack_name (int code)
{
  switch ((SbErrorCode) code)
    {
    case SB_ERROR_BAD_SIGNATURE:
    case SB_ERROR_THRESHOLD:
      return "arbitrary software attack";
    case SB_ERROR_EXPIRED:
      return "freeze attack";
    case SB_ERROR_ROLLBACK:
      return "rollback attack";
    case SB_ERROR_VERSION_MISMATCH:
    case SB_ERROR_LENGTH_MISMATCH:
    case SB_ERROR_HASH_MISMATCH:
    case SB_ERROR_MISMATCH:
      return "mix-and-match attack";
    case SB_ERROR_ENDLESS_DATA:
      return "endless data attack";
    case SB_ERROR_SLOW_RETRIEVAL:
      return "slow retrieval attack";
    case SB_ERROR_BAD_HARDWARE_ID:
      return "image for other hardware";
    case SB_ERROR_BAD_ECU_ID:
      return "image for an unknown ECU";
    case SB_ERROR_REPLAY:
      return "replay attack";
    default:
      return NULL;
    }
}

/* The optional object member @key of @obj (NULL when absent); another type is SB_ERROR_PARSE. */
static gboolean
get_optional_object (JsonObject *obj, const char *key, const char *what, JsonObject **out,
                     GError **error)
{
  *out = NULL;
  if (obj == NULL || !json_object_has_member (obj, key))
    return TRUE;
  JsonNode *node = json_object_get_member (obj, key);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not an object", what, key);
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
get_optional_string (JsonObject *obj, const char *key, const char *what, const char **out,
                     GError **error)
{
  *out = NULL;
  if (obj == NULL || !json_object_has_member (obj, key))
    return TRUE;
  JsonNode *node = json_object_get_member (obj, key);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return sb_throw (error, SB_ERROR_PARSE, "%s: \"%s\" is not a string", what, key);
  *out = json_node_get_string (node);
  return TRUE;
}

/* custom.releaseCounter: a non-negative integer (design.md §3), or absent. */
static gboolean
get_release_counter (JsonObject *custom, const char *what, gboolean *out_has, guint64 *out,
                     GError **error)
{
  *out_has = FALSE;
  *out = 0;
  if (custom == NULL || !json_object_has_member (custom, "releaseCounter"))
    return TRUE;
  JsonNode *node = json_object_get_member (custom, "releaseCounter");
  if (!sb_json_node_is_int (node) || json_node_get_int (node) < 0)
    return sb_throw (error, SB_ERROR_PARSE,
                     "%s: custom.releaseCounter is not a non-negative integer", what);
  *out_has = TRUE;
  *out = (guint64) json_node_get_int (node);
  return TRUE;
}

/* Uptane §5.4.4.6: the Director's targets name, per image, the ECUs that must install it. */
static SbUptaneTarget *
check_director_target (SbTargetInfo *info, const SbUptanePrimary *primary, GHashTable *seen_ecus,
                       GError **error)
{
  g_autofree char *what = g_strdup_printf ("Director target %s", info->path);
  JsonObject *ecus = NULL;
  if (!get_optional_object (info->custom, "ecuIdentifiers", what, &ecus, error))
    return NULL;
  if (ecus == NULL || json_object_get_size (ecus) == 0)
    {
      sb_throw (error, SB_ERROR_PARSE, "%s names no ECU in custom.ecuIdentifiers", what);
      return NULL;
    }

  g_autoptr (SbUptaneTarget) target = g_new0 (SbUptaneTarget, 1);
  g_autoptr (GList) serials = json_object_get_members (ecus);
  for (GList *l = serials; l != NULL; l = l->next)
    {
      const char *serial = l->data;
      g_autofree char *ecu_what = g_strdup_printf ("%s, ECU %s", what, serial);
      JsonNode *node = json_object_get_member (ecus, serial);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          sb_throw (error, SB_ERROR_PARSE, "%s: not an object", ecu_what);
          return NULL;
        }
      const char *hwid = sb_json_get_string (json_node_get_object (node), "hardwareId", ecu_what,
                                             error);
      if (hwid == NULL)
        return NULL;
      /* This primary has no secondaries: an image for any other ECU is one this vehicle cannot
       * account for, and installing the rest of the bundle would leave it inconsistent. */
      if (g_strcmp0 (serial, primary->ecu_serial) != 0)
        {
          sb_throw (error, SB_ERROR_BAD_ECU_ID,
                    "%s is for ECU %s, which is not in this vehicle (primary %s); refusing an "
                    "image for an unknown ECU",
                    what, serial, primary->ecu_serial);
          return NULL;
        }
      if (g_strcmp0 (hwid, primary->hardware_id) != 0)
        {
          sb_throw (error, SB_ERROR_BAD_HARDWARE_ID,
                    "%s is for hardware id %s, but ECU %s is %s; refusing an image for other "
                    "hardware",
                    what, hwid, serial, primary->hardware_id);
          return NULL;
        }
      if (g_hash_table_contains (seen_ecus, serial))
        {
          sb_throw (error, SB_ERROR_BAD_ECU_ID, "ECU %s is assigned both %s and %s", serial,
                    (const char *) g_hash_table_lookup (seen_ecus, serial), info->path);
          return NULL;
        }
      g_hash_table_insert (seen_ecus, g_strdup (serial), g_strdup (info->path));
      target->ecu_serial = g_strdup (serial);
      target->hardware_id = g_strdup (hwid);
    }

  const char *format = NULL, *uri = NULL;
  if (!get_optional_string (info->custom, "targetFormat", what, &format, error)
      || !get_optional_string (info->custom, "uri", what, &uri, error)
      || !get_release_counter (info->custom, what, &target->has_release_counter,
                               &target->release_counter, error))
    return NULL;
  target->name = g_strdup (info->path);
  target->length = (guint64) info->length;
  target->format = g_strdup (format);
  target->uri = g_strdup (uri);
  target->director = sb_target_info_copy (info);
  return g_steal_pointer (&target);
}

GPtrArray *
sb_uptane_check_director_targets (SbMetadata *targets, const SbUptanePrimary *primary,
                                  char **out_correlation_id, GError **error)
{
  g_return_val_if_fail (targets != NULL && primary != NULL, NULL);
  g_return_val_if_fail (primary->ecu_serial != NULL && primary->hardware_id != NULL, NULL);
  g_return_val_if_fail (primary->vehicle_id != NULL, NULL);

  /* Uptane §5.4.4.6: the Director speaks for this vehicle alone and delegates nothing; a
   * delegation there could only be a way around its per-vehicle signing. */
  if (sb_metadata_has_delegations (targets))
    {
      sb_throw (error, SB_ERROR_PARSE,
                "Director targets version %" G_GINT64_FORMAT " has delegations, which Uptane "
                "forbids in the Director repository",
                sb_metadata_get_version (targets));
      return NULL;
    }

  JsonObject *custom = NULL;
  const char *vin = NULL, *correlation_id = NULL;
  if (!get_optional_object (sb_metadata_get_signed (targets), "custom", "Director targets",
                            &custom, error)
      || !get_optional_string (custom, "vin", "Director targets custom", &vin, error)
      || !get_optional_string (custom, "correlationId", "Director targets custom",
                               &correlation_id, error))
    return NULL;

  guint n = sb_metadata_get_n_targets (targets);
  if (vin != NULL && g_strcmp0 (vin, primary->vehicle_id) != 0)
    {
      sb_throw (error, SB_ERROR_REPLAY,
                "Director targets version %" G_GINT64_FORMAT " are for vehicle %s, not %s; "
                "refusing metadata meant for another vehicle (replay attack)",
                sb_metadata_get_version (targets), vin, primary->vehicle_id);
      return NULL;
    }
  /* An empty targets list is the Director saying "nothing to install". Without the vehicle id
   * under the signature, one vehicle's (or an old) "nothing" could be replayed to another to
   * hold it back (design.md §3). OTA Community Edition does not sign a vin. */
  if (n == 0 && vin == NULL && !primary->ota_ce_compat)
    {
      sb_throw (error, SB_ERROR_REPLAY,
                "Director targets version %" G_GINT64_FORMAT " list no image and carry no "
                "custom.vin; refusing a possible replay of another vehicle's metadata",
                sb_metadata_get_version (targets));
      return NULL;
    }

  g_autoptr (GHashTable) seen_ecus = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                            g_free);
  g_autoptr (GPtrArray) result =
      g_ptr_array_new_with_free_func ((GDestroyNotify) sb_uptane_target_free);
  for (guint i = 0; i < n; i++)
    {
      const char *path = sb_metadata_get_target_path (targets, i);
      g_autoptr (SbTargetInfo) info = sb_metadata_get_target (targets, path);
      if (info == NULL)
        {
          sb_throw (error, SB_ERROR_PARSE, "Director target %s cannot be read", path);
          return NULL;
        }
      SbUptaneTarget *target = check_director_target (info, primary, seen_ecus, error);
      if (target == NULL)
        return NULL;
      g_ptr_array_add (result, target);
    }
  if (out_correlation_id != NULL)
    *out_correlation_id = g_strdup (correlation_id);
  return g_steal_pointer (&result);
}

static gboolean
hardware_id_listed (JsonObject *custom, const char *what, const char *hardware_id,
                    gboolean *out_listed, GError **error)
{
  *out_listed = FALSE;
  if (custom == NULL || !json_object_has_member (custom, "hardwareIds"))
    return TRUE;
  JsonNode *node = json_object_get_member (custom, "hardwareIds");
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return sb_throw (error, SB_ERROR_PARSE, "%s: custom.hardwareIds is not an array", what);
  JsonArray *ids = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *id = json_array_get_element (ids, i);
      if (!JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_STRING)
        return sb_throw (error, SB_ERROR_PARSE, "%s: custom.hardwareIds[%u] is not a string",
                         what, i);
      if (g_strcmp0 (json_node_get_string (id), hardware_id) == 0)
        *out_listed = TRUE;
    }
  return TRUE;
}

/* Every algorithm both sides list must agree, and there must be one: otherwise the two
 * repositories may describe different images under one name. */
static gboolean
hashes_agree (const SbTargetInfo *director, const SbTargetInfo *image, GError **error)
{
  guint common = 0;
  g_autoptr (GList) algos = json_object_get_members (director->hashes);
  for (GList *l = algos; l != NULL; l = l->next)
    {
      const char *algo = l->data;
      if (!json_object_has_member (image->hashes, algo))
        continue;
      JsonNode *d = json_object_get_member (director->hashes, algo);
      JsonNode *i = json_object_get_member (image->hashes, algo);
      const char *dh = JSON_NODE_HOLDS_VALUE (d) ? json_node_get_string (d) : NULL;
      const char *ih = JSON_NODE_HOLDS_VALUE (i) ? json_node_get_string (i) : NULL;
      if (!sb_hex_digest_equal (dh, ih))
        return sb_throw (error, SB_ERROR_MISMATCH,
                         "Director target %s: %s %s differs from the Image repository's %s "
                         "(mix-and-match attack)",
                         director->path, algo, dh != NULL ? dh : "?", ih != NULL ? ih : "?");
      common++;
    }
  if (common == 0)
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s and the Image repository's share no hash algorithm, so "
                     "they cannot be shown to be the same image",
                     director->path);
  return TRUE;
}

gboolean
sb_uptane_match_image_target (SbUptaneTarget *target, const SbTargetInfo *image,
                              const SbUptanePrimary *primary, GError **error)
{
  g_return_val_if_fail (target != NULL && target->director != NULL && image != NULL, FALSE);

  const SbTargetInfo *director = target->director;
  g_autofree char *what = g_strdup_printf ("Image repository target %s", image->path);

  if (g_strcmp0 (director->path, image->path) != 0)
    return sb_throw (error, SB_ERROR_MISMATCH, "Director target %s was matched with %s",
                     director->path, image->path);
  if (director->length != image->length)
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s: length %" G_GINT64_FORMAT " differs from the Image "
                     "repository's %" G_GINT64_FORMAT " (mix-and-match attack)",
                     director->path, director->length, image->length);
  if (!hashes_agree (director, image, error))
    return FALSE;

  const char *image_format = NULL, *image_uri = NULL, *version = NULL;
  gboolean image_has_counter = FALSE;
  guint64 image_counter = 0;
  if (!get_optional_string (image->custom, "targetFormat", what, &image_format, error)
      || !get_optional_string (image->custom, "uri", what, &image_uri, error)
      || !get_release_counter (image->custom, what, &image_has_counter, &image_counter, error))
    return FALSE;
  if (image->custom != NULL && json_object_has_member (image->custom, "version"))
    {
      /* Informational only; aktualizr's repositories write it as a string or a number. */
      JsonNode *v = json_object_get_member (image->custom, "version");
      if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
        version = json_node_get_string (v);
    }
  if (target->format != NULL && image_format != NULL
      && g_strcmp0 (target->format, image_format) != 0)
    return sb_throw (error, SB_ERROR_MISMATCH,
                     "Director target %s: format %s differs from the Image repository's %s "
                     "(mix-and-match attack)",
                     director->path, target->format, image_format);

  gboolean listed = FALSE;
  if (!hardware_id_listed (image->custom, what, primary->hardware_id, &listed, error))
    return FALSE;
  if (!listed)
    return sb_throw (error, SB_ERROR_BAD_HARDWARE_ID,
                     "%s is not released for hardware id %s (not in custom.hardwareIds); "
                     "refusing an image for other hardware",
                     what, primary->hardware_id);

  /* Uptane image rollback protection: both repositories must agree on the release counter,
   * so neither alone (the online Director in particular) can pass an old image off as new. */
  if (target->has_release_counter != image_has_counter
      || target->release_counter != image_counter)
    {
      g_autofree char *d = target->has_release_counter
                               ? g_strdup_printf ("%" G_GUINT64_FORMAT, target->release_counter)
                               : g_strdup ("none");
      g_autofree char *i = image_has_counter
                               ? g_strdup_printf ("%" G_GUINT64_FORMAT, image_counter)
                               : g_strdup ("none");
      return sb_throw (error, SB_ERROR_MISMATCH,
                       "Director target %s: release counter %s differs from the Image "
                       "repository's %s (mix-and-match attack)",
                       director->path, d, i);
    }
  if (primary->committed_release_counter > 0
      && (!image_has_counter || image_counter < primary->committed_release_counter))
    {
      g_autofree char *c = image_has_counter
                               ? g_strdup_printf ("release counter %" G_GUINT64_FORMAT,
                                                  image_counter)
                               : g_strdup ("no release counter");
      return sb_throw (error, SB_ERROR_ROLLBACK,
                       "Target %s has %s, below the committed %" G_GUINT64_FORMAT
                       " (rollback attack)",
                       director->path, c, primary->committed_release_counter);
    }

  target->image = sb_target_info_copy (image);
  if (target->format == NULL)
    target->format = g_strdup (image_format);
  if (target->uri == NULL)
    target->uri = g_strdup (image_uri);
  target->version = g_strdup (version);
  return TRUE;
}
