# The GRUB script (grub/gen-switchback-cfg.sh): syntax with grub-script-check for every
# max-tries, the structure of its decrement chains, and its behaviour, run under bash with the
# few GRUB commands it uses replaced by shims (tests/grub-sim.sh) over grub-editenv and a real
# GPT disk image whose slots hold ext4 filesystems. A slot is found by its partition's PARTUUID,
# whatever its filesystem's label. The last tests boot a trial and a failing trial end to end
# (the script chooses, switchback-boot decides), and a script whose max-tries is not the
# config's.
source "$top_srcdir/tests/libtest.sh"

command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"
for tool in sfdisk mke2fs debugfs blkid python3; do
  command -v "$tool" >/dev/null || skip_all "$tool is not installed"
done

gen="$top_srcdir/grub/gen-switchback-cfg.sh"
plan 17

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

# A GPT disk (esp, rootfs-a, rootfs-b) whose slots hold ext4 filesystems with a kernel and an
# initramfs. Both are labelled "rootfs", as the demo's images are: GRUB finds a slot by its
# partition, so the label an image carries does not matter.
truncate -s 40M disk.img
printf 'label: gpt\nsize=1MiB, name=esp\nsize=16MiB, name=rootfs-a\nsize=16MiB, name=rootfs-b\n' \
  | sfdisk -q disk.img
part_field () {
  sfdisk --json disk.img | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)["partitiontable"]["partitions"] if x.get("name") == sys.argv[1]][0]
print(str(p[sys.argv[2]]).lower())' "$@"
}
# put_fs SLOT LABEL [KERNEL]: an ext4 filesystem labelled LABEL in rootfs-SLOT, holding
# /boot/vmlinuz (unless KERNEL is "no") and /boot/initrd.img.
put_fs () {
  rm -rf fs fs.img
  mkdir -p fs/boot
  [ "${3:-}" = no ] || echo kernel >fs/boot/vmlinuz
  echo initramfs >fs/boot/initrd.img
  truncate -s 8M fs.img
  mke2fs -q -F -t ext4 -L "$2" -d fs fs.img
  dd if=fs.img of=disk.img bs=512 seek="$(part_field "rootfs-$1" start)" conv=notrunc status=none
}
put_fs a rootfs
put_fs b rootfs
UUID_A=$(part_field rootfs-a uuid)
UUID_B=$(part_field rootfs-b uuid)

# The scripts that boot below know the PARTUUIDs from the disk, as an image build makes them.
for n in 2 3 9; do sh "$gen" --disk disk.img $n >sb$n.cfg; done
assert_file_has_content sb3.cfg "^if \[ -z \"\$sb_root_partuuid_A\" \]; then sb_root_partuuid_A=$UUID_A; fi\$"
assert_file_has_content sb3.cfg "^if \[ -z \"\$sb_root_partuuid_B\" \]; then sb_root_partuuid_B=$UUID_B; fi\$"
if command -v grub-script-check >/dev/null; then grub-script-check sb3.cfg || fatal "grub-script-check"; fi
sh "$gen" --partuuid-a "${UUID_A^^}" --partuuid-b "$UUID_B" 3 >given.cfg
assert_files_equal given.cfg sb3.cfg
printf 'label: gpt\nsize=1MiB, name=esp\nsize=1MiB, name=system-a\n' | { truncate -s 4M other.img; sfdisk -q other.img; }
expect_exit 2 sh "$gen" --disk other.img 3
assert_file_has_content err.txt "other.img has no GPT partition named 'rootfs-a' (it has: esp system-a )"
expect_exit 2 sh "$gen" --disk other.img --slot-a system-a 3
assert_file_has_content err.txt "has no GPT partition named 'rootfs-b'"
expect_exit 2 sh "$gen" --partuuid-a "$UUID_A" --partuuid-b "$UUID_A" 3
expect_exit 2 sh "$gen" --partuuid-a "not-a-uuid" 3
ok "the generator takes the slots' PARTUUIDs from a disk's GPT by partition name, or as given"

