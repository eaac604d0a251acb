# Simulated boots for switchback-boot (design.md §4): every case with confirm=initramfs and
# confirm=userspace, and state it cannot read. Each boot runs the real binary with a temporary
# config, a state directory, a grubenv made by grub-editenv and a fake kernel command line;
# grubenv is checked afterwards with `grub-editenv FILE list`.
source "$top_srcdir/tests/libtest.sh"

command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"

plan 26

# new_system CONFIRM: a fresh system in ./sys with config, state dir and grubenv.
new_system () {
  rm -rf sys
  mkdir -p sys/state sys/esp
  cat >sys/switchback.conf <<EOF
[storage]
state-dir=$SB_TMP/sys/state
[boot]
grubenv=$SB_TMP/sys/esp/grubenv
max-tries=3
confirm=$1
cmdline-file=$SB_TMP/sys/cmdline
EOF
  grub-editenv sys/esp/grubenv create
}

# grubenv NAME=VALUE...: sets grubenv variables as GRUB left them.
grubenv () { grub-editenv sys/esp/grubenv set "$@"; }
booted () { echo "BOOT_IMAGE=/boot/vmlinuz root=LABEL=rootfs-x ro switchback.slot=$1 ${2:-}" >sys/cmdline; }
state () { printf '%s\n' "$1" >sys/state/install.json; }
counters () { printf '%s\n' "$1" >sys/state/counters.json; }

# boot STATUS: runs switchback-boot as the hook would (without --reboot).
boot () {
  cp sys/esp/grubenv grubenv.before
  expect_exit "$1" switchback-boot --config sys/switchback.conf --stderr
}

