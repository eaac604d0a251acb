#!/bin/bash
# boot.sh: one boot of a QEMU test guest, as a fresh QEMU process that ends with the guest.
#
# Usage: tests/qemu/boot.sh ARCH DISK LOG [TIMEOUT] [options]
#
#   ARCH              x86_64 (q35, OVMF) or aarch64 (virt, cortex-a57, AAVMF); TCG, one CPU
#   DISK              the disk image (build-disk.sh); the guest writes to it
#   LOG               the serial console, written from the firmware's first line on
#   TIMEOUT           seconds before the boot counts as hung and QEMU is killed (default 180)
#   --scenario FILE   a shell script the guest's init runs (fw_cfg opt/switchback/scenario)
#   --server PORT[:GUESTPORT]
#                     user-mode networking in which the guest reaches the host's
#                     127.0.0.1:PORT at 10.0.2.100:GUESTPORT (default 80), and nothing else
#                     (see below); repeatable, one GUESTPORT each
#   --vars FILE       the firmware's writable variable store (default DISK.vars, copied from
#                     the firmware's template when absent), kept across the boots of one disk
#   --memory MIB      guest memory (default 512)
#   --cut-on REGEX    cut the power (SIGKILL to QEMU) as soon as a console line matches the
#                     extended regular expression REGEX (checked every 0.1 s)
#
# QEMU runs with -no-reboot, so the guest powering off, resetting (reboot -f, a kernel panic
# with panic=-1, GRUB's reset entry) or QEMU being killed at TIMEOUT all end this boot. The next
# boot of the same disk is a new boot.sh call, which is what a reset would have started.
#
# Prints one line on stdout: "boot: ARCH END SECONDS", END being
#   poweroff  the kernel powered the machine off (the guest init's normal end)
#   reset     the machine reset itself (or GRUB's reset entry ran)
#   cut       --cut-on matched and the power was cut
#   timeout   killed after TIMEOUT seconds: a hang
# Exit status: 0 for poweroff, reset and cut, 124 for timeout, 1 when QEMU could not run. On
# timeout or error, the last 50 console lines go to stderr.
#
# Networking: QEMU's user-mode network (slirp) runs inside the QEMU process; the guest is
# 10.0.2.15/24 (guest-init.sh sets it). With restrict=on the guest can open no connection to
# anything, except through the guestfwd rules that --server adds: a TCP connection from the
# guest to 10.0.2.100:GUESTPORT makes QEMU run forward.py, which connects to 127.0.0.1:PORT on
# the host, once per connection. So a test server binds 127.0.0.1 only, on any free port, and
# the guest's config names a fixed URL, http://10.0.2.100/ (with allow-http=true, as that is
# not loopback to switchback), so that guest images do not depend on the host's port.
# (Without restrict=on, slirp also maps 10.0.2.2:PORT to the host's 127.0.0.1:PORT, but then
# the guest could reach any address the host can; restrict=on rules that out.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage () {
  echo "usage: boot.sh x86_64|aarch64 DISK LOG [TIMEOUT] [--scenario FILE] [--server PORT[:GUESTPORT]]" \
       "[--vars FILE] [--memory MIB] [--cut-on REGEX]" >&2
  exit 2
}
[ $# -ge 3 ] || usage
arch="$1"
disk="$2"
log="$3"
shift 3
timeout_s=180
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then timeout_s="$1"; shift; fi
scenario=
servers=()
vars="$disk.vars"
memory=512
cut_on=
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) [ $# -ge 2 ] || usage; scenario="$2"; shift 2 ;;
    --server) [ $# -ge 2 ] || usage; servers+=("$2"); shift 2 ;;
    --vars) [ $# -ge 2 ] || usage; vars="$2"; shift 2 ;;
    --memory) [ $# -ge 2 ] || usage; memory="$2"; shift 2 ;;
    --cut-on) [ $# -ge 2 ] || usage; cut_on="$2"; shift 2 ;;
    *) usage ;;
  esac
done
case "$timeout_s" in *[!0-9]* | '') usage ;; esac
sbq_arch "$arch"
[ -f "$disk" ] || sbq_die "no disk image $disk"
[ -z "$scenario" ] || [ -f "$scenario" ] || sbq_die "no scenario file $scenario"
[ -f "$vars" ] || cp --sparse=always "$SBQ_FW_VARS" "$vars"

