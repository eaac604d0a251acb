#!/bin/bash
# switchback-repo serve: the URL layout of a plain repository and of an Uptane pair (design.md §2),
# Range requests, every fault switch seen from curl, HTTPS with and without required client
# certificates, and PUT /director/manifest accepted or refused.
source "$top_srcdir/tests/libtest.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3 cryptography is not installed"

plan 20

R=switchback-repo

# serve NAME ARGS...: starts a server, waits for its port; sets URL_<NAME> and PID_<NAME>.
serve () {
  local name=$1
  shift
  rm -f "port-$name"
  $R serve "$@" --port 0 --port-file "port-$name" >"serve-$name.out" 2>"serve-$name.err" &
  SB_PIDS+=($!)
  printf -v "PID_$name" %s $!
  wait_for_file "port-$name" $!
}

# code URL [curl args]: the HTTP status of a GET.
code () { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }
now_ms () { echo $(($(date +%s%N) / 1000000)); }
fault () { curl -sf -X POST "$U/_control/fault?path=$1&mode=$2${3:+&times=$3}" >/dev/null || fatal "fault $1 $2"; }

$R init repo >/dev/null
head -c 100000 /dev/urandom >big.bin
echo hello >hello.txt
$R add-target repo big.bin >/dev/null
$R add-target repo hello.txt --name "docs/a b.txt" >/dev/null
$R delegate repo --to fw --paths 'fw/*' --publish >/dev/null

serve plain repo -v --control
U=http://127.0.0.1:$(cat port-plain)
for f in 1.root.json root.json timestamp.json snapshot.json targets.json fw.json; do
  curl -sf "$U/metadata/$f" -o got.json || fatal "GET /metadata/$f failed"
  assert_files_equal got.json "repo/metadata/$f"
done
curl -sf -D headers.txt "$U/metadata/timestamp.json" -o /dev/null
assert_file_has_content headers.txt "Content-Type: application/json"
assert_streq "$(code "$U/metadata/nothing.json")" 404
curl -sf "$U/" >index.txt
assert_file_has_content index.txt "/metadata/"
ok "plain repository: /metadata/FILE serves the published files byte for byte"

curl -sf "$U/targets/big.bin" -o got.bin
assert_files_equal got.bin big.bin
curl -sf "$U/targets/docs/a%20b.txt" -o got.txt
assert_files_equal got.txt hello.txt
curl -sI "$U/targets/big.bin" >head.txt
assert_file_has_content head.txt "Content-Length: 100000"
assert_file_has_content head.txt "Accept-Ranges: bytes"
assert_streq "$(code "$U/targets/missing.bin")" 404
# Paths that would leave the served directories: 404 here, or 400 from libsoup's own checks.
for p in targets/../repo.json targets/%2e%2e/repo.json targets/..%2Frepo.json \
         metadata/..%2Frepo.json targets/%2e%2e/keys keys/ repo.json; do
  case $(code --path-as-is "$U/$p") in 400|404) ;; *) fatal "GET /$p was not refused" ;; esac
done
assert_streq "$(code -X PUT --data x "$U/targets/big.bin")" 405
ok "targets: served whole, names percent-decoded, nothing outside the repository reachable"

curl -s -D h.txt -r 10-19 "$U/targets/big.bin" -o part.bin
assert_file_has_content h.txt "HTTP/1.1 206"
assert_file_has_content h.txt "Content-Range: bytes 10-19/100000"
dd if=big.bin bs=1 skip=10 count=10 status=none | cmp - part.bin || fatal "range 10-19 differs"
curl -s -r -100 "$U/targets/big.bin" -o tail.bin
tail -c 100 big.bin | cmp - tail.bin || fatal "suffix range differs"
curl -s -r 99990- "$U/targets/big.bin" -o end.bin
assert_streq "$(stat -c %s end.bin)" 10
assert_streq "$(code -r 100000- "$U/targets/big.bin")" 416
ok "Range requests: 206 with Content-Range, suffix and open ranges, 416 when unsatisfiable"

