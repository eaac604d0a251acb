# `switchback update` against a real Uptane pair served by switchback-repo: install, stage, a
# simulated reboot through the GRUB script and switchback-boot, confirmation with
# confirm=initramfs and confirm=userspace (mark-good, mark-bad), the failed trial that is not
# retried, and images that are refused.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/test-update-lib.sh"

plan 12

new_repo
new_system
add_image os-2.img $((5 * 1024 * 1024 + 333)) 20 --release-counter 2
assign os-2.img --correlation-id urn:c:2

update 10
assert_file_has_content out.txt 'Installed os-2.img into slot B'
assert_slot_holds B os-2.img
assert_active_intact
assert_streq "$(env_get SB_ORDER) $(env_get SB_A_TRIES) $(env_get SB_B_TRIES)" "B A 3 3"
assert_streq "$(install_state)" staged
assert_streq "$(json_get sys/state/counters.json 'd["pending-image-rollback-counter"], d["slots"]["B"]')" "(2, 2)"
ok "update installs into the inactive slot and stages it (exit 10)"

gets=$(hits /repo/targets/os-2.img)
update 10 --json
assert_streq "$(json_get out.txt 'd["outcome"], d["reboot_needed"], d["slot"]')" "('already-staged', True, 'B')"
assert_streq "$(hits /repo/targets/os-2.img)" "$gets"
ok "a second update finds it staged and fetches nothing"

reboot
assert_streq "$BOOTED" B
assert_file_has_content boot.out 'trial boot of slot B (os-2.img) committed'
update 0
assert_file_has_content out.txt 'Up to date: slot B runs os-2.img'
assert_streq "$(installed_reported)" os-2.img
assert_streq "$(reported | tail -n 1)" "OK urn:c:2"
ok "after the committed trial boot the Director hears OK and the installed image"

# confirm=userspace: the trial waits for mark-good.
sed -i 's/^confirm=.*/confirm=userspace/' sys/switchback.conf
add_image os-3.img $((3 * 1024 * 1024)) 30 --release-counter 3
assign os-3.img --correlation-id urn:c:3
update 10
assert_slot_holds A os-3.img
reboot
assert_streq "$BOOTED" A
assert_file_has_content boot.out 'waiting for switchback mark-good'
assert_streq "$(install_state)" staged
expect_exit 0 "${SB[@]}" mark-good
assert_file_has_content out.txt 'committed'
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'A')"
assert_streq "$(json_get sys/state/counters.json 'd["image-rollback-counter"]')" 3
assert_streq "$(env_get SB_ORDER) $(env_get SB_A_TRIES)" "A B 3"
ok "mark-good commits a trial boot with confirm=userspace"

add_image os-4.img $((2 * 1024 * 1024)) 40 --release-counter 4
assign os-4.img --correlation-id urn:c:4
update 10
reboot
assert_streq "$BOOTED" B
expect_exit 0 "${SB[@]}" mark-bad --json
assert_streq "$(json_get out.txt 'd["marked"], d["next_slot"]')" "('bad', 'A')"
assert_streq "$(env_get SB_B_TRIES)" 0
reboot
assert_streq "$BOOTED" A
assert_file_has_content boot.out 'rolled back'
ok "mark-bad leaves a trial slot, and the next boot rolls it back"

gets=$(hits /repo/targets/os-4.img)
update 0
assert_file_has_content err.txt 'trial boot of os-4.img in slot B failed'
assert_file_has_content out.txt 'Not installing os-4.img'
assert_streq "$(hits /repo/targets/os-4.img)" "$gets"
assert_streq "$(reported | tail -n 1)" "INSTALL_FAILED urn:c:4"
assert_streq "$(installed_reported)" os-3.img
update 0
assert_file_has_content out.txt 'Not installing os-4.img'
ok "a rolled-back target is reported and not installed again for its correlation id"

assign os-4.img --correlation-id urn:c:4b
update 10
assert_slot_holds B os-4.img
ok "the same image assigned anew is installed again"

# Bad images. Each leaves the booted slot alone and grubenv pointing at it.
new_repo
new_system
before_b=$(slot_sha B)
add_image big.img $((SLOT_SIZE + 4096)) 50
assign big.img --correlation-id urn:c:big
update 5
assert_file_has_content err.txt 'no-space'
assert_streq "$(slot_sha B)" "$before_b"
assert_streq "$(hits /repo/targets/big.img)" 0
assert_streq "$(env_get SB_ORDER) $(env_get SB_A_TRIES) $(env_get SB_B_TRIES)" "A B 3 3"
assert_streq "$(reported | tail -n 1)" "INSTALL_FAILED urn:c:big"
assert_active_intact
ok "an image larger than the slot is refused before its first byte (INSTALL_FAILED)"

add_image other-hw.img 4096 51
switchback-repo uptane-add-image repo images/other-hw.img --name other-hw.img \
  --hardware-id board-z --publish >/dev/null
assign other-hw.img --hardware-id "$HWID" --correlation-id urn:c:hw
update 3
assert_file_has_content err.txt 'bad-hardware-id'
assert_streq "$(slot_sha B)" "$before_b"
assert_streq "$(env_get SB_ORDER) $(env_get SB_B_TRIES)" "A B 3"
ok "an image for another hardware id is refused before the download"

add_image wrong-hash.img $((1024 * 1024)) 52
assign wrong-hash.img --sha256 "$(printf '%064d' 0)" --correlation-id urn:c:hash
update 3
assert_file_has_content err.txt 'mismatch'
assert_streq "$(hits /repo/targets/wrong-hash.img)" 0
assign wrong-hash.img --length 1000 --correlation-id urn:c:len
update 3
assert_file_has_content err.txt 'mismatch'
assert_streq "$(hits /repo/targets/wrong-hash.img)" 0
assert_streq "$(env_get SB_ORDER) $(env_get SB_B_TRIES)" "A B 3"
ok "a Director hash or length that the Image repository does not list is refused (mix-and-match)"

# The served bytes are not the image: corrupted, then cut short.
add_image served.img $((2 * 1024 * 1024)) 53
assign served.img --correlation-id urn:c:served
fault /repo/targets/served.img corrupt 1
update 3
assert_file_has_content err.txt 'hash-mismatch'
assert_streq "$(install_state)" idle
assert_streq "$(env_get SB_ORDER) $(env_get SB_B_TRIES)" "A B 0"
assert_streq "$(reported | tail -n 1)" "VERIFICATION_FAILED urn:c:served"
fault /repo/targets/served.img truncate=1000000 1
update 3
assert_file_has_content err.txt 'length-mismatch'
assert_streq "$(install_state)" idle
assert_active_intact
ok "served bytes with a wrong hash or length are not staged (VERIFICATION_FAILED)"

update 10
assert_slot_holds B served.img
assert_active_intact
ok "the next update after a verification failure installs the good image"
