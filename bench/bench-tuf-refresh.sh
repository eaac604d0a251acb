#!/bin/bash
# Benchmark: a TUF refresh plus one target lookup and download against a repository with
# 10,000 and with 100,000 targets, served on loopback. Prints wall time and peak RSS
# (/usr/bin/time -v) of switchback-tuf and, as the baseline measured in the same run,
# python-tuf's ngclient when SB_TUF_CONFORMANCE points at python-tuf and securesystemslib
# checkouts (see tests/test-tuf-conformance.sh).
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$PWD}
client="$top_builddir/src/tuf-client/switchback-tuf"
[ -x "$client" ] || { echo "build switchback-tuf first (make)"; exit 1; }
work=$(mktemp -d /tmp/sb-bench-tuf.XXXXXX)
server_pid=
trap '[ -n "$server_pid" ] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
server_pid=$!
sleep 0.5

measure () { # measure LABEL CMD... -> "seconds peak_kib"
  local out="$work/time.txt"
  /usr/bin/time -v "$@" >/dev/null 2>"$out" || { cat "$out"; exit 1; }
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out")
  echo "$wall $rss"
}

py_baseline=
if [ -n "${SB_TUF_CONFORMANCE:-}" ] && [ -d "$SB_TUF_CONFORMANCE/python-tuf/tuf" ]; then
  py_baseline=1
  cat >"$work/py-client.py" <<'PY'
import sys
from tuf.ngclient import Updater
md, url, turl, tdir = sys.argv[1:5]
u = Updater(md, url, tdir, turl)
u.refresh()
info = u.get_targetinfo("bench/target-0")
u.download_target(info)
PY
fi

printf '%-9s %-14s %10s %12s\n' targets client seconds peak-MiB
for n in 10000 100000; do
  repo="$work/r$n"
  /usr/bin/python3 "$top_srcdir/bench/gen-tuf-repo.py" "$repo" "$n"
  base="http://127.0.0.1:$port/r$n"
  runs=3
  best_t=; best_r=
  for i in $(seq $runs); do
    rm -rf "$work/md" "$work/t"; mkdir -p "$work/t"
    "$client" --metadata-dir "$work/md" init "$repo/metadata/1.root.json"
    read -r t r < <(measure "$client" --metadata-dir "$work/md" --metadata-url "$base/metadata/" \
      --target-name bench/target-0 --target-base-url "$base/targets/" --target-dir "$work/t" download)
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_r=$r; fi
  done
  printf '%-9s %-14s %10.2f %12.1f\n' "$n" switchback-tuf "$best_t" "$(awk "BEGIN{print $best_r/1024}")"
  if [ -n "$py_baseline" ]; then
    py_t=; py_r=
    for i in $(seq $runs); do
      rm -rf "$work/md" "$work/t"; mkdir -p "$work/md" "$work/t"
      cp "$repo/metadata/1.root.json" "$work/md/root.json"
      read -r t r < <(PYTHONPATH="$top_srcdir/tests/conformance:$SB_TUF_CONFORMANCE/python-tuf:$SB_TUF_CONFORMANCE/securesystemslib" \
        measure /usr/bin/python3 "$work/py-client.py" "$work/md" "$base/metadata/" "$base/targets/" "$work/t")
      if [ -z "$py_t" ] || awk "BEGIN{exit !($t < $py_t)}"; then py_t=$t; py_r=$r; fi
    done
    printf '%-9s %-14s %10.2f %12.1f\n' "$n" python-tuf "$py_t" "$(awk "BEGIN{print $py_r/1024}")"
    printf '%-9s %-14s %9.1fx %11.2fx\n' "$n" "ratio" "$(awk "BEGIN{print $py_t/$best_t}")" "$(awk "BEGIN{print $best_r/$py_r}")"
  fi
done
[ -n "$py_baseline" ] || echo "(set SB_TUF_CONFORMANCE to measure python-tuf as the baseline)"
