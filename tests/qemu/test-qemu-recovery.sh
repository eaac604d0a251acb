#!/bin/bash
# Recovery of a QEMU guest (x86_64) from what goes wrong around an update, through real boots,
# from an Uptane Director and Image repository served on the host's loopback:
#
#  3. power cut mid-install: QEMU is killed while `switchback update` writes slot B, once
#     install.json shows a durable checkpoint. Slot A boots next, byte for byte the image it was
#     built from; the next `switchback update` resumes at the checkpoint (a Range request after
#     re-hashing what is in the slot), B boots and the hook commits it.
#  4. anti-rollback: on the same disk, with B committed at release counter 2 and A holding
#     release 1, grubenv is edited by hand to prefer A. The hook refuses A (design.md §4 case 4) and
#     reboots into B, which boots normally.
#  5. confirm=userspace: the hook leaves the trial of B pending; the scenario (the test init's
#     stand-in for a systemd unit after health checks) runs `switchback mark-good`, which commits
#     it. On a second disk the health check fails on B, so mark-good never runs: B uses up its
#     tries, GRUB falls back to A, the hook records the rollback and the Director gets
#     INSTALL_FAILED.
#  6. torn grubenv: on the same disk, with B committed, grubenv is cut off after its signature
#     and warning line, as a torn write leaves it. The hook rewrites it from install.json and
#     counters.json (B first, A at no tries: its release is below the committed one), and the
#     system comes back on B, through a refusal of A when GRUB started from its default order.
#
# Scenarios 3, 4 and 6 (one disk) and 5 run at once, each with its own disk, repository and
# server; scenario 5's two disks are one until B is installed, then the disk is copied and each
# copy boots on with its own Director. Needs the packages of scripts/install-qemu-deps.sh, or
# it skips.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/qemu/lib.sh"
qemu="$top_srcdir/tests/qemu"
arch=x86_64

missing=$(sbq_missing_tools "$arch")
if [ -n "$missing" ]; then
  skip_all "QEMU boot tools missing ($missing); scripts/install-qemu-deps.sh installs them"
fi
repo_tool="$top_builddir/src/repo/switchback-repo"
[ -x "$repo_tool" ] || fatal "no $repo_tool"

export SB_QEMU_TIMINGS="$SB_TMP/timings"
: >"$SB_QEMU_TIMINGS"
t_all=$SECONDS

ecu=sbq-ecu-1
hw=sbq-board
vin=SBQ-VIN-1
# guest_conf CONFIRM MAX_TRIES: the guests' switchback.conf.
guest_conf () { sbq_update_conf "$vin" "$ecu" "$hw" "$1" "$2" "$SBQ_RAW_SLOTS"; }
guest_conf initramfs 3 >initramfs.conf
# Two tries: enough to show that an unconfirmed trial is tried again, one boot less to wait for.
us_tries=2
guest_conf userspace "$us_tries" >userspace.conf

# The scenarios the guests' init runs (busybox sh). Console lines that the checks below read
# start with the scenario's name.

# Scenario 3's first boot: switchback update writes slot B in the background; as soon as
# install.json says "downloading" with bytes_done > 0 (the slot was fsynced that far, see
# sb-install.h), the marker asks boot.sh to cut the power, while the download goes on.
cat >cut.sh <<'EOF'
echo "cut: slot=$SB_QEMU_SLOT version=$SB_QEMU_VERSION"
state=/data/switchback/install.json
switchback update --no-progress &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  n=$(sed -n 's/^ *"bytes_done" *: *\([0-9]*\).*/\1/p' "$state" 2>/dev/null)
  if grep -q '"state" *: *"downloading"' "$state" 2>/dev/null && [ "${n:-0}" -gt 0 ]; then
    printf '\ncut: CUT-HERE bytes_done=%s\n' "$n"
    wait "$pid"
    echo "cut: not cut, the update ended: exit=$?"
    exit 1
  fi
  sleep 0.2
done
wait "$pid"
echo "cut: the update ended before its first checkpoint: exit=$?"
exit 1
EOF