# tb-size=64: TCG keeps its translations of firmware, GRUB and initramfs code until its buffer
# (1 GiB by default) is full, which a boot never reaches; when Linux reuses those pages as page
# cache, every store to them takes QEMU's self-modifying-code path, about 30 CPU-seconds in the
# first megabytes written to a slot. A 64 MiB buffer is flushed during boot instead.
args=(-accel tcg,tb-size=64 -nodefaults -no-reboot -display none -monitor none -m "$memory" -smp 1
      -serial "file:$log")
case "$arch" in
  x86_64) args+=(-machine q35 -cpu max) ;;
  aarch64) args+=(-machine virt -cpu cortex-a57) ;;
esac
args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$SBQ_FW_CODE"
       -drive "if=pflash,format=raw,unit=1,file=$vars"
       -drive "if=none,id=disk0,format=raw,file=$disk,cache=unsafe"
       -device virtio-blk-pci,drive=disk0,bootindex=0
       -device virtio-rng-pci)
if [ -n "$scenario" ]; then
  args+=(-fw_cfg "name=opt/switchback/scenario,file=$scenario")
fi
if [ "${#servers[@]}" -gt 0 ]; then
  netdev="user,id=net0,restrict=on"
  for srv in "${servers[@]}"; do
    host_port="${srv%%:*}"
    guest_port=80
    case "$srv" in *:*) guest_port="${srv#*:}" ;; esac
    case "$host_port:$guest_port" in *[!0-9:]* | :* | *:) usage ;; esac
    netdev="$netdev,guestfwd=tcp:10.0.2.100:$guest_port-cmd:python3 $sbq_here/forward.py"
    netdev="$netdev 127.0.0.1 $host_port"
  done
  args+=(-netdev "$netdev" -device virtio-net-pci,netdev=net0)
fi

: >"$log"
rm -f "$log.pid" "$log.cut"
t0=$(sbq_now)
rc=0
timeout -k 5 "$timeout_s" "$SBQ_QEMU" "${args[@]}" -pidfile "$log.pid" 2>"$log.qemu" &
qemu_job=$!
watcher=
if [ -n "$cut_on" ]; then
  # The power cut: SIGKILL, so QEMU writes nothing more; what the guest had not yet written to
  # its disk is lost, what it had written stays in the image file.
  qemu_exe=$(readlink -f "$(command -v "$SBQ_QEMU")")
  (
    while sleep 0.1; do
      if grep -a -q -E -e "$cut_on" "$log"; then
        pid=$(cat "$log.pid" 2>/dev/null) || exit 0
        [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$qemu_exe" ] || exit 0
        touch "$log.cut"
        kill -KILL "$pid"
        exit 0
      fi
    done
  ) &
  watcher=$!
fi
wait "$qemu_job" 2>/dev/null || rc=$?
if [ -n "$watcher" ]; then
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
fi
secs=$(awk -v a="$t0" -v b="$(sbq_now)" 'BEGIN { printf "%.1f", b - a }')
if [ -e "$log.cut" ]; then
  end=cut
  rc=0
elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  end=timeout
  rc=124
elif [ "$rc" != 0 ]; then
  echo "boot: $arch qemu-error $secs"
  echo "boot.sh: $SBQ_QEMU exited with status $rc:" >&2
  sed 's/^/  qemu: /' "$log.qemu" >&2
  tail -n 50 "$log" | tr -d '\r' | sed 's/^/  console: /' >&2
  exit 1
elif grep -a -q 'reboot: Power down' "$log"; then
  end=poweroff
else
  end=reset
fi
rm -f "$log.pid"
echo "boot: $arch $end $secs"
if [ -n "${SB_QEMU_TIMINGS:-}" ]; then echo "$arch boot-$end $secs" >>"$SB_QEMU_TIMINGS"; fi
if [ "$end" = timeout ]; then
  echo "boot.sh: $arch boot of $disk timed out after ${timeout_s}s; last console lines:" >&2
  tail -n 50 "$log" | tr -d '\r' | sed 's/^/  console: /' >&2
  exit 124
fi
exit 0
