#!/bin/sh
# initramfs-init.sh: /init of the busybox initramfs of the aarch64 test guests.
#
# dracut on this (x86_64) machine would copy x86_64 binaries into an arm64 initramfs, so the
# aarch64 guests boot this instead. It does what dracut's rootfs-block path does for these
# guests, and runs the same pre-pivot hook that dracut/90switchback installs:
#
#  1. proc, sys, dev, run; the kernel modules listed in /etc/sb-qemu/modules;
#  2. waits for root= (PARTUUID=, LABEL=, PARTLABEL= or a /dev path) and mounts it on $NEWROOT, read-only
#     unless the command line says rw;
#  3. sources the hooks of /lib/dracut/hooks/POINT/*.sh in name order, as dracut does, at the
#     points pre-mount (before the root is mounted), pre-pivot and cleanup (after), with
#     NEWROOT set;
#  4. moves /dev, /proc, /sys and /run into the new root and switch_roots to init= (/sbin/init).
#
# When the root filesystem cannot be found it reboots, as dracut with rd.emergency=reboot does.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
export NEWROOT=/sysroot

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /dev/disk/by-partlabel /dev/disk/by-label "$NEWROOT"

emergency () {
  echo "initramfs: $*; rebooting"
  sync
  reboot -f
  sleep 3600
}

# run_hooks POINT: sources the hooks installed for POINT.
run_hooks () {
  for hook in /lib/dracut/hooks/"$1"/*.sh; do
    # shellcheck disable=SC1090
    [ -f "$hook" ] && . "$hook"
  done
}

root=
rootmode=ro
init=/sbin/init
for w in $(cat /proc/cmdline); do
  case "$w" in
    root=*) root="${w#root=}" ;;
    rw) rootmode=rw ;;
    ro) rootmode=ro ;;
    init=*) init="${w#init=}" ;;
  esac
done
[ -n "$root" ] || emergency "no root= on the kernel command line"

while read -r m; do
  [ -n "$m" ] && modprobe -q "$m"
done </etc/sb-qemu/modules

# find_root: prints the device of $root once the kernel has it.
find_root () {
  case "$root" in
    PARTLABEL=*)
      for u in /sys/class/block/*/uevent; do
        if grep -qx "PARTNAME=${root#PARTLABEL=}" "$u"; then
          echo "/dev/$(sed -n 's/^DEVNAME=//p' "$u")"
          return 0
        fi
      done
      return 1
      ;;
    PARTUUID=*)
      # This kernel's uevents carry no PARTUUID: read each partition's unique GUID from its
      # disk's GPT entry (the entry array at LBA 2, 128 bytes an entry, the GUID at byte 16,
      # its first three fields little-endian), as udev's blkid does for dracut.
      want=$(echo "${root#PARTUUID=}" | tr 'A-F' 'a-f')
      for u in /sys/class/block/*/uevent; do
        n=$(sed -n 's/^PARTN=//p' "$u")
        [ -n "$n" ] || continue
        d=$(sed -n 's/^DEVNAME=//p' "$u")
        disk=$(basename "$(readlink -f "/sys/class/block/$d/..")")
        set -- $(od -An -tx1 -N16 -j $((1024 + (n - 1) * 128 + 16)) "/dev/$disk" 2>/dev/null)
        [ $# -eq 16 ] || continue
        got="$4$3$2$1-$6$5-$8$7-$9${10}-${11}${12}${13}${14}${15}${16}"
        if [ "$got" = "$want" ]; then
          echo "/dev/$d"
          return 0
        fi
      done
      return 1
      ;;
    LABEL=* | UUID=*) findfs "$root" 2>/dev/null ;;
    /dev/*) [ -b "$root" ] && echo "$root" ;;
    *) return 1 ;;
  esac
}

dev=
i=0
while [ "$i" -lt 100 ]; do
  dev=$(find_root) && [ -b "$dev" ] && break
  dev=
  sleep 0.1
  i=$((i + 1))
done
[ -n "$dev" ] || emergency "root device $root not found"

# The names udev would give, for the hook's mounts and for the booted system.
for u in /sys/class/block/*/uevent; do
  name=$(sed -n 's/^PARTNAME=//p' "$u")
  d=$(sed -n 's/^DEVNAME=//p' "$u")
  if [ -n "$name" ] && [ -n "$d" ] && [ ! -e "/dev/disk/by-partlabel/$name" ]; then
    ln -s "../../$d" "/dev/disk/by-partlabel/$name"
  fi
done

run_hooks pre-mount
mount -t ext4 -o "$rootmode" "$dev" "$NEWROOT" || emergency "cannot mount $dev ($root) on $NEWROOT"
echo "initramfs: mounted $dev ($root) on $NEWROOT $rootmode"

run_hooks pre-pivot
run_hooks cleanup

[ -x "$NEWROOT$init" ] || [ -L "$NEWROOT$init" ] || emergency "no $init in $root"
for d in dev proc sys run; do
  mount --move "/$d" "$NEWROOT/$d" || emergency "cannot move /$d into $NEWROOT"
done
exec switch_root "$NEWROOT" "$init"
