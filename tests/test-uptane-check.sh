#!/bin/bash
# The Uptane primary against `switchback-repo serve` on loopback, full Uptane layout:
# `switchback check` and `status` (text and --json), the vehicle version manifest (its signature
# checked independently with python3's cryptography module, the report counter, installation
# reports after success and failure, reports persisted across restarts and a failing Director),
# the exit statuses of design.md §8, and `switchback daemon`.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3 cryptography is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 14

uptane_setup

# py FILE EXPR: EXPR over j, the JSON document in FILE.
py () {
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); v=($2); print(v)" "$1"
}

# verify_manifest FILE: the vehicle version manifest and the ECU report in it are signed by the
# ECU key (public.json) over canonical JSON, as a Director checks them.
verify_manifest () {
  python3 - "$1" "$STATE/ecu/public.json" <<'EOF'
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric import ed25519

def canon(o):
    if isinstance(o, dict):
        return '{' + ','.join(canon(k) + ':' + canon(o[k]) for k in sorted(o)) + '}'
    if isinstance(o, list):
        return '[' + ','.join(canon(x) for x in o) + ']'
    if isinstance(o, str):
        return '"' + o.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if o is True or o is False:
        return 'true' if o else 'false'
    if o is None:
        return 'null'
    assert isinstance(o, int), o
    return str(o)

manifest = json.load(open(sys.argv[1]))
key = json.load(open(sys.argv[2]))
pub = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(key['keyval']['public']))
def check(env):
    assert len(env['signatures']) == 1
    sig = env['signatures'][0]
    assert sig['method'] == 'ed25519', sig
    pub.verify(base64.b64decode(sig['sig']), canon(env['signed']).encode())
check(manifest)
for serial, report in manifest['signed']['ecu_version_manifests'].items():
    assert report['signed']['ecu_serial'] == serial
    check(report)
EOF
}

# queue_result SEQ CORRELATION SUCCESS CODE DESCRIPTION: an install result as the boot helper or
# the update cycle leaves it for the Director (sb-report-queue.h).
queue_result () {
  mkdir -p "$STATE/reports"
  cat > "$STATE/reports/$(printf '%016d' "$1").json" <<EOF
{"correlation_id": "$2", "target": "fw-1.bin", "success": $3, "result_code": "$4",
 "description": "$5", "time": "2026-01-01T00:00:00Z"}
EOF
}

# 1. check shows the assigned update.
expect_exit 0 sb check
assert_file_has_content out.txt "Update for ECU $ECU (hardware id $HWID)"
assert_file_has_content out.txt "target  *fw-1.bin"
assert_file_has_content out.txt "format  *BINARY"
assert_file_has_content out.txt "length  *5000 bytes"
assert_file_has_content out.txt "release counter  *1"
assert_file_has_content out.txt "correlation id  *urn:test:1"
expect_exit 0 sb check --json
cp out.txt check.json
assert_streq "$(py check.json 'j["update_available"], j["correlation_id"], j["director_targets_version"]')" \
  "(True, 'urn:test:1', 2)"
assert_streq "$(py check.json '[(t["ecu_serial"], t["target"], t["format"], t["length"], t["release_counter"]) for t in j["targets"]]')" \
  "[('ECU1', 'fw-1.bin', 'BINARY', 5000, 1)]"
assert_streq "$(py check.json 'j["targets"][0]["url"]')" "http://127.0.0.1:$PORT/repo/targets/fw-1.bin"
ok "check shows the assigned image, ECU, format, length, release counter and correlation id"

# 2. status, offline.
expect_exit 0 sb status
assert_file_has_content out.txt "ECU serial  *$ECU"
assert_file_has_content out.txt "targets  *version 2 "
assert_file_has_content out.txt "state  *idle"
expect_exit 0 sb status --json
cp out.txt status.json
assert_streq "$(py status.json 'j["identity"]["ecu_serial"], j["identity"]["hardware_id"], j["identity"]["vehicle_id"]')" \
  "('ECU1', 'hw-1', 'VIN1')"
