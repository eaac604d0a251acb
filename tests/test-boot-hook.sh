# The dracut pre-pivot hook (dracut/90switchback/switchback-hook.sh) under a POSIX sh (and
# busybox sh when installed): which filesystems it mounts from the new root's fstab, how it runs
# switchback-boot, and that nothing it meets stops the boot. mount and umount are stubs that
# only record their arguments, so nothing is mounted for real.
source "$top_srcdir/tests/libtest.sh"

hook="$top_srcdir/dracut/90switchback/switchback-hook.sh"
shells="sh"
command -v busybox >/dev/null && shells="sh busybox"
command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"
plan 6

mkdir -p bin newroot/etc newroot/boot/efi/EFI/switchback newroot/var/lib/switchback
for cmd in mount umount; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls.log"\n' "$cmd" "$SB_TMP" >bin/$cmd
  chmod +x bin/$cmd
done
# The switchback-boot the hook runs: the real one on a test config, without --reboot, and
# with every call recorded.
cat >switchback.conf <<EOF
[storage]
state-dir=/var/lib/switchback
[boot]
grubenv=/boot/efi/EFI/switchback/grubenv
cmdline-file=$SB_TMP/cmdline
EOF
cat >bin/fake-switchback-boot <<EOF
#!/bin/sh
echo "switchback-boot \$*" >>"$SB_TMP/calls.log"
[ -n "\${FAIL_PATHS:-}" ] && { echo "config is broken" >&2; exit 1; }
[ "\$1" = --print-paths ] && exec switchback-boot --config "$SB_TMP/switchback.conf" --print-paths
[ "\$1 \$3" = "--root --reboot" ] || { echo "unexpected arguments \$*" >&2; exit 2; }
switchback-boot --config "$SB_TMP/switchback.conf" --stderr --root "\$2" 2>>"$SB_TMP/boot.log"
exit \${FAKE_STATUS:-\$?}
EOF
chmod +x bin/fake-switchback-boot
cat >newroot/etc/fstab <<'EOF'
# <file system> <mount point> <type> <options> <dump> <pass>
LABEL=root      /              ext4    ro              0 1
LABEL=ESP       /boot/efi      vfat    umask=0077      0 2
LABEL=data      /var           ext4    defaults,noatime 0 2
LABEL=other     /var/lib/other ext4    defaults        0 2
EOF
echo "rootfs / rootfs rw 0 0" >mounts
echo "BOOT_IMAGE=/vmlinuz switchback.slot=A" >cmdline
grub-editenv newroot/boot/efi/EFI/switchback/grubenv create

run_hook () {
  # run_hook SHELL: sources the hook as dracut does, then proves the shell went on.
  rm -f calls.log
  local sh="$1"
  [ "$sh" = busybox ] && sh="busybox sh"
  : >kmsg
  NEWROOT="$SB_TMP/newroot" SB_BOOT_BIN=fake-switchback-boot SB_HOOK_MOUNTS="$SB_TMP/mounts" \
    SB_HOOK_KMSG="$SB_TMP/kmsg" SB_HOOK_CMDLINE="$SB_TMP/cmdline" \
    PATH="$SB_TMP/bin:$PATH" $sh -c ". '$hook'; echo hook-returned" >out.txt 2>err.txt \
    || fatal "the hook made $sh fail"
  assert_file_has_content out.txt '^hook-returned$'
}

for s in $shells; do
  run_hook $s
  cat >calls.want <<EOF
switchback-boot --print-paths
mount -t ext4 -o defaults,noatime LABEL=data $SB_TMP/newroot/var
mount -t vfat -o umask=0077 LABEL=ESP $SB_TMP/newroot/boot/efi
switchback-boot --root $SB_TMP/newroot --reboot
umount $SB_TMP/newroot/boot/efi
umount $SB_TMP/newroot/var
EOF
  assert_files_equal calls.log calls.want
done
ok "mounts the state and grubenv filesystems from fstab, runs switchback-boot, unmounts ($shells)"

# Under --root, switchback-boot found grubenv and the state directory in the new root.
assert_file_has_content boot.log 'switchback: first boot of slot A: it is now the committed slot'
assert_file_has_content newroot/var/lib/switchback/install.json '"committed" : "A"'
grub-editenv newroot/boot/efi/EFI/switchback/grubenv list >env.txt
assert_file_has_content env.txt '^SB_ORDER=A B$'
ok "switchback-boot reads and writes the state under the new root"

printf 'rootfs / rootfs rw 0 0\n/dev/vda3 %s/newroot/var ext4 rw 0 0\n' "$SB_TMP" >mounts
run_hook sh
assert_not_file_has_content calls.log 'LABEL=data'
assert_file_has_content calls.log "mount -t vfat -o umask=0077 LABEL=ESP $SB_TMP/newroot/boot/efi"
assert_not_file_has_content calls.log "umount $SB_TMP/newroot/var"
ok "a filesystem that is already mounted is left as it is"

echo "rootfs / rootfs rw 0 0" >mounts
export FAKE_STATUS=10
run_hook sh
unset FAKE_STATUS
assert_file_has_content kmsg '^<4>switchback-hook: switchback-boot exited with status 10$'
assert_file_has_content calls.log "umount $SB_TMP/newroot/var"
ok "a failing switchback-boot does not stop the boot, and mounts are undone"

export FAIL_PATHS=1
run_hook sh
unset FAIL_PATHS
assert_file_has_content kmsg 'config is broken'
assert_not_file_has_content calls.log '^mount'
assert_not_file_has_content calls.log 'root.*reboot'
ok "when the paths cannot be read, nothing is mounted or run"

rm newroot/etc/fstab
run_hook sh
assert_not_file_has_content calls.log '^mount'
assert_file_has_content calls.log "switchback-boot --root $SB_TMP/newroot --reboot"
ok "without an fstab, paths are taken on the root filesystem"
