/* repo-delegate.c: `delegate`, `delegate-hashbins` and `delegate-succinct` (TUF §4.5 delegated
 * roles, TAP 15 succinct hash bins). */
#include "config.h"

#include "repo-cli.h"
#include "repo-roles.h"
#include "core/sb-delegation.h"
#include "core/sb-error.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  char *from;
  char *key_type;
  gint threshold;
  gboolean publish;
} DelegateCommon;

static void
common_clear (DelegateCommon *c)
{
  g_free (c->from);
  g_free (c->key_type);
}

/* Opens the repository and the delegating role, refusing what TUF or Uptane forbid. */
static SbRepo *
open_delegator (const char *dir, DelegateCommon *c, SbKeyType *out_type, GError **error)
{
  g_autoptr (SbRepo) repo = sb_repo_cli_open (dir, "image", error);
  if (repo == NULL)
    return NULL;
  if (sb_repo_get_kind (repo) == SB_REPO_KIND_DIRECTOR)
    {
      /* Uptane §5.4.4.6: the Director signs per vehicle and delegates nothing. */
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                "%s is a Director repository, which Uptane does not let delegate",
                sb_repo_get_dir (repo));
      return NULL;
    }
  if (c->from == NULL)
    c->from = g_strdup (SB_ROLE_TARGETS);
  if (!sb_repo_is_targets_role (c->from))
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--from %s: only targets roles delegate",
                c->from);
      return NULL;
    }
  if (!sb_repo_has_role (repo, c->from))
    {
      sb_throw (error, SB_ERROR_NOT_FOUND, "--from %s: no such role in %s", c->from,
                sb_repo_get_dir (repo));
      return NULL;
    }
  *out_type = sb_repo_get_key_type (repo);
  if (c->key_type != NULL && !sb_repo_parse_key_type (c->key_type, out_type, error))
    return NULL;
  if (c->threshold <= 0)
    c->threshold = 1;
  if (c->threshold > 32)
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--threshold %d is more keys than sensible",
                c->threshold);
      return NULL;
    }
  return g_steal_pointer (&repo);
}

/* Generates @threshold keys for @entry and lists them in @delegator_signed's key dictionary. */
static gboolean
add_new_keys (SbRepo *repo, JsonObject *delegator_signed, const char *delegator, JsonObject *entry,
              gint threshold, SbKeyType type, GError **error)
{
  JsonObject *keys = sb_repo_key_dict (delegator_signed, delegator, TRUE);
  for (gint i = 0; i < threshold; i++)
    {
      g_autoptr (SbSigner) signer = sb_repo_new_key (repo, type, error);
      if (signer == NULL)
        return FALSE;
      sb_repo_entry_add_key (keys, entry, sb_signer_get_public (signer));
    }
  json_object_set_int_member (entry, "threshold", threshold);
  return TRUE;
}

static JsonObject *
empty_targets (void)
{
  JsonObject *obj = json_object_new ();
  json_object_set_string_member (obj, "_type", "targets");
  json_object_set_string_member (obj, "spec_version", SB_REPO_SPEC_VERSION);
  json_object_set_int_member (obj, "version", 1);
  json_object_set_string_member (obj, "expires", "1970-01-01T00:00:00Z");
  json_object_set_object_member (obj, "targets", json_object_new ());
  return obj;
}

static gboolean
check_new_role_name (SbRepo *repo, const char *name, GError **error)
{
  if (name == NULL || *name == '\0')
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "a delegated role needs a name (--to)");
  if (sb_role_is_top_level (name))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                     "%s is a top-level role and cannot be delegated (TUF §4.5)", name);
  for (const char *p = name; *p != '\0'; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                       "role name \"%s\" holds a control character", name);
  if (!g_utf8_validate (name, -1, NULL))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "role name is not UTF-8");
  if (sb_repo_has_role (repo, name))
    return sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "role %s already exists in %s", name,
                     sb_repo_get_dir (repo));
  return TRUE;
}

/* The "roles" array of @delegator_signed's delegations, refusing succinct delegations (TAP 15:
 * a role delegates either to roles or to succinct bins). */
static JsonArray *
delegated_roles_array (JsonObject *delegator_signed, const char *delegator, GError **error)
{
  (void)sb_repo_key_dict (delegator_signed, delegator, TRUE);
  JsonObject *delegations = sb_repo_object_member (delegator_signed, "delegations");
  if (json_object_has_member (delegations, "succinct_roles"))
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                "role %s delegates to succinct hash bins, which excludes other delegations "
                "(TAP 15)",
                delegator);
      return NULL;
    }
  if (!json_object_has_member (delegations, "roles"))
    json_object_set_array_member (delegations, "roles", json_array_new ());
  return json_object_get_array_member (delegations, "roles");
}

