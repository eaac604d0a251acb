#!/bin/bash
# Every attack class the Uptane primary must refuse, produced with switchback-repo and by
# hand-edited metadata (re-signed with `switchback-repo resign`), against the full Uptane
# layout served on loopback. Each one is refused with its error class and exit status
# (design.md §8), leaves the trusted state (both metadata directories and counters.json) exactly
# as it was, and the next good cycle succeeds without any cleanup.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 21

uptane_setup
expect_exit 0 sb check
save_state "$SB_TMP/good.txt"
rm -rf "$SB_TMP/up.good"
cp -a "$UP" "$SB_TMP/up.good"

# refused CODE CLASS [ARGS...]: check is refused and changes nothing.
refused () {
  local code="$1" klass="$2"; shift 2
  expect_refused "$code" "$klass" sb "$@" check
  assert_state_unchanged "$SB_TMP/good.txt"
}

# recovered TEXT: the next check succeeds and shows TEXT; it is the new good state.
recovered () {
  expect_exit 0 sb check
  assert_file_has_content out.txt "$1"
  save_state "$SB_TMP/good.txt"
  rm -rf "$SB_TMP/up.good"
  cp -a "$UP" "$SB_TMP/up.good"
}

# restore_repo: the repositories as they were at the last good check.
restore_repo () {
  rm -rf "$UP"
  cp -a "$SB_TMP/up.good" "$UP"
}

sha256_of () { sha256sum "$1" | cut -d' ' -f1; }

# ---- arbitrary software ----

# The Director's targets point at another image, signed with a key root does not trust; the
# snapshot and timestamp (online keys) are re-signed around it.
R keygen "$SB_TMP/attacker.pem" > /dev/null
make_image "$SB_TMP/evil.bin" 5000 666
evil=$(sha256_of "$SB_TMP/evil.bin")
edit_signed "$UP/director/metadata/targets.json" \
  "s['targets']['fw-1.bin']['hashes'] = {'sha256': '$evil'}; s['version'] += 1"
R resign "$UP/director" targets --key "$SB_TMP/attacker.pem" > /dev/null
refresh_chain "$UP/director"
refused 3 threshold-not-met
restore_repo
recovered "target  *fw-1.bin"
ok "arbitrary software: Director targets signed by an untrusted key (switchback-repo resign --key)"

# By hand: a new timestamp whose signature is not the timestamp key's.
R sign "$UP/director" timestamp > /dev/null
python3 - "$UP/director/metadata/timestamp.json" <<'EOF'
import json, sys
env = json.load(open(sys.argv[1]))
sig = env['signatures'][0]['sig']
env['signatures'][0]['sig'] = ('0' if sig[0] != '0' else '1') + sig[1:]
json.dump(env, open(sys.argv[1], 'w'))
EOF
refused 3 threshold-not-met
restore_repo
recovered "target  *fw-1.bin"
ok "arbitrary software: a timestamp with a tampered signature (by hand)"

# ---- rollback ----

# switchback-repo publishes newer Image metadata; an attacker then serves the older copy.
rm -rf "$SB_TMP/image-old"
cp -a "$UP/image/metadata" "$SB_TMP/image-old"
R sign "$UP/image" targets > /dev/null
recovered "target  *fw-1.bin"
cp "$SB_TMP/image-old/"*.json "$UP/image/metadata/"
refused 3 rollback
restore_repo
recovered "target  *fw-1.bin"
ok "rollback: older Image metadata replayed after newer was trusted"

# By hand: the Director's timestamp re-signed with a lower version.
hand_edit "$UP/director" timestamp "s['version'] = 1"
refused 3 rollback
restore_repo
recovered "target  *fw-1.bin"
ok "rollback: a Director timestamp re-signed with a lower version (by hand)"

# ---- freeze ----

R expire "$UP/director" timestamp 2020-01-01 --publish > /dev/null
refused 3 expired
# Still refused, and still nothing kept: then the Director re-signs and the next cycle recovers.
refused 3 expired
R expire "$UP/director" timestamp 1d --publish > /dev/null
recovered "target  *fw-1.bin"
ok "freeze: an expired Director timestamp (switchback-repo expire), recovered once re-signed"

