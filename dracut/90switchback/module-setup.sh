#!/bin/bash
# dracut module 90switchback: runs switchback-boot in the initramfs (switchback design.md §4).
#
# The pre-pivot hook runs after the new root is mounted at $NEWROOT and before switch-root.
# switchback-boot decides trial, commit or rollback of the booted A/B slot and records it in
# grubenv (on the ESP) and in the state directory (on the data partition). The hook mounts the
# filesystems holding those two paths itself, from the new root's /etc/fstab, and unmounts them
# again afterwards (switchback-hook.sh).
#
# OSTree (docs/ostree.md): with `ostree=` on the kernel command line, $NEWROOT must be the
# deployment, not the physical sysroot, before switchback-boot runs: only the deployment has the
# /etc/fstab that says where the ESP and the state directory are. ostree-prepare-root makes it so.
# - In a systemd initramfs, OSTree's own dracut module (98ostree, Debian's ostree-boot) runs it
#   as ostree-prepare-root.service, before initrd-root-fs.target. dracut-pre-pivot.service,
#   which runs the hook, already comes after initrd.target; a drop-in orders it explicitly
#   after ostree-prepare-root.service too, so the hook never sees the unprepared sysroot.
# - Without systemd, 98ostree installs a unit that nothing starts. When it is included all the
#   same (dracut -m "... ostree switchback"), this module installs ostree-prepare-root, and the
#   hook runs it on $NEWROOT first.
#
# Installed into the initramfs: switchback-boot (as /usr/bin/switchback-boot), its config file
# with the conf.d drop-ins at the path switchback-boot reads by default, and the hook.

check() {
    # Only when asked for or when switchback-boot is installed on the host.
    require_binaries switchback-boot || return 1
    return 255
}

depends() {
    return 0
}

install() {
    local bin conf line
    bin=$(command -v switchback-boot) || return 1
    inst "$bin" /usr/bin/switchback-boot
    # The config path compiled into switchback-boot, so the initramfs copy is found by default.
    conf=$("$bin" --print-paths 2>/dev/null | while IFS= read -r line; do
        case "$line" in config=*) printf '%s\n' "${line#config=}" ;; esac
    done)
    if [ -n "$conf" ]; then
        [ -f "$conf" ] && inst_simple "$conf"
        if [ -d "${conf%/*}/conf.d" ]; then
            inst_dir "${conf%/*}/conf.d"
            for f in "${conf%/*}"/conf.d/*.conf; do
                [ -f "$f" ] && inst_simple "$f"
            done
        fi
    fi
    inst_multiple -o mount umount
    inst_hook pre-pivot 90 "$moddir/switchback-hook.sh"

    if dracut_module_included "systemd"; then
        if dracut_module_included "ostree"; then
            local dropin="${initdir}${systemdsystemunitdir}/dracut-pre-pivot.service.d"
            mkdir -p "$dropin"
            printf '%s\n' '# switchback-boot reads the deployment'"'"'s /etc/fstab (90switchback).' \
                '[Unit]' 'After=ostree-prepare-root.service' >"$dropin/90-switchback-ostree.conf"
        fi
    elif dracut_module_included "ostree"; then
        inst_multiple /usr/lib/ostree/ostree-prepare-root
    fi
}