# grub_boot CFG: runs the script as GRUB would at boot against ./esp/grubenv and ./disk.img,
# leaving the kernel command line it booted in ./cmdline.
source "$top_srcdir/tests/grub-sim.sh"
grub_boot () {
  sb_grub_sim "$1" esp/grubenv cmdline disk.img || fatal "the GRUB script failed"
}

env_list () { grub-editenv esp/grubenv list | grep '^SB_' | tr '\n' ' ' | sed 's/ $//'; }

rm -rf esp; mkdir esp; grub-editenv esp/grubenv create
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_A ro switchback.slot=A switchback.max-tries=3"
assert_streq "$(env_list)" "SB_ORDER=A B SB_A_TRIES=2 SB_B_TRIES=3"
ok "first boot: slot A from A B with max-tries each"

# Count down slot B's tries, fall back to A, then run out everywhere.
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=1 SB_B_TRIES=3
for left in 2 1 0; do
  grub_boot sb3.cfg
  assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=3"
  assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=1 SB_B_TRIES=$left"
done
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_A ro switchback.slot=A switchback.max-tries=3"
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=0 SB_B_TRIES=0"
cp esp/grubenv before
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=3 switchback.emergency=1"
assert_files_equal esp/grubenv before
ok "tries counted down, fallback to the next slot, emergency boot leaves grubenv alone"

grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=7 SB_B_TRIES=1
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=3"
assert_streq "$(env_list)" "SB_ORDER=A B SB_A_TRIES=7 SB_B_TRIES=0"
grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=9 SB_B_TRIES=9
grub_boot sb9.cfg
assert_streq "$(env_list)" "SB_ORDER=A B SB_A_TRIES=8 SB_B_TRIES=9"
ok "a counter above max-tries is no tries; the script for 9 counts from 9"

# Other variables in the block are neither read nor changed.
grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=2 SB_B_TRIES=2 sb_slot=B "sb_cmdline=evil"
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_A ro switchback.slot=A switchback.max-tries=3"
assert_file_has_content <(grub-editenv esp/grubenv list) '^sb_cmdline=evil$'
ok "only the SB_ variables are taken from grubenv"

# The slot is its partition: with the labels swapped, each slot still boots its own partition
# (the other's holds no kernel), with root=PARTUUID= of that partition.
put_fs a rootfs-b no
put_fs b rootfs-a
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=3"
put_fs a rootfs-b
put_fs b rootfs-a no
grub-editenv esp/grubenv set "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_A ro switchback.slot=A switchback.max-tries=3"
put_fs a rootfs
put_fs b rootfs
ok "a slot is found by its GPT PARTUUID, whatever label its filesystem carries"

# What GRUB refuses, the simulation refuses: an unknown PARTUUID, a slot without a kernel, a
# slot that holds no filesystem. The entry then boots nothing (GRUB's fallback takes over).
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
rm -f cmdline
sb_root_partuuid_B=00000000-0000-0000-0000-000000000000
expect_exit 1 sb_grub_sim sb3.cfg esp/grubenv cmdline disk.img
assert_file_has_content out.txt "slot B: no GPT partition has PARTUUID 00000000-0000-0000-0000-000000000000 (sb_root_partuuid_B); GPT partitions: (hd0,gpt1)=$(part_field esp uuid) (hd0,gpt2)=$UUID_A (hd0,gpt3)=$UUID_B"
unset sb_root_partuuid_B
put_fs b rootfs no
expect_exit 1 sb_grub_sim sb3.cfg esp/grubenv cmdline disk.img
assert_file_has_content err.txt "file \`/boot/vmlinuz' not found"
dd if=/dev/zero of=disk.img bs=512 seek="$(part_field rootfs-b start)" count=32768 conv=notrunc status=none
expect_exit 1 sb_grub_sim sb3.cfg esp/grubenv cmdline disk.img
assert_file_has_content err.txt "unknown filesystem"
[ ! -e cmdline ] || fatal "a failed entry wrote a kernel command line"
put_fs b rootfs
ok "an unknown PARTUUID, a missing kernel or no filesystem fails the entry"

