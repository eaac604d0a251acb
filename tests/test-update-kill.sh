# Power cuts during `switchback update`: the process is killed with SIGKILL at many points of the
# download, the write, the verification and the staging, chosen by the test-only fault points of
# sb-install.h (SWITCHBACK_TEST_KILL_AT) and by plain `kill -9` after increasing delays. After
# every kill:
#  - slot A, the booted one, is byte for byte what it was;
#  - grubenv never sends GRUB to an incomplete slot: the project's GRUB script, run on the
#    grubenv as the kill left it, boots slot A, or slot B only when install.json says written or
#    staged for it and B holds the image's exact bytes; and switchback-boot accepts that boot;
#  - install.json's bytes_done never claims bytes the slot does not hold;
#  - the next `switchback update` completes (exit 10, the image staged in slot B), and resumes
#    from bytes_done when the kill left some.
#
# The kills are of the process, not of the machine, so fsync adds nothing here but time: the
# test runs on tmpfs when it can (TMPDIR, if set, wins).
[ -n "${TMPDIR:-}" ] || { [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm; } || true
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/test-update-lib.sh"
require_test_hooks

IMG=os-2.img
LEN=$((6 * 1024 * 1024 + 4321))
MIB=$((1024 * 1024))

new_repo
new_system
add_image $IMG $LEN 20 --release-counter 2
assign $IMG --correlation-id urn:kill
IMG_SHA=$(image_sha $IMG)
cp -a sys/state state.pristine
cp sys/grubenv grubenv.pristine

# Named points of one fresh run, in the order they are reached (sb-install.h).
fresh_points=(update-reported update-verified begun prepared received:1 written:1)
for k in 65536 $((MIB / 2)) $((MIB + 1)) $((2 * MIB + 7)) $((3 * MIB)) $((4 * MIB + 100)) \
  $((5 * MIB + 5)) $((6 * MIB)) $LEN; do
  fresh_points+=(received:$k written:$k)
done
# The writer stays within two checkpoint intervals (1 MiB here) of the last checkpoint, so a run
# over 6 MiB makes at least two, and one over the 4 MiB after them at least one.
fresh_points+=(checkpoint:1 checkpoint:2)
fresh_points+=(streamed synced verified written-state update-installed update-recorded update-staged)
# Points of a run that resumes what a run killed at its second checkpoint left.
resume_points=(begun prepared rehashed)
for k in $((2 * MIB + 1)) $((4 * MIB)) $LEN; do resume_points+=(received:$k written:$k); done
resume_points+=(checkpoint:1 streamed synced verified written-state update-installed update-staged)
delays=(0.05 0.1 0.2 0.35 0.5 0.7 0.9 1.2 1.5 1.8 2.2 2.6)

plan $((${#fresh_points[@]} + ${#resume_points[@]} + ${#delays[@]} + 2))

reset_system () {
  rm -rf sys/state
  cp -a state.pristine sys/state
  cp grubenv.pristine sys/grubenv
  booted A
  write_slot B junk-b.img
  clear_faults
}

# kill_at POINT: one update killed at POINT, which it must reach.
kill_at () {
  local rc=0
  SWITCHBACK_TEST_KILL_AT=$1 "${SB[@]}" update --no-progress >kill.out 2>kill.err || rc=$?
  [ "$rc" = 137 ] || { sed 's/^/# /' kill.err; fatal "update exited $rc, not killed at $1"; }
}

# check_after_kill WHAT: the invariants above, as the kill left the system.
check_after_kill () {
  assert_active_intact
  local state=idle slot=- done=0
  if [ -f sys/state/install.json ]; then
    read -r state slot done < <(json_get sys/state/install.json \
      '" ".join((d["state"], d.get("slot", "-"), str(d.get("bytes_done", 0))))')
  fi
  if [ "$state" = downloading ] && [ "$done" -gt 0 ]; then
    assert_streq "$(slot_sha B "$done")" "$(head -c "$done" "images/$IMG" | sha256sum | cut -d' ' -f1)"
  fi
  # A boot now, on copies of grubenv and the state (the disk is only read).
  rm -rf sysr
  mkdir sysr
  cp -a sys/state sysr/state
  cp sys/grubenv sys/cmdline sysr/
  sed "s|$SB_TMP/sys/state|$SB_TMP/sysr/state|; s|$SB_TMP/sys/grubenv|$SB_TMP/sysr/grubenv|; s|$SB_TMP/sys/cmdline|$SB_TMP/sysr/cmdline|" \
    sys/switchback.conf >sysr/switchback.conf
  sb_grub_sim sys/switchback.cfg sysr/grubenv sysr/cmdline sys/disk.img \
    || fatal "the GRUB script failed"
  local booted
  booted=$(sed -n 's/.*switchback\.slot=\([AB]\).*/\1/p' sysr/cmdline)
  if [ "$booted" = B ]; then
    case "$state" in written | staged) ;; *) fatal "$1: GRUB boots slot B while install.json is $state" ;; esac
    assert_streq "$slot" B
    assert_streq "$(slot_sha B $LEN)" "$IMG_SHA"
  else
    assert_streq "$booted" A
  fi
  local rc=0
  switchback-boot --config sysr/switchback.conf --stderr >sysr/boot.out 2>&1 || rc=$?
  [ "$rc" = 0 ] || { sed 's/^/# /' sysr/boot.out; fatal "$1: switchback-boot exited $rc"; }
  assert_not_file_has_content sysr/boot.out 'refus'
  KILL_STATE=$state
  KILL_DONE=$done
}

# complete: the next update stages the image, resuming from what the kill left.
complete () {
  update 10 --json
  assert_streq "$(install_state)" staged
  assert_streq "$(env_get SB_ORDER) $(env_get SB_B_TRIES)" "B A 3"
  assert_streq "$(slot_sha B $LEN)" "$IMG_SHA"
  assert_active_intact
  local resumed fetched
  read -r resumed fetched < <(json_get out.txt \
    '"%d %d" % (d["install"]["resumed_from"], d["install"]["fetched"])')
  if [ "$KILL_STATE" = downloading ] && [ "$KILL_DONE" -gt 0 ]; then
    assert_streq "$resumed" "$KILL_DONE"
    assert_streq "$fetched" $((LEN - KILL_DONE))
  elif [ "$KILL_STATE" = written ] || [ "$KILL_STATE" = staged ]; then
    assert_streq "$fetched" 0
  fi
}

n=0
for p in "${fresh_points[@]}"; do
  reset_system
  kill_at "$p"
  check_after_kill "$p"
  complete
  n=$((n + 1))
  ok "killed at $p (fresh install): booted slot intact, grubenv safe, the next update completes"
done

for p in "${resume_points[@]}"; do
  reset_system
  kill_at checkpoint:2
  check_after_kill checkpoint:2
  kill_at "$p"
  check_after_kill "$p"
  complete
  n=$((n + 1))
  ok "killed at $p of a resumed install: booted slot intact, grubenv safe, the next update completes"
done

# Plain kill -9 at increasing times while a throttled download runs, then at the same times in
# the follow-up runs: wherever the kill lands, the same holds.
for d in "${delays[@]}"; do
  reset_system
  fault /repo/targets/$IMG throttle=2500000
  "${SB[@]}" update --no-progress >kill.out 2>kill.err &
  upid=$!
  sleep "$d"
  kill -9 $upid 2>/dev/null || true
  rc=0
  wait $upid || rc=$?
  check_after_kill "kill -9 after ${d}s"
  clear_faults
  complete
  if [ "$rc" = 137 ]; then
    n=$((n + 1))
    ok "kill -9 after ${d}s (install.json $KILL_STATE at $KILL_DONE): the next update completes"
  else
    ok "update finished (exit $rc) before the kill after ${d}s; the next update completes"
  fi
done

# Kills in successive runs without a reset: each run resumes what the one before left.
reset_system
last=0
for k in $((2 * MIB)) $((4 * MIB)) $((6 * MIB)); do
  kill_at written:$k
  check_after_kill written:$k
  [ "$KILL_DONE" -ge "$last" ] || fatal "bytes_done went back from $last to $KILL_DONE"
  last=$KILL_DONE
done
[ "$last" -gt 0 ] || fatal "no progress kept across the runs"
complete
n=$((n + 3))
ok "three runs killed one after the other each keep the progress before them (bytes_done $last)"

# The staged system then boots the new slot and commits it.
reboot
assert_streq "$BOOTED" B
assert_file_has_content boot.out 'committed'
ok "after all that, the staged slot boots and is committed ($n kill points)"
