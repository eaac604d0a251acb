#!/bin/bash
# build-disk.sh: a bootable GPT disk image for a QEMU test guest, built without mounting
# anything (sfdisk on the file, mtools for the ESP, mke2fs -d for ext4, dd at the offsets).
#
# Usage: tests/qemu/build-disk.sh ARCH OUT.img [options]
#
#   ARCH              x86_64 or aarch64
#   --slot-a IMG      ext4 image for rootfs-a (default: build-rootfs.sh ARCH, version 1)
#   --slot-b IMG      ext4 image for rootfs-b (default: the partition is left empty)
#   --data DIR        files for the data partition (default: an empty switchback/ state dir)
#   --env NAME=VALUE  a grubenv variable (repeatable); default: an empty grubenv, which the
#                     GRUB script takes as a first boot (SB_ORDER="A B", max-tries each)
#   --max-tries N     max-tries of the generated GRUB script (default 3)
#   --slot-size MIB   size of each rootfs partition (default 256)
#   --data-size MIB   size of the data partition (default 64)
#
# Layout (GPT partition names, which switchback finds with libfdisk and the guests mount by):
#   1 esp       32 MiB FAT, label SB-ESP:
#                 EFI/BOOT/BOOTX64.EFI or BOOTAA64.EFI  standalone GRUB; its memdisk holds
#                   grub-wrapper.cfg as grub.cfg and the project's script as switchback.cfg
#                 EFI/switchback/grubenv                 1024-byte grubenv (grub-editenv)
#   2 rootfs-a  ext4, PARTUUID $SBQ_PARTUUID_A (lib.sh), which GRUB finds the slot by
#   3 rootfs-b  ext4, PARTUUID $SBQ_PARTUUID_B (when given); the filesystems' labels do not matter
#   4 data      ext4, label data: /switchback (state-dir of guest.conf), scenarios
#
# The GRUB script comes from grub/gen-switchback-cfg.sh in the source tree, generated for
# --max-tries. GRUB reads grubenv at (ESP)/EFI/switchback/grubenv, which is the default
# [boot] grubenv of switchback (/boot/efi/EFI/switchback/grubenv) with the ESP on /boot/efi.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage () {
  echo "usage: build-disk.sh x86_64|aarch64 OUT.img [--slot-a IMG] [--slot-b IMG] [--data DIR]" \
       "[--env NAME=VALUE]... [--max-tries N] [--slot-size MIB] [--data-size MIB]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
arch="$1"
out="$2"
shift 2
slot_a=
slot_b=
data_dir=
envs=()
max_tries=3
slot_mib=256
data_mib=64
esp_mib=32
while [ $# -gt 0 ]; do
  case "$1" in
    --slot-a) [ $# -ge 2 ] || usage; slot_a="$2"; shift 2 ;;
    --slot-b) [ $# -ge 2 ] || usage; slot_b="$2"; shift 2 ;;
    --data) [ $# -ge 2 ] || usage; data_dir="$2"; shift 2 ;;
    --env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
    --max-tries) [ $# -ge 2 ] || usage; max_tries="$2"; shift 2 ;;
    --slot-size) [ $# -ge 2 ] || usage; slot_mib="$2"; shift 2 ;;
    --data-size) [ $# -ge 2 ] || usage; data_mib="$2"; shift 2 ;;
    *) usage ;;
  esac
done
sbq_arch "$arch"
gen="$top_srcdir/grub/gen-switchback-cfg.sh"
[ -f "$gen" ] || sbq_die "no $gen"
for f in "$slot_a" "$slot_b"; do
  [ -z "$f" ] || [ -f "$f" ] || sbq_die "no slot image $f"
done
[ -z "$data_dir" ] || [ -d "$data_dir" ] || sbq_die "no directory $data_dir"

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The GRUB modules the wrapper and the project's script use.
grub_modules="part_gpt fat ext2 search search_label search_fs_file regexp probe loadenv test echo
 linux normal configfile reboot halt sleep true gzio"

