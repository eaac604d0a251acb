#!/bin/bash
# The Director and Image repository over HTTPS with mutual TLS, as OTA Community Edition devices
# connect: a CA, a server certificate and a client certificate made with the openssl command at
# test time. Without the client certificate, or with another CA, nothing is trusted or changed.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v openssl >/dev/null || skip_all "openssl is not installed"

plan 4

uptane_setup --tls

expect_exit 0 sb check
assert_file_has_content out.txt "target  *fw-1.bin"
assert_file_has_content out.txt "from  *https://127.0.0.1:$PORT/repo/targets/fw-1.bin"
save_state "$SB_TMP/good.txt"
ok "check over https with a client certificate"

[ "$(manifests)" = 1 ] || fatal "expected one manifest, the Director has $(manifests)"
assert_file_has_content "$SB_TMP/serve.log" "manifest 1 from ECU $ECU"
ok "the manifest PUT goes through mutual TLS"

# No client certificate: the server ends the handshake.
R sign "$UP/director" timestamp > /dev/null
cp "$SB_TMP/sb.conf" "$SB_TMP/sb.conf.mtls"
sed -i '/^cert=/d; /^key=/d' "$SB_TMP/sb.conf"
expect_refused 4 download-failed sb check
assert_state_unchanged "$SB_TMP/good.txt"
cp "$SB_TMP/sb.conf.mtls" "$SB_TMP/sb.conf"
ok "without a client certificate the Director does not answer, and nothing changes"

# A server whose certificate another CA issued is not trusted.
mkdir -p "$SB_TMP/other"
(cd "$SB_TMP/other" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
  -days 2 -subj "/CN=another CA" 2>/dev/null)
sed -i "s|^ca=.*|ca=$SB_TMP/other/ca.pem|" "$SB_TMP/sb.conf"
expect_refused 4 download-failed sb check
assert_state_unchanged "$SB_TMP/good.txt"
cp "$SB_TMP/sb.conf.mtls" "$SB_TMP/sb.conf"
expect_exit 0 sb check
assert_file_has_content out.txt "target  *fw-1.bin"
ok "a server certificate from another CA is refused; the right one works again"
