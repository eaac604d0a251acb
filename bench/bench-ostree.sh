#!/bin/bash
# bench-ostree.sh: time and peak memory of pulling and deploying an OSTree commit of about
# 200 MiB of incompressible files from an archive repository on loopback, through switchback's
# sb-ostree (driven by tests/test-ostree's command mode), next to the ostree CLI's own pull of the
# same commit as a baseline. A benchmark: it prints figures and ratios, it does not pass or fail.
#
# Usage (from the build directory, as `make bench` runs it):
#   bench/bench-ostree.sh [MIB]          MIB: payload size, default 200
set -euo pipefail

top_builddir="${top_builddir:-$PWD}"
top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
mib="${1:-${SB_BENCH_OSTREE_MIB:-200}}"
helpers="$top_srcdir/tests/ostree-helpers.sh"
tool="$top_builddir/tests/test-ostree"

for t in ostree python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench-ostree: $t is not installed; skipped"; exit 0; }
done
if [ ! -x "$tool" ]; then
  make -C "$top_builddir" tests/test-ostree >/dev/null
fi

export OSTREE_SYSROOT_DEBUG=mutable-deployments
work=$(mktemp -d "${TMPDIR:-/var/tmp}/sb-bench-ostree.XXXXXX")
server_pid=
cleanup () {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# field "Label" FILE: one value from /usr/bin/time -v output.
field () { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
# seconds FILE: wall clock of /usr/bin/time -v ("m:ss.cc" or "h:mm:ss") in seconds.
seconds () {
  field "Elapsed (wall clock) time (h:mm:ss or m:ss)" "$1" \
    | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
peak_mib () { awk '{ printf "%.1f", $1 / 1024 }' <<<"$(field "Maximum resident set size (kbytes)" "$1")"; }

echo "bench-ostree: building a ${mib} MiB commit in $work"
bash "$helpers" make-tree "$work/base" 6.1.0 1 4
bash "$helpers" make-tree "$work/big" 6.1.1 "$mib" 1024
base=$(bash "$helpers" commit "$work/srv" "$work/base" 1.0)
big=$(bash "$helpers" commit "$work/srv" "$work/big" 2.0)
bash "$helpers" make-sysroot "$work/sysroot" testos
bash "$helpers" provision "$work/sysroot" testos "$work/srv" "$base" root=/dev/vda2 rw
mkdir -p "$work/state"

bash "$helpers" serve "$work/srv" "$work/port" "$work/http.log" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
repo_kib=$(du -sk "$work/srv/objects" | cut -f1)

sync
/usr/bin/time -v -o "$work/pull.time" \
  "$tool" tool pull "$work/sysroot" "$work/state" "$url" "$big" 2>"$work/pull.err" \
  || { cat "$work/pull.err"; exit 1; }
requests=$(grep -c '"GET ' "$work/http.log" || true)
sync
/usr/bin/time -v -o "$work/deploy.time" \
  "$tool" tool deploy "$work/sysroot" "$work/state" "$big" B 2>"$work/deploy.err" \
  || { cat "$work/deploy.err"; exit 1; }

# Baseline: the ostree CLI pulling the same commit into an empty bare repository.
ostree init --repo="$work/cli" --mode=bare
ostree --repo="$work/cli" remote add --no-gpg-verify bench "$url"
sync
/usr/bin/time -v -o "$work/cli.time" ostree --repo="$work/cli" pull bench "$big" >/dev/null

pull_s=$(seconds "$work/pull.time"); deploy_s=$(seconds "$work/deploy.time")
cli_s=$(seconds "$work/cli.time")
echo "bench-ostree: commit ${big:0:12}, ${mib} files of 1 MiB, $((repo_kib / 1024)) MiB in the archive repository, $requests HTTP requests"
printf '  %-34s %8s s  %8s MiB/s  peak RSS %7s MiB\n' \
  "pull (sb_ostree_pull)" "$pull_s" "$(awk -v m="$mib" -v s="$pull_s" 'BEGIN { printf "%.1f", (s > 0 ? m / s : 0) }')" "$(peak_mib "$work/pull.time")"
printf '  %-34s %8s s  %8s        peak RSS %7s MiB\n' \
  "deploy + cleanup (sb_ostree_deploy)" "$deploy_s" "" "$(peak_mib "$work/deploy.time")"
printf '  %-34s %8s s  %8s MiB/s  peak RSS %7s MiB\n' \
  "baseline: ostree pull (CLI)" "$cli_s" "$(awk -v m="$mib" -v s="$cli_s" 'BEGIN { printf "%.1f", (s > 0 ? m / s : 0) }')" "$(peak_mib "$work/cli.time")"
echo "  ratio pull time switchback / ostree CLI: $(awk -v a="$pull_s" -v b="$cli_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