# Without --disk the PARTUUIDs come from a grub.cfg fragment (here the caller's variables);
# a fragment also overrides what the generator embedded. Without either, nothing boots.
sh "$gen" 3 >plain3.cfg
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
expect_exit 1 sb_grub_sim plain3.cfg esp/grubenv cmdline disk.img
assert_file_has_content out.txt "slot B: sb_root_partuuid_B is not set"
sb_root_partuuid_A=$UUID_A
sb_root_partuuid_B=$UUID_B
grub_boot plain3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=3"
sb_root_partuuid_B=$UUID_A
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_A ro switchback.slot=B switchback.max-tries=3"
unset sb_root_partuuid_A sb_root_partuuid_B
ok "sb_root_partuuid_A/B set before the script take the place of the generated defaults"

# An integrator's sb_boot_slot replaces the default one.
cat >custom.cfg <<'EOF'
function sb_boot_slot {
  search --no-floppy --set=root --label "system-$1"
  linux /boot/vmlinuz root=PARTLABEL=system-$1 quiet switchback.slot=$1 $2
}
EOF
put_fs b system-B
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=3 SB_B_TRIES=3
sed -i '1i sb_boot_cfg=custom.cfg' sb3.cfg
grub_boot sb3.cfg
assert_streq "$(cat cmdline)" "root=PARTLABEL=system-B quiet switchback.slot=B switchback.max-tries=3"
sed -i '1d' sb3.cfg
put_fs b rootfs
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
assert_not_file_has_content err.txt 'max-tries'
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
assert_file_has_content cmdline 'switchback.slot=B switchback.max-tries=3$'
expect_exit 0 switchback-boot --config switchback.conf --stderr
assert_file_has_content err.txt 'trial boot of slot A (image-3.bin) failed: rolled back to slot B after 3 failed boots'
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=0 SB_B_TRIES=3"
grub_boot sb3.cfg
assert_file_has_content cmdline 'switchback.slot=B switchback.max-tries=3$'
assert_file_has_content "$(ls state/reports/*.json | tail -n 1)" '"INSTALL_FAILED"'
ok "a trial that never boots is rolled back after max-tries boots"

# One max-tries. A script for 2 under a config that says 3 (the default): switchback-boot reads
# the script's switchback.max-tries=2, warns naming both, and resets the slot to 2 tries, which
# the script can count. Reset to 3, the next boot would find no tries left anywhere.
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=0 SB_B_TRIES=2
grub_boot sb2.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=2"
expect_exit 0 switchback-boot --config switchback.conf --stderr
assert_file_has_content err.txt "max-tries is 3 in switchback.conf, but the GRUB script that booted this system counts 2 (switchback.max-tries=2 in $SB_TMP/cmdline): using 2"
assert_file_has_content err.txt 'normal boot of slot B$'
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=0 SB_B_TRIES=2"
grub_boot sb2.cfg
assert_streq "$(cat cmdline)" "root=PARTUUID=$UUID_B ro switchback.slot=B switchback.max-tries=2"
ok "a script for fewer tries than the config: warned, and its count is the one written"

# A config for fewer tries than the script: the config's count, with the same warning.
sed 's/^\[boot\]$/[boot]\nmax-tries=2/' switchback.conf >two.conf
grub-editenv esp/grubenv set "SB_ORDER=B A" SB_A_TRIES=0 SB_B_TRIES=3
grub_boot sb3.cfg
expect_exit 0 switchback-boot --config two.conf --stderr
assert_file_has_content err.txt "max-tries is 2 in two.conf, but the GRUB script that booted this system counts 3 (switchback.max-tries=3 in $SB_TMP/cmdline): using 2. Make them one: set max-tries=3, or regenerate the script with gen-switchback-cfg.sh 2"
assert_streq "$(env_list)" "SB_ORDER=B A SB_A_TRIES=0 SB_B_TRIES=2"
grub_boot sb2.cfg
expect_exit 0 switchback-boot --config two.conf --stderr
assert_not_file_has_content err.txt 'max-tries'
ok "a config for fewer tries than the script: warned, the config's count; agreeing, no warning"