cat >update.sh <<'EOF'
echo "update: slot=$SB_QEMU_SLOT version=$SB_QEMU_VERSION"
switchback update
echo "update: exit=$?"
EOF

# Scenario 5: health check, then mark-good as a systemd unit ordered after the health checks
# would run it, then the update cycle. $unhealthy names a slot whose health check fails: that
# boot ends in a reset without mark-good, as a watchdog would end it.
userspace_sh () {
  echo "unhealthy=$1"
  cat <<'EOF'
echo "userspace: slot=$SB_QEMU_SLOT version=$SB_QEMU_VERSION"
state=$(sed -n 's/^ *"state" *: *"\([a-z]*\)".*/\1/p' /data/switchback/install.json 2>/dev/null)
echo "userspace: install.json state=${state:-none} before mark-good"
if [ "$SB_QEMU_SLOT" = "$unhealthy" ]; then
  echo "userspace: health check failed on slot $SB_QEMU_SLOT, no mark-good; resetting"
  reboot -f
  sleep 600
fi
switchback mark-good
echo "mark-good: exit=$?"
switchback update
echo "update: exit=$?"
EOF
}
userspace_sh none >healthy.sh
userspace_sh B >unhealthy-b.sh

"$repo_tool" keygen ecu.pem >keygen.log 2>&1 || fatal "switchback-repo keygen failed"

# build_rootfs LOG ARGS...: build-rootfs.sh ARGS, its log shown when it fails.
build_rootfs () {
  local log="$1"
  shift
  "$qemu/build-rootfs.sh" "$arch" "$@" >"$log" 2>&1 \
    || { sed 's/^/# /' "$log" | tail -n 40; echo "build-rootfs.sh $* failed" >"$log.failed"; }
}

# The images: slot A (version 1) and an update target for slot B (version 2), for each config.
t0=$SECONDS
build_rootfs build-a.log a.ext4 --config initramfs.conf &
p1=$!
build_rootfs build-ua.log ua.ext4 --config userspace.conf
wait "$p1"
build_rootfs build-b.log b.ext4 --config initramfs.conf --label rootfs-b --version 2 \
  --slot-image &
p1=$!
build_rootfs build-ub.log ub.ext4 --config userspace.conf --label rootfs-b --version 2 \
  --slot-image
wait "$p1"
for f in build-*.log.failed; do [ -e "$f" ] && fatal "$(cat "$f")"; done
echo "# time: images $((SECONDS - t0)) s"

# serve NAME [SERVE_ARG...]: switchback-repo serve of NAME/repo on loopback, its port in
# NAME/port.
serve () {
  local name="$1"
  shift
  "$repo_tool" serve "$name/repo" --control --uptane --bind 127.0.0.1 --port 0 --port-file "$name/port" \
    "$@" >"$name/serve.log" 2>&1 &
  SB_PIDS+=("$!")
  wait_for_file "$name/port" "$!"
}

# setup NAME IMAGE MAX_TRIES [SERVE_ARG...]: an Uptane pair NAME/repo with IMAGE assigned to the
# guest's ECU (release counter 2), served on loopback (port in NAME/port), and the disk
# NAME/disk.img with the slot A image NAME/a.ext4, the roots, the ECU key and NAME/data's files.
setup () {
  local name="$1" image="$2" tries="$3"
  shift 3
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
  serve "$name" "$@"
  "$qemu/build-disk.sh" "$arch" "$name/disk.img" --slot-a "$name/a.ext4" --data "$name/data" \
    --max-tries "$tries" >"$name/build.log" 2>&1 \
    || { sed 's/^/# /' "$name/build.log" | tail -n 40; fatal "$name: build-disk.sh failed"; }
}

# Scenarios 3 and 4 share a disk. The factory that flashed slot A (release 1) recorded that
# release in counters.json, as switchback records it for every slot it writes: without it, A
# would be of unknown release, which the hook does not refuse (sb-boot-decide.h).
mkdir -p s34/data/switchback
printf '{\n  "image-rollback-counter" : 1,\n  "slots" : {\n    "A" : 1\n  }\n}\n' \
  >s34/data/switchback/counters.json
