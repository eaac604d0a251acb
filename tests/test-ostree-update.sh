# `switchback update` with OSTREE targets: an OSTree sysroot in a directory whose factory
# deployment is slot A, an Uptane pair made by switchback-repo with the commit published by
# uptane-add-ostree, and the archive repository served beside it as /treehub/. The install
# deploys into slot B and stages it exactly as a raw image; simulated boots (the kernel command
# line GRUB would pass, then switchback-boot) commit it or roll it back.
source "$top_srcdir/tests/libtest.sh"

command -v ostree >/dev/null || skip_all "the ostree CLI is not installed"
command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"
command -v switchback-repo >/dev/null || skip_all "switchback-repo is not built"
require_test_hooks
export OSTREE_SYSROOT_DEBUG=mutable-deployments

plan 8

ECU=ecu-1
HWID=board-a
SB=(switchback --config "$SB_TMP/sys/switchback.conf")
helpers () { bash "$top_srcdir/tests/ostree-helpers.sh" "$@"; }
json_get () {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"
}
env_get () { grub-editenv sys/grubenv list | sed -n "s/^$1=//p"; }
install_state () { json_get sys/state/install.json 'd["state"]'; }
slot_checksum () { json_get sys/state/ostree-slots.json 'd["slots"]["'"$1"'"]["checksum"]'; }
update () { local want=$1; shift; expect_exit "$want" "${SB[@]}" update "$@"; }
# boot SLOT: GRUB counted a try of SLOT and booted it with the kernel arguments of the slot's
# deployment from the fragment (ending with ostree=); then the initramfs hook decides.
boot () {
  local tries options
  tries=$(env_get "SB_$1_TRIES")
  grub-editenv sys/grubenv set "SB_$1_TRIES=$((tries > 0 ? tries - 1 : 0))"
  options=$(sed -n "s/^set sb_ostree_$1_options='\(.*\)'\$/\1/p" sys/root/boot/switchback/ostree-slots.cfg)
  echo "BOOT_IMAGE=/vmlinuz $options switchback.slot=$1" >sys/cmdline
  switchback-boot --config sys/switchback.conf --stderr >boot.out 2>&1 || true
}
# installed: what `switchback status --json` reports as the booted slot's image.
installed () {
  "${SB[@]}" status --json >status.json || fatal "switchback status failed"
  json_get status.json '(d["installed"] or {}).get("sha256"), (d["installed"] or {}).get("target"), (d["installed"] or {}).get("from")'
}
# publish VERSION [--release-counter N]: a new commit in ./ostree-repo as the target os-VERSION,
# assigned to this ECU. Sets COMMIT.
publish () {
  local version=$1
  shift
  rm -rf "tree-$version"
  helpers make-tree "tree-$version" "6.1.$version" 2 4 >/dev/null
  COMMIT=$(helpers commit ostree-repo "tree-$version" "$version")
  switchback-repo uptane-add-ostree repo --ostree-repo ostree-repo --commit testos/main \
    --name "os-$version" --hardware-id "$HWID" --publish "$@" >add.out
  assert_file_has_content add.out "$COMMIT"
  switchback-repo uptane-assign repo --name "os-$version" --ecu "$ECU" \
    --correlation-id "urn:c:$version" --publish >/dev/null
}

# The repository: an Uptane pair, and the OSTree archive repository as treehub.
helpers make-tree tree-1 6.1.1 >/dev/null
C1=$(helpers commit ostree-repo tree-1 1)
switchback-repo uptane-init repo >/dev/null
switchback-repo serve repo --port 0 --port-file port.txt --mount /treehub="$SB_TMP/ostree-repo" \
  >serve.log 2>&1 &
SB_PIDS+=($!)
wait_for_file port.txt $!
URL="http://127.0.0.1:$(cat port.txt)"

# The system: commit 1 deployed at the factory, booted from slot A, no partitions.
mkdir -p sys/state
helpers make-sysroot sys/root testos
helpers provision sys/root testos ostree-repo "$C1" root=LABEL=root rw
grub-editenv sys/grubenv create
grub-editenv sys/grubenv set "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
echo "BOOT_IMAGE=/vmlinuz root=LABEL=root rw switchback.slot=A" >sys/cmdline
cat >sys/switchback.conf <<CONF
[uptane]
director-url=$URL/director
image-url=$URL/repo
director-root=$SB_TMP/repo/director/metadata/1.root.json
image-root=$SB_TMP/repo/image/metadata/1.root.json
ecu-serial=$ECU
hardware-id=$HWID
[storage]
state-dir=$SB_TMP/sys/state
[ostree]
sysroot=$SB_TMP/sys/root
osname=testos
ostree-url=$URL/treehub
[boot]
grubenv=$SB_TMP/sys/grubenv
cmdline-file=$SB_TMP/sys/cmdline
max-tries=3
confirm=initramfs
CONF
# Nothing in the slot table yet: the factory deployment is known from the ostree= argument.
assert_streq "$(installed)" "(None, None, None)"
echo "BOOT_IMAGE=/vmlinuz root=LABEL=root rw switchback.slot=A ostree=/ostree/deploy/testos/deploy/$C1.0" \
  >sys/cmdline