fault /targets/big.bin delay=600
t0=$(now_ms)
curl -sf "$U/targets/big.bin" -o got.bin
[ $(($(now_ms) - t0)) -ge 600 ] || fatal "the answer came before the delay"
assert_files_equal got.bin big.bin
fault /targets/big.bin none
fault /targets/docs/a%20b.txt delay=100
curl -sf "$U/_control/faults" >faults.json
assert_file_has_content faults.json '"/targets/docs/a b.txt"'
assert_file_has_content faults.json "delay=100"
fault "/targets/docs/a%20b.txt" none
ok "fault delay: the answer waits; faults are listed by /_control/faults"

head -c 3000 /dev/urandom >slow.bin
cp slow.bin repo/targets/slow.bin
fault /targets/slow.bin throttle=1500
t0=$(now_ms)
curl -sf "$U/targets/slow.bin" -o got.bin
[ $(($(now_ms) - t0)) -ge 1000 ] || fatal "3000 bytes at 1500 bytes/s came in less than a second"
assert_files_equal got.bin slow.bin
fault /targets/slow.bin none
ok "fault throttle: the body arrives at the set rate, intact"

fault /targets/big.bin truncate=1000
curl -s -D h.txt "$U/targets/big.bin" -o got.bin
assert_file_has_content h.txt "Content-Length: 1000"
head -c 1000 big.bin | cmp - got.bin || fatal "truncated body differs from the file's start"
fault /targets/big.bin none
fault /targets/big.bin corrupt
curl -sf "$U/targets/big.bin" -o got.bin
assert_streq "$(stat -c %s got.bin)" 100000
! cmp -s got.bin big.bin || fatal "corrupt sent the file unchanged"
assert_streq "$(cmp -l got.bin big.bin | wc -l)" 1
fault /targets/big.bin none
ok "faults truncate (a complete, shorter body) and corrupt (one byte flipped)"

fault /metadata/timestamp.json endless
n=$({ curl -s "$U/metadata/timestamp.json" || true; } | head -c 3000000 | wc -c)
assert_streq "$n" 3000000
fault /metadata/nowhere.json endless
n=$({ curl -s "$U/metadata/nowhere.json" || true; } | head -c 100000 | wc -c)
assert_streq "$n" 100000
fault /metadata/timestamp.json none
curl -sf "$U/metadata/timestamp.json" -o got.json
assert_files_equal got.json repo/metadata/timestamp.json
ok "fault endless: the body never ends (even without a file)"

fault '/targets/*' status=500 1
assert_streq "$(code "$U/targets/big.bin")" 500
assert_streq "$(code "$U/targets/big.bin")" 200
fault /metadata/snapshot.json status=404
assert_streq "$(code "$U/metadata/snapshot.json")" 404
assert_streq "$(code "$U/metadata/snapshot.json")" 404
fault /metadata/snapshot.json none
assert_streq "$(code "$U/metadata/snapshot.json")" 200
ok "fault status, for a number of requests or until cleared; a trailing * covers a prefix"

fault /targets/big.bin drop-connection-after=4096
rc=0
curl -s "$U/targets/big.bin" -o got.bin || rc=$?
assert_streq "$rc" 18
assert_streq "$(stat -c %s got.bin)" 4096
head -c 4096 big.bin | cmp - got.bin || fatal "the bytes before the drop differ"
rc=0
curl -s -r 50000- "$U/targets/big.bin" -o got.bin || rc=$?
assert_streq "$rc" 18
dd if=big.bin bs=1 skip=50000 count=4096 status=none | cmp - got.bin || fatal "range then drop differs"
fault /targets/big.bin none
ok "fault drop-connection-after: the connection closes after N bytes of the declared body"

fault /targets/big.bin ignore-range
curl -s -D h.txt -r 10-19 "$U/targets/big.bin" -o got.bin
assert_file_has_content h.txt "HTTP/1.1 200"
assert_not_file_has_content h.txt "Accept-Ranges"
assert_files_equal got.bin big.bin
fault /targets/big.bin delay=50
curl -s -r 10-19 "$U/targets/big.bin" -o got.bin
assert_files_equal got.bin big.bin
curl -sf -X POST "$U/_control/reset" >/dev/null
curl -s -r 10-19 "$U/targets/big.bin" -o got.bin
assert_streq "$(stat -c %s got.bin)" 10
assert_streq "$(curl -s "$U/_control/faults" | tr -d ' \n')" "{}"
ok "fault ignore-range answers 200 with everything; modes combine; reset clears them"

