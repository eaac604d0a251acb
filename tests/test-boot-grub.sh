# The GRUB script (grub/gen-switchback-cfg.sh): syntax with grub-script-check for every
# max-tries, the structure of its decrement chains, and its behaviour, run under bash with the
# few GRUB commands it uses replaced by shims over grub-editenv. The last tests boot a trial and a
# failing trial end to end: the script chooses, switchback-boot decides.
source "$top_srcdir/tests/libtest.sh"

command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"

gen="$top_srcdir/grub/gen-switchback-cfg.sh"
plan 11

if command -v grub-script-check >/dev/null; then
  for n in 1 2 3 4 5 6 7 8 9; do
    sh "$gen" $n >sb$n.cfg
    grub-script-check sb$n.cfg || fatal "grub-script-check refused the script for max-tries $n"
    sh "$gen" --grub-d $n >grubd$n
    sh grubd$n >grubd$n.cfg
    assert_files_equal grubd$n.cfg sb$n.cfg
  done
  ok "grub-script-check accepts the script for max-tries 1..9, also as an /etc/grub.d snippet"
else
  for n in 1 2 3 4 5 6 7 8 9; do sh "$gen" $n >sb$n.cfg; done
  ok "# SKIP grub-script-check is not installed"
fi

# The decrement chain for each slot has one branch per value, from max-tries down to 1.
for n in 1 2 3 4 5 6 7 8 9; do
  for slot in A B; do
    grep -E "^ *(if|elif) \[ \"\\\$SB_${slot}_TRIES\" = [0-9] \]; then SB_${slot}_TRIES=[0-9]; sb_slot=$slot\$" sb$n.cfg >chain.txt
    want=""
    kw=if
    for i in $(seq $n -1 1); do
      want="$want$kw [ \"\$SB_${slot}_TRIES\" = $i ]; then SB_${slot}_TRIES=$((i - 1)); sb_slot=$slot
"
      kw=elif
    done
    printf '%s' "$want" >chain.want
    sed 's/^ *//' chain.txt >chain.got
    cmp -s chain.got chain.want || { diff chain.want chain.got | sed 's/^/# /'; fatal "chain for slot $slot, max-tries $n"; }
  done
done
ok "decrement chains for max-tries 1..9"

assert_file_has_content sb3.cfg '^  load_env --skip-sig --file "\$sb_envfile" SB_ORDER SB_A_TRIES SB_B_TRIES$'
assert_file_has_content sb3.cfg '^    save_env --file "\$sb_envfile" SB_ORDER SB_A_TRIES SB_B_TRIES$'
[ "$(grep -v '^ *#' sb3.cfg | grep -c 'load_env')" = 1 ] || fatal "load_env appears more than once"
ok "only the SB_ variables are loaded and saved"

for bad in 0 10 x ""; do
  expect_exit 2 sh "$gen" "$bad"
done
expect_exit 2 sh "$gen" 3 4
ok "generator refuses max-tries outside 1..9"

# grub_boot CFG: runs the script as GRUB would at boot against ./esp/grubenv, leaving the
# kernel command line it booted in ./cmdline.
source "$top_srcdir/tests/grub-sim.sh"
grub_boot () {
  sb_grub_sim "$1" esp/grubenv cmdline || fatal "the GRUB script failed"
}

env_list () { grub-editenv esp/grubenv list | grep '^SB_' | tr '\n' ' ' | sed 's/ $//'; }

rm -rf esp; mkdir esp; grub-editenv esp/grubenv create
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=LABEL=rootfs-a ro switchback.slot=A"
assert_streq "$(env_list)" "SB_ORDER=A B SB_A_TRIES=2 SB_B_TRIES=3"
ok "first boot: slot A from A B with max-tries each"

# Count down slot B's tries, fall back to A, then run out everywhere.
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=1 SB_B_TRIES=3
for left in 2 1 0; do
  grub_boot sb3.cfg
  assert_streq "$(cat cmdline)" "root=LABEL=rootfs-b ro switchback.slot=B"
  assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=1 SB_B_TRIES=$left"