hand_edit "$UP/image" snapshot "s['expires'] = '2021-06-01T00:00:00Z'; s['version'] += 1"
refused 3 expired
restore_repo
recovered "target  *fw-1.bin"
ok "freeze: an Image snapshot re-signed with an expiry in the past (by hand)"

# (libfaketime is preloaded; a sanitizer build that must come first in the preload list cannot
# run under it.)
if command -v faketime >/dev/null && faketime -f '+3d' switchback --version >/dev/null 2>&1; then
  # Two days on, the Director's one-day timestamp is past its expiry.
  expect_refused 3 expired faketime -f '+3d' switchback --config "$SB_TMP/sb.conf" check
  assert_state_unchanged "$SB_TMP/good.txt"
  # A clock set back before the build: expiry is checked against the build time, and the error
  # says the clock is wrong.
  R expire "$UP/director" timestamp 2021-01-01 --publish > /dev/null
  expect_refused 3 expired faketime '2001-01-01 00:00:00' \
    switchback --config "$SB_TMP/sb.conf" check
  assert_file_has_content err.txt "clock"
  assert_state_unchanged "$SB_TMP/good.txt"
  expect_exit 0 faketime '2001-01-01 00:00:00' switchback --config "$SB_TMP/sb.conf" status
  assert_file_has_content out.txt "clock"
  R expire "$UP/director" timestamp 1d --publish > /dev/null
  recovered "target  *fw-1.bin"
  ok "freeze: a clock two days ahead is refused; a clock before the build is named in the error"
else
  ok "# SKIP faketime cannot run switchback here"
fi

# ---- mix-and-match ----

other=$(printf 'another image' | sha256sum | cut -d' ' -f1)
R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id "$HWID" --sha256 "$other" \
  --publish > /dev/null
refused 3 director-image-mismatch
restore_repo
recovered "target  *fw-1.bin"
ok "mix-and-match: the Director lists another hash than the Image repository (uptane-assign --sha256)"

hand_edit "$UP/director" targets "s['targets']['fw-1.bin']['length'] = 4999; s['version'] += 1"
refused 3 director-image-mismatch
restore_repo
recovered "target  *fw-1.bin"
ok "mix-and-match: a Director length re-signed by hand"

# ---- endless data ----

fault /director/timestamp.json endless
refused 4 endless-data
clear_faults
fault /repo/timestamp.json endless
refused 4 endless-data
clear_faults
recovered "target  *fw-1.bin"
ok "endless data: an endless Director and Image timestamp are cut off"

# By hand: a timestamp padded beyond the 64 KiB cap, validly signed.
hand_edit "$UP/director" timestamp "s['custom'] = {'padding': 'x' * 70000}; s['version'] += 1"
refused 4 endless-data
restore_repo
recovered "target  *fw-1.bin"
ok "endless data: a validly signed timestamp larger than the cap (by hand)"

# ---- slow retrieval ----

mkdir -p "$SB_TMP/conf.d"
printf '[network]\nlow-speed-limit=1000\nlow-speed-time=2\n' >"$SB_TMP/conf.d/50-slow-link.conf"
fault /director/timestamp.json throttle=20
refused 4 slow-retrieval
clear_faults
fault /repo/snapshot.json throttle=20
R sign "$UP/image" snapshot > /dev/null
refused 4 slow-retrieval
clear_faults
rm "$SB_TMP/conf.d/50-slow-link.conf"
recovered "target  *fw-1.bin"
ok "slow retrieval: metadata trickling below the minimum speed is cut off"

# ---- bad hardware id ----

R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id hw-other --publish > /dev/null
refused 3 bad-hardware-id
restore_repo
make_image "$SB_TMP/fw-2.bin" 4000 2
R uptane-add-image "$UP" "$SB_TMP/fw-2.bin" --name fw-2.bin --hardware-id hw-2 \
  --release-counter 2 --publish > /dev/null
R uptane-assign "$UP" --name fw-2.bin --ecu "$ECU" --hardware-id "$HWID" --publish > /dev/null
refused 3 bad-hardware-id
restore_repo
recovered "target  *fw-1.bin"
ok "bad hardware id: in the Director's assignment, or not released for it by the Image repository"

hand_edit "$UP/image" targets "s['targets']['fw-1.bin']['custom']['hardwareIds'] = ['hw-9']; s['version'] += 1"
refused 3 bad-hardware-id
restore_repo
recovered "target  *fw-1.bin"
ok "bad hardware id: Image hardwareIds changed by hand"

