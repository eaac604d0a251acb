#!/bin/sh
# guest-init.sh: /sbin/init of the QEMU test guests (busybox sh). build-rootfs.sh installs it.
#
# It brings up what a scenario needs, runs the scenario, reports on the console and powers the
# machine off, so every boot is one QEMU process that ends by itself:
#
#  1. proc, sys, dev, run, tmp; /dev/disk/by-partlabel/* links (there is no udev here);
#  2. the filesystems of /etc/fstab: the ESP on /boot/efi, the data partition on /data;
#  3. the network, when the machine has a NIC: 10.0.2.15/24 via 10.0.2.2 (QEMU user mode);
#  4. the scenario: fw_cfg opt/switchback/scenario (boot.sh --scenario FILE) if given, else
#     /data/scenario.sh if present, run with sh, its output on the console;
#  5. "SB-QEMU: scenario exit=N", then power off; a scenario that wants a reset runs
#     "reboot -f" itself, or touches /run/sb-qemu-reboot.
#
# Console lines that start with "SB-QEMU: " are the ones the tests read:
#   SB-QEMU: init slot=A version=1 emergency=0
#   SB-QEMU: scenario exit=0
#   SB-QEMU: poweroff | SB-QEMU: reboot
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
umask 022

say () { echo "SB-QEMU: $*"; }

is_mounted () {
  while read -r _dev _mnt _rest; do
    [ "$_mnt" = "$1" ] && return 0
  done </proc/mounts
  return 1
}

[ -e /proc/self ] || mount -t proc proc /proc
is_mounted /sys || mount -t sysfs sysfs /sys
is_mounted /dev || mount -t devtmpfs devtmpfs /dev
is_mounted /run || mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
is_mounted /tmp || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir -p /dev/pts /dev/disk/by-partlabel
hostname sb-qemu-guest

# The partition names of the GPT, from the kernel's uevents (what udev's by-partlabel gives).
for u in /sys/class/block/*/uevent; do
  name=
  dev=
  while IFS='=' read -r k v; do
    case "$k" in PARTNAME) name="$v" ;; DEVNAME) dev="$v" ;; esac
  done <"$u"
  if [ -n "$name" ] && [ -n "$dev" ] && [ ! -e "/dev/disk/by-partlabel/$name" ]; then
    ln -s "../../$dev" "/dev/disk/by-partlabel/$name"
  fi
done

slot=none
emergency=0
for w in $(cat /proc/cmdline); do
  case "$w" in
    switchback.slot=*) slot="${w#switchback.slot=}" ;;
    switchback.emergency=*) emergency="${w#switchback.emergency=}" ;;
  esac
done
version=$(cat /etc/sb-qemu/version 2>/dev/null || echo unknown)
say "init slot=$slot version=$version emergency=$emergency"

for m in vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859_1 virtio_net virtio_rng qemu_fw_cfg; do
  modprobe -q "$m" 2>/dev/null
done
mount -a || say "mount -a failed"

if ip link show eth0 >/dev/null 2>&1; then
  ip link set lo up
  ip link set eth0 up
  ip addr add 10.0.2.15/24 dev eth0
  ip route add default via 10.0.2.2
fi

fwcfg=/sys/firmware/qemu_fw_cfg/by_name/opt/switchback/scenario/raw
scenario=
if [ -r "$fwcfg" ]; then
  cat "$fwcfg" >/run/scenario.sh
  scenario=/run/scenario.sh
elif [ -r /data/scenario.sh ]; then
  scenario=/data/scenario.sh
fi
if [ -n "$scenario" ]; then
  say "scenario $scenario"
  SB_QEMU_SLOT="$slot" SB_QEMU_VERSION="$version" sh "$scenario" </dev/null
  say "scenario exit=$?"
else
  say "no scenario"
fi

sync
if [ -e /run/sb-qemu-reboot ]; then
  say reboot
  umount -a -r 2>/dev/null
  reboot -f
else
  say poweroff
  umount -a -r 2>/dev/null
  poweroff -f
fi
# Not reached: pid 1 must not exit.
sleep 3600