assert_streq "$(py status.json '[(r, v["version"], v["expired"]) for r, v in j["repositories"]["director"].items()]')" \
  "[('root', 1, False), ('timestamp', 2, False), ('snapshot', 2, False), ('targets', 2, False)]"
assert_streq "$(py status.json 'j["repositories"]["image"]["targets"]["version"], j["repositories"]["image"]["targets"]["highest_version_seen"]')" \
  "(2, 2)"
assert_streq "$(py status.json 'j["install"]["state"], j["last_reported_result"]')" "('idle', None)"
ok "status shows identity, trusted versions and expiry of both repositories, install state"

# 3. The manifests the Director accepted are signed by the ECU key; the counter goes up.
assert_streq "$(manifests)" 2
first=$(find "$UP/director/manifests" -name '*.json' | sort | head -n 1)
second=$(last_manifest)
verify_manifest "$first"
verify_manifest "$second"
c1=$(py "$first" 'j["signed"]["ecu_version_manifests"]["ECU1"]["signed"]["report_counter"]')
c2=$(py "$second" 'j["signed"]["ecu_version_manifests"]["ECU1"]["signed"]["report_counter"]')
[ "$c2" -gt "$c1" ] || fatal "report counter went from $c1 to $c2"
assert_streq "$(py "$second" '"installation_report" in j["signed"]')" False
ok "each check PUTs a manifest signed by the ECU key, with a growing report counter"

# 4. A successful install result reaches the Director once, then status shows it.
queue_result 1 urn:test:1 true OK "installed fw-1.bin into slot B"
expect_exit 0 sb check
m=$(last_manifest)
verify_manifest "$m"
assert_streq "$(py "$m" 'j["signed"]["installation_report"]["report"]["correlation_id"], j["signed"]["installation_report"]["report"]["result"]')" \
  "('urn:test:1', {'success': True, 'code': 'OK', 'description': 'installed fw-1.bin into slot B'})"
[ -z "$(ls "$STATE/reports")" ] || fatal "the result is still queued"
expect_exit 0 sb check
assert_streq "$(py "$(last_manifest)" '"installation_report" in j["signed"]')" False
expect_exit 0 sb status --json
assert_streq "$(py out.txt 'j["last_reported_result"]["correlation_id"], j["last_reported_result"]["result_code"]')" \
  "('urn:test:1', 'OK')"
ok "a successful install is reported once, with its correlation id"

# 5. A failed one.
queue_result 2 urn:test:2 false INSTALL_FAILED "rolled back after 3 failed boots"
expect_exit 0 sb check
m=$(last_manifest)
assert_streq "$(py "$m" 'j["signed"]["installation_report"]["report"]["result"]["success"], j["signed"]["installation_report"]["report"]["result"]["code"], j["signed"]["installation_report"]["report"]["raw_report"]')" \
  "(False, 'INSTALL_FAILED', 'rolled back after 3 failed boots')"
assert_streq "$(py "$m" 'j["signed"]["installation_report"]["report"]["items"][0]["ecu"]')" "$ECU"
ok "a failed install is reported with its result code and description"

# 6. The Director fails: check goes on, the results wait, and a later run sends them in order.
queue_result 3 urn:test:3 false DOWNLOAD_FAILED "download of fw-2.bin failed"
queue_result 4 urn:test:4 true OK "installed fw-2.bin"
fault /director/manifest status=500
before=$(manifests)
expect_exit 0 sb check
assert_file_has_content err.txt "warning: Sending the vehicle version manifest"
assert_file_has_content out.txt "Update for ECU $ECU"
assert_streq "$(ls "$STATE/reports" | wc -l)" 2
assert_streq "$(manifests)" "$before"
clear_faults
expect_exit 0 sb check
assert_streq "$(manifests)" $((before + 2))
prev=$(find "$UP/director/manifests" -name '*.json' | sort | tail -n 2 | head -n 1)
assert_streq "$(py "$prev" 'j["signed"]["installation_report"]["report"]["correlation_id"]')" urn:test:3
assert_streq "$(py "$(last_manifest)" 'j["signed"]["installation_report"]["report"]["correlation_id"]')" urn:test:4
[ -z "$(ls "$STATE/reports")" ] || fatal "results are still queued"
ok "a failing Director does not block check; queued results survive and are sent in order"

