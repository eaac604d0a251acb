# Server faults during the image download of `switchback update` (switchback-repo serve's fault
# switches): a connection cut mid-body, a server restart, a server that ignores Range, endless
# data past the target's length, a server too slow to wait for. None of them may leave grubenv
# pointing at the slot being written, and the install completes once the server behaves.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/test-update-lib.sh"
require_test_hooks

plan 6

IMG=os-2.img
new_repo
new_system
add_image $IMG $((5 * 1024 * 1024 + 999)) 20 --release-counter 2
assign $IMG
T=/repo/targets/$IMG

# assert_not_booting_b: GRUB would boot slot A, untouched.
assert_not_booting_b () {
  assert_streq "$(env_get SB_ORDER)" "A B"
  assert_streq "$(env_get SB_B_TRIES)" 0
  assert_active_intact
}

fault $T drop-connection-after=1500000 2
update 10 --json
assert_slot_holds B $IMG
assert_streq "$(hits $T)" 3
assert_streq "$(json_get out.txt 'd["install"]["fetched"]')" "$(image_size $IMG)"
assert_active_intact
ok "connections cut mid-body are resumed with Range within one update"

# The server goes away in the middle of the download and comes back later. The body pauses
# after 3 MB (past two 1 MiB checkpoints), and the server is stopped once that pause is on the
# socket: an event, so the download cannot finish first however loaded the machine is.
new_system
clear_faults
fault $T pause-after=3000000
"${SB[@]}" update --json >update.out 2>update.err &
upid=$!
SB_PIDS+=($upid)
assert_streq "$(curl -sf "$REPO_URL/_control/paused?path=$T")" 1
stop_server
rc=0
wait $upid || rc=$?
assert_streq "$rc" 4
assert_file_has_content update.err 'download-failed'
assert_streq "$(install_state)" downloading
done_before=$(json_get sys/state/install.json 'd["bytes_done"]')
[ "$done_before" -ge $((2 * 1024 * 1024)) ] || fatal "checkpoint at $done_before, before the 3 MB received"
assert_not_booting_b
restart_server
update 10 --json
assert_streq "$(json_get out.txt 'd["install"]["resumed_from"]')" "$done_before"
assert_streq "$(json_get out.txt 'd["install"]["fetched"]')" $(($(image_size $IMG) - done_before))
assert_slot_holds B $IMG
assert_active_intact
ok "after a server restart the next update resumes at the last checkpoint"

# An interrupted install, then a server that ignores Range: everything is fetched again.
new_system
clear_faults
rc=0
SWITCHBACK_TEST_KILL_AT=checkpoint:2 "${SB[@]}" update >/dev/null 2>&1 || rc=$?
assert_streq "$rc" 137
[ "$(json_get sys/state/install.json 'd["bytes_done"]')" -gt 0 ] || fatal "no checkpoint"
fault $T ignore-range
update 10 --json
assert_streq "$(json_get out.txt 'd["install"]["restarted"], d["install"]["fetched"]')" "(True, $(image_size $IMG))"
assert_slot_holds B $IMG
assert_active_intact
ok "a server that ignores Range makes the resumed install start over, and it completes"

# Endless data: the server streams the image and then never stops.
new_system
clear_faults
before_tail=$(dd if=sys/disk.img iflag=skip_bytes,count_bytes skip=$(($(slot_offset B) + $(image_size $IMG))) \
  count=$((SLOT_SIZE - $(image_size $IMG))) status=none | sha256sum)
fault $T endless
update 4
assert_file_has_content err.txt 'endless-data'
assert_not_booting_b
after_tail=$(dd if=sys/disk.img iflag=skip_bytes,count_bytes skip=$(($(slot_offset B) + $(image_size $IMG))) \
  count=$((SLOT_SIZE - $(image_size $IMG))) status=none | sha256sum)
assert_streq "$after_tail" "$before_tail"
ok "endless data past the target length is cut off there, nothing written beyond it"

clear_faults
update 10
assert_slot_holds B $IMG
ok "after endless data the next update completes from what was verified"

# A server below the minimum speed is cut off (slow retrieval).
new_system
fault $T throttle=2000
mkdir -p "$SB_TMP/sys/conf.d"
printf '[network]\nlow-speed-limit=100000\nlow-speed-time=1\n' >"$SB_TMP/sys/conf.d/50-slow-link.conf"
update 4
rm "$SB_TMP/sys/conf.d/50-slow-link.conf"
assert_file_has_content err.txt 'slow-retrieval'
assert_not_booting_b
clear_faults
update 10
assert_slot_holds B $IMG
ok "a server below the minimum speed is cut off, and the next update completes"