assert_streq "$(curl -s "$U/_control/hits?path=/targets/big.bin")" 1
curl -s "$U/targets/big.bin" -o /dev/null
assert_streq "$(curl -s "$U/_control/hits?path=/targets/big.bin")" 2
assert_streq "$(code -X POST "$U/_control/fault?path=/x&mode=explode")" 400
curl -s -X POST "$U/_control/fault?path=/x&mode=explode" >msg.txt
assert_file_has_content msg.txt "unknown fault"
assert_streq "$(code "$U/_control/nothing")" 404
assert_file_has_content serve-plain.err "GET /targets/big.bin 206"
assert_file_has_content serve-plain.err "GET /metadata/snapshot.json 404 status=404"
ok "control: request counts, refused fault modes; --verbose logs method, path, status"

# pause-after: the body stops after N bytes until a release; the pause is an event to wait on.
fault /targets/big.bin pause-after=4096
curl -s --max-time 300 "$U/_control/paused?path=/targets/big.bin" >paused.txt &
wpid=$!
curl -s "$U/targets/big.bin" -o got.bin &
cpid=$!
wait $wpid || fatal "waiting for the pause failed"
assert_streq "$(cat paused.txt)" 1
assert_streq "$(curl -s "$U/_control/paused?path=/targets/big.bin")" 1
assert_streq "$(curl -s -X POST "$U/_control/release?path=/targets/big.bin")" 1
wait $cpid || fatal "the resumed download failed"
assert_files_equal got.bin big.bin
curl -s "$U/targets/big.bin" -o got.bin &
cpid=$!
assert_streq "$(curl -s --max-time 300 "$U/_control/paused?path=/targets/big.bin&count=2")" 2
assert_streq "$(curl -s -X POST "$U/_control/release?path=/targets/big.bin&how=cut")" 1
rc=0
wait $cpid || rc=$?
assert_streq "$rc" 18
assert_streq "$(stat -c %s got.bin)" 4096
head -c 4096 big.bin | cmp - got.bin || fatal "the bytes before the pause differ"
assert_streq "$(curl -s -X POST "$U/_control/release?path=/targets/big.bin")" 0
assert_streq "$(code -X POST "$U/_control/release?path=/targets/big.bin&how=later")" 400
assert_streq "$(code "$U/_control/paused?path=/targets/big.bin&count=x")" 400
curl -s "$U/targets/big.bin" -o got.bin &
cpid=$!
assert_streq "$(curl -s --max-time 300 "$U/_control/paused?path=/targets/big.bin&count=3")" 3
curl -sf -X POST "$U/_control/reset" >/dev/null
wait $cpid || fatal "the download paused at the reset failed"
assert_files_equal got.bin big.bin
assert_streq "$(curl -s "$U/_control/paused?path=/targets/big.bin&count=0" -o /dev/null -w '%{http_code}')" 400
ok "fault pause-after: N bytes, then nothing until released (resumed or cut) or reset; GET paused waits for it"

kill "$PID_plain"
wait "$PID_plain" || fatal "serve did not exit cleanly on SIGTERM"

serve faulty repo --fault '/targets/*=truncate=5' --fault /metadata/timestamp.json=status=503
U=http://127.0.0.1:$(cat port-faulty)
assert_streq "$(curl -s "$U/targets/big.bin" | wc -c)" 5
assert_streq "$(code "$U/metadata/timestamp.json")" 503
assert_streq "$(code "$U/_control/faults")" 404
expect_exit 2 $R serve repo --port 0 --fault '/x=nope'
assert_file_has_content err.txt "unknown fault"
expect_exit 2 $R serve repo
assert_file_has_content err.txt "--port is required"
ok "--fault switches at start; without --control there is no /_control/ endpoint; bad switches are refused"

$R init cs --consistent-snapshot >/dev/null
$R add-target cs hello.txt --name d/h.txt --publish >/dev/null
serve cs cs --mount "/extra=$SB_TMP/cs/targets"
U=http://127.0.0.1:$(cat port-cs)
curl -sf "$U/metadata/2.targets.json" -o got.json
assert_files_equal got.json cs/metadata/2.targets.json
curl -sf "$U/targets/d/$(sha256sum <hello.txt | cut -d' ' -f1).h.txt" -o got.txt
assert_files_equal got.txt hello.txt
curl -sf "$U/extra/d/h.txt" -o got.txt
assert_files_equal got.txt hello.txt
ok "consistent snapshots: N.ROLE.json and targets/DIR/HASH.NAME served; --mount adds a directory"

