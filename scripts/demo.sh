#!/bin/bash
# The quick-start demo: installs the dependencies, builds switchback, and runs one complete
# over-the-air update of a raw root filesystem image on loopback:
#
#   a Director and an Image repository (switchback-repo serve) on 127.0.0.1
#   a GPT disk image file with esp, rootfs-a, rootfs-b and data partitions
#   switchback check / update: full Uptane verification, the image streamed into slot B
#   the project's GRUB script choosing the slot from grubenv with try counters (run by
#   tests/grub-sim.sh, which stands in for GRUB's commands only)
#   switchback-boot, as the initramfs hook runs it: the trial boot of B is committed
#   the installation report reaching the Director
#
# Usage: scripts/demo.sh [--build-only]   (as root on Debian 12, or with sudo available).
# Everything it makes stays in _demo/ for inspection. --build-only stops after the build and
# prints the build directory it used.
#
# The build: the source tree itself when it is configured in place (./autogen.sh without
# NOCONFIGURE runs configure there), else _build, configured out of tree. automake refuses a
# second, out-of-tree build of a tree configured in place ("source directory already
# configured"), so that build is reused and brought up to date with make, never cleaned.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build_only=
case "${1:-}" in
  --build-only) build_only=1 ;;
  "") ;;
  *) echo "usage: scripts/demo.sh [--build-only]" >&2; exit 2 ;;
esac

"$top/scripts/install-deps.sh"
if [ -f "$top/config.status" ]; then
  B="$top"
else
  B="$top/_build"
fi
if [ ! -x "$B/src/switchback/switchback" ] || [ "${SB_DEMO_REBUILD:-1}" = 1 ]; then
  if [ "$B" != "$top" ]; then
    [ -x configure ] || NOCONFIGURE=1 ./autogen.sh >/dev/null
    mkdir -p _build
    (cd _build && { [ -f Makefile ] || ../configure >/dev/null; })
  fi
  (cd "$B" && make -j"$(nproc)" >/dev/null)
fi
for p in src/switchback/switchback src/boot/switchback-boot src/repo/switchback-repo; do
  [ -x "$B/$p" ] \
    || { echo "demo: $B/$p was not built (the demo needs it: no --disable-repo)" >&2; exit 1; }
done
if [ -n "$build_only" ]; then
  echo "$B"
  exit 0
fi
export PATH="$B/src/switchback:$B/src/boot:$B/src/repo:$PATH"
source "$top/tests/grub-sim.sh"

demo="$top/_demo"
rm -rf "$demo"
mkdir -p "$demo/esp" "$demo/state" "$demo/images"
cd "$demo"
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true' EXIT

step () { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run () { printf '$ %s\n' "$*"; "$@"; }

step "1. Two root filesystem images (ext4, built without mounting anything)"
for v in 1 2; do
  mkdir -p "tree-$v/etc" "tree-$v/boot"
  printf 'NAME="switchback demo"\nVERSION_ID=%s\n' "$v" >"tree-$v/etc/os-release"
  # Stand-ins for the kernel and initramfs that GRUB loads from the slot's filesystem.
  echo "demo kernel $v" >"tree-$v/boot/vmlinuz"
  echo "demo initramfs $v" >"tree-$v/boot/initrd.img"
  # Both carry the same label: GRUB finds a slot by its partition's PARTUUID, not by a label.
  mke2fs -q -t ext4 -L "rootfs" -d "tree-$v" "images/rootfs-v$v.img" 16M
done
ls -l images

step "2. A GPT disk image with A/B slots; release 1 in slot A"
truncate -s 72M disk.img
sfdisk -q disk.img <<'EOF'
label: gpt
size=8MiB, name=esp
size=24MiB, name=rootfs-a
size=24MiB, name=rootfs-b
name=data
EOF
sfdisk -d disk.img | grep name=
start_a=$(sfdisk --json disk.img | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print([x for x in p if x.get("name")=="rootfs-a"][0]["start"])')
dd if=images/rootfs-v1.img of=disk.img bs=512 seek="$start_a" conv=notrunc status=none
grub-editenv esp/grubenv create
# The GRUB script, with the PARTUUIDs of rootfs-a and rootfs-b read from the disk's GPT.
sh "$top/grub/gen-switchback-cfg.sh" --disk disk.img 3 >esp/switchback.cfg
grep '^if \[ -z "\$sb_root_partuuid' esp/switchback.cfg

step "3. A Director and an Image repository; release 2 assigned to this ECU"
run switchback-repo uptane-init repo --vin DEMO-VIN-0001
run switchback-repo uptane-add-image repo images/rootfs-v2.img --name rootfs-v2.img \
  --hardware-id demo-board --format BINARY --version 2 --release-counter 2
run switchback-repo uptane-assign repo --name rootfs-v2.img --ecu demo-ecu-1 \
  --hardware-id demo-board --correlation-id demo-update-1
run switchback-repo publish repo
switchback-repo serve repo --uptane --bind 127.0.0.1 --port 0 --port-file port >serve.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
port=$(cat port)
echo "serving the Director at http://127.0.0.1:$port/director/ and the Image repository at /repo/"

cat >switchback.conf <<EOF
[uptane]
director-url=http://127.0.0.1:$port/director
image-url=http://127.0.0.1:$port/repo
director-root=$demo/repo/director/metadata/1.root.json
image-root=$demo/repo/image/metadata/1.root.json
vehicle-id=DEMO-VIN-0001
ecu-serial=demo-ecu-1
hardware-id=demo-board
[storage]
state-dir=$demo/state
[slots]
disk=$demo/disk.img
[boot]
grubenv=$demo/esp/grubenv
cmdline-file=$demo/cmdline
EOF
SB="switchback --config $demo/switchback.conf"

boot () {
  sb_grub_sim esp/switchback.cfg esp/grubenv cmdline disk.img
  echo "GRUB booted: $(cat cmdline)   [grubenv: $(grub-editenv esp/grubenv list | grep '^SB_' | tr '\n' ' ')]"
  run switchback-boot --config "$demo/switchback.conf" --stderr
}

step "4. First boot of the device: slot A; its ECU key is provisioned and registered with the Director"
boot
mkdir -m 0700 state/ecu
run switchback-repo keygen state/ecu/private.pem --public=state/ecu/public.json
run switchback-repo register-ecu repo demo-ecu-1 state/ecu/public.json

step "5. switchback check: full verification of both repositories"
run $SB check

step "6. switchback update: stream release 2 into slot B, verify it, stage a trial boot"
rc=0
run $SB update || rc=$?
[ "$rc" = 10 ] || { echo "demo: switchback update exited $rc, expected 10 (installed, reboot needed)"; exit 1; }
echo "exit status 10: installed, reboot needed"
grub-editenv esp/grubenv list

step "7. Reboot: GRUB tries slot B; the initramfs hook commits the trial"
boot

step "8. The next cycle reports the result to the Director"
run $SB update
run $SB status

step "9. Checks"
start_b=$(sfdisk --json disk.img | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print([x for x in p if x.get("name")=="rootfs-b"][0]["start"])')
len=$(stat -c %s images/rootfs-v2.img)
if cmp -s -n "$len" images/rootfs-v2.img <(dd if=disk.img bs=512 skip="$start_b" status=none); then
  echo "slot B holds release 2, byte for byte"
else
  echo "demo: slot B does not hold release 2"; exit 1
fi
grep -q 'switchback.slot=B' cmdline && echo "the device runs slot B"
report=$(grep -rls '"OK"' repo/director/manifests 2>/dev/null | tail -n 1 || true)
if [ -n "$report" ]; then
  echo "the Director received the signed installation report (OK): $report"
else
  echo "demo: the Director has no installation report"; exit 1
fi
printf '\nThe demo completed. Everything is in %s\n' "$demo"
