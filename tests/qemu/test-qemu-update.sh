#!/bin/bash
# Over-the-air updates of a QEMU guest from an Uptane Director and Image repository served on
# the host's loopback (switchback-repo serve), through real reboots:
#
#  1. update, reboot, commit: rootfs A (version 1) installs version 2 into slot B (exit 10) and
#     powers off; grubenv puts B first with fresh tries; GRUB boots B, the initramfs hook commits
#     it, and the next `switchback update` sends the installation report (OK) to the Director.
#  2. broken update, rollback: version 2's kernel cannot be loaded; GRUB uses up B's tries, one
#     reset each, and falls back to A; the hook records the rollback, the Director gets
#     INSTALL_FAILED and the same target is not installed again.
#
# The guest is x86_64 (the dracut initramfs, the native build); test-qemu-update-aarch64.sh
# sources this file with SBQ_UPDATE_ARCH=aarch64 to run the same scenarios on an aarch64 guest
# (the busybox initramfs with the same hook, the cross build), so that make -j2 check runs the
# two architectures in parallel.
#
# The guest's config fixes its ECU serial and hardware id; its ECU key is made on the host and
# put into the state directory on the data partition with the trusted roots, so the Director
# knows it before the first boot. Both scenarios run at once, one disk and server each.
# Needs the packages of scripts/install-qemu-deps.sh, or it skips.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/qemu/lib.sh"
qemu="$top_srcdir/tests/qemu"
arch="${SBQ_UPDATE_ARCH:-x86_64}"

missing=$(sbq_missing_tools "$arch")
if [ -n "$missing" ]; then
  skip_all "QEMU boot tools for $arch missing ($missing);" \
    "scripts/install-qemu-deps.sh installs them"
fi
repo_tool="$top_builddir/src/repo/switchback-repo"
[ -x "$repo_tool" ] || fatal "no $repo_tool"

export SB_QEMU_TIMINGS="$SB_TMP/timings"
: >"$SB_QEMU_TIMINGS"

ecu=sbq-ecu-1
hw=sbq-board
vin=SBQ-VIN-1
# The guest: a Director and Image repository on the host, trusted roots on the data partition.
sbq_update_conf "$vin" "$ecu" "$hw" initramfs 3 "$SBQ_RAW_SLOTS" >update.conf

cat >update.sh <<'EOF'
echo "update: slot=$SB_QEMU_SLOT version=$SB_QEMU_VERSION"
t0=$(cut -d' ' -f1 /proc/uptime)
switchback update
rc=$?
echo "update: exit=$rc"
echo "update: seconds=$(awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime)"
EOF

"$repo_tool" keygen ecu.pem >keygen.log 2>&1 || fatal "switchback-repo keygen failed"

# The images: A fills its partition, the two B images are update targets for slot B.
t0=$SECONDS
"$qemu/build-rootfs.sh" "$arch" a.ext4 --config update.conf >build.log 2>&1 \
  || { sed 's/^/# /' build.log | tail -n 40; fatal "build-rootfs.sh of slot A failed"; }
"$qemu/build-rootfs.sh" "$arch" b-good.ext4 --config update.conf --label rootfs-b \
  --version 2 --slot-image >build-b.log 2>&1 &
good_pid=$!
"$qemu/build-rootfs.sh" "$arch" b-broken.ext4 --config update.conf --label rootfs-b \
  --version 2 --slot-image --broken kernel >build-c.log 2>&1 \
  || { sed 's/^/# /' build-c.log | tail -n 40; fatal "build-rootfs.sh --broken kernel failed"; }
wait "$good_pid" || { sed 's/^/# /' build-b.log | tail -n 40; fatal "build-rootfs.sh of B failed"; }
echo "# time: $arch images $((SECONDS - t0)) s"
echo "# size: $arch update image $(( $(stat -c %s b-good.ext4) / 1048576 )) MiB"