# ---- bad ECU id ----

R uptane-assign "$UP" --name fw-1.bin --ecu ECU-OTHER --hardware-id "$HWID" --publish > /dev/null
refused 3 bad-ecu-id
restore_repo
hand_edit "$UP/director" targets \
  "e = s['targets']['fw-1.bin']['custom']['ecuIdentifiers']; e['ECU9'] = e.pop('$ECU'); s['version'] += 1"
refused 3 bad-ecu-id
restore_repo
recovered "target  *fw-1.bin"
ok "bad ECU id: an image for an ECU this vehicle does not have refuses the whole update"

# ---- a URL chosen by metadata ----

# The Director's online keys may name where an image comes from (custom.uri), but never a local
# file or device, nor plain http to a remote host (sb-url-policy.h).
R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id "$HWID" --uri file:///dev/zero \
  --publish > /dev/null
refused 3 url-refused
restore_repo
hand_edit "$UP/image" targets \
  "s['targets']['fw-1.bin']['custom']['uri'] = 'http://192.0.2.1/fw-1.bin'; s['version'] += 1"
refused 3 url-refused
restore_repo
recovered "target  *fw-1.bin"
ok "custom.uri: a Director file:// URL and an Image plain-http URL to a remote host are refused"

# ---- replay of an empty Director targets ----

R uptane-clear "$UP" --vin VIN-OTHER --publish > /dev/null
refused 3 replay
restore_repo
R uptane-clear "$UP" --vin "$VIN" --publish > /dev/null
hand_edit "$UP/director" targets "del s['custom']['vin']; s['version'] += 1"
refused 3 replay
restore_repo
R uptane-clear "$UP" --vin "$VIN" --publish > /dev/null
recovered "No update"
ok "replay: an empty Director targets for another vehicle or without a vin is refused"

# ---- release counter below the committed one ----

R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id "$HWID" --publish > /dev/null
recovered "release counter  *1"
# Release 5 was committed on this ECU (as the boot helper records it).
python3 - "$STATE/counters.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c['image-rollback-counter'] = 5
json.dump(c, open(sys.argv[1], 'w'))
EOF
save_state "$SB_TMP/good.txt"
refused 3 rollback
make_image "$SB_TMP/fw-5.bin" 4500 5
R uptane-add-image "$UP" "$SB_TMP/fw-5.bin" --name fw-5.bin --hardware-id "$HWID" \
  --release-counter 5 --publish > /dev/null
R uptane-assign "$UP" --name fw-5.bin --ecu "$ECU" --hardware-id "$HWID" --publish > /dev/null
recovered "release counter  *5"
ok "image rollback: a release counter below the committed one is refused, the committed one is not"

# ---- the trusted state is lost ----

# Metadata directories wiped: the shipped roots start again, and counters.json still refuses
# the older Director metadata an attacker kept.
rm -rf "$SB_TMP/director-old"
cp -a "$UP/director/metadata" "$SB_TMP/director-old"
R sign "$UP/director" targets > /dev/null
recovered "release counter  *5"
rm -rf "$STATE/metadata"
cp "$SB_TMP/director-old/"*.json "$UP/director/metadata/"
expect_refused 3 rollback sb check
[ ! -e "$STATE/metadata/director/root.json" ] || fatal "a refused check installed the root"
restore_repo
recovered "release counter  *5"
ok "lost metadata: counters.json refuses what is older than the versions it recorded"

# ---- a verified update still moves the state forward ----

R sign "$UP/director" timestamp > /dev/null
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["director"]["timestamp"])' "$STATE/counters.json")
expect_exit 0 sb check
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["director"]["timestamp"])' "$STATE/counters.json")
[ "$after" -gt "$before" ] || fatal "counters.json director timestamp stayed at $before"
ok "after every refusal, a good cycle raises counters.json again"

# The Director accepted a manifest at the start of every cycle, refused or not (the server logs
# each one; restoring the repositories does not touch its log).
n=$(grep -c '^manifest [0-9]* from ECU' "$SB_TMP/serve.log")
[ "$n" -ge 40 ] || fatal "only $n manifests reached the Director"
ok "every cycle, refused ones included, reported to the Director"