# A test PKI made with the openssl CLI.
if command -v openssl >/dev/null; then
  cat >ext.cnf <<'EOF'
[server]
subjectAltName = IP:127.0.0.1, DNS:localhost
extendedKeyUsage = serverAuth
[client]
extendedKeyUsage = clientAuth
EOF
  mkcert () { # NAME CN CA EXT
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
      -keyout "$1.key" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
      -extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
  }
  for ca in ca otherca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ca" -days 2 \
      -keyout "$ca.key" -out "$ca.pem" 2>/dev/null
  done
  mkcert server 127.0.0.1 ca server
  mkcert client vehicle-1 ca client
  mkcert stranger vehicle-2 otherca client

  serve tls repo --tls-cert server.pem --tls-key server.key
  U=https://127.0.0.1:$(cat port-tls)
  curl -sf --cacert ca.pem "$U/metadata/root.json" -o got.json
  assert_files_equal got.json repo/metadata/root.json
  assert_streq "$(code --cacert otherca.pem "$U/metadata/root.json")" 000
  ok "HTTPS with --tls-cert/--tls-key"

  serve mtls repo --tls-cert server.pem --tls-key server.key --client-ca ca.pem
  U=https://127.0.0.1:$(cat port-mtls)
  curl -sf --cacert ca.pem --cert client.pem --key client.key "$U/targets/big.bin" -o got.bin
  assert_files_equal got.bin big.bin
  assert_streq "$(code --cacert ca.pem "$U/metadata/root.json")" 000
  assert_streq "$(code --cacert ca.pem --cert stranger.pem --key stranger.key "$U/metadata/root.json")" 000
  assert_file_has_content serve-mtls.err "client certificates required"
  curl -sf --cacert ca.pem --cert client.pem --key client.key "$U/metadata/root.json" -o got.json
  assert_files_equal got.json repo/metadata/root.json
  ok "mutual TLS: a client certificate from --client-ca is required; none or another CA's is refused"
else
  ok "# SKIP openssl is not installed"
  ok "# SKIP openssl is not installed"
fi

# Uptane pair: /director/ and /repo/.
$R uptane-init up --vin VIN-1 >/dev/null
$R uptane-add-image up big.bin --name rootfs-1.img --hardware-id hw-a --release-counter 1 >/dev/null
$R uptane-assign up --name rootfs-1.img --ecu ECU-1 --hardware-id hw-a --correlation-id corr-1 >/dev/null
$R delegate up/image --to apps --paths 'apps/*' >/dev/null
$R publish up >/dev/null
serve up up
U=http://127.0.0.1:$(cat port-up)
for f in 1.root.json root.json timestamp.json snapshot.json targets.json; do
  curl -sf "$U/director/$f" -o got.json || fatal "GET /director/$f"
  assert_files_equal got.json "up/director/metadata/$f"
  curl -sf "$U/repo/$f" -o got.json || fatal "GET /repo/$f"
  assert_files_equal got.json "up/image/metadata/$f"
done
curl -sf "$U/repo/apps.json" -o got.json
assert_files_equal got.json up/image/metadata/apps.json
curl -sf "$U/repo/targets/rootfs-1.img" -o got.bin
assert_files_equal got.bin big.bin
assert_streq "$(code "$U/metadata/root.json")" 404
assert_streq "$(code "$U/director/manifest")" 405
assert_file_has_content serve-up.err "Uptane"
ok "Uptane pair: /director/ and /repo/ metadata, /repo/targets/NAME"

serve otace up --ota-ce
U=http://127.0.0.1:$(cat port-otace)
assert_streq "$(code "$U/director/root.json")" 200
assert_streq "$(code "$U/director/1.root.json")" 200
assert_streq "$(code "$U/director/targets.json")" 200
assert_streq "$(code "$U/director/timestamp.json")" 404
assert_streq "$(code "$U/director/snapshot.json")" 404
curl -sf "$U/repo/delegations/apps.json" -o got.json
assert_files_equal got.json up/image/metadata/apps.json
assert_streq "$(code "$U/repo/timestamp.json")" 200
ok "--ota-ce: the Director serves only root and targets; delegations under /repo/delegations/"

