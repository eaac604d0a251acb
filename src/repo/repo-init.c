/* repo-init.c: `init` (a TUF repository) and `uptane-init` (a Director and Image pair). */
#include "config.h"

#include "repo-cli.h"
#include "repo-publish.h"
#include "core/sb-error.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  char *key_type;
  gboolean consistent;
  char **expires;
  char *hashes;
  char *vin;
} InitOptions;

static void
init_options_clear (InitOptions *o)
{
  g_free (o->key_type);
  g_strfreev (o->expires);
  g_free (o->hashes);
  g_free (o->vin);
}

static gboolean
parse_hashes (const char *list, guint *out, GError **error)
{
  *out = 0;
  if (list == NULL)
    return TRUE;
  g_auto (GStrv) names = g_strsplit (list, ",", -1);
  for (char **n = names; *n != NULL; n++)
    {
      SbHashAlgo algo = sb_hash_algo_from_name (g_strstrip (*n));
      if (algo == 0)
        return sb_throw (error, SB_ERROR_INVALID_ARGUMENT,
                         "--hashes: unknown hash \"%s\" (use sha256 and/or sha512)", *n);
      *out |= algo;
    }
  return TRUE;
}

static gboolean
fill_create_options (const InitOptions *o, SbRepoKind kind, SbRepoCreateOptions *c, GError **error)
{
  memset (c, 0, sizeof *c);
  c->kind = kind;
  c->consistent_snapshot = o->consistent;
  c->expiry_rules = o->expires;
  c->key_type = SB_KEY_TYPE_ED25519;
  if (o->key_type != NULL && !sb_repo_parse_key_type (o->key_type, &c->key_type, error))
    return FALSE;
  return parse_hashes (o->hashes, &c->target_hashes, error);
}

static SbRepo *
create_and_publish (const char *dir, const SbRepoCreateOptions *c, const char *vin, GError **error)
{
  g_autoptr (SbRepo) repo = sb_repo_create (dir, c, error);
  if (repo == NULL)
    return NULL;
  if (vin != NULL)
    {
      /* design.md §3: a Director targets file that lists no image names the vehicle, or clients
       * refuse it as a possible replay. */
      JsonObject *targets = sb_repo_edit_signed (repo, SB_ROLE_TARGETS, error);
      if (targets == NULL)
        return NULL;
      JsonObject *custom = json_object_new ();
      json_object_set_string_member (custom, "vin", vin);
      json_object_set_object_member (targets, "custom", custom);
    }
  g_autoptr (GPtrArray) published = NULL;
  if (!sb_repo_save (repo, error) || !sb_repo_publish (repo, NULL, &published, error))
    return NULL;
  sb_repo_cli_print_published (repo, published);
  return g_steal_pointer (&repo);
}

/* The options init and uptane-init share (GOption copies the entries, not what they point
 * to). */
static void
add_common_entries (GOptionContext *ctx, InitOptions *o)
{
  GOptionEntry entries[] = {
    { "key-type", 0, 0, G_OPTION_ARG_STRING, &o->key_type,
      "Type of the keys to create: ed25519 (default), rsa or ecdsa", "TYPE" },
    { "consistent-snapshot", 0, 0, G_OPTION_ARG_NONE, &o->consistent,
      "Publish N.ROLE.json and targets/HASH.NAME (TUF consistent snapshots)", NULL },
    { "expires", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->expires,
      "Expiry rule of a role, e.g. timestamp=1d, targets=30d, delegated=90d (repeatable)",
      "ROLE=DURATION" },
    { "hashes", 0, 0, G_OPTION_ARG_STRING, &o->hashes,
      "Hashes listed for targets (default sha256,sha512)", "sha256,sha512" },
    { NULL },
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
}

int
sb_repo_cmd_init (int argc, char **argv)
{
  InitOptions o = { 0 };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "init", "DIR",
      "Creates a TUF repository in DIR (which must not exist or be empty): one key per top-level\n"
      "role under DIR/keys/ (mode 0600), and version 1 of root, targets, snapshot and timestamp\n"
      "published under DIR/metadata/.",
      "Expiry defaults: root 365d, targets and delegated roles 90d, snapshot 7d, timestamp 1d.\n"
      "A rule is a duration (s, m, h, d, w, y) from publishing, or a fixed date.\n\n"
      "Example:\n"
      "  switchback-repo init repo --key-type ecdsa --consistent-snapshot --expires "
      "timestamp=2h\n");
  add_common_entries (ctx, &o);
  if (!sb_repo_cli_parse (ctx, "init", &argc, &argv))
    {
      init_options_clear (&o);
      return SB_REPO_EXIT_USAGE;
    }
  if (argc != 2)
    {
      init_options_clear (&o);
      return sb_repo_cli_usage ("init", "expected one argument, the repository directory");
    }

  g_autoptr (GError) error = NULL;
  SbRepoCreateOptions c;
  g_autoptr (SbRepo) repo = NULL;
  if (fill_create_options (&o, SB_REPO_KIND_TUF, &c, &error))
    repo = create_and_publish (argv[1], &c, NULL, &error);
  init_options_clear (&o);
  if (repo == NULL)
    return sb_repo_cli_fail ("init", error);
  return SB_REPO_EXIT_OK;
}

int
sb_repo_cmd_uptane_init (int argc, char **argv)
{
  InitOptions o = { 0 };
  GOptionEntry entries[] = {
    { "vin", 0, 0, G_OPTION_ARG_STRING, &o.vin,
      "Vehicle id the Director's targets carry (custom.vin)", "VIN" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "uptane-init", "DIR",
      "Creates an Uptane repository pair: DIR/director (the Director repository, whose targets\n"
      "are this vehicle's assignments) and DIR/image (the Image repository), each a TUF\n"
      "repository with its own keys, published at version 1.",
      "Serve both with `switchback-repo serve DIR --port P`: the Director at /director/, the\n"
      "Image repository at /repo/ (design.md §2).\n\n"
      "Example:\n"
      "  switchback-repo uptane-init uptane --vin VIN123\n"
      "  switchback-repo uptane-add-image uptane rootfs.img --name rootfs-1.img "
      "--hardware-id board-a\n"
      "  switchback-repo uptane-assign uptane --name rootfs-1.img --ecu ECU1 --hardware-id "
      "board-a\n"
      "  switchback-repo publish uptane\n");
  add_common_entries (ctx, &o);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "uptane-init", &argc, &argv))
    {
      init_options_clear (&o);
      return SB_REPO_EXIT_USAGE;
    }
  if (argc != 2)
    {
      init_options_clear (&o);
      return sb_repo_cli_usage ("uptane-init", "expected one argument, the directory");
    }

  g_autoptr (GError) error = NULL;
  SbRepoCreateOptions c;
  g_autofree char *director = g_build_filename (argv[1], "director", NULL);
  g_autofree char *image = g_build_filename (argv[1], "image", NULL);
  g_autoptr (SbRepo) drepo = NULL;
  g_autoptr (SbRepo) irepo = NULL;
  if (fill_create_options (&o, SB_REPO_KIND_IMAGE, &c, &error)
      && (irepo = create_and_publish (image, &c, NULL, &error)) != NULL)
    {
      c.kind = SB_REPO_KIND_DIRECTOR;
      drepo = create_and_publish (director, &c, o.vin, &error);
    }
  init_options_clear (&o);
  if (drepo == NULL)
    return sb_repo_cli_fail ("uptane-init", error);
  return SB_REPO_EXIT_OK;
}