static JsonArray *
split_list (const char *text)
{
  JsonArray *arr = json_array_new ();
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (char **p = parts; *p != NULL; p++)
    if (**p != '\0')
      json_array_add_string_element (arr, *p);
  return arr;
}

int
sb_repo_cmd_delegate (int argc, char **argv)
{
  DelegateCommon c = { 0 };
  g_autofree char *to = NULL, *paths = NULL, *prefixes = NULL;
  gboolean terminating = FALSE;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &c.from, "Delegating role (default targets)", "ROLE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Name of the new role", "NAME" },
    { "paths", 0, 0, G_OPTION_ARG_STRING, &paths,
      "Comma-separated path patterns (shell-style, '*' stops at '/')", "PAT,..." },
    { "hash-prefixes", 0, 0, G_OPTION_ARG_STRING, &prefixes,
      "Comma-separated hex prefixes of sha256(target path)", "HEX,..." },
    { "terminating", 0, 0, G_OPTION_ARG_NONE, &terminating,
      "Clients stop searching other roles for paths this one matches", NULL },
    { "threshold", 0, 0, G_OPTION_ARG_INT, &c.threshold,
      "Signatures required; as many keys are created (default 1)", "N" },
    { "key-type", 0, 0, G_OPTION_ARG_STRING, &c.key_type,
      "Type of the new keys (default: the repository's)", "TYPE" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &c.publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "delegate", "DIR --to NAME (--paths PAT,... | --hash-prefixes HEX,...)",
      "Creates targets role NAME with new keys, delegated from ROLE for the given paths or\n"
      "hash prefixes, with an empty targets list (TUF §4.5).",
      "Example:\n"
      "  switchback-repo delegate repo --to firmware --paths 'fw/*,boot/*.bin' --terminating\n"
      "  switchback-repo add-target repo fw.bin --name fw/fw.bin --role firmware --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "delegate", &argc, &argv))
    {
      common_clear (&c);
      return SB_REPO_EXIT_USAGE;
    }
  int status = SB_REPO_EXIT_OK;
  g_autoptr (GError) error = NULL;
  SbKeyType type;
  g_autoptr (SbRepo) repo = NULL;
  if (argc != 2)
    status = sb_repo_cli_usage ("delegate", "expected one argument, the repository directory");
  else if ((paths == NULL) == (prefixes == NULL))
    status = sb_repo_cli_usage ("delegate", "give exactly one of --paths and --hash-prefixes");
  else if ((repo = open_delegator (argv[1], &c, &type, &error)) == NULL
           || !check_new_role_name (repo, to, &error))
    status = sb_repo_cli_fail ("delegate", error);
  else
    {
      JsonObject *dsigned = sb_repo_edit_signed (repo, c.from, &error);
      JsonArray *roles = dsigned != NULL ? delegated_roles_array (dsigned, c.from, &error) : NULL;
      JsonObject *entry = json_object_new ();
      json_object_set_string_member (entry, "name", to);
      json_object_set_array_member (entry, "keyids", json_array_new ());
      json_object_set_int_member (entry, "threshold", 1);
      json_object_set_boolean_member (entry, "terminating", terminating);
      if (paths != NULL)
        json_object_set_array_member (entry, "paths", split_list (paths));
      else
        json_object_set_array_member (entry, "path_hash_prefixes", split_list (prefixes));
      if (roles == NULL || !add_new_keys (repo, dsigned, c.from, entry, c.threshold, type, &error))
        {
          json_object_unref (entry);
          status = sb_repo_cli_fail ("delegate", error);
        }
      else
        {
          json_array_add_object_element (roles, entry);
          sb_repo_stage_new_role (repo, to, empty_targets ());
          printf ("delegated %s from %s to new role %s\n", paths != NULL ? paths : prefixes, c.from,
                  to);
          if (!sb_repo_cli_commit (repo, c.publish, &error))
            status = sb_repo_cli_fail ("delegate", error);
        }
    }
  common_clear (&c);
  return status;
}

/* The name of hash bin [@low, @high] of prefix length @len, as python-tuf's hash-bin example
 * names them ("00-3f", or "a7" for a bin of one prefix). */
static char *
hashbin_name (const char *prefix, guint low, guint high, guint len)
{
  g_autofree char *range = low == high
                               ? g_strdup_printf ("%0*x", (int)len, low)
                               : g_strdup_printf ("%0*x-%0*x", (int)len, low, (int)len, high);
  return prefix != NULL ? g_strdup_printf ("%s-%s", prefix, range) : g_steal_pointer (&range);
}

