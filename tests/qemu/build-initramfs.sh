#!/bin/bash
# build-initramfs.sh: the initramfs of the QEMU test guests, carrying switchback-boot and the
# pre-pivot hook of dracut/90switchback.
#
# Usage: tests/qemu/build-initramfs.sh ARCH OUT [--config FILE]
#
#   ARCH           x86_64: built by the host's dracut from the Debian cloud kernel's modules, with
#                  the modules base rootfs-block kernel-modules udev-rules and the project's
#                  90switchback (taken from the source tree, not from the host's dracut).
#                  aarch64: a cpio of busybox-static:arm64, the cross-built switchback-boot with
#                  its :arm64 libraries, and initramfs-init.sh, which mounts the root and
#                  sources the module's own hook files (switchback-hook.sh) at the points
#                  where module-setup.sh installs them (pre-pivot).
#   --config FILE  the switchback.conf that switchback-boot reads in the initramfs (default
#                  tests/qemu/guest.conf); installed at the path compiled into the binaries.
#
# Images are cached in $SB_QEMU_CACHE/initramfs under a hash of everything that goes into them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage () { echo "usage: build-initramfs.sh x86_64|aarch64 OUT [--config FILE]" >&2; exit 2; }
[ $# -ge 2 ] || usage
arch="$1"
out="$2"
shift 2
config="$sbq_here/guest.conf"
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || usage; config="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[ -f "$config" ] || sbq_die "no config file $config"
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")

sbq_kernel "$arch"
boot_bin=$(sbq_project_bin "$arch" switchback-boot)
conf_path=$(sbq_config_path)
moddir="$top_srcdir/dracut/90switchback"
[ -f "$moddir/module-setup.sh" ] && [ -f "$moddir/switchback-hook.sh" ] \
  || sbq_die "$moddir has no module-setup.sh and switchback-hook.sh"

# The hooks of the module: each "inst_hook POINT PRIO "$moddir/FILE"" line of module-setup.sh as
# "POINT PRIO FILE". dracut installs them as /lib/dracut/hooks/POINT/PRIO-FILE; the aarch64
# initramfs puts them at the same paths, and initramfs-init.sh runs the points pre-mount,
# pre-pivot and cleanup.
hooks=$(awk '$1 == "inst_hook" && $4 ~ /^"\$moddir\// {
               f = $4; gsub(/"/, "", f); sub(/^\$moddir\//, "", f); print $2, $3, f }' \
          "$moddir/module-setup.sh")
[ -n "$hooks" ] || sbq_die "no inst_hook \"\$moddir/...\" line in $moddir/module-setup.sh"

# The drivers the guests need before the root is mounted: the virtio disk, and FAT for the ESP
# that the hook mounts to write grubenv.
drivers="virtio_pci virtio_blk vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1"

# zstd -12 when the host has it: a tenth smaller than gzip -9 (which every slot image that a
# server sends carries) and quicker for the guest's kernel to unpack; -15 and up take a minute.
compress=gzip
command -v zstd >/dev/null 2>&1 && compress="zstd -12 -q -T0"

key=$({ sbq_hash "$0" "$sbq_here/lib.sh" "$SBQ_VMLINUZ" "$boot_bin" "$moddir" "$config" \
                 "$sbq_here/initramfs-init.sh"
        echo "$conf_path $drivers $compress"
        dpkg-query -W dracut-core 2>/dev/null || true; } | sha256sum | cut -c1-16)
cached="$SB_QEMU_CACHE/initramfs/$arch-$key.img"

build_dracut () {
  local log="$SB_QEMU_CACHE/initramfs/dracut-$arch.log"
  sbq_dracut "$arch" "$1.tmp" "$log" "base rootfs-block kernel-modules udev-rules switchback" \
    "$drivers" "$compress" "$boot_bin" "$moddir" "$config" "$conf_path"
  # dracut reports a module whose install() failed only in its log; an initramfs without the
  # hook would boot and decide nothing, so check for it.
  local listing point prio file
  listing=$(lsinitrd "$1.tmp" 2>/dev/null) || sbq_die "lsinitrd $1.tmp failed"
  while read -r point prio file; do
    grep -q "dracut/hooks/$point/$prio-$file\$" <<<"$listing" \
      || sbq_die "the initramfs has no $point hook $prio-$file (log: $log)"
  done <<<"$hooks"
  mv "$1.tmp" "$1"
}

build_busybox_cpio () {
  local root="$SB_QEMU_CACHE/initramfs/root-$arch" m
  rm -rf "$root"
  mkdir -p "$root"/{dev,proc,sys,run,sysroot,etc/sb-qemu}
  sbq_merged_usr "$root"
  sbq_install_busybox "$arch" "$root"
  sbq_install_modules "$root" $drivers
  for m in $drivers; do echo "$m"; done >"$root/etc/sb-qemu/modules"
  sbq_install_elf "$arch" "$root" "$boot_bin" /usr/bin/switchback-boot
  "$SBQ_TRIPLET-strip" --strip-unneeded "$root/usr/bin/switchback-boot" \
    || sbq_die "$SBQ_TRIPLET-strip of switchback-boot failed"
  mkdir -p "$root/$(dirname "$conf_path")"
  install -m 0644 "$config" "$root/$conf_path"
  local point prio file
  while read -r point prio file; do
    [ -n "$point" ] || continue
    case "$point" in pre-mount|pre-pivot|cleanup) ;;
      *) sbq_die "module-setup.sh installs a $point hook, which initramfs-init.sh does not run" ;;
    esac
    mkdir -p "$root/lib/dracut/hooks/$point"
    install -m 0755 "$moddir/$file" "$root/lib/dracut/hooks/$point/$prio-$file"
  done <<<"$hooks"
  install -m 0755 "$sbq_here/initramfs-init.sh" "$root/init"
  local pack="$compress"
  [ "$compress" = gzip ] && pack="gzip -1"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | $pack) >"$1.tmp"
  rm -rf "$root"
  mv "$1.tmp" "$1"
}

build () {
  [ -f "$cached" ] && return 0
  mkdir -p "$SB_QEMU_CACHE/initramfs"
  case "$arch" in
    x86_64) sbq_timed initramfs build_dracut "$cached" ;;
    aarch64) sbq_timed initramfs build_busybox_cpio "$cached" ;;
  esac
}
sbq_locked "initramfs-$arch" build
cp "$cached" "$out"
