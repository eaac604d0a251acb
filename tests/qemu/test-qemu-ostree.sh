#!/bin/bash
# Over-the-air updates of an OSTree-based QEMU guest (x86_64) through real reboots
# (docs/ostree.md, "The QEMU scenario"). The guest's disk has an ESP, one rootfs partition
# holding the OSTree sysroot (commit 1 deployed at the factory, slot A) and a data partition for
# switchback's state. A Director and Image repository and the archive repository as treehub are
# served on the host's loopback by `switchback-repo serve --uptane --mount /treehub=...`.
#
#  1. update, reboot, commit: `switchback update` pulls commit 2, deploys it into slot B and
#     stages it (exit 10); GRUB boots B's deployment from the slot fragment on trial; the
#     systemd initramfs (ostree-prepare-root.service, then the switchback hook) commits it; the
#     next cycle reports OK to the Director, and `switchback status` shows commit 2 as
#     installed. Commit 1's initramfs has no systemd: its hook runs ostree-prepare-root itself.
#  2. broken update, rollback: commit 3's kernel cannot be loaded; it is deployed into slot A
#     and staged; GRUB uses up A's tries, one reset each, and falls back to B (commit 2); the
#     hook records the rollback and the Director gets INSTALL_FAILED.
#
# Needs the packages of scripts/install-qemu-deps.sh, the ostree CLI and ostree-boot
# (ostree-prepare-root and its dracut module), or it skips.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/qemu/lib.sh"
qemu="$top_srcdir/tests/qemu"
arch=x86_64

missing=$(sbq_missing_tools "$arch")
if [ -n "$missing" ]; then
  skip_all "QEMU boot tools missing ($missing); scripts/install-qemu-deps.sh installs them"
fi
command -v ostree >/dev/null || skip_all "the ostree CLI is not installed (package ostree)"
[ -x /usr/lib/ostree/ostree-prepare-root ] && [ -d /usr/lib/dracut/modules.d/98ostree ] \
  || skip_all "ostree-prepare-root and its dracut module are not installed (package ostree-boot)"
[ -x /lib/systemd/systemd ] || skip_all "systemd is not installed (the initramfs runs it)"
repo_tool="$top_builddir/src/repo/switchback-repo"
[ -x "$repo_tool" ] || fatal "no $repo_tool"

export SB_QEMU_TIMINGS="$SB_TMP/timings"
: >"$SB_QEMU_TIMINGS"
t_all=$SECONDS

ecu=sbq-ostree-ecu
hw=sbq-ostree-board
vin=SBQ-OSTREE-VIN
# The OSTree guest: no [slots] disk (the slots are deployments); the treehub is on the host
# beside the Director and the Image repository.
sbq_update_conf "$vin" "$ecu" "$hw" initramfs 3 '[ostree]
sysroot=/
osname=sb
ostree-url=http://10.0.2.100/treehub' >ostree.conf

cat >update.sh <<'EOF'
export SWITCHBACK_OSTREE_MODULE=/usr/lib/switchback/switchback-ostree.so
echo "update: slot=$SB_QEMU_SLOT version=$SB_QEMU_VERSION"
echo "update: cmdline $(cat /proc/cmdline)"
echo "update: root $(cat /etc/sb-qemu/version) $(ls -d /sysroot/ostree/deploy/sb/deploy/*.[0-9])"
switchback update
echo "update: exit=$?"
switchback status
echo "update: status exit=$?"
switchback status --json >/data/status.json
# The sysroot's journal reaches its blocks before the power goes off: GRUB reads the slot
# fragment without replaying it.
sync
mount -o remount,ro /sysroot 2>/dev/null
EOF

# The commits: 1 (factory), 2 (the update), 3 (its kernel cannot be loaded). The two ways the
# initramfs reaches the deployment are both booted: commit 1's initramfs has no systemd, so the
# switchback hook runs ostree-prepare-root itself; commit 2's is a systemd initramfs where
# OSTree's dracut module runs ostree-prepare-root.service and the hook is ordered after it.
# Commits 2 and 3 share their initramfs (built once under a lock) and are made at the same time.
t0=$SECONDS
commit () {
  local v="$1"
  shift
  "$qemu/build-ostree.sh" commit treehub "$v" --config ostree.conf "$@" \
    >"commit-$v" 2>"build-$v.log" \
    || { sed 's/^/# /' "build-$v.log" | tail -n 40; echo "# build-ostree.sh commit $v failed"
         return 1; }
}
SBQ_OSTREE_INITRAMFS=shell commit 1 || fatal "commit 1"
commit 2 &
pid2=$!
commit 3 --broken kernel || fatal "commit 3"
wait "$pid2" || fatal "commit 2"
c1=$(cat commit-1)
c2=$(cat commit-2)
c3=$(cat commit-3)
echo "# commits: 1 $c1, 2 $c2, 3 $c3"