assert_streq "$(installed)" "('$C1', None, 'cmdline')"
ok "status shows the factory deployment's commit as installed, from ostree="
provision_ecu_key sys/state
switchback-repo register-ecu repo "$ECU" sys/state/ecu/public.json --hardware-id "$HWID" \
  >/dev/null

publish 2 --release-counter 2
C2=$COMMIT
update 10
assert_streq "$(env_get SB_ORDER) $(env_get SB_A_TRIES) $(env_get SB_B_TRIES)" "B A 3 3"
assert_streq "$(install_state)" staged
assert_streq "$(slot_checksum A) $(slot_checksum B)" "$C1 $C2"
assert_streq "$(json_get sys/state/images.json 'd["slots"]["B"]["hashes"]["sha256"], d["trial"]["slot"]')" "('$C2', 'B')"
assert_streq "$(json_get sys/state/counters.json 'd["pending-image-rollback-counter"]')" 2
test -d "sys/root/ostree/deploy/testos/deploy/$C2.0" || fatal "commit 2 is not deployed"
assert_file_has_content sys/root/boot/switchback/ostree-slots.cfg "ostree=/ostree/switchback/testos/$C2.0'"
assert_streq "$(readlink "sys/root/ostree/switchback/testos/$C2.0")" "../../deploy/testos/deploy/$C2.0"
# The version report names the booted factory deployment, which no update wrote.
assert_streq "$(json_get repo/director/manifests/00000001.json 'd["signed"]["ecu_version_manifests"]["'"$ECU"'"]["signed"]["installed_image"]["fileinfo"]["hashes"]["sha256"]')" "$C1"
ok "update pulls the OSTREE target, deploys it into slot B and stages it (exit 10)"

update 10
assert_streq "$(json_get sys/state/install.json 'd["state"], d["slot"]')" "('staged', 'B')"
ok "a second update finds it staged"

assert_streq "$(installed)" "('$C1', None, 'cmdline')"
boot B
assert_file_has_content sys/cmdline "ostree=/ostree/switchback/testos/$C2.0 switchback.slot=B"
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'B')"
assert_streq "$(json_get sys/state/counters.json 'd["image-rollback-counter"]')" 2
assert_streq "$(installed)" "('$C2', 'os-2', 'cmdline')"
update 0
assert_streq "$(json_get sys/state/images.json 'd["slots"]["B"]["hashes"]["sha256"]')" "$C2"
ok "the trial boot of slot B commits; the next cycle finds commit 2 up to date"

# A commit whose checksum is not the target's: the Image repository vouches for another one.
publish 3 --release-counter 3
C3=$COMMIT
# The same digits rotated; the server answers for it with commit 3's bytes.
BAD=$(printf '%s' "$C3" | tr '0-9a-f' '1-9a-f0')
mkdir -p "ostree-repo/objects/${BAD:0:2}"
cp "ostree-repo/objects/${C3:0:2}/${C3:2}.commit" "ostree-repo/objects/${BAD:0:2}/${BAD:2}.commit"
switchback-repo uptane-add-image repo --format OSTREE --commit "$BAD" --name os-bad \
  --hardware-id "$HWID" --release-counter 3 --publish >/dev/null
switchback-repo uptane-assign repo --name os-bad --ecu "$ECU" --correlation-id urn:c:bad \
  --publish >/dev/null
rc=0
"${SB[@]}" update >out.txt 2>err.txt || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 10 ] || fatal "update of a mismatching commit exited $rc"
assert_file_has_content err.txt 'hash-mismatch'
assert_streq "$(install_state)" idle
assert_streq "$(slot_checksum B)" "$C2"
ok "a commit whose checksum differs from the target is refused and nothing is staged"

# Rollback: commit 3 is staged in slot A, its trial boot never reaches the hook, GRUB falls back.
switchback-repo uptane-assign repo --name os-3 --ecu "$ECU" --correlation-id urn:c:3 \
  --publish >/dev/null
