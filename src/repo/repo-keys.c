/* repo-keys.c: `keygen`, a key pair outside any repository (ECU keys, attacker keys in tests,
 * offline keys to add with `rotate --add-key FILE.pem`). */
#include "config.h"

#include "repo-cli.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"
#include "state/sb-key-file.h"
#include "core/sb-json.h"

#include <stdio.h>
#include <string.h>

int
sb_repo_cmd_keygen (int argc, char **argv)
{
  g_autofree char *type_name = NULL;
  g_autofree char *public_path = NULL;
  GOptionEntry entries[] = {
    { "type", 0, 0, G_OPTION_ARG_STRING, &type_name, "ed25519 (default), rsa or ecdsa", "TYPE" },
    { "public", 0, 0, G_OPTION_ARG_FILENAME, &public_path,
      "Where to write the public TUF key object (default: FILE.pem with .json)", "FILE.json" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "keygen", "FILE.pem",
      "Generates a private key (PKCS#8 PEM, mode 0600) and writes its public half as a TUF key\n"
      "object ({\"keytype\", \"scheme\", \"keyval\"}); prints the key id.",
      "Example (an ECU key registered with the Director):\n"
      "  switchback-repo keygen ecu.pem\n"
      "  switchback-repo register-ecu uptane ECU1 ecu.json --hardware-id board-a\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "keygen", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage ("keygen", "expected the private key file name");

  g_autoptr (GError) error = NULL;
  SbKeyType type = SB_KEY_TYPE_ED25519;
  if (type_name != NULL && !sb_repo_parse_key_type (type_name, &type, &error))
    return sb_repo_cli_fail ("keygen", error);
  const char *path = argv[1];
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      sb_throw (&error, SB_ERROR_INVALID_ARGUMENT, "%s exists; refusing to overwrite a key", path);
      return sb_repo_cli_fail ("keygen", error);
    }
  if (public_path == NULL)
    {
      g_autofree char *stem = g_str_has_suffix (path, ".pem")
                                  ? g_strndup (path, strlen (path) - strlen (".pem"))
                                  : g_strdup (path);
      public_path = g_strconcat (stem, ".json", NULL);
    }
  g_autoptr (SbSigner) signer = sb_signer_generate (type, &error);
  if (signer == NULL || !sb_signer_save (signer, path, &error))
    return sb_repo_cli_fail ("keygen", error);
  g_autoptr (JsonNode) pub = sb_key_to_json (sb_signer_get_public (signer));
  g_autofree char *text = sb_json_pretty (pub);
  if (!sb_durable_write (public_path, text, strlen (text), 0644, &error))
    return sb_repo_cli_fail ("keygen", error);
  printf ("%s\n", sb_key_get_keyid (sb_signer_get_public (signer)));
  return SB_REPO_EXIT_OK;
}
