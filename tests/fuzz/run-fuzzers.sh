#!/bin/sh
# Runs each libFuzzer target for N seconds, one after the other, on its seed corpus.
# Usage: tests/fuzz/run-fuzzers.sh [-t SECONDS] [TARGET...]   (from the build directory, after
# `make fuzz`; default 600 s and every target). New inputs go to tests/fuzz/work/<target>/;
# a crash, leak or hang leaves its input in tests/fuzz/work/<target>-artifacts/ and makes the
# script exit 1 once every target has run. Copy a reproducer into
# $srcdir/tests/fuzz/corpus/<target>/ to keep it as a `make check` case.
set -u
secs=600
if [ "${1:-}" = "-t" ]; then secs=$2; shift 2; fi
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-json metadata chain grubenv files}
status=0
for t in $targets; do
  bin=tests/fuzz/fuzz-$t
  if [ ! -x "$bin" ]; then echo "run-fuzzers: $bin is missing: run make fuzz" >&2; exit 1; fi
  work=tests/fuzz/work/$t
  art=tests/fuzz/work/$t-artifacts
  mkdir -p "$work" "$art"
  echo "== $t: $secs s"
  # G_SLICE: plain malloc, so LeakSanitizer sees GLib's blocks too.
  G_SLICE=always-malloc nice "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -jobs=1 -workers=1 -print_final_stats=1 -artifact_prefix="$art/" \
    "$work" "$here/corpus/$t" >"tests/fuzz/work/$t.log" 2>&1
  rc=$?
  # With -jobs the output goes to fuzz-0.log in the current directory.
  if [ -f fuzz-0.log ]; then cat fuzz-0.log >>"tests/fuzz/work/$t.log"; rm -f fuzz-0.log; fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "tests/fuzz/work/$t.log" | tail -1 |
            grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "tests/fuzz/work/$t.log" | tail -1 |
           grep -o '[0-9]*$')
  echo "$t: exit $rc, ${execs:-?} runs, ${rate:-?} exec/s, $(ls "$art" | wc -l) artifacts"
  [ "$rc" = 0 ] || status=1
done
exit $status
