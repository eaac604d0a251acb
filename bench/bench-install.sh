#!/bin/bash
# bench-install.sh: throughput and peak memory of `switchback update` installing a raw image from
# `switchback-repo serve` on loopback into a slot of a GPT disk image file (the whole cycle:
# Uptane verification, download, hashing, writing, fsync, staging), next to the same bytes
# through the shell pipeline
#   curl -s URL | tee >(sha256sum >/dev/null) | dd of=SLOT conv=fsync
# and, when RAUC is installed and can mount bundles here, next to `rauc install` of the same
# image as a bundle into a file slot. A benchmark: it prints figures and ratios, it does not pass
# or fail.
#
# Usage (from the build directory, as `make bench` runs it):
#   bench/bench-install.sh [GIB]    GIB: image size, default 1 (SB_BENCH_INSTALL_GIB)
# SB_BENCH_INSTALL_ROUNDS (default 3) rounds of each, alternating; the median counts.
# SB_BENCH_INSTALL_BIG_GIB (default 4; 0 skips) also measures switchback's peak memory for a
# larger image. The working directory is under TMPDIR (default /var/tmp), on a real disk.
set -euo pipefail

top_builddir="${top_builddir:-$PWD}"
top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
gib="${1:-${SB_BENCH_INSTALL_GIB:-1}}"
rounds="${SB_BENCH_INSTALL_ROUNDS:-3}"
big_gib="${SB_BENCH_INSTALL_BIG_GIB:-4}"
switchback="$top_builddir/src/switchback/switchback"
repo_tool="$top_builddir/src/repo/switchback-repo"

for t in curl sha256sum dd sfdisk grub-editenv openssl python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench-install: $t is not installed; skipped"; exit 0; }
done
[ -x "$switchback" ] && [ -x "$repo_tool" ] \
  || make -C "$top_builddir" src/switchback/switchback src/repo/switchback-repo >/dev/null