update 10
assert_streq "$(slot_checksum A)" "$C3"
assert_streq "$(env_get SB_ORDER)" "A B"
grub-editenv sys/grubenv set SB_A_TRIES=0
boot B
assert_streq "$(json_get sys/state/install.json 'd["state"], d["committed"]')" "('idle', 'B')"
update 0
assert_file_has_content out.txt 'failed'
assert_streq "$(json_get sys/state/images.json 'd["failed"][-1]["hashes"]["sha256"]')" "$C3"
assert_streq "$(slot_checksum B)" "$C2"
assert_streq "$(installed)" "('$C2', 'os-2', 'cmdline')"
ok "a failed trial of slot A rolls back to slot B and is recorded as failed"

# The booted deployment is what counts: a command line without ostree= falls back on the slot
# table's deployment of the booted slot, and ostree= wins over the table when they disagree.
echo "BOOT_IMAGE=/vmlinuz root=LABEL=root rw switchback.slot=B" >sys/cmdline
assert_streq "$(installed)" "('$C2', 'os-2', 'slot-table')"
echo "BOOT_IMAGE=/vmlinuz rw ostree=/ostree/switchback/testos/$C3.0 switchback.slot=B" >sys/cmdline
assert_streq "$(installed)" "('$C3', None, 'cmdline')"
"${SB[@]}" status >status.txt
assert_file_has_content status.txt "installed .*sha256 $C3 (from the kernel command line)"
ok "status takes the booted commit from ostree=, else from the slot table"

# The initramfs hook on an OSTree root without systemd: with ostree= on the command line and the
# root not prepared yet, it runs ostree-prepare-root on $NEWROOT before switchback-boot, so that
# switchback-boot reads the deployment's fstab; not when ostree-prepare-root.service already did
# (the physical root is mounted on $NEWROOT/sysroot), not without ostree=.
hook="$top_srcdir/dracut/90switchback/switchback-hook.sh"
mkdir -p hook/bin hook/newroot/etc
printf '#!/bin/sh\necho "prepare $*" >>"%s/hook/calls"\n' "$SB_TMP" >hook/prepare-root
printf '#!/bin/sh\n[ "$1" = --print-paths ] && exit 0\necho "boot $*" >>"%s/hook/calls"\n' \
  "$SB_TMP" >hook/bin/fake-boot
chmod +x hook/prepare-root hook/bin/fake-boot
run_hook () {
  # run_hook CMDLINE MOUNTS [PREPARE]: sources the hook as dracut does; the calls in hook/calls.
  rm -f hook/calls
  echo "$1" >hook/cmdline
  printf '%s\n' "$2" >hook/mounts
  NEWROOT="$SB_TMP/hook/newroot" SB_BOOT_BIN=fake-boot SB_HOOK_MOUNTS="$SB_TMP/hook/mounts" \
    SB_HOOK_KMSG="$SB_TMP/hook/kmsg" SB_HOOK_CMDLINE="$SB_TMP/hook/cmdline" \
    SB_HOOK_PREPARE_ROOT="${3:-$SB_TMP/hook/prepare-root}" PATH="$SB_TMP/hook/bin:$PATH" \
    sh -c ". '$hook'; echo hook-returned" >hook/out 2>hook/err || fatal "the hook failed"
  assert_file_has_content hook/out '^hook-returned$'
}
OSTREE_ARG="ostree=/ostree/switchback/testos/$C2.0"
run_hook "BOOT_IMAGE=/vmlinuz rw $OSTREE_ARG switchback.slot=B" "rootfs / rootfs rw 0 0"
assert_streq "$(cat hook/calls | tr '\n' ';')" \
  "prepare $SB_TMP/hook/newroot;boot --root $SB_TMP/hook/newroot --reboot;"
run_hook "BOOT_IMAGE=/vmlinuz rw $OSTREE_ARG switchback.slot=B" \
  "/dev/vda2 $SB_TMP/hook/newroot/sysroot ext4 rw 0 0"
assert_streq "$(cat hook/calls | tr '\n' ';')" "boot --root $SB_TMP/hook/newroot --reboot;"
run_hook "BOOT_IMAGE=/vmlinuz rw switchback.slot=B" "rootfs / rootfs rw 0 0"
assert_streq "$(cat hook/calls | tr '\n' ';')" "boot --root $SB_TMP/hook/newroot --reboot;"
run_hook "BOOT_IMAGE=/vmlinuz rw $OSTREE_ARG switchback.slot=B" "rootfs / rootfs rw 0 0" \
  "$SB_TMP/hook/absent"
assert_streq "$(cat hook/calls | tr '\n' ';')" "boot --root $SB_TMP/hook/newroot --reboot;"
assert_file_has_content hook/err "hook/absent is not in the initramfs"
ok "the hook runs ostree-prepare-root before switchback-boot when no systemd unit did"
