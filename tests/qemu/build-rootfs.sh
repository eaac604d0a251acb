#!/bin/bash
# build-rootfs.sh: an ext4 root filesystem image for one slot of a QEMU test guest.
#
# Usage: tests/qemu/build-rootfs.sh ARCH OUT.ext4 [options]
#
#   ARCH               x86_64 or aarch64
#   --label LABEL      filesystem label (default rootfs-a); GRUB finds a slot by its partition's
#                      PARTUUID, so the label does not matter to the boot
#   --version V        the image's version, printed by its init ("SB-QEMU: init ... version=V")
#                      and kept in /etc/sb-qemu/version (default 1)
#   --slot-image       size the filesystem to its contents, as an update image that a server
#                      serves and switchback writes into a slot; without it the filesystem is
#                      --size MiB, as a factory image filling its partition
#   --size MIB         filesystem size without --slot-image (default 192)
#   --config FILE      switchback.conf for the guest, in the rootfs and in its initramfs
#                      (default tests/qemu/guest.conf)
#   --add SRC:DEST     put the host file SRC at DEST in the image (repeatable): trusted roots,
#                      a CA, a scenario
#   --broken WHAT      an image that fails to boot, for the rollback scenarios:
#                        kernel     /boot/vmlinuz is not a kernel: GRUB's linux command fails
#                        initramfs  the initramfs prints "SB-QEMU: broken initramfs" and resets
#                                   before the root is mounted (switchback-boot never runs)
#                        init       /sbin/init prints its "SB-QEMU: init" line, then exits, so
#                                   the kernel panics and resets (after switchback-boot ran)
#
# The image holds: busybox-static for ARCH with its applet links; guest-init.sh as /sbin/init;
# the Debian cloud kernel as /boot/vmlinuz (gzip-compressed on aarch64) and the initramfs of
# build-initramfs.sh as /boot/initrd.img; switchback and switchback-boot (the native build for
# x86_64, the cross build for aarch64) in /usr/bin with their shared libraries and loader; the
# kernel modules for the NIC, the RNG, fw_cfg and FAT; /etc/fstab mounting the ESP on /boot/efi and the
# data partition on /data by GPT partition name. The switchback config sits at the path compiled
# into the binaries (switchback-boot --print-paths), with /etc/switchback pointing there if it
# differs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage () {
  echo "usage: build-rootfs.sh x86_64|aarch64 OUT.ext4 [--label L] [--version V] [--slot-image]" \
       "[--size MIB] [--config FILE] [--add SRC:DEST]... [--broken kernel|initramfs|init]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
arch="$1"
out="$2"
shift 2
label=rootfs-a
version=1
slot_image=no
size_mib=192
config="$sbq_here/guest.conf"
broken=
adds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --label) [ $# -ge 2 ] || usage; label="$2"; shift 2 ;;
    --version) [ $# -ge 2 ] || usage; version="$2"; shift 2 ;;
    --slot-image) slot_image=yes; shift ;;
    --size) [ $# -ge 2 ] || usage; size_mib="$2"; shift 2 ;;
    --config) [ $# -ge 2 ] || usage; config="$2"; shift 2 ;;
    --add) [ $# -ge 2 ] || usage; adds+=("$2"); shift 2 ;;
    --broken)
      [ $# -ge 2 ] || usage
      case "$2" in kernel|initramfs|init) broken="$2" ;; *) usage ;; esac
      shift 2
      ;;
    *) usage ;;
  esac
done
case "$version" in *[!A-Za-z0-9._+-]* | '') sbq_die "--version must be [A-Za-z0-9._+-]+" ;; esac
case "$size_mib" in *[!0-9]* | '') sbq_die "--size takes MiB" ;; esac
[ -f "$config" ] || sbq_die "no config file $config"

sbq_kernel "$arch"
conf_path=$(sbq_config_path)
root=$(mktemp -d "${TMPDIR:-/tmp}/sb-rootfs.XXXXXX")
trap 'rm -rf "$root" "$out.initrd.tmp"' EXIT

gzip_kernel () {
  [ -f "$SBQ_VMLINUZ.gz" ] && return 0
  gzip -1 -n -c "$SBQ_VMLINUZ" >"$SBQ_VMLINUZ.gz.tmp"
  mv "$SBQ_VMLINUZ.gz.tmp" "$SBQ_VMLINUZ.gz"
}