"$repo_tool" keygen ecu.pem >keygen.log 2>&1 || fatal "switchback-repo keygen failed"
mkdir -p data/roots data/switchback/ecu
chmod 0700 data/switchback data/switchback/ecu
{
  "$repo_tool" uptane-init repo --vin "$vin" &&
  "$repo_tool" uptane-add-ostree repo --ostree-repo treehub --commit "$c2" --name sb-os-2 \
    --hardware-id "$hw" --version 2 --release-counter 2 &&
  "$repo_tool" uptane-assign repo --name sb-os-2 --ecu "$ecu" --hardware-id "$hw" \
    --correlation-id ostree-update-2 &&
  "$repo_tool" register-ecu repo "$ecu" ecu.json --hardware-id "$hw" &&
  "$repo_tool" publish repo
} >repo.log 2>&1 || { sed 's/^/# /' repo.log; fatal "repository setup"; }
cp repo/director/metadata/1.root.json data/roots/director-root.json
cp repo/image/metadata/1.root.json data/roots/image-root.json
install -m 0600 ecu.pem data/switchback/ecu/private.pem
"$qemu/build-ostree.sh" disk disk.img treehub "$c1" --data data >disk.log 2>&1 \
  || { sed 's/^/# /' disk.log | tail -n 40; fatal "build-ostree.sh disk failed"; }
echo "# time: commits and disk $((SECONDS - t0)) s"

"$repo_tool" serve repo --uptane --bind 127.0.0.1 --port 0 --port-file port \
  --mount /treehub="$SB_TMP/treehub" >serve.log 2>&1 &
SB_PIDS+=("$!")
wait_for_file port "$!"