build_grub () {
  sh "$gen" "$max_tries" >"$work/switchback.cfg" || sbq_die "$gen $max_tries failed"
  sed -e "s/@CONSOLE@/$SBQ_CONSOLE/" -e "s/@PARTUUID_A@/$SBQ_PARTUUID_A/" \
    -e "s/@PARTUUID_B@/$SBQ_PARTUUID_B/" "$sbq_here/grub-wrapper.cfg" >"$work/grub.cfg"
  grub-mkstandalone -O "$SBQ_GRUB_TARGET" -o "$work/$SBQ_EFI_NAME" \
    --modules="$grub_modules" --install-modules="$grub_modules" \
    --locales= --themes= --fonts= \
    "boot/grub/grub.cfg=$work/grub.cfg" "boot/grub/switchback.cfg=$work/switchback.cfg" \
    || sbq_die "grub-mkstandalone -O $SBQ_GRUB_TARGET failed"
}

build_esp () {
  grub-editenv "$work/grubenv" create
  local e
  for e in "${envs[@]}"; do
    case "$e" in *=*) ;; *) sbq_die "--env takes NAME=VALUE, not '$e'" ;; esac
    grub-editenv "$work/grubenv" set "$e"
  done
  mkfs.vfat -C -n SB-ESP "$work/esp.img" $((esp_mib * 1024)) >/dev/null
  mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/switchback
  mcopy -i "$work/esp.img" "$work/$SBQ_EFI_NAME" "::/EFI/BOOT/$SBQ_EFI_NAME"
  mcopy -i "$work/esp.img" "$work/grubenv" ::/EFI/switchback/grubenv
}

build_data () {
  local root="$work/data"
  mkdir -p "$root"
  if [ -n "$data_dir" ]; then cp -a "$data_dir/." "$root/"; fi
  mkdir -p "$root/switchback"
  chmod 0700 "$root/switchback"
  mke2fs -q -F -t ext4 -L data -E root_owner=0:0 -d "$root" "$work/data.ext4" "${data_mib}M" \
    || sbq_die "mke2fs of the data partition failed (--data-size)"
}

# put IMG START_SECTOR: writes IMG into the disk at that sector, keeping holes.
put () {
  dd if="$1" of="$out" bs=1M oflag=seek_bytes seek=$(( $2 * 512 )) conv=notrunc,sparse \
    status=none || sbq_die "writing $1 into $out failed"
}

build_disk () {
  if [ -z "$slot_a" ]; then
    "$sbq_here/build-rootfs.sh" "$arch" "$work/rootfs-a.ext4" --label rootfs-a
    slot_a="$work/rootfs-a.ext4"
  fi
  local f
  for f in "$slot_a" "$slot_b"; do
    if [ -n "$f" ] && [ "$(stat -c %s "$f")" -gt $((slot_mib * 1024 * 1024)) ]; then
      sbq_die "$f is larger than a slot ($slot_mib MiB; --slot-size)"
    fi
  done
  build_grub
  build_esp
  build_data

  rm -f "$out"
  truncate -s $(( (1 + esp_mib + 2 * slot_mib + data_mib + 1) * 1024 * 1024 )) "$out"
  sfdisk -q "$out" >/dev/null <<EOF || sbq_die "sfdisk on $out failed"
label: gpt
first-lba: 2048
size=${esp_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
size=${slot_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$SBQ_PARTUUID_A, name="rootfs-a"
size=${slot_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$SBQ_PARTUUID_B, name="rootfs-b"
size=${data_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data"
EOF
  put "$work/esp.img" "$(sbq_part_start "$out" esp)"
  put "$slot_a" "$(sbq_part_start "$out" rootfs-a)"
  [ -z "$slot_b" ] || put "$slot_b" "$(sbq_part_start "$out" rootfs-b)"
  put "$work/data.ext4" "$(sbq_part_start "$out" data)"
}

sbq_timed disk build_disk
