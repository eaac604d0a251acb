#!/bin/bash
# The OTA Community Edition layout (ota-ce-compat=true, `switchback-repo serve --ota-ce`): the
# Director serves only root and targets, delegated Image roles come from delegations/ROLE.json,
# an empty Director targets needs no vin, and signatures may be base64 as aktualizr's servers
# write them. The attacks that apply to this layout are refused with the trusted state unchanged.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 9

uptane_setup --ota-ce

py () {
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); v=($2); print(v)" "$1"
}

expect_exit 0 sb check
assert_file_has_content out.txt "target  *fw-1.bin"
assert_file_has_content out.txt "correlation id  *urn:test:1"
[ "$(hits /director/timestamp.json)" = 0 ] || fatal "the Director's timestamp was requested"
[ "$(hits /director/snapshot.json)" = 0 ] || fatal "the Director's snapshot was requested"
ls "$STATE/metadata/director" > director-files.txt
assert_streq "$(cat director-files.txt | tr '\n' ' ')" "root.json targets.json "
expect_exit 0 sb status --json
assert_streq "$(py out.txt 'list(j["repositories"]["director"]), j["config"]["ota_ce_compat"]')" \
  "(['root', 'targets'], True)"
save_state "$SB_TMP/good.txt"
ok "check verifies a Director that serves only root and targets"

# aktualizr's servers sign with base64 signatures: a new version of the Director's targets,
# signed by its key, with the signature bytes spelt in base64.
edit_signed "$UP/director/metadata/targets.json" "s['version'] += 1"
R resign "$UP/director" targets > /dev/null
python3 - "$UP/director/metadata/targets.json" <<'EOF'
import base64, json, sys
env = json.load(open(sys.argv[1]))
for sig in env['signatures']:
    sig['sig'] = base64.b64encode(bytes.fromhex(sig['sig'])).decode()
json.dump(env, open(sys.argv[1], 'w'))
EOF
expect_exit 0 sb check
assert_file_has_content out.txt "target  *fw-1.bin"
grep -q '==' "$STATE/metadata/director/targets.json" || fatal "the base64-signed targets were not kept"
save_state "$SB_TMP/good.txt"
ok "Director targets with base64 signatures verify"

# An empty Director targets without a vin, as OTA Community Edition sends it.
R uptane-clear "$UP" --vin "$VIN" > /dev/null
R publish "$UP/director" > /dev/null
edit_signed "$UP/director/metadata/targets.json" "del s['custom']['vin']; s['version'] += 1"
R resign "$UP/director" targets > /dev/null
expect_exit 0 sb check
assert_file_has_content out.txt "No update"
save_state "$SB_TMP/good.txt"
ok "an empty Director targets without a vin is accepted with ota-ce-compat"

R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id "$HWID" --publish > /dev/null
expect_exit 0 sb check
save_state "$SB_TMP/good.txt"
rm -rf "$SB_TMP/up.good"
cp -a "$UP" "$SB_TMP/up.good"
restore_repo () {
  rm -rf "$UP"
  cp -a "$SB_TMP/up.good" "$UP"
}

# Arbitrary software: Director targets signed by another key.
R keygen "$SB_TMP/attacker.pem" > /dev/null
edit_signed "$UP/director/metadata/targets.json" "s['version'] += 1"
R resign "$UP/director" targets --key "$SB_TMP/attacker.pem" > /dev/null
expect_refused 3 threshold-not-met sb check
assert_state_unchanged "$SB_TMP/good.txt"
restore_repo
ok "arbitrary software: Director targets signed by an untrusted key"

# Rollback: the Director's targets go back a version.
R sign "$UP/director" targets > /dev/null
expect_exit 0 sb check
save_state "$SB_TMP/good.txt"
cp "$SB_TMP/up.good/director/metadata/targets.json" "$UP/director/metadata/targets.json"
expect_refused 3 rollback sb check
assert_state_unchanged "$SB_TMP/good.txt"
R sign "$UP/director" targets > /dev/null
expect_exit 0 sb check
save_state "$SB_TMP/good.txt"
rm -rf "$SB_TMP/up.good"
cp -a "$UP" "$SB_TMP/up.good"
ok "rollback: older Director targets replayed"

# Freeze: with no timestamp, the Director's targets carry the expiry.
R expire "$UP/director" targets 2020-01-01 --publish > /dev/null
expect_refused 3 expired sb check
assert_state_unchanged "$SB_TMP/good.txt"
R expire "$UP/director" targets 30d --publish > /dev/null
expect_exit 0 sb check
save_state "$SB_TMP/good.txt"
rm -rf "$SB_TMP/up.good"
cp -a "$UP" "$SB_TMP/up.good"
ok "freeze: expired Director targets are refused, and re-signed ones recover"

# Endless data on the Director's targets.
fault /director/targets.json endless
expect_refused 4 endless-data sb check
assert_state_unchanged "$SB_TMP/good.txt"
clear_faults
ok "endless data: the Director's targets are capped"

# Delegated Image roles come from delegations/ROLE.json.
R delegate "$UP/image" --to firmware --paths 'fw-2*' --publish > /dev/null
make_image "$SB_TMP/fw-2.bin" 4000 2
R uptane-add-image "$UP" "$SB_TMP/fw-2.bin" --name fw-2.bin --hardware-id "$HWID" \
  --release-counter 2 --publish > /dev/null
R uptane-assign "$UP" --name fw-2.bin --ecu "$ECU" --hardware-id "$HWID" --publish > /dev/null
expect_exit 0 sb check
assert_file_has_content out.txt "target  *fw-2.bin"
[ "$(hits /repo/delegations/firmware.json)" = 1 ] || fatal "firmware.json not fetched from delegations/"
save_state "$SB_TMP/good.txt"
ok "a delegated Image role is fetched from delegations/"

# Mix-and-match still applies.
R uptane-assign "$UP" --name fw-2.bin --ecu "$ECU" --hardware-id "$HWID" --length 10 \
  --publish > /dev/null
expect_refused 3 director-image-mismatch sb check
assert_state_unchanged "$SB_TMP/good.txt"
ok "mix-and-match: the Director and Image repositories must agree"
