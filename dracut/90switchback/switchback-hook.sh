#!/bin/sh
# switchback-hook.sh: dracut pre-pivot hook that runs switchback-boot (switchback design.md §4).
#
# dracut sources this file, so it never exits and never sets shell options; it can also be run
# with sh. It must not stop a boot: whatever fails is logged, and the boot goes on.
#
# switchback-boot reads grubenv ([boot] grubenv, on the ESP) and the state directory
# ([storage] state-dir, on the data partition) under $NEWROOT. When either path lies on a
# filesystem listed in $NEWROOT/etc/fstab that is not mounted yet (the ESP at /boot/efi, a
# separate /var), the hook mounts it with the fstab device and options for the run and unmounts
# it afterwards, so the booted system mounts it as usual. Filesystems that are neither on the
# root filesystem nor in its fstab are not found: switchback-boot then logs that it cannot read
# the boot state and leaves the boot alone.
#
# OSTree (docs/ostree.md): with `ostree=` on the kernel command line, switchback-boot must see
# the deployment, whose /etc/fstab names the ESP and the state directory, not the physical
# sysroot. In a systemd initramfs ostree-prepare-root.service has made $NEWROOT the deployment
# before this hook (module-setup.sh orders it so); the physical root is then mounted on
# $NEWROOT/sysroot. When it is not (an initramfs without systemd), the hook runs
# ostree-prepare-root on $NEWROOT itself first, as that unit would have.
#
# Test hooks: SB_BOOT_BIN (default /usr/bin/switchback-boot), SB_HOOK_MOUNTS (default
# /proc/mounts), SB_HOOK_KMSG (default /dev/kmsg, where the hook logs when it can write it),
# SB_HOOK_CMDLINE (default /proc/cmdline), SB_HOOK_PREPARE_ROOT (default
# /usr/lib/ostree/ostree-prepare-root).

sb_hook_log () {
    if [ -w "${SB_HOOK_KMSG:-/dev/kmsg}" ]; then
        echo "<4>switchback-hook: $*" >>"${SB_HOOK_KMSG:-/dev/kmsg}"
    else
        echo "switchback-hook: $*" >&2
    fi
}

sb_hook_is_mounted () {
    # $1: absolute directory. Matches the mount point field of the mount table.
    while read -r _dev _mnt _rest; do
        [ "$_mnt" = "$1" ] && return 0
    done <"${SB_HOOK_MOUNTS:-/proc/mounts}"
    return 1
}

# sb_hook_mount_for PATH: mounts the fstab filesystem that holds PATH (a path in the new root),
# if any and if not mounted; appends what it mounted to sb_hook_mounted.
sb_hook_mount_for () {
    _best=
    _best_dev=
    _best_type=
    _best_opts=
    [ -r "$sb_hook_root/etc/fstab" ] || return 0
    while read -r _dev _mnt _type _opts _rest; do
        case "$_dev" in ''|\#*) continue ;; esac
        case "$_mnt" in /) continue ;; esac
        case "$1/" in
            "$_mnt"/*)
                if [ "${#_mnt}" -gt "${#_best}" ]; then
                    _best="$_mnt"; _best_dev="$_dev"; _best_type="$_type"; _best_opts="$_opts"
                fi
                ;;
        esac
    done <"$sb_hook_root/etc/fstab"
    [ -n "$_best" ] || return 0
    sb_hook_is_mounted "$sb_hook_root$_best" && return 0
    if mount -t "$_best_type" -o "${_best_opts:-defaults}" "$_best_dev" "$sb_hook_root$_best"; then
        sb_hook_mounted="$sb_hook_root$_best $sb_hook_mounted"
    else
        sb_hook_log "could not mount $_best_dev on $sb_hook_root$_best"
    fi
}

# sb_hook_ostree: makes $sb_hook_root the OSTree deployment named by ostree= on the kernel
# command line, unless there is none or it is already.
sb_hook_ostree () {
    _ostree=
    _cmdline=
    [ -r "${SB_HOOK_CMDLINE:-/proc/cmdline}" ] && read -r _cmdline <"${SB_HOOK_CMDLINE:-/proc/cmdline}"
    for _w in $_cmdline; do
        case "$_w" in ostree=*) _ostree="${_w#ostree=}" ;; esac
    done
    [ -n "$_ostree" ] || return 0
    # Prepared: ostree-prepare-root moved the physical root to the deployment's /sysroot.
    sb_hook_is_mounted "$sb_hook_root/sysroot" && return 0
    _prepare="${SB_HOOK_PREPARE_ROOT:-/usr/lib/ostree/ostree-prepare-root}"
    if [ ! -x "$_prepare" ]; then
        sb_hook_log "ostree=$_ostree is on the command line but $_prepare is not in the initramfs"
        return 0
    fi
    "$_prepare" "$sb_hook_root" || sb_hook_log "$_prepare $sb_hook_root failed for ostree=$_ostree"
}

sb_hook_run () {
    sb_hook_root="${NEWROOT:-/sysroot}"
    sb_hook_ostree
    sb_hook_bin="${SB_BOOT_BIN:-/usr/bin/switchback-boot}"
    sb_hook_mounted=
    if ! sb_hook_paths=$("$sb_hook_bin" --print-paths 2>&1); then
        sb_hook_log "$sb_hook_paths"
        return 0
    fi
    sb_hook_grubenv=
    sb_hook_state=
    while IFS= read -r _line; do
        case "$_line" in
            grubenv=*) sb_hook_grubenv="${_line#grubenv=}" ;;
            state-dir=*) sb_hook_state="${_line#state-dir=}" ;;
        esac
    done <<SB_PATHS
$sb_hook_paths
SB_PATHS
    [ -n "$sb_hook_state" ] && sb_hook_mount_for "$sb_hook_state"
    [ -n "$sb_hook_grubenv" ] && sb_hook_mount_for "${sb_hook_grubenv%/*}"

    # --reboot: a slot older than the committed release is refused by rebooting into the
    # committed one; switchback-boot syncs and reboots itself.
    "$sb_hook_bin" --root "$sb_hook_root" --reboot
    _rc=$?
    [ "$_rc" = 0 ] || sb_hook_log "switchback-boot exited with status $_rc"

    for _m in $sb_hook_mounted; do
        umount "$_m" || sb_hook_log "could not unmount $_m"
    done
    return 0
}

sb_hook_run