# boot N: boot N of the disk with the server and the update scenario; console in N.txt,
# grubenv in N.env, the state read back in N.install.json, N.slots.json, N.status.json.
boot () {
  local n="$1"
  "$qemu/boot.sh" "$arch" disk.img "$n.console" 900 --server "$(cat port)" \
    --scenario update.sh >"$n.boot" 2>>boot.log || return 1
  tr -d '\r' <"$n.console" >"$n.txt"
  "$qemu/disk-files.sh" disk.img env >"$n.env"
  local f
  for f in install.json ostree-slots.json; do
    "$qemu/disk-files.sh" disk.img cat data "/switchback/$f" >"$n.${f%.json}.json" 2>/dev/null \
      || true
  done
  "$qemu/disk-files.sh" disk.img cat data /status.json >"$n.status.json" 2>/dev/null || true
}
failed () {
  sed 's/^/# /' boot.log | tail -n 20
  local last
  last=$(ls -t ./*.txt 2>/dev/null | head -n 1 || true)
  [ -z "$last" ] || { echo "# $last:"; sed 's/^/# /' "$last" | tail -n 80; }
  fatal "$1"
}
json_get () {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"
}

plan 7

t1=$SECONDS
boot 1 || failed "boot 1 failed"
assert_file_has_content 1.txt "^SB-QEMU: init slot=A version=1 emergency=0"
assert_file_has_content 1.txt "^update: root 1 /sysroot/ostree/deploy/sb/deploy/$c1.0"
# No systemd in commit 1's initramfs: the hook prepared the root before switchback-boot ran.
assert_not_file_has_content 1.txt "ostree-prepare-root.service"
assert_file_has_content 1.txt "switchback: first boot of slot A: it is now the committed slot"
assert_file_has_content 1.txt "^update: exit=10"
assert_file_has_content 1.env "^SB_ORDER=B A$"
assert_file_has_content 1.env "^SB_B_TRIES=3$"
assert_streq "$(json_get 1.ostree-slots.json 'd["slots"]["A"]["checksum"], d["slots"]["B"]["checksum"]')" \
  "('$c1', '$c2')"
assert_streq "$(json_get 1.install.json 'd["state"], d["slot"]')" "('staged', 'B')"
assert_streq "$(json_get 1.status.json 'd["installed"]["sha256"]')" "$c1"
ok "update: the factory deployment (slot A) pulls commit 2, deploys it into slot B and stages it"

boot 2 || failed "boot 2 failed"
assert_file_has_content 2.txt "sb-grub: slot=B"
assert_file_has_content 2.txt "^SB-QEMU: init slot=B version=2 emergency=0"
assert_file_has_content 2.txt "^update: root 2 "
assert_file_has_content 2.txt "ostree=/ostree/switchback/sb/$c2.0 switchback.slot=B"
# The hook ran on the deployment that ostree-prepare-root.service had made the root.
line_of () { grep -n "$1" "$2" | head -n 1 | cut -d: -f1; }
prepared=$(line_of 'Finished .*ostree-prepare-ro' 2.txt)
committed=$(line_of 'switchback: trial boot of slot B (sb-os-2) committed' 2.txt)
[ -n "$prepared" ] && [ -n "$committed" ] && [ "$prepared" -lt "$committed" ] \
  || failed "ostree-prepare-root (console line ${prepared:-none}) did not finish before the hook committed (line ${committed:-none})"
assert_streq "$(json_get 2.install.json 'd["state"], d["committed"]')" "('idle', 'B')"
assert_file_has_content 2.env "^SB_ORDER=B A$"
assert_file_has_content 2.env "^SB_B_TRIES=3$"
ok "update: GRUB boots slot B's deployment, ostree-prepare-root and the hook commit it"

assert_file_has_content 2.txt "^update: exit=0"
grep -ls '"OK"' repo/director/manifests/*.json >ok-reports \
  || failed "the Director has no manifest with an OK installation report"
assert_streq "$(json_get 2.status.json 'd["installed"]["sha256"]')" "$c2"
ok "update: the Director gets OK, and status shows commit 2 installed"
t_update=$((SECONDS - t1))

# The broken commit 3.
t2=$SECONDS
{
  "$repo_tool" uptane-add-ostree repo --ostree-repo treehub --commit "$c3" --name sb-os-3 \
    --hardware-id "$hw" --version 3 --release-counter 3 &&
  "$repo_tool" uptane-assign repo --name sb-os-3 --ecu "$ecu" --hardware-id "$hw" \
    --correlation-id ostree-update-3 &&
  "$repo_tool" publish repo
} >>repo.log 2>&1 || { sed 's/^/# /' repo.log; fatal "publishing commit 3"; }
boot 3 || failed "boot 3 failed"
assert_file_has_content 3.txt "^SB-QEMU: init slot=B version=2 emergency=0"
assert_file_has_content 3.txt "^update: exit=10"
assert_file_has_content 3.env "^SB_ORDER=A B$"
assert_streq "$(json_get 3.ostree-slots.json 'd["slots"]["A"]["checksum"], d["slots"]["B"]["checksum"]')" \
  "('$c3', '$c2')"
ok "rollback: commit 3 is deployed into slot A and staged"

last=
for n in 4 5 6 7 8; do
  boot "$n" || failed "boot $n failed"
  if grep -q '^SB-QEMU: init slot=B' "$n.txt"; then
    last=$n
    break
  fi
done
[ -n "$last" ] || failed "GRUB never fell back to slot B"
for n in $(seq 4 $((last - 1))); do
  assert_file_has_content "$n.txt" "sb-grub: slot=A"
  assert_file_has_content "$n.boot" "^boot: $arch reset "
  assert_not_file_has_content "$n.txt" "^SB-QEMU: init"
done
assert_streq "$((last - 4))" 3
assert_file_has_content "$last.txt" "sb-grub: slot=B"
assert_file_has_content "$last.txt" "^SB-QEMU: init slot=B version=2 emergency=0"
ok "rollback: slot A fails its three tries, one reset each, then GRUB falls back to slot B"

assert_file_has_content "$last.txt" "switchback: trial boot of slot A (sb-os-3) failed"
assert_streq "$(json_get "$last.install.json" 'd["state"], d["committed"]')" "('idle', 'B')"
assert_file_has_content "$last.env" "^SB_ORDER=B A$"
assert_file_has_content "$last.txt" "^update: exit=0"
assert_streq "$(json_get "$last.status.json" 'd["installed"]["sha256"]')" "$c2"
ok "rollback: the hook records the failed trial; commit 2 stays installed"

grep -ls 'INSTALL_FAILED' repo/director/manifests/*.json >failed-reports \
  || failed "the Director has no manifest with INSTALL_FAILED"
ok "rollback: the Director receives INSTALL_FAILED"
t_rollback=$((SECONDS - t2))

echo "# time: update, reboot, commit (2 boots) $t_update s"
echo "# time: broken update, rollback ($((last - 2)) boots) $t_rollback s"
echo "# time: whole test $((SECONDS - t_all)) s"
sed 's/^/# time: /' "$SB_QEMU_TIMINGS"
grep -h '^boot: ' ./*.boot | sed 's/^/# /'
