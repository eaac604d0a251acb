# grub-sim.sh: runs the project's GRUB script (grub/gen-switchback-cfg.sh output) as GRUB would
# at boot, under bash, with the few GRUB commands it uses replaced by shims over grub-editenv,
# sfdisk, blkid and debugfs. The slot choice, the try-counter decrement, save_env and the search
# for the slot's partition are the script's own; only the commands are emulated, and they see
# the disk as GRUB does: the GPT partitions of DISK as (hd0,gptN), each with its PARTUUID, and
# the ext2/3/4 filesystems inside them. Used by the tests and by the demo (no firmware needed).
#
#   sb_grub_sim CFG ENVFILE CMDLINE_OUT DISK
# boots CFG against the environment block ENVFILE and the GPT disk image DISK, and writes the
# kernel command line it booted to CMDLINE_OUT (left alone when nothing boots). Returns non-zero
# if the script fails or boots nothing, as GRUB's entry fails: `linux` and `initrd` fail when
# root is not a partition of the disk, when that partition holds no ext2/3/4 filesystem, or when
# the file is not a regular file there (a symbolic link is refused too, where GRUB would follow
# it).
#
# What a grub.cfg fragment sets before the script (sb_root_partuuid_A, sb_kernel, ...) is taken
# from the caller's shell variables of those names. Nothing is guessed: a script that knows no
# PARTUUID boots nothing, as on a device.
#
# SB_GRUB_SIM_NO_FS=1: the slots hold test patterns, not filesystems (tests of the installer,
# not of the boot): `linux` and `initrd` then only check that root is a partition of DISK.
sb_grub_sim () {
  local cfg="$1" envfile="$2" cmdline_out="$3" disk="$4"
  [ -f "$disk" ] || { echo "grub-sim: no disk image '$disk'" >&2; return 1; }
  local sim parts
  # One line per GPT partition: "N START PARTUUID NAME" (START in 512-byte sectors).
  parts=$(sfdisk --json "$disk" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
if t.get("label") != "gpt":
    sys.exit(0)
for p in t["partitions"]:
    n = p["node"][len(t["device"]):]
    print(n, p["start"], p["uuid"].lower(), p.get("name") or "-")
') || { echo "grub-sim: cannot read the partition table of $disk" >&2; return 1; }
  sim=$(mktemp "${TMPDIR:-/tmp}/sb-grub-sim.XXXXXX")
  # GRUB expands the device wildcard (*,gpt*) to every GPT partition it sees; bash cannot parse
  # the word, so it becomes that list.
  sed -e 's/^menuentry .* {$/sb_menuentry () {/' -e 's/^set default=switchback$/:/' \
    -e 's/ in (\*,gpt\*); do$/ in $sb_sim_devices; do/' "$cfg" >"$sim"
  (
    set +eu
    sb_sim_devices=$(while read -r n _; do [ -n "$n" ] && printf '(hd0,gpt%s) ' "$n"; done <<<"$parts")
    # sb_sim_part DEVICE: "START PARTUUID NAME" of (hd0,gptN), or fails.
    sb_sim_part () {
      local n
      case "$1" in "(hd0,gpt"*")") n=${1#(hd0,gpt}; n=${n%)} ;; *) return 1 ;; esac
      local rest
      rest=$(awk -v n="$n" '$1 == n { print $2, $3, $4 }' <<<"$parts")
      [ -n "$rest" ] && echo "$rest"
    }
    insmod () { :; }
    search () {
      local var=root kind="" name=""
      while [ $# -gt 0 ]; do
        case "$1" in
          --no-floppy) ;;
          --set=*) var=${1#--set=} ;;
          --label | --fs-uuid | --file) kind=$1 ;;
          *) name=$1 ;;
        esac
        shift
      done
      [ "$kind" = --label ] || { echo "grub-sim: unexpected search $kind" >&2; exit 1; }
      # The first partition whose filesystem carries the label, as GRUB's search --label.
      local n start uuid pname
      while read -r n start uuid pname; do
        if [ "$(blkid -p -O $((start * 512)) -s LABEL -o value "$disk" 2>/dev/null)" = "$name" ]; then
          printf -v "$var" '%s' "(hd0,gpt$n)"
          return 0
        fi
      done <<<"$parts"
      echo "error: no such device: $name." >&2
      return 1
    }
    probe () {
      local var="" what="" dev=""
      while [ $# -gt 0 ]; do
        case "$1" in --set=*) var=${1#--set=} ;; --part-uuid) what=$1 ;; *) dev=$1 ;; esac
        shift
      done
      [ "$what" = --part-uuid ] || { echo "grub-sim: unexpected probe $what" >&2; exit 1; }
      local p
      p=$(sb_sim_part "$dev") || { echo "error: no such partition $dev." >&2; return 1; }
      set -- $p
      printf -v "$var" '%s' "$2"
    }
    # sb_sim_has_file PATH: PATH is a regular file in the filesystem of the partition $root.
    sb_sim_has_file () {
      local p
      p=$(sb_sim_part "$root") || { echo "error: no such partition '$root'." >&2; return 1; }
      [ "${SB_GRUB_SIM_NO_FS:-}" = 1 ] && return 0
      set -- "$1" $p
      local at="$disk?offset=$(($2 * 512))" st
      if ! st=$(debugfs -R "stat $1" "$at" 2>&1); then
        echo "error: $root: unknown filesystem." >&2
        return 1
      fi
      case "$st" in
        *"Bad magic number"* | *"Could not open"*)
          echo "error: $root: unknown filesystem." >&2
          return 1
          ;;
        *"Type: regular"*) return 0 ;;
      esac
      echo "error: file \`$1' not found." >&2
      return 1
    }
    load_env () {
      local file="" names=""
      while [ $# -gt 0 ]; do
        case "$1" in --skip-sig) ;; --file) file="$2"; shift ;; *) names="$names $1" ;; esac
        shift
      done
      local line n
      while IFS= read -r line; do
        for n in $names; do
          [ "${line%%=*}" = "$n" ] && printf -v "$n" '%s' "${line#*=}"
        done
      done < <(grub-editenv "$file" list)
    }
    save_env () {
      local file="$2"; shift 2
      local n args=()
      for n in "$@"; do [ -n "${!n+x}" ] && args+=("$n=${!n}"); done
      grub-editenv "$file" set "${args[@]}"
    }
    sb_sim_loaded=
    sb_sim_cmdline=
    linux () {
      sb_sim_loaded=
      sb_sim_has_file "$1" || return 1
      shift
      sb_sim_cmdline="$*"
      sb_sim_loaded=yes
    }
    # Without its initramfs the slot would boot without switchback's hook: a failed entry here.
    initrd () { sb_sim_has_file "$1" || sb_sim_loaded=; }
    root=
    sb_envfile="$envfile"
    source "$sim"
    sb_menuentry
    # GRUB boots only when the entry loaded a kernel; otherwise the entry failed.
    [ -n "$sb_sim_loaded" ] || { echo "grub-sim: the entry loaded no kernel" >&2; exit 1; }
    echo "$sb_sim_cmdline" >"$cmdline_out"
  )
  local rc=$?
  rm -f "$sim"
  return $rc
}