int
sb_repo_cmd_delegate_hashbins (int argc, char **argv)
{
  DelegateCommon c = { 0 };
  gint bins = 0;
  g_autofree char *name_prefix = NULL;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &c.from, "Delegating role (default targets)", "ROLE" },
    { "bins", 0, 0, G_OPTION_ARG_INT, &bins, "Number of bins, a power of 2 from 2 to 65536", "N" },
    { "name-prefix", 0, 0, G_OPTION_ARG_STRING, &name_prefix,
      "Prefix of the bin role names (PREFIX-00-3f)", "PREFIX" },
    { "threshold", 0, 0, G_OPTION_ARG_INT, &c.threshold,
      "Signatures required; as many keys are created, shared by every bin (default 1)", "N" },
    { "key-type", 0, 0, G_OPTION_ARG_STRING, &c.key_type,
      "Type of the new keys (default: the repository's)", "TYPE" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &c.publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "delegate-hashbins", "DIR --bins N",
      "Delegates every target path from ROLE to N bin roles by path_hash_prefixes (the classic\n"
      "hash-bin delegation): bin i covers an equal range of the hex prefixes of sha256(path).\n"
      "Bins share one key set. add-target then lists each new target in its bin.",
      "Example:\n"
      "  switchback-repo delegate-hashbins repo --bins 16 --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "delegate-hashbins", &argc, &argv))
    {
      common_clear (&c);
      return SB_REPO_EXIT_USAGE;
    }
  int status = SB_REPO_EXIT_OK;
  g_autoptr (GError) error = NULL;
  SbKeyType type;
  g_autoptr (SbRepo) repo = NULL;
  if (argc != 2)
    status = sb_repo_cli_usage ("delegate-hashbins", "expected the repository directory");
  else if (bins < 2 || bins > 65536 || (bins & (bins - 1)) != 0)
    status = sb_repo_cli_usage ("delegate-hashbins", "--bins must be a power of 2, 2 to 65536");
  else if ((repo = open_delegator (argv[1], &c, &type, &error)) == NULL)
    status = sb_repo_cli_fail ("delegate-hashbins", error);
  else
    {
      /* Prefix length: enough hex digits to give each bin at least one prefix. */
      guint len = 1;
      while ((1u << (4 * len)) < (guint)bins)
        len++;
      guint total = 1u << (4 * len), per_bin = total / (guint)bins;
      JsonObject *dsigned = sb_repo_edit_signed (repo, c.from, &error);
      JsonArray *roles = dsigned != NULL ? delegated_roles_array (dsigned, c.from, &error) : NULL;
      JsonObject *shared = json_object_new ();
      gboolean ok = roles != NULL
                    && add_new_keys (repo, dsigned, c.from, shared, c.threshold, type, &error);
      for (guint b = 0; ok && b < (guint)bins; b++)
        {
          guint low = b * per_bin, high = low + per_bin - 1;
          g_autofree char *name = hashbin_name (name_prefix, low, high, len);
          if (!check_new_role_name (repo, name, &error))
            {
              ok = FALSE;
              break;
            }
          JsonObject *entry = json_object_new ();
          json_object_set_string_member (entry, "name", name);
          json_object_set_member (entry, "keyids",
                                  json_node_copy (json_object_get_member (shared, "keyids")));
          json_object_set_int_member (entry, "threshold", c.threshold);
          json_object_set_boolean_member (entry, "terminating", FALSE);
          JsonArray *prefixes = json_array_new ();
          for (guint p = low; p <= high; p++)
            {
              g_autofree char *hex = g_strdup_printf ("%0*x", (int)len, p);
              json_array_add_string_element (prefixes, hex);
            }
          json_object_set_array_member (entry, "path_hash_prefixes", prefixes);
          json_array_add_object_element (roles, entry);
          sb_repo_stage_new_role (repo, name, empty_targets ());
        }
      json_object_unref (shared);
      if (!ok)
        status = sb_repo_cli_fail ("delegate-hashbins", error);
      else
        {
          printf ("delegated every path from %s to %d hash bins\n", c.from, bins);
          if (!sb_repo_cli_commit (repo, c.publish, &error))
            status = sb_repo_cli_fail ("delegate-hashbins", error);
        }
    }
  common_clear (&c);
  return status;
}