ln -s ../a.ext4 s34/a.ext4
# Until the cut, the server sends the target at 1 MiB/s at most. The cut is asked for one poll
# after the first checkpoint (one every 1/16 of the image, sb-install.h), so most of the image is
# still to come: close to a minute of download for the smallest slot image, whatever the speed
# of the machine, against the fraction of a second (a few seconds on a loaded machine) that the
# guest's poll and boot.sh's cut take. So the power cut lands mid-write; the checks below verify
# that it did. The resumed download after it goes at full speed.
setup s34 b.ext4 3 --fault '/repo/targets/*=throttle=1048576'
# Scenario 5's two disks share their first boot: s5ok's disk is copied to s5rb after it, with
# the firmware variables, and s5rb has its own Director, a copy of s5ok's made before any
# report, so that each Director receives the reports of one disk.
mkdir -p s5ok s5rb
ln -s ../ua.ext4 s5ok/a.ext4
setup s5ok ub.ext4 "$us_tries"
cp -a s5ok/repo s5rb/repo
serve s5rb

# boot NAME N [boot.sh option...]: boot N of NAME's disk with its server. Afterwards NAME/N.txt
# is the console without CRs, NAME/N.boot boot.sh's line, and NAME/N.env, NAME/N.install.json,
# NAME/N.counters.json what grubenv and the state directory hold.
boot () {
  local name="$1" n="$2"
  shift 2
  echo "$n" >"$name/last-boot"
  "$qemu/boot.sh" "$arch" "$name/disk.img" "$name/$n.console" 900 --server "$(cat "$name/port")" \
    "$@" >"$name/$n.boot" 2>>"$name/boot.log" || return 1
  tr -d '\r' <"$name/$n.console" >"$name/$n.txt"
  "$qemu/disk-files.sh" "$name/disk.img" env >"$name/$n.env"
  "$qemu/disk-files.sh" "$name/disk.img" cat data /switchback/install.json \
    >"$name/$n.install.json" 2>/dev/null || true
  "$qemu/disk-files.sh" "$name/disk.img" cat data /switchback/counters.json \
    >"$name/$n.counters.json" 2>/dev/null || true
}

# ext4_sha FILE: sha256 of the ext4 image FILE with the superblock fields zeroed that e2fsck
# rewrites when it checks a clean filesystem (s_wtime with s_wtime_hi, s_kbytes_written,
# s_checksum): dracut runs "e2fsck -a" on the root before it mounts it read-only, on every boot.
ext4_sha () {
  python3 - "$1" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    sb = bytearray(f.read(2048))
    for off, n in ((1024 + 0x30, 4), (1024 + 0x274, 1), (1024 + 0x178, 8), (1024 + 0x3FC, 4)):
        sb[off:off + n] = bytes(n)
    h.update(sb)
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())
EOF
}

# control NAME REQUEST: POST /_control/REQUEST to NAME's server (switchback-repo serve --help).
control () {
  python3 -c 'import sys, urllib.request as u
u.urlopen(u.Request(sys.argv[1], data=b"", method="POST"), timeout=30).read()' \
    "http://127.0.0.1:$(cat "$1/port")/_control/$2"
}

# part_sha NAME PART BYTES [ext4]: sha256 of the first BYTES bytes of PART on NAME's disk; with
# "ext4", ext4_sha of them.
part_sha () {
  "$qemu/disk-files.sh" "$1/disk.img" read-slot "$2" "$1/part.tmp" "$3"
  if [ "${4:-}" = ext4 ]; then
    ext4_sha "$1/part.tmp"
  else
    sha256sum <"$1/part.tmp" | cut -d' ' -f1
  fi
  rm -f "$1/part.tmp"
}