populate () {
  mkdir -p "$root"/{proc,sys,dev,run,tmp,mnt,data,boot/efi,etc/sb-qemu,var/lib,root}
  chmod 1777 "$root/tmp"
  sbq_merged_usr "$root"
  sbq_install_busybox "$arch" "$root"

  local strip=strip
  [ "$arch" = aarch64 ] && strip="$SBQ_TRIPLET-strip"
  local b src
  for b in switchback switchback-boot; do
    src=$(sbq_project_bin "$arch" "$b")
    sbq_install_elf "$arch" "$root" "$src" "/usr/bin/$b"
    "$strip" "$root/usr/bin/$b"
  done

  mkdir -p "$root/$(dirname "$conf_path")"
  install -m 0644 "$config" "$root/$conf_path"
  if [ "$(dirname "$conf_path")" != /etc/switchback ]; then
    ln -s "$(realpath -m --relative-to=/etc "$(dirname "$conf_path")")" "$root/etc/switchback"
  fi

  sbq_install_modules "$root" virtio_net virtio_rng qemu_fw_cfg vfat nls_cp437 nls_ascii \
    nls_utf8 nls_iso8859-1

  cat >"$root/etc/fstab" <<'EOF'
# The ESP (grubenv) and the data partition that both slots share (switchback state, scenarios).
/dev/disk/by-partlabel/esp   /boot/efi  vfat  defaults  0 0
/dev/disk/by-partlabel/data  /data      ext4  defaults  0 0
EOF
  echo "$version" >"$root/etc/sb-qemu/version"
  printf 'ID=sb-qemu\nNAME="switchback test guest"\nVERSION_ID=%s\n' "$version" \
    >"$root/etc/os-release"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "root:x:0:" >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n' >"$root/etc/hosts"

  install -m 0755 "$sbq_here/guest-init.sh" "$root/usr/bin/init"
  if [ "$arch" = aarch64 ]; then
    # Debian's arm64 kernel is an uncompressed Image (27 MiB); GRUB's gzio decompresses it on
    # load, and every slot image that a server sends is 17 MiB smaller.
    sbq_locked kernel-gz gzip_kernel
    cp "$SBQ_VMLINUZ.gz" "$root/boot/vmlinuz"
  else
    cp "$SBQ_VMLINUZ" "$root/boot/vmlinuz"
  fi
  "$sbq_here/build-initramfs.sh" "$arch" "$root/boot/initrd.img" --config "$config"

  local a
  for a in "${adds[@]}"; do
    case "$a" in *:/*) ;; *) sbq_die "--add takes SRC:/ABSOLUTE/DEST, not '$a'" ;; esac
    [ -f "${a%%:*}" ] || sbq_die "--add: no file ${a%%:*}"
    mkdir -p "$root/$(dirname "${a#*:}")"
    cp "${a%%:*}" "$root/${a#*:}"
  done

  case "$broken" in
    kernel)
      # GRUB reads a kernel header and finds none.
      head -c 65536 /dev/zero | tr '\0' 'X' >"$root/boot/vmlinuz"
      ;;
    initramfs)
      local ird="$root/.broken-initrd"
      mkdir -p "$ird/bin" "$ird/dev" "$ird/proc"
      install -m 0755 "$(sbq_busybox "$arch")" "$ird/bin/busybox"
      ln -s busybox "$ird/bin/sh"
      printf '%s\n' '#!/bin/sh' \
        '/bin/busybox mount -t proc proc /proc' \
        'echo "SB-QEMU: broken initramfs"' \
        '/bin/busybox reboot -f' \
        '/bin/busybox sleep 3600' >"$ird/init"
      chmod 0755 "$ird/init"
      (cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) \
        >"$root/boot/initrd.img"
      rm -rf "$ird"
      ;;
    init)
      printf '%s\n' '#!/bin/sh' \
        'mount -t proc proc /proc' \
        'slot=none' \
        'for w in $(cat /proc/cmdline); do' \
        '  case "$w" in switchback.slot=*) slot="${w#*=}" ;; esac' \
        'done' \
        "echo \"SB-QEMU: init slot=\$slot version=$version broken\"" \
        '# pid 1 exits: the kernel panics, and panic=-1 resets the machine.' \
        'exit 1' >"$root/usr/bin/init"
      chmod 0755 "$root/usr/bin/init"
      ;;
  esac
}

make_fs () {
  local mib="$size_mib"
  if [ "$slot_image" != yes ]; then
    rm -f "$out"
    mke2fs -q -F -t ext4 -L "$label" -E root_owner=0:0 -d "$root" "$out" "${mib}M" \
      || sbq_die "mke2fs of $out (${mib} MiB) failed: the contents need more space (--size)"
    return 0
  fi
  # An update image crosses the guest's network whole, free blocks included, so it gets the
  # room its contents take and 2 MiB more: 4 KiB blocks, inodes for what is there and a 4 MiB
  # journal (below 512 MiB mke2fs would pick 1 KiB blocks, an inode per 4 KiB and a 16 MiB
  # journal: a third more bytes to send). When the estimate falls short, mke2fs -d says so and
  # the next try has 8 MiB more.
  local kib inodes try
  kib=$(du -sk "$root" | cut -f1)
  inodes=$(( $(find "$root" | wc -l) + 256 ))
  mib=$(( kib / 1024 + kib / 1024 / 50 + inodes / 4096 + 4 + 2 ))
  for try in 1 2 3 4 5; do
    rm -f "$out"
    if mke2fs -q -F -t ext4 -b 4096 -N "$inodes" -J size=4 -L "$label" -E root_owner=0:0 \
         -d "$root" "$out" "${mib}M" >"$out.mke2fs.log" 2>&1; then
      rm -f "$out.mke2fs.log"
      return 0
    fi
    mib=$(( mib + 8 ))
  done
  cat "$out.mke2fs.log" >&2
  rm -f "$out.mke2fs.log"
  sbq_die "mke2fs of $out (up to ${mib} MiB) failed"
}

sbq_timed "rootfs-populate" populate
sbq_timed "rootfs-mke2fs" make_fs