work=$(mktemp -d "${TMPDIR:-/var/tmp}/sb-bench-install.XXXXXX")
pids=()
cleanup () {
  local p
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && { kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; }
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

mib=$((1024 * 1024))
# field "Label" FILE: one value from /usr/bin/time -v output.
field () { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
seconds () {
  field "Elapsed (wall clock) time (h:mm:ss or m:ss)" "$1" \
    | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
peak_mib () { awk '{ printf "%.1f", $1 / 1024 }' <<<"$(field "Maximum resident set size (kbytes)" "$1")"; }
median () { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate () { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
# Incompressible bytes, quickly: AES-CTR of zeros.
gen_image () {
  { openssl enc -aes-128-ctr -nosalt -pass pass:switchback-bench -in /dev/zero 2>/dev/null \
    || true; } | head -c "$2" >"$1"
}

# An Uptane pair on loopback, with images added later.
"$repo_tool" uptane-init repo >/dev/null
"$repo_tool" serve repo --port 0 --port-file port.txt >serve.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat port.txt)"

# new_disk BYTES: a fresh sparse disk image with two slots of at least BYTES each, so every
# run allocates its blocks as the pipeline's fresh file does.
new_disk () {
  local slot_mib=$(($1 / mib + 16))
  rm -f disk.img
  truncate -s $((2 * slot_mib + 16))M disk.img
  printf 'label: gpt\nsize=1MiB, name=esp\nsize=%dMiB, name=rootfs-a\nsize=%dMiB, name=rootfs-b\nname=data\n' \
    "$slot_mib" "$slot_mib" | sfdisk -q disk.img
}

# reset_system: booted from A, nothing installed, no trusted metadata yet.
reset_system () {
  rm -rf state/metadata state/install.json state/counters.json state/images.json state/reports \
    state/last-result.json
  rm -f grubenv
  grub-editenv grubenv create
  grub-editenv grubenv set "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
}

mkdir -p state
echo "BOOT_IMAGE=/vmlinuz switchback.slot=A" >cmdline
cat >sb.conf <<EOF
[uptane]
director-url=$url/director
image-url=$url/repo
director-root=$work/repo/director/metadata/1.root.json
image-root=$work/repo/image/metadata/1.root.json
ecu-serial=bench-ecu
hardware-id=bench-board
[storage]
state-dir=$work/state
[slots]
disk=$work/disk.img
[boot]
grubenv=$work/grubenv
cmdline-file=$work/cmdline
EOF
"$switchback" --config sb.conf status >/dev/null
"$repo_tool" register-ecu repo bench-ecu state/ecu/public.json --hardware-id bench-board >/dev/null

# publish NAME BYTES: an image of BYTES in the Image repository, assigned to the ECU.
publish () {
  gen_image "repo-$1" "$2"
  "$repo_tool" uptane-add-image repo "repo-$1" --name "$1" --hardware-id bench-board \
    --publish >/dev/null
  "$repo_tool" uptane-assign repo --name "$1" --ecu bench-ecu --publish >/dev/null
  rm -f "repo-$1"
}

# run_switchback BYTES TAG: one `switchback update`, timed; prints its seconds.
run_switchback () {
  new_disk "$1"
  reset_system
  sync
  local rc=0
  /usr/bin/time -v -o "sb-$2.time" "$switchback" --config sb.conf update --no-progress \
    >"sb-$2.out" 2>"sb-$2.err" || rc=$?
  [ "$rc" = 10 ] || { cat "sb-$2.err" >&2; echo "bench-install: switchback update exited $rc" >&2; exit 1; }
  seconds "sb-$2.time"
}

# run_pipeline URL TAG: the shell pipeline into a fresh slot file, timed; prints its seconds.
run_pipeline () {
  rm -f slot.img
  sync
  local start end
  start=$(date +%s.%N)
  curl -s "$1" | tee >(sha256sum >/dev/null) | dd of=slot.img conv=fsync status=none
  end=$(date +%s.%N)
  rm -f slot.img
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

bytes=$((gib * 1024 * mib))
echo "bench-install: a ${gib} GiB image, $rounds rounds, in $work"
publish "image-${gib}g.img" "$bytes"
target_url="$url/repo/targets/image-${gib}g.img"
# Both read the served file from the page cache: warm it once.
curl -s "$target_url" -o /dev/null

sb_times=() pipe_times=()
for r in $(seq "$rounds"); do
  sb_times+=("$(run_switchback "$bytes" "$r")")
  pipe_times+=("$(run_pipeline "$target_url" "$r")")
  echo "  round $r: switchback ${sb_times[-1]} s, pipeline ${pipe_times[-1]} s"
done
sb_s=$(median "${sb_times[@]}")
pipe_s=$(median "${pipe_times[@]}")
sb_rss=$(peak_mib "sb-1.time")
for r in $(seq 2 "$rounds"); do
  sb_rss=$(awk -v a="$sb_rss" -v b="$(peak_mib "sb-$r.time")" 'BEGIN { print (b > a) ? b : a }')
done
printf '  %-52s %6.2f s  %5s MiB/s  peak RSS %s MiB\n' "switchback update (verify, install, stage)" \
  "$sb_s" "$(rate "$bytes" "$sb_s")" "$sb_rss"
printf '  %-52s %6.2f s  %5s MiB/s\n' "curl | tee >(sha256sum) | dd conv=fsync" "$pipe_s" \
  "$(rate "$bytes" "$pipe_s")"
ratio=$(awk -v a="$pipe_s" -v b="$sb_s" 'BEGIN { printf "%.2f", a / b }')
echo "  throughput ratio switchback / pipeline: $ratio (target >= 2.0)"
echo "  switchback peak RSS: $sb_rss MiB (target < 16 MiB)"

# RAUC 1.8 installing the same image as a plain bundle into a file slot, through its D-Bus
# service on a private bus (it needs root for the loop mount of the bundle).
rauc_note="not measured"
if ! command -v rauc >/dev/null || ! command -v mksquashfs >/dev/null \
  || ! command -v dbus-daemon >/dev/null; then
  rauc_note="RAUC is not installed (apt-get install rauc squashfs-tools dbus)"
elif [ "$(id -u)" != 0 ] || [ ! -e /dev/loop-control ]; then
  rauc_note="RAUC needs root and loop devices to mount its bundle"
else
  mkdir -p rauc/content rauc/mnt rauc/data
  openssl req -x509 -newkey rsa:2048 -nodes -keyout rauc/key.pem -out rauc/cert.pem \
    -subj /CN=switchback-bench -days 2 2>/dev/null
  gen_image rauc/content/rootfs.img "$bytes"
  cat >rauc/content/manifest.raucm <<EOF
[update]
compatible=switchback-bench
version=1
[bundle]
format=plain
[image.rootfs]
filename=rootfs.img
EOF
  rauc bundle --cert rauc/cert.pem --key rauc/key.pem --mksquashfs-args="-noI -noD -noF -noX" \
    rauc/content rauc/bundle.raucb >rauc/bundle.log 2>&1
  rm -f rauc/content/rootfs.img
  cat >rauc/system.conf <<EOF
[system]
compatible=switchback-bench
bootloader=noop
mountprefix=$work/rauc/mnt
data-directory=$work/rauc/data
[keyring]
path=$work/rauc/cert.pem
[slot.rootfs.0]
device=$work/rauc/slot-a.img
type=raw
bootname=A
[slot.rootfs.1]
device=$work/rauc/slot-b.img
type=raw
bootname=B
EOF
  dbus-daemon --session --print-address=1 --print-pid=3 --fork >rauc/bus.addr 3>rauc/bus.pid
  pids+=("$(cat rauc/bus.pid)")
  export DBUS_SYSTEM_BUS_ADDRESS
  DBUS_SYSTEM_BUS_ADDRESS=$(head -n 1 rauc/bus.addr)
  rauc --conf=rauc/system.conf service --override-boot-slot=A >rauc/service.log 2>&1 &
  pids+=($!)
  sleep 1
  rauc_times=()
  for r in $(seq "$rounds"); do
    rm -f rauc/slot-a.img rauc/slot-b.img
    truncate -s $((bytes + 16 * mib)) rauc/slot-a.img rauc/slot-b.img
    sync
    start=$(date +%s.%N)
    if ! rauc --conf=rauc/system.conf install rauc/bundle.raucb >rauc/install.log 2>&1; then
      rauc_note="rauc install failed: $(tail -n 1 rauc/install.log)"
      rauc_times=()
      break
    fi
    sync rauc/slot-b.img
    end=$(date +%s.%N)
    rauc_times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')")
    echo "  round $r: rauc install ${rauc_times[-1]} s"
  done
  if [ ${#rauc_times[@]} -gt 0 ]; then
    rauc_s=$(median "${rauc_times[@]}")
    printf '  %-52s %6.2f s  %5s MiB/s\n' "rauc install (plain bundle, local file, + sync)" \
      "$rauc_s" "$(rate "$bytes" "$rauc_s")"
    rauc_note="ratio switchback / rauc: $(awk -v a="$rauc_s" -v b="$sb_s" 'BEGIN { printf "%.2f", a / b }')"
  fi
  rm -f rauc/bundle.raucb rauc/slot-a.img rauc/slot-b.img
fi
echo "  RAUC: $rauc_note"

if [ "$big_gib" -gt 0 ]; then
  big=$((big_gib * 1024 * mib))
  publish "image-${big_gib}g.img" "$big"
  big_s=$(run_switchback "$big" big)
  printf '  %-52s %6.2f s  %5s MiB/s  peak RSS %s MiB\n' "switchback update, ${big_gib} GiB image" \
    "$big_s" "$(rate "$big" "$big_s")" "$(peak_mib sb-big.time)"
  rm -f disk.img
fi