# setup NAME IMAGE: an Uptane pair NAME/repo with IMAGE assigned to the guest's ECU, served on
# loopback (port in NAME/port), and the disk NAME/disk.img with A, the roots and the ECU key.
setup () {
  local name="$1" image="$2"
  mkdir -p "$name/data/roots" "$name/data/switchback/ecu"
  chmod 0700 "$name/data/switchback" "$name/data/switchback/ecu"
  {
    "$repo_tool" uptane-init "$name/repo" --vin "$vin" &&
    "$repo_tool" uptane-add-image "$name/repo" "$image" --name rootfs-v2.img --hardware-id "$hw" \
      --format BINARY --version 2 --release-counter 2 &&
    "$repo_tool" uptane-assign "$name/repo" --name rootfs-v2.img --ecu "$ecu" --hardware-id "$hw" \
      --correlation-id "$name-update-1" &&
    "$repo_tool" register-ecu "$name/repo" "$ecu" ecu.json --hardware-id "$hw" &&
    "$repo_tool" publish "$name/repo"
  } >"$name/repo.log" 2>&1 || { sed 's/^/# /' "$name/repo.log"; fatal "$name: repository setup"; }
  cp "$name/repo/director/metadata/1.root.json" "$name/data/roots/director-root.json"
  cp "$name/repo/image/metadata/1.root.json" "$name/data/roots/image-root.json"
  install -m 0600 ecu.pem "$name/data/switchback/ecu/private.pem"
  "$repo_tool" serve "$name/repo" --uptane --bind 127.0.0.1 --port 0 --port-file "$name/port" \
    >"$name/serve.log" 2>&1 &
  SB_PIDS+=("$!")
  wait_for_file "$name/port" "$!"
  "$qemu/build-disk.sh" "$arch" "$name/disk.img" --slot-a a.ext4 --data "$name/data" \
    >"$name/build.log" 2>&1 \
    || { sed 's/^/# /' "$name/build.log" | tail -n 40; fatal "$name: build-disk.sh failed"; }
}
setup s1 b-good.ext4
setup s2 b-broken.ext4

# boot NAME N [--scenario FILE]: boot N of NAME's disk with its server; console in NAME/N.txt.
boot () {
  local name="$1" n="$2"
  shift 2
  "$qemu/boot.sh" "$arch" "$name/disk.img" "$name/$n.console" 900 --server "$(cat "$name/port")" \
    "$@" >"$name/$n.boot" 2>>"$name/boot.log" || return 1
  tr -d '\r' <"$name/$n.console" >"$name/$n.txt"
  "$qemu/disk-files.sh" "$name/disk.img" env >"$name/$n.env"
  "$qemu/disk-files.sh" "$name/disk.img" cat data /switchback/install.json \
    >"$name/$n.install.json" 2>/dev/null || true
}

# Scenario 1: stage B, then boot it (committed by the hook) and report.
scenario1 () {
  local t=$SECONDS
  boot s1 1 --scenario update.sh || return 1
  boot s1 2 --scenario update.sh || return 1
  echo "$((SECONDS - t))" >s1/seconds
}

# Scenario 2: stage the broken B, then boot until GRUB falls back to A (at most 5 boots).
scenario2 () {
  local t=$SECONDS n
  boot s2 1 --scenario update.sh || return 1
  for n in 2 3 4 5 6; do
    boot s2 "$n" --scenario update.sh || return 1
    if grep -q '^SB-QEMU: init slot=A' "s2/$n.txt"; then
      echo "$n" >s2/last
      break
    fi
  done
  echo "$((SECONDS - t))" >s2/seconds
}

scenario1 &
pid1=$!
scenario2 &
pid2=$!
wait "$pid1" || true
wait "$pid2" || true