# Scenarios 3 and 4: the cut, slot A again, the resumed install, B committed; then grubenv
# edited to prefer A, the refusal, and B again.
scenario34 () {
  local t=$SECONDS
  boot s34 1 --scenario cut.sh --cut-on 'CUT-HERE' || return 1
  grep -q "^boot: $arch cut " s34/1.boot || return 1
  part_sha s34 rootfs-a "$(stat -c %s a.ext4)" ext4 >s34/1.a.sha
  local done_
  done_=$(sed -n 's/^ *"bytes_done" *: *\([0-9]*\).*/\1/p' s34/1.install.json)
  echo "${done_:-0}" >s34/1.bytes_done
  if [ "${done_:-0}" -gt 0 ]; then part_sha s34 rootfs-b "$done_" >s34/1.b.sha; fi
  control s34 reset 2>>s34/boot.log \
    || { echo "POST /_control/reset to the s34 server failed" >>s34/boot.log; return 1; }
  boot s34 2 --scenario update.sh || return 1
  boot s34 3 --scenario update.sh || return 1
  echo "$((SECONDS - t))" >s34/seconds3
  t=$SECONDS
  "$qemu/disk-files.sh" s34/disk.img set-env SB_ORDER="A B" SB_A_TRIES=3 \
    || { echo "set-env failed" >>s34/boot.log; return 1; }
  "$qemu/disk-files.sh" s34/disk.img env >s34/3.edited.env
  boot s34 4 --scenario update.sh || return 1
  boot s34 5 --scenario update.sh || return 1
  part_sha s34 rootfs-a "$(stat -c %s a.ext4)" ext4 >s34/5.a.sha
  echo "$((SECONDS - t))" >s34/seconds4
  t=$SECONDS
  # Scenario 6: everything after grubenv's signature and warning line torn away.
  "$qemu/disk-files.sh" s34/disk.img cat esp /EFI/switchback/grubenv >s34/grubenv.good \
    || return 1
  python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(b[:100] + bytes(len(b) - 100))' \
    s34/grubenv.good s34/grubenv.torn || return 1
  "$qemu/disk-files.sh" s34/disk.img put esp s34/grubenv.torn /EFI/switchback/grubenv \
    || return 1
  boot s34 6 --scenario update.sh || return 1
  echo 6 >s34/torn-last
  # GRUB cannot read the block and may start from its default order, slot A, which the hook
  # then refuses: one boot more.
  if ! grep -q '^SB-QEMU: init slot=B' s34/6.txt; then
    boot s34 7 --scenario update.sh || return 1
    echo 7 >s34/torn-last
  fi
  echo "$((SECONDS - t))" >s34/seconds6
}

# Scenario 5's shared first boot: A, confirmed by mark-good, installs B.
scenario5 () {
  local t=$SECONDS
  boot s5ok 1 --scenario healthy.sh || return 1
  cp --sparse=always s5ok/disk.img s5rb/disk.img
  cp s5ok/disk.img.vars s5rb/disk.img.vars
  echo "$((SECONDS - t))" >s5ok/seconds1
  scenario5ok &
  local pok=$!
  scenario5rb || true
  wait "$pok" || true
}

# Scenario 5, committed: A installs B; B's trial waits for mark-good, which commits it.
scenario5ok () {
  local t=$SECONDS
  boot s5ok 2 --scenario healthy.sh || return 1
  echo "$((SECONDS - t))" >s5ok/seconds
}

# Scenario 5, rolled back: B's health check fails every time, so GRUB falls back to A.
scenario5rb () {
  local t=$SECONDS n
  for n in $(seq 2 $((us_tries + 3))); do
    boot s5rb "$n" --scenario unhealthy-b.sh || return 1
    if grep -q '^SB-QEMU: init slot=A' "s5rb/$n.txt"; then
      echo "$n" >s5rb/last
      break
    fi
  done
  echo "$((SECONDS - t))" >s5rb/seconds
}

scenario34 &
pid34=$!
scenario5 &
pid5=$!
wait "$pid34" || true
wait "$pid5" || true

