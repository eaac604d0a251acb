/* repo-serve.c: `serve`, a development and test server for a repository or an Uptane pair
 * (design.md §2), over HTTP or HTTPS with optional client certificates (mutual TLS, as OTA
 * Community Edition devices use). Request handling is in repo-http.c. */
#include "config.h"

#include "repo-cli.h"
#include "repo-http.h"
#include "state/sb-durable.h"
#include "core/sb-error.h"

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* GIO's TLS server accepts no client certificate by itself: accept exactly those that verify
 * against the --client-ca database. */
static gboolean
on_accept_certificate (SoupServerMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
                       gpointer data)
{
  return errors == 0;
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (on_accept_certificate), NULL);
}

static SoupServer *
make_server (const char *cert, const char *key, const char *client_ca, GError **error)
{
  if (cert == NULL)
    return soup_server_new ("server-header", "switchback-repo", NULL);

  g_autoptr (GError) local_error = NULL;
  g_autoptr (GTlsCertificate) tls = g_tls_certificate_new_from_files (cert, key, &local_error);
  if (tls == NULL)
    {
      sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--tls-cert %s / --tls-key %s: %s", cert, key,
                local_error->message);
      return NULL;
    }
  g_autoptr (SoupServer) server
      = soup_server_new ("server-header", "switchback-repo", "tls-certificate", tls, NULL);
  if (client_ca != NULL)
    {
      /* GIO takes only absolute anchor file names. */
      g_autofree char *ca_path = g_canonicalize_filename (client_ca, NULL);
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (ca_path, &local_error);
      if (db == NULL)
        {
          sb_throw (error, SB_ERROR_INVALID_ARGUMENT, "--client-ca %s: %s", client_ca,
                    local_error->message);
          return NULL;
        }
      soup_server_set_tls_database (server, db);
      soup_server_set_tls_auth_mode (server, G_TLS_AUTHENTICATION_REQUIRED);
      g_signal_connect (server, "request-started", G_CALLBACK (on_request_started), NULL);
    }
  return g_steal_pointer (&server);
}