int
sb_repo_cmd_delegate_succinct (int argc, char **argv)
{
  DelegateCommon c = { 0 };
  gint bit_length = 0;
  g_autofree char *name_prefix = NULL;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &c.from, "Delegating role (default targets)", "ROLE" },
    { "bit-length", 0, 0, G_OPTION_ARG_INT, &bit_length,
      "Number of leading bits of sha256(path) that pick the bin: 2^B bins (1 to 16)", "B" },
    { "name-prefix", 0, 0, G_OPTION_ARG_STRING, &name_prefix,
      "Bin names are PREFIX-XX, XX the bin number in zero-padded lowercase hex", "PREFIX" },
    { "threshold", 0, 0, G_OPTION_ARG_INT, &c.threshold,
      "Signatures required; as many keys are created, shared by every bin (default 1)", "N" },
    { "key-type", 0, 0, G_OPTION_ARG_STRING, &c.key_type,
      "Type of the new keys (default: the repository's)", "TYPE" },
    { "publish", 0, 0, G_OPTION_ARG_NONE, &c.publish, "Publish right away", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "delegate-succinct", "DIR --bit-length B --name-prefix PREFIX",
      "Delegates every target path from ROLE to 2^B succinct hash bins (TAP 15\n"
      "succinct_roles), which share one key set. Bin names follow python-tuf's SuccinctRoles:\n"
      "PREFIX-XX. All bins are created (empty); add-target lists each target in its bin.",
      "Example:\n"
      "  switchback-repo delegate-succinct repo --bit-length 4 --name-prefix bin --publish\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "delegate-succinct", &argc, &argv))
    {
      common_clear (&c);
      return SB_REPO_EXIT_USAGE;
    }
  int status = SB_REPO_EXIT_OK;
  g_autoptr (GError) error = NULL;
  SbKeyType type;
  g_autoptr (SbRepo) repo = NULL;
  if (argc != 2)
    status = sb_repo_cli_usage ("delegate-succinct", "expected the repository directory");
  else if (bit_length < 1 || bit_length > 16)
    status = sb_repo_cli_usage ("delegate-succinct", "--bit-length must be 1 to 16");
  else if (name_prefix == NULL || *name_prefix == '\0')
    status = sb_repo_cli_usage ("delegate-succinct", "--name-prefix is required");
  else if ((repo = open_delegator (argv[1], &c, &type, &error)) == NULL)
    status = sb_repo_cli_fail ("delegate-succinct", error);
  else
    {
      JsonObject *dsigned = sb_repo_edit_signed (repo, c.from, &error);
      JsonObject *delegations = NULL;
      if (dsigned != NULL)
        {
          (void)sb_repo_key_dict (dsigned, c.from, TRUE);
          delegations = sb_repo_object_member (dsigned, "delegations");
          JsonArray *roles = json_object_has_member (delegations, "roles")
                                 ? json_object_get_array_member (delegations, "roles")
                                 : NULL;
          if ((roles != NULL && json_array_get_length (roles) > 0)
              || json_object_has_member (delegations, "succinct_roles"))
            {
              sb_throw (&error, SB_ERROR_INVALID_ARGUMENT,
                        "role %s already delegates; succinct hash bins must be its only "
                        "delegation (TAP 15)",
                        c.from);
              delegations = NULL;
            }
        }
      JsonObject *succinct = json_object_new ();
      gboolean ok = delegations != NULL
                    && add_new_keys (repo, dsigned, c.from, succinct, c.threshold, type, &error);
      g_autoptr (SbRole) role = NULL;
      if (ok)
        {
          json_object_set_int_member (succinct, "bit_length", bit_length);
          json_object_set_string_member (succinct, "name_prefix", name_prefix);
          role = sb_succinct_roles_new_from_json (succinct, "succinct_roles", &error);
          ok = role != NULL;
        }
      for (guint64 b = 0; ok && b < ((guint64)1 << bit_length); b++)
        {
          g_autofree char *name = sb_succinct_bin_name (role, (guint32)b);
          if (!check_new_role_name (repo, name, &error))
            ok = FALSE;
          else
            sb_repo_stage_new_role (repo, name, empty_targets ());
        }
      if (!ok)
        {
          json_object_unref (succinct);
          status = sb_repo_cli_fail ("delegate-succinct", error);
        }
      else
        {
          json_object_remove_member (delegations, "roles");
          json_object_set_object_member (delegations, "succinct_roles", succinct);
          printf ("delegated every path from %s to %u succinct bins %s-*\n", c.from,
                  1u << bit_length, name_prefix);
          if (!sb_repo_cli_commit (repo, c.publish, &error))
            status = sb_repo_cli_fail ("delegate-succinct", error);
        }
    }
  common_clear (&c);
  return status;
}
