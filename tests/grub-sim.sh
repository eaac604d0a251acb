# grub-sim.sh: runs the project's GRUB script (grub/gen-switchback-cfg.sh output) as GRUB would
# at boot, under bash, with the few GRUB commands it uses replaced by shims over grub-editenv.
# The slot choice, the try-counter decrement and save_env are the script's own; only the
# commands are emulated. Used by the tests and by the demo (no real firmware needed).
#
#   sb_grub_sim CFG ENVFILE CMDLINE_OUT
# boots CFG against the environment block ENVFILE and writes the kernel command line it
# booted to CMDLINE_OUT. Returns non-zero if the script fails.
sb_grub_sim () {
  local cfg="$1" envfile="$2" cmdline_out="$3"
  local sim
  sim=$(mktemp "${TMPDIR:-/tmp}/sb-grub-sim.XXXXXX")
  sed -e 's/^menuentry .* {$/sb_menuentry () {/' -e 's/^set default=switchback$/:/' "$cfg" >"$sim"
  (
    set +eu
    # Only the slot's root is searched for, by label: sb_envfile is set.
    search () {
      [ "$1 $2 $3" = "--no-floppy --set=root --label" ] || { echo "grub-sim: unexpected search $*" >&2; exit 1; }
      root="label:$4"
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
    linux () { shift; echo "$*" >"$cmdline_out"; }
    initrd () { :; }
    sb_envfile="$envfile"
    source "$sim"
    sb_menuentry
  )
  local rc=$?
  rm -f "$sim"
  return $rc
}
