# uptane-helpers.sh: an Uptane Director and Image repository pair served by
# `switchback-repo serve` on loopback, and a switchback primary configured against it, for the
# shell tests of the Uptane primary (tests/test-uptane*.sh). Source it after libtest.sh.
#
#   uptane_setup [--ota-ce] [--tls]   repositories in ./up, server started, ./sb.conf written,
#                                     the ECU key provisioned and registered with the Director;
#                                     image fw-1.bin (release counter 1) assigned to ECU1
#   sb ARGS...                        switchback --config sb.conf ARGS
#   R ARGS...                         switchback-repo ARGS
#   save_state FILE                   digest of the trusted state (both metadata directories and
#   assert_state_unchanged FILE       counters.json), and the check that it did not change
#   fault PATH MODE [TIMES]           a server fault switch (POST /_control/fault)
#   clear_faults
#   edit_signed FILE PYTHON           runs PYTHON on s, the "signed" part of metadata FILE
#   hand_edit REPO ROLE PYTHON        edit_signed, `switchback-repo resign`, then a new snapshot
#                                     and timestamp around it (refresh_chain)
#   expect_refused CODE CLASS ARGS... expect_exit CODE, and "[CLASS]" on stderr
#   manifests, last_manifest          the manifests the Director accepted

ECU=ECU1
HWID=hw-1
VIN=VIN1
UP="$SB_TMP/up"
STATE="$SB_TMP/state"

R () { switchback-repo "$@"; }
sb () { switchback --config "$SB_TMP/sb.conf" "$@"; }

# Loopback only: no proxy may see these requests.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# make_image FILE SIZE SEED: SIZE pseudo-random bytes, the same for the same SEED.
make_image () {
  python3 -c 'import random,sys; r=random.Random(int(sys.argv[3])); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(int(sys.argv[2]))))' \
    "$1" "$2" "$3" > "$1"
}