# 7. The Director verifies manifests: one signed by an unregistered key is refused there, which
#    the client takes as a warning.
R keygen "$SB_TMP/other.pem" > /dev/null
R register-ecu "$UP" "$ECU" "$SB_TMP/other.pem" > /dev/null
before=$(manifests)
expect_exit 0 sb check
assert_file_has_content err.txt "warning: Sending the vehicle version manifest"
assert_streq "$(manifests)" "$before"
R register-ecu "$UP" "$ECU" "$STATE/ecu/public.json" --hardware-id "$HWID" > /dev/null
expect_exit 0 sb check
assert_streq "$(manifests)" $((before + 1))
ok "a manifest the Director refuses is a warning, not a failed check"

# 8. Nothing assigned (with the vehicle id signed).
R uptane-clear "$UP" --vin "$VIN" --publish > /dev/null
expect_exit 0 sb check
assert_file_has_content out.txt "No update"
expect_exit 0 sb check --json
assert_streq "$(py out.txt 'j["update_available"], j["targets"]')" "(False, [])"
ok "no assignment: nothing to install, exit 0"

# 9. Exit statuses (design.md §8).
expect_exit 2 sb check extra-argument
expect_exit 2 sb check --no-such-option
expect_exit 2 switchback --no-such-option check
ok "usage errors exit 2"

cp "$SB_TMP/sb.conf" "$SB_TMP/sb.conf.good"
sed -i '/^director-url=/d' "$SB_TMP/sb.conf"
expect_exit 1 sb check
assert_file_has_content err.txt "director-url is not set"
sed -i 's/^director-root=.*/director-root=\/nonexistent\/root.json/' "$SB_TMP/sb.conf.good"
cp "$SB_TMP/sb.conf.good" "$SB_TMP/sb.conf"
rm -rf "$STATE/metadata"
expect_exit 1 sb check
assert_file_has_content err.txt "director-root"
write_config
ok "configuration errors exit 1"

R uptane-assign "$UP" --name fw-1.bin --ecu ECU-ELSEWHERE --hardware-id "$HWID" --publish > /dev/null
expect_refused 3 bad-ecu-id sb check
expect_exit 3 sb check --json
assert_streq "$(py out.txt 'j["error"]["class"], j["error"]["exit_status"]')" "('bad-ecu-id', 3)"
R uptane-clear "$UP" --vin "$VIN" --publish > /dev/null
ok "a refused verification exits 3 (also with --json)"

stop_server
expect_refused 4 download-failed sb check
start_server
write_config
ok "an unreachable Director exits 4"

# 10. The daemon: one cycle, and a loop until SIGTERM.
R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id "$HWID" \
  --correlation-id urn:test:5 --publish > /dev/null
expect_exit 0 sb daemon --once
assert_file_has_content err.txt "update verified for ECU $ECU: fw-1.bin"
assert_file_has_content err.txt "correlation id urn:test:5"
ok "daemon --once runs one check-only cycle without a slot disk"

write_config "poll-interval=1"
before=$(manifests)
switchback --config "$SB_TMP/sb.conf" daemon > daemon.log 2>&1 &
daemon_pid=$!
SB_PIDS+=("$daemon_pid")
# Three reports are three cycles: wait for them however long a loaded machine takes, but not
# for a daemon that has died.
while [ "$(manifests)" -lt $((before + 3)) ]; do
  kill -0 "$daemon_pid" 2>/dev/null || fatal "the daemon exited before three cycles: $(cat daemon.log)"
  sleep 0.1
done
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
assert_streq "$rc" 0
assert_file_has_content daemon.log "daemon started"
assert_file_has_content daemon.log "daemon stopped"
ok "the daemon reports and checks every poll-interval and stops cleanly on SIGTERM"