# Vehicle version manifests (aktualizr format), signed with an ECU key made by keygen.
U=http://127.0.0.1:$(cat port-up)
$R keygen ecu.pem >/dev/null
$R keygen other.pem >/dev/null
$R register-ecu up ECU-1 ecu.json --hardware-id hw-a >/dev/null
manifest () { # KEY.pem SERIAL CORRELATION [tamper]
  python3 - "$@" <<'EOF'
import base64, json, sys
from cryptography.hazmat.primitives import serialization
key = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), None)
serial, corr = sys.argv[2], sys.argv[3]
def canon(o):
    if isinstance(o, dict):
        return '{' + ','.join(canon(k) + ':' + canon(o[k]) for k in sorted(o)) + '}'
    if isinstance(o, list):
        return '[' + ','.join(canon(x) for x in o) + ']'
    if isinstance(o, str):
        return '"' + o.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if isinstance(o, bool):
        return 'true' if o else 'false'
    return str(o)
def sign(signed):
    sig = base64.b64encode(key.sign(canon(signed).encode())).decode()
    return {'signatures': [{'keyid': 'k', 'method': 'ed25519', 'sig': sig}], 'signed': signed}
report = sign({'ecu_serial': serial, 'attacks_detected': '',
               'installed_image': {'filepath': 'rootfs-1.img',
                                   'fileinfo': {'hashes': {'sha256': '00' * 32}, 'length': 1}},
               'previous_timeserver_time': '1970-01-01T00:00:00Z',
               'timeserver_time': '2024-01-01T00:00:00Z', 'report_counter': '1'})
ok = {'success': True, 'code': 'OK', 'description': 'installed'}
m = sign({'primary_ecu_serial': serial, 'ecu_version_manifests': {serial: report},
          'installation_report': {
              'content_type': 'application/vnd.com.here.otac.installationReport.v1',
              'report': {'correlation_id': corr, 'raw_report': 'ok', 'result': ok,
                         'items': [{'ecu': serial, 'result': ok}]}}})
if len(sys.argv) > 4:
    m['signed']['installation_report']['report']['result']['code'] = 'TAMPERED'
print(json.dumps(m, indent=1))
EOF
}
manifest ecu.pem ECU-1 corr-1 >m1.json
assert_streq "$(code -X PUT -H 'Content-Type: application/json' --data-binary @m1.json "$U/director/manifest")" 200
assert_files_equal up/director/manifests/00000001.json m1.json
assert_file_has_content serve-up.out "manifest 1 from ECU ECU-1: ECU-1 runs rootfs-1.img; installation report correlation_id=corr-1 result=OK"
manifest ecu.pem ECU-1 corr-2 >m2.json
assert_streq "$(code -X PUT --data-binary @m2.json "$U/director/manifest")" 200
assert_files_equal up/director/manifests/00000002.json m2.json
ok "PUT /director/manifest: a manifest signed by the registered ECU key is stored and reported"

manifest ecu.pem ECU-1 corr-3 tamper >bad.json
curl -s -X PUT --data-binary @bad.json -w '%{http_code}' "$U/director/manifest" >resp.txt
assert_file_has_content resp.txt "bad-signature"
assert_file_has_content resp.txt "400$"
manifest other.pem ECU-1 corr-4 >wrongkey.json
assert_streq "$(code -X PUT --data-binary @wrongkey.json "$U/director/manifest")" 400
manifest ecu.pem ECU-9 corr-5 >unknown.json
curl -s -X PUT --data-binary @unknown.json "$U/director/manifest" >resp.txt
assert_file_has_content resp.txt "ECU-9 is not registered"
assert_streq "$(code -X PUT --data-binary 'not json' "$U/director/manifest")" 400
test ! -e up/director/manifests/00000003.json || fatal "a refused manifest was stored"
assert_file_has_content serve-up.err "manifest refused"
# Registrations made while the server runs count at once.
$R register-ecu up ECU-9 ecu.pem >/dev/null
assert_streq "$(code -X PUT --data-binary @unknown.json "$U/director/manifest")" 200
test -f up/director/manifests/00000003.json || fatal "the manifest of the new ECU was not stored"
ok "manifests refused with 400: bad signature, another key, unregistered ECU, not JSON"