done
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=LABEL=rootfs-a ro switchback.slot=A"
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=0 SB_B_TRIES=0"
cp esp/grubenv before
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=LABEL=rootfs-b ro switchback.slot=B switchback.emergency=1"
assert_files_equal esp/grubenv before
ok "tries counted down, fallback to the next slot, emergency boot leaves grubenv alone"

grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=7 SB_B_TRIES=1
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=LABEL=rootfs-b ro switchback.slot=B"
assert_streq "$(env_list)" "SB_ORDER=A B SB_A_TRIES=7 SB_B_TRIES=0"
grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=9 SB_B_TRIES=9
grub_boot sb9.cfg
assert_streq "$(env_list)" "SB_ORDER=A B SB_A_TRIES=8 SB_B_TRIES=9"
ok "a counter above max-tries is no tries; the script for 9 counts from 9"

# Other variables in the block are neither read nor changed.
grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=2 sb_slot=B "sb_cmdline=evil"
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=LABEL=rootfs-a ro switchback.slot=A"
assert_file_has_content <(grub-editenv esp/grubenv list) '^sb_cmdline=evil$'
ok "only the SB_ variables are taken from grubenv"

# An integrator's sb_boot_slot replaces the default one.
cat >custom.cfg <<'EOF'
function sb_boot_slot {
  linux /vmlinuz root=PARTLABEL=system-$1 quiet switchback.slot=$1 $2
}
EOF
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
sed -i '1i sb_boot_cfg=custom.cfg' sb3.cfg
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTLABEL=system-B quiet switchback.slot=B"
sed -i '1d' sb3.cfg
ok "sb_boot_cfg replaces the boot function"

# End to end: stage B, GRUB boots it, switchback-boot commits it.
mkdir -p state
cat >switchback.conf <<EOF
[storage]
state-dir=$SB_TMP/state
[boot]
grubenv=$SB_TMP/esp/grubenv
cmdline-file=$SB_TMP/cmdline
EOF
echo '{"state": "staged", "committed": "A", "slot": "B", "target": "image-2.bin", "length": 1, "hashes": {}, "bytes_done": 1, "release_counter": 2}' >state/install.json
echo '{"image-rollback-counter": 1, "pending-image-rollback-counter": 2, "slots": {"A": 1, "B": 2}}' >state/counters.json
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
grub_boot sb3.cfg
expect_exit 0 switchback-boot --config switchback.conf --stderr
assert_file_has_content err.txt 'trial boot of slot B (image-2.bin) committed'
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=3 SB_B_TRIES=3"
grub_boot sb3.cfg
expect_exit 0 switchback-boot --config switchback.conf --stderr
assert_file_has_content err.txt 'normal boot of slot B$'
ok "staged slot booted by the script and committed by switchback-boot"

# A trial that never reaches the initramfs: three boots of A's replacement die before the hook.
echo '{"state": "staged", "committed": "B", "slot": "A", "target": "image-3.bin", "length": 1, "hashes": {}, "bytes_done": 1, "release_counter": 3}' >state/install.json
echo '{"image-rollback-counter": 2, "pending-image-rollback-counter": 3, "slots": {"A": 3, "B": 2}}' >state/counters.json
grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
for i in 1 2 3; do
  grub_boot sb3.cfg
  assert_file_has_content cmdline 'switchback.slot=A'
done
grub_boot sb3.cfg
assert_file_has_content cmdline 'switchback.slot=B$'
expect_exit 0 switchback-boot --config switchback.conf --stderr
assert_file_has_content err.txt 'trial boot of slot A (image-3.bin) failed: rolled back to slot B after 3 failed boots'
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=0 SB_B_TRIES=3"
grub_boot sb3.cfg
assert_file_has_content cmdline 'switchback.slot=B$'
assert_file_has_content "$(ls state/reports/*.json | tail -n 1)" '"INSTALL_FAILED"'
ok "a trial that never boots is rolled back after max-tries boots"