int
sb_repo_cmd_serve (int argc, char **argv)
{
  gint port = -1;
  g_autofree char *bind = NULL, *cert = NULL, *key = NULL, *client_ca = NULL;
  g_autofree char *port_file = NULL;
  gboolean uptane = FALSE, ota_ce = FALSE, verbose = FALSE, control = FALSE;
  g_auto (GStrv) faults = NULL;
  g_auto (GStrv) mounts = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port; 0 picks a free one", "PORT" },
    { "bind", 0, 0, G_OPTION_ARG_STRING, &bind, "Address to listen on (default 127.0.0.1)",
      "ADDR" },
    { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file,
      "Write the port to FILE once listening (with --port 0)", "FILE" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Serve HTTPS with this PEM certificate",
      "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &key, "The certificate's PEM private key", "FILE" },
    { "client-ca", 0, 0, G_OPTION_ARG_FILENAME, &client_ca,
      "Require client certificates issued by this CA (mutual TLS)", "FILE" },
    { "uptane", 0, 0, G_OPTION_ARG_NONE, &uptane,
      "DIR is an Uptane pair: /director/ and /repo/ (detected when omitted)", NULL },
    { "ota-ce", 0, 0, G_OPTION_ARG_NONE, &ota_ce,
      "OTA Community Edition layout: the Director serves only root and targets; delegated "
      "roles under delegations/",
      NULL },
    { "fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &faults,
      "Fault switch, e.g. /metadata/timestamp.json=endless or delay=200 (every path); "
      "repeatable",
      "[PATH=]MODES" },
    { "mount", 0, 0, G_OPTION_ARG_STRING_ARRAY, &mounts,
      "Also serve DIRECTORY at /PREFIX/ (e.g. /treehub=ostree-repo); repeatable",
      "/PREFIX=DIRECTORY" },
    { "control", 0, 0, G_OPTION_ARG_NONE, &control,
      "Enable the unauthenticated /_control/ fault endpoint (tests only; off by default)", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log each request on stderr", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = sb_repo_cli_context (
      "serve", "DIR --port PORT",
      "Serves the repository DIR, or the Uptane pair DIR, over HTTP or HTTPS until SIGINT or\n"
      "SIGTERM. Plain repository: /metadata/FILE and /targets/NAME. Uptane pair: /director/FILE,\n"
      "PUT /director/manifest (verified against register-ecu keys, stored under\n"
      "DIR/director/manifests/, one line on stdout each), /repo/FILE and /repo/targets/NAME.\n"
      "Targets honour Range requests (206). Files stream from disk in 512 KiB chunks.",
      "Fault modes (--fault, or with --control at run time POST\n"
      "/_control/fault?path=P&mode=M[&times=N]):\n"
      "  delay=MS  throttle=BYTES_PER_SEC  truncate=N  corrupt  endless  status=CODE\n"
      "  drop-connection-after=N  ignore-range  pause-after=N  none (clears)\n"
      "A PATH ending in '*' matches every path under it. POST /_control/reset clears all;\n"
      "GET /_control/faults and GET /_control/hits[?path=P] report.\n"
      "pause-after=N holds the body after N bytes: GET /_control/paused?path=P[&count=K]\n"
      "answers once P has paused K times; POST /_control/release?path=P[&how=resume|cut]\n"
      "sends the rest or cuts the connection.\n\n"
      "Examples:\n"
      "  switchback-repo serve repo --port 0 --port-file port.txt\n"
      "  switchback-repo serve uptane --port 8443 --tls-cert server.pem --tls-key server.key \\\n"
      "      --client-ca ca.pem --fault /repo/targets/*=throttle=100000\n"
      "  switchback-repo serve repo --port 8080 --control &\n"
      "  curl -X POST 'http://127.0.0.1:8080/_control/fault?path=/metadata/timestamp.json"
      "&mode=endless'\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!sb_repo_cli_parse (ctx, "serve", &argc, &argv))
    return SB_REPO_EXIT_USAGE;
  if (argc != 2)
    return sb_repo_cli_usage ("serve", "expected one argument, the directory to serve");
  if (port < 0 || port > 65535)
    return sb_repo_cli_usage ("serve", "--port is required (0 picks a free port)");
  if ((cert == NULL) != (key == NULL))
    return sb_repo_cli_usage ("serve", "--tls-cert and --tls-key go together");
  if (client_ca != NULL && cert == NULL)
    return sb_repo_cli_usage ("serve", "--client-ca needs --tls-cert and --tls-key");

  g_autoptr (GError) error = NULL;
  const char *dir = argv[1];
  if (uptane && !sb_repo_dir_is_uptane (dir))
    {
      sb_throw (&error, SB_ERROR_INVALID_ARGUMENT,
                "--uptane: %s is not an Uptane pair (create one with uptane-init)", dir);
      return sb_repo_cli_fail ("serve", error);
    }
  SbRepoServerOptions opts = {
    .dir = dir,
    .uptane = uptane || sb_repo_dir_is_uptane (dir),
    .ota_ce = ota_ce,
    .verbose = verbose,
    .control = control,
    .mounts = mounts,
  };
  g_autoptr (SbRepoServer) srv = sb_repo_server_new (&opts, &error);
  if (srv == NULL)
    return sb_repo_cli_fail ("serve", error);
  for (char **f = faults; f != NULL && *f != NULL; f++)
    if (!sb_fault_table_set_from_arg (sb_repo_server_get_faults (srv), *f, &error))
      return sb_repo_cli_fail ("serve", error);

  g_autoptr (SoupServer) server = make_server (cert, key, client_ca, &error);
  if (server == NULL)
    return sb_repo_cli_fail ("serve", error);
  sb_repo_server_attach (srv, server);

  g_autoptr (GInetAddress) addr
      = g_inet_address_new_from_string (bind != NULL ? bind : "127.0.0.1");
  if (addr == NULL)
    return sb_repo_cli_usage ("serve", "--bind %s is not an IP address", bind);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (addr, (guint16)port);
  g_autoptr (GError) listen_error = NULL;
  if (!soup_server_listen (server, sa, cert != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0, &listen_error))
    {
      sb_throw (&error, SB_ERROR_IO, "listening on %s port %d: %s",
                bind != NULL ? bind : "127.0.0.1", port, listen_error->message);
      return sb_repo_cli_fail ("serve", error);
    }

  GSList *uris = soup_server_get_uris (server);
  guint actual = uris != NULL ? (guint)g_uri_get_port (uris->data) : (guint)port;
  g_autofree char *url = uris != NULL ? g_uri_to_string (uris->data) : g_strdup ("?");
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  if (port_file != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%u\n", actual);
      if (!sb_durable_write (port_file, text, strlen (text), 0644, &error))
        return sb_repo_cli_fail ("serve", error);
    }
  g_printerr ("switchback-repo: serving %s%s at %s%s%s\n", dir,
              opts.uptane ? " (Uptane: /director/, /repo/)" : "", url,
              ota_ce ? " with the OTA-CE layout" : "",
              client_ca != NULL ? ", client certificates required" : "");

  /* Writes to a client that went away must fail, not kill the server. */
  signal (SIGPIPE, SIG_IGN);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  soup_server_disconnect (server);
  return SB_REPO_EXIT_OK;
}
