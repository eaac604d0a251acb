#!/bin/bash
# `switchback daemon` with A/B slots: each cycle is the update cycle (report, verify, install into
# the inactive slot, stage), its --once exit status is that of `switchback update` (10 when a
# reboot is needed, design.md §8), and --check-only installs nothing. The system is a GPT disk image
# made by sfdisk, a grubenv made by grub-editenv and the kernel command line GRUB would pass.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v sfdisk >/dev/null || skip_all "sfdisk is not installed"
command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"

plan 5

uptane_setup
truncate -s 24M "$SB_TMP/disk.img"
printf 'label: gpt\nsize=8M, name=rootfs-a\nsize=8M, name=rootfs-b\n' | sfdisk -q "$SB_TMP/disk.img"
grub-editenv "$SB_TMP/grubenv" create
echo "BOOT_IMAGE=/vmlinuz root=/dev/vda2 switchback.slot=A" > "$SB_TMP/cmdline"
cat >> "$SB_TMP/sb.conf" <<EOF

[slots]
disk=$SB_TMP/disk.img

[boot]
grubenv=$SB_TMP/grubenv
cmdline-file=$SB_TMP/cmdline
EOF

# slot_sha B LEN: sha256 of the first LEN bytes of slot B.
slot_b_sha () {
  local off
  off=$(sfdisk --json "$SB_TMP/disk.img" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
print([p["start"] * t.get("sectorsize", 512) for p in t["partitions"] if p.get("name") == "rootfs-b"][0])')
  dd if="$SB_TMP/disk.img" iflag=skip_bytes,count_bytes skip="$off" count="$1" status=none |
    sha256sum | cut -d' ' -f1
}

expect_exit 0 sb daemon --once --check-only
assert_file_has_content err.txt "not installed (check only)"
assert_streq "$(sb status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["install"]["state"])')" idle
ok "daemon --check-only verifies the update and installs nothing"

before=$(manifests)
expect_exit 10 sb daemon --once
assert_file_has_content err.txt "installed fw-1.bin into slot B; reboot to try it"
assert_streq "$(slot_b_sha 5000)" "$(sha256sum "$SB_TMP/fw-1.bin" | cut -d' ' -f1)"
assert_streq "$(sb status --json | python3 -c 'import json,sys; j=json.load(sys.stdin)["install"]; print(j["state"], j["slot"], j["target"])')" \
  "staged B fw-1.bin"
grub-editenv "$SB_TMP/grubenv" list > env.txt
assert_file_has_content env.txt "^SB_ORDER=B A"
expect_exit 0 sb status --json
python3 - out.txt <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["slots"]["booted"] == "A", j["slots"]
assert j["slots"]["B"]["target"] == "fw-1.bin" and j["slots"]["B"]["length"] == 5000, j["slots"]
EOF
[ "$(manifests)" -gt "$before" ] || fatal "the cycle did not report to the Director"
ok "daemon --once installs the assigned image into the inactive slot and exits 10"

expect_exit 10 sb daemon --once
assert_file_has_content err.txt "fw-1.bin is staged in slot B, waiting for a reboot"
ok "the next cycle leaves the staged install alone"

# Booted into slot B: check reports fw-1.bin as the installed image and as already running.
echo "BOOT_IMAGE=/vmlinuz root=/dev/vda3 switchback.slot=B" > "$SB_TMP/cmdline"
expect_exit 0 sb check
assert_file_has_content out.txt "Assigned to ECU $ECU (hardware id $HWID), already running"
python3 - "$(last_manifest)" <<'EOF'
import json, sys
signed = json.load(open(sys.argv[1]))["signed"]["ecu_version_manifests"]["ECU1"]["signed"]
assert signed["installed_image"]["filepath"] == "fw-1.bin", signed["installed_image"]
assert signed["installed_image"]["fileinfo"]["length"] == 5000, signed["installed_image"]
EOF
expect_exit 0 sb check --json
python3 -c 'import json,sys; assert json.load(sys.stdin)["targets"][0]["running"] is True' < out.txt
ok "check reports the booted slot's image to the Director and says it is already running"

# A refused cycle is logged; the daemon's --once exit status says why.
R uptane-assign "$UP" --name fw-1.bin --ecu "$ECU" --hardware-id hw-other --publish > /dev/null
expect_refused 3 bad-hardware-id sb daemon --once
ok "a refused update cycle exits 3"