# failed NAME WHAT: the boot log and the last console, then a bail-out.
failed () {
  sed 's/^/# /' "$1/boot.log" | tail -n 40
  local last
  last=$(ls -t "$1"/*.txt 2>/dev/null | head -n 1 || true)
  [ -z "$last" ] || { echo "# $last:"; sed 's/^/# /' "$last" | tail -n 60; }
  fatal "$2"
}

plan 7

# Scenario 1
[ -s s1/2.boot ] || failed s1 "scenario 1: boot.sh failed"
assert_file_has_content s1/1.txt "^SB-QEMU: init slot=A version=1 emergency=0"
assert_file_has_content s1/1.txt "^Installed rootfs-v2.img into slot B"
assert_file_has_content s1/1.txt "^update: exit=10"
assert_file_has_content s1/1.env "^SB_ORDER=B A$"
assert_file_has_content s1/1.env "^SB_B_TRIES=3$"
ok "update: slot A installs the Director's target into slot B and stages it first with fresh tries"

assert_file_has_content s1/2.txt "sb-grub: slot=B"
assert_file_has_content s1/2.txt "^SB-QEMU: init slot=B version=2 emergency=0"
assert_file_has_content s1/2.install.json '"committed" *: *"B"'
assert_file_has_content s1/2.install.json '"state" *: *"idle"'
assert_file_has_content s1/2.env "^SB_ORDER=B A$"
assert_file_has_content s1/2.env "^SB_B_TRIES=3$"
ok "update: GRUB boots slot B after the reboot and the initramfs hook commits it"

assert_file_has_content s1/2.txt "^Up to date: slot B runs rootfs-v2.img"
assert_file_has_content s1/2.txt "^update: exit=0"
grep -ls '"OK"' s1/repo/director/manifests/*.json >s1/ok-reports \
  || fatal "scenario 1: the Director has no manifest with an OK installation report"
ok "update: the next cycle reports the installation (OK) to the Director"

# Scenario 2
[ -s s2/1.boot ] || failed s2 "scenario 2: boot.sh failed"
assert_file_has_content s2/1.txt "^update: exit=10"
assert_file_has_content s2/1.env "^SB_ORDER=B A$"
ok "rollback: the broken target is installed into slot B and staged"

[ -s s2/last ] || failed s2 "scenario 2: GRUB never fell back to slot A"
last=$(cat s2/last)
for n in $(seq 2 $((last - 1))); do
  assert_file_has_content "s2/$n.txt" "sb-grub: slot=B"
  assert_file_has_content "s2/$n.boot" "^boot: $arch reset "
  assert_not_file_has_content "s2/$n.txt" "^SB-QEMU: init"
done
assert_streq "$((last - 2))" 3
assert_file_has_content "s2/$last.txt" "sb-grub: slot=A"
assert_file_has_content "s2/$last.txt" "^SB-QEMU: init slot=A version=1 emergency=0"
ok "rollback: slot B fails its three tries, one reset each, then GRUB falls back to slot A"

assert_file_has_content "s2/$last.txt" "switchback: trial boot of slot B (rootfs-v2.img) failed"
assert_file_has_content "s2/$last.install.json" '"committed" *: *"A"'
assert_file_has_content "s2/$last.install.json" '"state" *: *"idle"'
assert_file_has_content "s2/$last.env" "^SB_ORDER=A B$"
assert_file_has_content "s2/$last.txt" "^Not installing rootfs-v2.img: its trial boot failed before"
assert_file_has_content "s2/$last.txt" "^update: exit=0"
ok "rollback: the hook records the failed trial and the update cycle does not install it again"

grep -ls 'INSTALL_FAILED' s2/repo/director/manifests/*.json >s2/failed-reports \
  || fatal "scenario 2: the Director has no manifest with INSTALL_FAILED"
ok "rollback: the Director receives INSTALL_FAILED"

echo "# time: $arch scenario 1 (update, reboot, commit; 2 boots) $(cat s1/seconds) s," \
  "switchback update in the guest $(sed -n 's/^update: seconds=//p' s1/1.txt) s"
echo "# time: $arch scenario 2 (broken update, rollback; $(cat s2/last) boots) $(cat s2/seconds) s"
sed 's/^/# time: /' "$SB_QEMU_TIMINGS"