# assert_env "SB_ORDER=A B" "SB_A_TRIES=3" ...: grubenv holds exactly these SB_ variables.
assert_env () {
  grub-editenv sys/esp/grubenv list | grep '^SB_' | sort >env.txt
  printf '%s\n' "$@" | sort >env.want
  if ! cmp -s env.txt env.want; then
    echo "# grubenv:"; sed 's/^/#   /' env.txt; echo "# expected:"; sed 's/^/#   /' env.want
    fatal "grubenv differs"
  fi
}
assert_env_unchanged () { assert_files_equal sys/esp/grubenv grubenv.before; }
json_get () { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }
reports () { ls sys/state/reports 2>/dev/null | grep -c '\.json$' || true; }
last_report () { ls sys/state/reports/*.json | sort | tail -n 1; }

staged_b='{"state": "staged", "committed": "A", "slot": "B", "target": "image-2.bin", "length": 4096,
 "hashes": {"sha256": "00"}, "correlation_id": "urn:c:2", "bytes_done": 4096, "release_counter": 7}'
counters_staged='{"director": {"targets": 3}, "image": {"targets": 4}, "image-rollback-counter": 6,
 "pending-image-rollback-counter": 7, "slots": {"A": 6, "B": 7}}'

# Case 1: the staged slot booted.
new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=2
state "$staged_b"; counters "$counters_staged"; booted B
boot 0
assert_file_has_content err.txt 'switchback: trial boot of slot B (image-2.bin) committed'
assert_env "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'B')"
assert_streq "$(json_get sys/state/counters.json 'd["image-rollback-counter"], "pending-image-rollback-counter" in d, d["slots"]["B"], d["director"]["targets"]')" "(7, False, 7, 3)"
assert_streq "$(reports)" 1
assert_streq "$(json_get "$(last_report)" 'd["success"], d["result_code"], d["correlation_id"], d["target"]')" "(True, 'OK', 'urn:c:2', 'image-2.bin')"
ok "trial boot committed with confirm=initramfs"

new_system userspace
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=2
state "$staged_b"; counters "$counters_staged"; booted B
cp sys/state/install.json install.before; cp sys/state/counters.json counters.before
boot 0
assert_file_has_content err.txt 'trial boot of slot B (image-2.bin); waiting for switchback mark-good'
assert_env_unchanged
assert_files_equal sys/state/install.json install.before
assert_files_equal sys/state/counters.json counters.before
assert_streq "$(reports)" 0
ok "trial boot waits for mark-good with confirm=userspace"

# Case 2: GRUB used up the staged slot's tries and fell back.
for confirm in initramfs userspace; do
  new_system $confirm
  grubenv "SB_ORDER=B A" SB_A_TRIES=2 SB_B_TRIES=0
  state "$staged_b"; counters "$counters_staged"; booted A
  boot 0
  assert_file_has_content err.txt 'trial boot of slot B (image-2.bin) failed: rolled back to slot A after 3 failed boots'
  if [ $confirm = initramfs ]; then
    assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=0
  else
    assert_env "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=0
  fi
  assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'A')"
  # The counters stay: nothing promoted, the pending one dropped.
  assert_streq "$(json_get sys/state/counters.json 'd["image-rollback-counter"], "pending-image-rollback-counter" in d')" "(6, False)"
  assert_streq "$(json_get "$(last_report)" 'd["success"], d["result_code"], d["correlation_id"]')" "(False, 'INSTALL_FAILED', 'urn:c:2')"
  assert_file_has_content "$(last_report)" 'rolled back to slot A after 3 failed boots'
  ok "failed trial rolled back with confirm=$confirm"
done

# Case 3: a normal boot of the committed slot.
new_system initramfs
grubenv "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=3
state '{"state": "idle", "committed": "A"}'; counters '{"image-rollback-counter": 6, "slots": {"A": 6}}'
booted A
boot 0
assert_file_has_content err.txt 'switchback: normal boot of slot A$'
assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
assert_streq "$(reports)" 0
ok "normal boot resets the tries with confirm=initramfs"

new_system userspace
grubenv "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=3
state '{"state": "idle", "committed": "A"}'; booted A
boot 0
assert_file_has_content err.txt 'normal boot of slot A; waiting for switchback mark-good'
assert_env_unchanged
ok "normal boot leaves the tries to mark-good with confirm=userspace"

# Case 4: a slot older than the committed release (grubenv edited by hand).
for confirm in initramfs userspace; do
  new_system $confirm
  grubenv "SB_ORDER=B A" SB_A_TRIES=1 SB_B_TRIES=3
  state '{"state": "idle", "committed": "A"}'
  counters '{"image-rollback-counter": 6, "slots": {"A": 6, "B": 5}}'
  cp sys/state/counters.json counters.before
  booted B
  boot 10
  assert_file_has_content err.txt 'slot B holds release 5, below the committed release 6: refused, rebooting into slot A'
  assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=0
  assert_files_equal sys/state/counters.json counters.before
  assert_streq "$(json_get sys/state/install.json 'd["committed"]')" A
  ok "older slot refused and committed slot restored with confirm=$confirm"
done

# A staged slot that GRUB has not tried yet (power cut between install.json and grubenv).
new_system initramfs
grubenv "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=3
state "$staged_b"; counters "$counters_staged"; booted A
boot 0
assert_file_has_content err.txt 'slot B (image-2.bin) is staged but was not tried yet: it boots next'
assert_env "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
assert_streq "$(json_get sys/state/install.json 'd["state"]')" staged
ok "staged slot not yet tried is staged again"

# grubenv staged, install.json still "written" (power cut at the last step of staging).
new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
state "${staged_b/\"staged\"/\"written\"}"; counters "$counters_staged"; booted A
boot 0
assert_streq "$(json_get sys/state/install.json 'd["state"]')" staged
assert_env "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
ok "staging cut short before install.json is completed"

# A written install whose slot GRUB booted: the trial happened, so it is committed.
new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=2
state "${staged_b/\"staged\"/\"written\"}"; counters "$counters_staged"; booted B
boot 0
assert_file_has_content err.txt 'trial boot of slot B (image-2.bin) committed'
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'B')"
ok "trial of a written install committed"

# A half-written slot booted by hand is refused; the install stays to resume.
new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=1
state '{"state": "downloading", "committed": "A", "slot": "B", "target": "image-2.bin", "length": 4096, "hashes": {"sha256": "00"}, "bytes_done": 100}'
booted B
boot 10
assert_file_has_content err.txt 'slot B is being rewritten by an unfinished install: refused, rebooting into slot A'
assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=0
assert_streq "$(json_get sys/state/install.json 'd["state"], d["bytes_done"]')" "('downloading', 100)"
ok "half-written slot refused"

# First boot: no state files at all.
new_system initramfs
booted A
boot 0
assert_file_has_content err.txt 'first boot of slot A: it is now the committed slot'
assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'A')"
ok "first boot adopts the booted slot"

# The committed slot ran out of tries before the hook and GRUB fell back to the other one.
new_system initramfs
grubenv "SB_ORDER=A B" SB_A_TRIES=0 SB_B_TRIES=2
state '{"state": "idle", "committed": "A"}'; counters '{"image-rollback-counter": 6, "slots": {"A": 6, "B": 6}}'
booted B
boot 0
assert_file_has_content err.txt 'slot B booted instead of the committed slot A: it is now the committed slot'
assert_env "SB_ORDER=B A" SB_A_TRIES=0 SB_B_TRIES=3
assert_streq "$(json_get sys/state/install.json 'd["committed"]')" B
ok "fallback to a current slot adopts it"

# A factory slot whose release nobody recorded: committing the trial of the other slot records
# it at the release committed until then, so a hand-edited grubenv cannot bring it back.
new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=2
state "$staged_b"
counters '{"image-rollback-counter": 6, "pending-image-rollback-counter": 7, "slots": {"B": 7}}'
booted B
boot 0
assert_streq "$(json_get sys/state/counters.json 'd["slots"]["A"], d["slots"]["B"], d["image-rollback-counter"]')" "(6, 7, 7)"
grubenv "SB_ORDER=A B" SB_A_TRIES=3
booted A
boot 10
assert_file_has_content err.txt 'slot A holds release 6, below the committed release 7: refused, rebooting into slot B'
assert_streq "$(json_get sys/state/install.json 'd["committed"]')" B
assert_env "SB_ORDER=B A" SB_A_TRIES=0 SB_B_TRIES=3
ok "a slot of unrecorded release is refused once a newer release is committed"

# Emergency: GRUB found no tries; nothing is touched.
new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=0 SB_B_TRIES=0
state "$staged_b"; counters "$counters_staged"; booted B switchback.emergency=1
cp sys/state/install.json install.before
boot 0
assert_file_has_content err.txt 'emergency boot of slot B'
assert_env_unchanged
assert_files_equal sys/state/install.json install.before
ok "emergency boot changes nothing"

# State it cannot read never blocks the boot.
new_system initramfs
grubenv "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=3
state '{"state": "staged", "slot": '; booted A
boot 0
assert_file_has_content err.txt "cannot read the boot state: state file .*install.json is damaged"
assert_file_has_content err.txt "boot left alone"
assert_env_unchanged
assert_streq "$(json_get "$(last_report)" 'd["success"], d["result_code"]')" "(False, 'INTERNAL_ERROR')"
ok "corrupt install.json: boot left alone, error queued"

new_system initramfs
grubenv "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=3
state '{"state": "idle", "committed": "A"}'; counters '{"image-rollback-counter": "six"}'; booted A
boot 0
assert_file_has_content err.txt "counters.json is damaged"
assert_env_unchanged
ok "corrupt counters.json: boot left alone"

new_system initramfs
rm sys/esp/grubenv
state '{"state": "idle", "committed": "A"}'; booted A
cp sys/state/install.json install.before
expect_exit 0 switchback-boot --config sys/switchback.conf --stderr
assert_file_has_content err.txt "cannot read the boot state: opening GRUB environment block .*grubenv"
assert_files_equal sys/state/install.json install.before
ok "missing grubenv: boot left alone"

# tear_grubenv: the block's second sector lost in a torn write (zeros where it was).
tear_grubenv () {
  python3 -c 'import sys; p = sys.argv[1]; b = open(p, "rb").read(); open(p, "r+b").write(b[:512] + bytes(512))' sys/esp/grubenv
}

# A damaged grubenv is rewritten from the state directory, then decided on as usual.
new_system initramfs
head -c 1000 /dev/zero >sys/esp/grubenv
state '{"state": "idle", "committed": "A"}'; booted A
boot 0
assert_file_has_content err.txt "is not a GRUB environment block.*rewritten from install.json and counters.json"
assert_streq "$(stat -c %s sys/esp/grubenv)" 1024
assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
assert_file_has_content err.txt "normal boot of slot A"
ok "garbage grubenv: rewritten, committed slot first"

new_system initramfs
grubenv "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=2 "$(printf 'pad=%0700d' 0)"
tear_grubenv
state "$staged_b"; counters "$counters_staged"; booted B
boot 0
assert_file_has_content err.txt "rewritten from install.json and counters.json: SB_ORDER=\"B A\" SB_A_TRIES=3 SB_B_TRIES=3"
assert_file_has_content err.txt 'trial boot of slot B (image-2.bin) committed'
assert_env "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'B')"
ok "torn grubenv during a trial: staged again, then committed"

new_system initramfs
grubenv "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=0 "$(printf 'pad=%0700d' 0)"
tear_grubenv
state '{"state": "downloading", "committed": "A", "slot": "B", "target": "image-2.bin", "length": 4096,
 "hashes": {"sha256": "00"}, "bytes_done": 1024}'
counters '{"image-rollback-counter": 6, "slots": {"A": 6}}'; booted A
boot 0
assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=0
assert_streq "$(json_get sys/state/install.json 'd["state"], d["bytes_done"]')" "('downloading', 1024)"
ok "torn grubenv during a download: the half-written slot gets no tries"

new_system initramfs
echo garbage >sys/esp/grubenv
state '{"state": "idle", "committed": "A"}'; counters '{"image-rollback-counter": 6, "slots": {"A": 6, "B": 5}}'
booted A
boot 0
assert_env "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=0
ok "garbage grubenv: an older other slot gets no tries"

new_system initramfs
echo "root=/dev/sda2 ro" >sys/cmdline
boot 0
assert_file_has_content err.txt "has no switchback.slot="
assert_env_unchanged
ok "no switchback.slot= on the command line: boot left alone"

new_system initramfs
rm -rf sys/state; echo "not a directory" >sys/state; booted A
boot 0
assert_file_has_content err.txt "boot left alone"
assert_file_has_content err.txt "could not queue an error report either"
assert_env_unchanged
ok "unusable state directory: boot left alone"

expect_exit 0 switchback-boot --config "$SB_TMP/missing.conf" --stderr
assert_file_has_content err.txt "missing.conf"
ok "missing config: boot left alone"