# show NAME [N]: boot.sh's messages and the last 50 lines of boot N's console (default: the
# last boot), for a failure.
show () {
  local n="${2:-$(cat "$1/last-boot" 2>/dev/null || true)}"
  [ ! -s "$1/boot.log" ] || sed 's/^/# boot.log: /' "$1/boot.log" | tail -n 60
  if [ -n "$n" ] && [ -e "$1/$n.console" ]; then
    echo "# $1, boot $n, last console lines:"
    tr -d '\r' <"$1/$n.console" | tail -n 50 | sed 's/^/#   /'
  fi
}
# failed NAME WHAT: the console, then a bail-out.
failed () { show "$1"; fatal "$2"; }
# has NAME N FILE-SUFFIX REGEX / lacks ...: an assertion on boot N's console (txt), env,
# install.json, counters.json or boot line, which shows that boot's console when it fails.
has () {
  grep -q -e "$4" "$1/$2.$3" 2>/dev/null && return 0
  echo "# $1/$2.$3 does not contain '$4':"
  [ "$3" = txt ] || sed 's/^/#   /' "$1/$2.$3" 2>/dev/null | tail -n 30
  show "$1" "$2"
  fatal "$1, boot $2: no '$4' in its $3"
}
lacks () {
  grep -q -e "$4" "$1/$2.$3" 2>/dev/null || return 0
  echo "# $1/$2.$3 contains '$4':"
  show "$1" "$2"
  fatal "$1, boot $2: '$4' in its $3"
}

plan 11

# Scenario 3
[ -s s34/3.boot ] || failed s34 "scenario 3: boot $(cat s34/last-boot) failed or was not cut"
has s34 1 boot "^boot: $arch cut "
has s34 1 txt "^SB-QEMU: init slot=A version=1 emergency=0"
has s34 1 txt "^cut: CUT-HERE bytes_done=[1-9]"
lacks s34 1 txt "^cut: not cut"
lacks s34 1 txt "^SB-QEMU: scenario exit="
has s34 1 install.json '"state" *: *"downloading"'
has s34 1 install.json '"slot" *: *"B"'
has s34 1 install.json '"committed" *: *"A"'
has s34 1 env "^SB_ORDER=A B$"
has s34 1 env "^SB_B_TRIES=0$"
cut_at=$(cat s34/1.bytes_done)
length=$(stat -c %s b.ext4)
seen=$(sed -n 's/^cut: CUT-HERE bytes_done=\([0-9]*\).*/\1/p' s34/1.txt)
[ "$cut_at" -ge "$seen" ] && [ "$cut_at" -lt "$length" ] \
  || failed s34 "scenario 3: bytes_done $cut_at after the cut is not in [$seen, $length)"
assert_streq "$(cat s34/1.b.sha)" "$(head -c "$cut_at" b.ext4 | sha256sum | cut -d' ' -f1)"
ok "power cut: QEMU killed mid-install leaves install.json downloading at a checkpoint" \
  "($cut_at of $length bytes, all of them in slot B; $seen at the marker) and slot B without tries"

assert_streq "$(cat s34/1.a.sha)" "$(ext4_sha a.ext4)"
has s34 2 txt "sb-grub: slot=A"
has s34 2 txt "^SB-QEMU: init slot=A version=1 emergency=0"
has s34 2 txt "switchback: normal boot of slot A"
ok "power cut: the next boot is slot A, byte for byte the image it was built from"

has s34 2 txt "^Installed rootfs-v2.img into slot B ($length bytes, resumed at byte $cut_at)"
has s34 2 txt "^update: exit=10"
has s34 2 env "^SB_ORDER=B A$"
has s34 2 env "^SB_B_TRIES=3$"
has s34 2 install.json '"state" *: *"staged"'
ok "power cut: the next update resumes at the checkpoint and stages slot B"