# make_tls_files DIR: a CA, a server certificate for 127.0.0.1, and a client certificate.
make_tls_files () {
  local d="$1"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
      -subj "/CN=switchback test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile server.ext 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
      -subj "/CN=$ECU" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
      -days 2 -extfile client.ext 2>/dev/null
    chmod 600 ./*.key
  )
}

# start_server [SERVE OPTIONS...]: serves ./up; sets PORT and BASE.
start_server () {
  rm -f "$SB_TMP/port.txt"
  # Not through R: $! must be the server itself, so that stop_server and the cleanup stop it.
  switchback-repo serve "$UP" --control --port 0 --port-file "$SB_TMP/port.txt" "$@" \
    >> "$SB_TMP/serve.log" 2>&1 &
  SB_PIDS+=($!)
  SERVER_PID=$!
  wait_for_file "$SB_TMP/port.txt" $!
  PORT=$(cat "$SB_TMP/port.txt")
}

stop_server () {
  kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
}

# write_config [EXTRA LINES of [uptane]...]
write_config () {
  cat > "$SB_TMP/sb.conf" <<EOF
[uptane]
director-url=$SCHEME://127.0.0.1:$PORT/director
image-url=$SCHEME://127.0.0.1:$PORT/repo
director-root=$SB_TMP/director-root.json
image-root=$SB_TMP/image-root.json
ecu-serial=$ECU
hardware-id=$HWID
vehicle-id=$VIN
ota-ce-compat=$OTA_CE
$(printf '%s\n' "$@")

[storage]
state-dir=$STATE
EOF
  if [ "$SCHEME" = https ]; then
    cat >> "$SB_TMP/sb.conf" <<EOF

[tls]
ca=$SB_TMP/tls/ca.pem
cert=$SB_TMP/tls/client.pem
key=$SB_TMP/tls/client.key
EOF
  fi
}

uptane_setup () {
  OTA_CE=false
  SCHEME=http
  local serve_opts=() a
  for a in "$@"; do
    case "$a" in
      --ota-ce) OTA_CE=true; serve_opts+=(--ota-ce) ;;
      --tls)
        SCHEME=https
        make_tls_files "$SB_TMP/tls"
        serve_opts+=(--tls-cert "$SB_TMP/tls/server.pem" --tls-key "$SB_TMP/tls/server.key"
                     --client-ca "$SB_TMP/tls/ca.pem") ;;
      *) fatal "uptane_setup: unknown option $a" ;;
    esac
  done
  R uptane-init "$UP" --vin "$VIN" > /dev/null
  make_image "$SB_TMP/fw-1.bin" 5000 1
  R uptane-add-image "$UP" "$SB_TMP/fw-1.bin" --name fw-1.bin --hardware-id "$HWID" \
    --version 1.0 --release-counter 1 > /dev/null
  R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id "$HWID" \
    --correlation-id urn:test:1 > /dev/null
  R publish "$UP" > /dev/null
  # The roots a vehicle ships with: version 1 of each.
  cp "$UP/director/metadata/1.root.json" "$SB_TMP/director-root.json"
  cp "$UP/image/metadata/1.root.json" "$SB_TMP/image-root.json"
  start_server "${serve_opts[@]}"
  write_config
  provision_ecu_key "$STATE"
  R register-ecu "$UP" "$ECU" "$STATE/ecu/public.json" --hardware-id "$HWID" > /dev/null
}

# control PATH: a POST to the server's control endpoint.
control () {
  local url="$SCHEME://127.0.0.1:$PORT$1"
  if [ "$SCHEME" = https ]; then
    curl -sf -X POST --cacert "$SB_TMP/tls/ca.pem" --cert "$SB_TMP/tls/client.pem" \
      --key "$SB_TMP/tls/client.key" "$url" > /dev/null
  else
    curl -sf -X POST "$url" > /dev/null
  fi
}

fault () {
  control "/_control/fault?path=$1&mode=$2${3:+&times=$3}" || fatal "cannot set fault $1=$2"
}

clear_faults () {
  control "/_control/reset" || fatal "cannot reset the server's faults"
}

# hits PATH: requests the server received for PATH.
hits () {
  curl -sf "$SCHEME://127.0.0.1:$PORT/_control/hits" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"
}

save_state () {
  (
    cd "$STATE"
    find metadata/director metadata/image -type f -print0 2>/dev/null | sort -z | xargs -0r sha256sum
    if [ -e counters.json ]; then sha256sum counters.json; fi
  ) > "$1"
}

assert_state_unchanged () {
  save_state "$SB_TMP/state-now.txt"
  if ! cmp -s "$1" "$SB_TMP/state-now.txt"; then
    diff "$1" "$SB_TMP/state-now.txt" | sed 's/^/# /'
    fatal "the trusted state changed"
  fi
}

edit_signed () {
  python3 - "$1" "$2" <<'EOF'
import json, sys
path, code = sys.argv[1], sys.argv[2]
env = json.load(open(path))
s = env['signed']
exec(code)
json.dump(env, open(path, 'w'), indent=1)
EOF
}

expect_refused () {
  local code="$1" klass="$2"; shift 2
  expect_exit "$code" "$@"
  assert_file_has_content err.txt "\[$klass\]"
}

# manifests: the number of manifests the Director accepted and stored.
manifests () {
  find "$UP/director/manifests" -name '*.json' 2>/dev/null | wc -l
}
last_manifest () {
  find "$UP/director/manifests" -name '*.json' | sort | tail -n 1
}

# describe_meta DIR LISTING ENTRY...: rewrites the "meta" entries ENTRY... of DIR/LISTING
# (snapshot.json or timestamp.json) to the version, length and hashes of the files on disk, and
# gives LISTING a new version (clients only look further when the timestamp changes).
describe_meta () {
  python3 - "$@" <<'EOF2'
import hashlib, json, os, sys
d, listing, names = sys.argv[1], sys.argv[2], sys.argv[3:]
path = os.path.join(d, listing)
env = json.load(open(path))
for name, entry in env['signed']['meta'].items():
    if names and name not in names or not os.path.exists(os.path.join(d, name)):
        continue
    raw = open(os.path.join(d, name), 'rb').read()
    entry['version'] = json.loads(raw)['signed']['version']
    if 'length' in entry:
        entry['length'] = len(raw)
    if 'hashes' in entry:
        entry['hashes'] = {a: hashlib.new(a, raw).hexdigest() for a in entry['hashes']}
env['signed']['version'] += 1
json.dump(env, open(path, 'w'), indent=1)
EOF2
}

# refresh_chain REPO [snapshot]: after hand edits of REPO's targets roles (each re-signed with
# `resign`), publishes a new snapshot (unless "snapshot" was the role edited) and timestamp
# describing what is on disk, re-signed with their own keys, as a repository whose online keys
# sign whatever they are given would.
refresh_chain () {
  if [ "${2:-}" != snapshot ]; then
    describe_meta "$1/metadata" snapshot.json
    R resign "$1" snapshot > /dev/null
  fi
  describe_meta "$1/metadata" timestamp.json
  R resign "$1" timestamp > /dev/null
}

# hand_edit REPO ROLE PYTHON: edits ROLE's signed part by hand (PYTHON over s), re-signs it
# with the role's own keys, and refreshes snapshot and timestamp around it.
hand_edit () {
  edit_signed "$1/metadata/$2.json" "$3"
  R resign "$1" "$2" > /dev/null
  if [ "$2" != timestamp ]; then
    refresh_chain "$1" "$2"
  fi
}
