#!/bin/bash
# disk-files.sh: reads and changes files on the partitions of a guest's disk image between
# boots, without mounting (debugfs for ext4, mtools for the FAT ESP, at the partition offset).
#
# Usage: tests/qemu/disk-files.sh DISK COMMAND ARGS...
#
#   cat PART PATH            print a file (PART: esp, rootfs-a, rootfs-b, data)
#   ls PART PATH             list a directory
#   exists PART PATH         exit 0 when PATH exists, 1 when not
#   put PART SRC PATH        copy the host file SRC to PATH, replacing it (its directory must
#                            exist)
#   rm PART PATH             remove a file
#   env                      print grubenv (EFI/switchback/grubenv on the ESP), "NAME=VALUE"
#   set-env NAME=VALUE...    set grubenv variables with grub-editenv
#   write-slot PART IMG      write the filesystem image IMG into PART, as an installer would
#   read-slot PART OUT [BYTES]
#                            copy the first BYTES bytes of PART (default: all of it) into the
#                            host file OUT, to compare a slot with the image written into it
#
# The guest must not be running: the disk image is shared with nobody while this runs.
#
# A guest that lost power or reset with an ext4 filesystem mounted (boot.sh --cut-on,
# "reboot -f", switchback-boot rebooting from the initramfs) leaves committed transactions in the
# journal that are not yet in their place; the kernel replays them at the next mount. debugfs
# does not, so cat, ls and exists read such a partition from a copy on which
# "e2fsck -E journal_only" replayed the journal, and see what the guest's next mount will see.
# put and rm refuse it: changing the filesystem under an unreplayed journal would corrupt it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage () {
  echo "usage: disk-files.sh DISK cat|ls|exists|put|rm|env|set-env|write-slot|read-slot ARGS..." >&2
  exit 2
}
[ $# -ge 2 ] || usage
disk="$1"
cmd="$2"
shift 2
[ -f "$disk" ] || sbq_die "no disk image $disk"

# offset PART: byte offset of the partition.
offset () { echo $(( $(sbq_part_start "$disk" "$1") * 512 )); }

# is_esp PART: the ESP is FAT (mtools); the other partitions are ext4 (debugfs).
is_esp () { [ "$1" = esp ]; }

# needs_recovery PART: the ext4 filesystem on PART has a journal to replay.
needs_recovery () {
  debugfs -R "stats" "$disk?offset=$(offset "$1")" 2>/dev/null \
    | grep -q -E '^Filesystem features:.* needs_recovery'
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-disk-files.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fs_source PART [-w]: where debugfs reads PART: the partition in place, or a copy with its
# journal replayed (see the top of this file).
fs_source () {
  if ! needs_recovery "$1"; then
    echo "$disk?offset=$(offset "$1")"
    return 0
  fi
  [ -z "${2:-}" ] || sbq_die "$1 of $disk has a journal to replay (the guest did not unmount" \
    "it); boot the guest once before changing files on it"
  local replayed="$work/$1.replayed"
  if [ ! -e "$replayed" ]; then
    dd if="$disk" of="$replayed" bs=1M iflag=skip_bytes,count_bytes skip="$(offset "$1")" \
      count=$(( $(sbq_part_sectors "$disk" "$1") * 512 )) conv=sparse status=none
    # 0: nothing to fix, 1: the journal was replayed; anything else is a damaged filesystem.
    local rc=0
    e2fsck -f -y -E journal_only "$replayed" >/dev/null 2>&1 || rc=$?
    [ "$rc" -le 1 ] || sbq_die "e2fsck could not replay the journal of $1 in $disk (status $rc)"
  fi
  echo "$replayed"
}

ext4 () {
  # ext4 PART REQUEST [-w]: one debugfs request on the partition; debugfs reports a failed
  # request only on stderr, so any stderr line besides its banner is a failure.
  local part="$1" req="$2" mode="${3:-}" err src
  src=$(fs_source "$part" "$mode")
  err=$(mktemp)
  debugfs $mode -R "$req" "$src" 2>"$err" || true
  if grep -v -E '^debugfs [0-9.]+ \(' "$err" >&2; then rm -f "$err"; return 1; fi
  rm -f "$err"
}

esp_path () { echo "$disk@@$(offset esp)"; }

case "$cmd" in
  cat)
    [ $# = 2 ] || usage
    if is_esp "$1"; then mtype -i "$(esp_path)" "::$2"; else ext4 "$1" "cat $2"; fi
    ;;
  ls)
    [ $# = 2 ] || usage
    if is_esp "$1"; then mdir -b -i "$(esp_path)" "::$2"; else ext4 "$1" "ls -l $2"; fi
    ;;
  exists)
    [ $# = 2 ] || usage
    if is_esp "$1"; then
      mdir -i "$(esp_path)" "::$2" >/dev/null 2>&1
    else
      ext4 "$1" "stat $2" >/dev/null 2>&1
    fi
    ;;
  put)
    [ $# = 3 ] || usage
    [ -f "$2" ] || sbq_die "no file $2"
    if is_esp "$1"; then
      mcopy -o -i "$(esp_path)" "$2" "::$3"
    else
      fs_source "$1" -w >/dev/null
      ext4 "$1" "rm $3" -w >/dev/null 2>&1 || true
      ext4 "$1" "write $2 $3" -w >/dev/null
    fi
    ;;
  rm)
    [ $# = 2 ] || usage
    if is_esp "$1"; then mdel -i "$(esp_path)" "::$2"; else ext4 "$1" "rm $2" -w; fi
    ;;
  env)
    [ $# = 0 ] || usage
    tmp=$(mktemp)
    mtype -i "$(esp_path)" ::/EFI/switchback/grubenv >"$tmp"
    grub-editenv "$tmp" list
    rm -f "$tmp"
    ;;
  set-env)
    [ $# -ge 1 ] || usage
    tmp=$(mktemp)
    mtype -i "$(esp_path)" ::/EFI/switchback/grubenv >"$tmp"
    for e in "$@"; do
      case "$e" in *=*) ;; *) sbq_die "set-env takes NAME=VALUE, not '$e'" ;; esac
      grub-editenv "$tmp" set "$e"
    done
    mcopy -o -i "$(esp_path)" "$tmp" ::/EFI/switchback/grubenv
    rm -f "$tmp"
    ;;
  write-slot)
    [ $# = 2 ] || usage
    [ -f "$2" ] || sbq_die "no image $2"
    case "$1" in rootfs-a|rootfs-b) ;; *) sbq_die "write-slot writes rootfs-a or rootfs-b" ;; esac
    [ "$(stat -c %s "$2")" -le $(( $(sbq_part_sectors "$disk" "$1") * 512 )) ] \
      || sbq_die "$2 does not fit in $1"
    dd if="$2" of="$disk" bs=1M oflag=seek_bytes seek="$(offset "$1")" conv=notrunc,sparse \
      status=none
    ;;
  read-slot)
    [ $# = 2 ] || [ $# = 3 ] || usage
    total=$(( $(sbq_part_sectors "$disk" "$1") * 512 ))
    bytes="${3:-$total}"
    case "$bytes" in *[!0-9]* | '') usage ;; esac
    [ "$bytes" -le "$total" ] || sbq_die "$1 has only $total bytes, not $bytes"
    dd if="$disk" of="$2" bs=1M iflag=skip_bytes,count_bytes skip="$(offset "$1")" \
      count="$bytes" status=none
    ;;
  *) usage ;;
esac