has s34 3 txt "sb-grub: slot=B"
has s34 3 txt "^SB-QEMU: init slot=B version=2 emergency=0"
has s34 3 txt "switchback: trial boot of slot B (rootfs-v2.img) committed"
has s34 3 txt "^Up to date: slot B runs rootfs-v2.img"
has s34 3 txt "^update: exit=0"
has s34 3 install.json '"committed" *: *"B"'
has s34 3 install.json '"state" *: *"idle"'
has s34 3 env "^SB_ORDER=B A$"
has s34 3 env "^SB_B_TRIES=3$"
has s34 3 counters.json '"image-rollback-counter" *: *2'
grep -ls '"OK"' s34/repo/director/manifests/*.json >s34/ok-reports \
  || failed s34 "scenario 3: the Director has no manifest with an OK installation report"
ok "power cut: slot B boots, the hook commits it at release 2, the Director gets OK"

# Scenario 4
[ -s s34/5.boot ] || failed s34 "scenario 4: boot $(cat s34/last-boot) failed"
has s34 3.edited env "^SB_ORDER=A B$"
has s34 4 txt "sb-grub: slot=A"
has s34 4 txt "switchback: slot A holds release 1, below the committed release 2: refused,"\
" rebooting into slot B"
has s34 4 txt "switchback: rebooting"
has s34 4 boot "^boot: $arch reset "
lacks s34 4 txt "^SB-QEMU: init"
has s34 4 env "^SB_ORDER=B A$"
has s34 4 env "^SB_A_TRIES=0$"
has s34 4 env "^SB_B_TRIES=3$"
has s34 4 install.json '"committed" *: *"B"'
ok "anti-rollback: grubenv edited to prefer slot A; the hook refuses A (release 1 < 2) and reboots"

has s34 5 txt "sb-grub: slot=B"
has s34 5 txt "^SB-QEMU: init slot=B version=2 emergency=0"
has s34 5 txt "switchback: normal boot of slot B"
has s34 5 txt "^update: exit=0"
has s34 5 env "^SB_ORDER=B A$"
has s34 5 env "^SB_A_TRIES=0$"
has s34 5 env "^SB_B_TRIES=3$"
has s34 5 install.json '"committed" *: *"B"'
has s34 5 install.json '"state" *: *"idle"'
has s34 5 counters.json '"image-rollback-counter" *: *2'
assert_streq "$(cat s34/5.a.sha)" "$(ext4_sha a.ext4)"
ok "anti-rollback: the system comes back on slot B, committed; slot A is left as it was"

# Scenario 6
torn=$(cat s34/torn-last 2>/dev/null || echo 6)
[ -s "s34/$torn.boot" ] || failed s34 "scenario 6: boot $(cat s34/last-boot) failed"
has s34 6 txt 'rewritten from install.json and counters.json: SB_ORDER="B A" SB_A_TRIES=0 SB_B_TRIES=3'
has s34 "$torn" txt "^SB-QEMU: init slot=B version=2 emergency=0"
has s34 "$torn" env "^SB_ORDER=B A$"
has s34 "$torn" env "^SB_A_TRIES=0$"
has s34 "$torn" env "^SB_B_TRIES=3$"
has s34 "$torn" install.json '"committed" *: *"B"'
ok "torn grubenv: the hook rewrites it from install.json and the counters; slot B boots on"

# Scenario 5, committed
[ -s s5ok/2.boot ] || failed s5ok "scenario 5 (commit): boot $(cat s5ok/last-boot) failed"
has s5ok 1 txt "switchback: first boot of slot A; waiting for switchback mark-good"
has s5ok 1 txt "^first boot of slot A: it is now the committed slot"
has s5ok 1 txt "^mark-good: exit=0"
has s5ok 1 txt "^update: exit=10"
has s5ok 1 env "^SB_ORDER=B A$"
has s5ok 1 env "^SB_B_TRIES=$us_tries$"
ok "confirm=userspace: mark-good confirms the first boot of A, which installs B"

has s5ok 2 txt "sb-grub: slot=B"
await="switchback: trial boot of slot B (rootfs-v2.img); waiting for switchback mark-good"
has s5ok 2 txt "$await"
has s5ok 2 txt "^userspace: install.json state=staged before mark-good"
has s5ok 2 txt "^trial boot of slot B (rootfs-v2.img) committed"
has s5ok 2 txt "^mark-good: exit=0"
has s5ok 2 txt "^Up to date: slot B runs rootfs-v2.img"
has s5ok 2 install.json '"committed" *: *"B"'
has s5ok 2 install.json '"state" *: *"idle"'
has s5ok 2 env "^SB_ORDER=B A$"
has s5ok 2 env "^SB_B_TRIES=$us_tries$"
has s5ok 2 counters.json '"image-rollback-counter" *: *2'
grep -ls '"OK"' s5ok/repo/director/manifests/*.json >s5ok/ok-reports \
  || failed s5ok "scenario 5: the Director has no manifest with an OK installation report"
ok "confirm=userspace: the hook leaves B's trial staged; mark-good commits it, the Director gets OK"

# Scenario 5, rolled back
[ -s s5rb/last ] || failed s5rb "scenario 5 (rollback): GRUB never fell back to slot A"
last=$(cat s5rb/last)
assert_streq "$((last - 2))" "$us_tries"
for n in $(seq 2 $((last - 1))); do
  has s5rb "$n" txt "sb-grub: slot=B"
  has s5rb "$n" txt "^SB-QEMU: init slot=B version=2 emergency=0"
  has s5rb "$n" txt "$await"
  has s5rb "$n" txt "^userspace: health check failed on slot B"
  lacks s5rb "$n" txt "^mark-good:"
  has s5rb "$n" boot "^boot: $arch reset "
  has s5rb "$n" install.json '"state" *: *"staged"'
  has s5rb "$n" install.json '"committed" *: *"A"'
  has s5rb "$n" env "^SB_B_TRIES=$((us_tries - n + 1))$"
done
ok "confirm=userspace: without mark-good, B stays an unconfirmed trial through its $us_tries tries"

has s5rb "$last" txt "sb-grub: slot=A"
has s5rb "$last" txt "^SB-QEMU: init slot=A version=1 emergency=0"
has s5rb "$last" txt "switchback: trial boot of slot B (rootfs-v2.img) failed: rolled back to"\
" slot A after $us_tries failed boots"
has s5rb "$last" txt "^mark-good: exit=0"
has s5rb "$last" txt "^Not installing rootfs-v2.img: its trial boot failed before"
has s5rb "$last" txt "^update: exit=0"
has s5rb "$last" install.json '"committed" *: *"A"'
has s5rb "$last" install.json '"state" *: *"idle"'
has s5rb "$last" env "^SB_ORDER=A B$"
has s5rb "$last" env "^SB_A_TRIES=$us_tries$"
lacks s5rb "$last" counters.json '"image-rollback-counter" *: *2'
grep -ls 'INSTALL_FAILED' s5rb/repo/director/manifests/*.json >s5rb/failed-reports \
  || failed s5rb "scenario 5: the Director has no manifest with INSTALL_FAILED"
ok "confirm=userspace: GRUB falls back to A, the hook records the rollback, the Director gets" \
  "INSTALL_FAILED"

echo "# time: scenario 3 (power cut mid-install, resume, commit; 3 boots) $(cat s34/seconds3) s"
echo "# time: scenario 4 (anti-rollback refusal; 2 boots) $(cat s34/seconds4) s"
echo "# time: scenario 6 (torn grubenv rewritten; $(( $(cat s34/torn-last) - 5 )) boots) $(cat s34/seconds6) s"
echo "# time: scenario 5 first boot (A confirmed, installs B; 1 boot) $(cat s5ok/seconds1) s"
echo "# time: scenario 5 commit (then B confirmed by mark-good; 1 boot) $(cat s5ok/seconds) s"
echo "# time: scenario 5 rollback (then B never confirmed, A again; $(( $(cat s5rb/last) - 1 ))" \
  "boots) $(cat s5rb/seconds) s"
echo "# time: whole test $((SECONDS - t_all)) s"
sed 's/^/# time: /' "$SB_QEMU_TIMINGS"
