#!/bin/sh
# The whole test suite, as CI runs it: installs what the tests need, builds with -Werror, runs
# `make check`, then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and
# `make distcheck`, and builds and tests a raw-only ECU configuration (no OSTree module, no
# switchback-repo, no loopback-server tests: neither libostree nor libsoup is used). Ends with one
# line "N passed, N failed" summed over every run.
# Usage: scripts/check.sh        (as root on Debian 12, or with sudo)
# The QEMU boot tests run too (they take a few minutes on 2 cores without KVM).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)

"$top/scripts/install-deps.sh" || { echo "check: installing dependencies failed" >&2; exit 1; }
# The QEMU boot tests (tests/qemu/) need QEMU, UEFI firmware and the arm64 cross toolchain.
"$top/scripts/install-qemu-deps.sh" || { echo "check: installing the QEMU test dependencies failed" >&2; exit 1; }
NOCONFIGURE=1 ./autogen.sh >/dev/null 2>&1 || { echo "check: autogen.sh failed" >&2; exit 1; }

status=0
logs=

run_suite () {
  # run_suite DIR CONFIGURE-FLAGS MAKE-TARGET [MAKE-ARGS...]
  dir="$1"; flags="$2"; target="$3"; shift 3
  echo "== $dir: configure $flags; make $target"
  mkdir -p "$top/$dir"
  if ! (cd "$top/$dir" && "$top/configure" $flags >configure.out 2>&1); then
    tail -n 30 "$top/$dir/configure.out"; status=1; return
  fi
  if ! (cd "$top/$dir" && make -j"$jobs" >make.out 2>&1); then
    tail -n 40 "$top/$dir/make.out"; status=1; return
  fi
  (cd "$top/$dir" && make -j"$jobs" "$target" "$@" 2>&1 | tee check.out | grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# )' ) || true
  if grep -qE '^# (FAIL|ERROR|XPASS): +[1-9]' "$top/$dir/check.out" || ! grep -q '^# TOTAL' "$top/$dir/check.out"; then
    status=1
    find "$top/$dir/tests" -name '*.log' -newer "$top/$dir/make.out" 2>/dev/null | while read -r l; do
      if grep -qE '^(FAIL|ERROR|not ok)' "$l"; then echo "---- $l"; tail -n 60 "$l"; fi
    done
  fi
  logs="$logs $top/$dir/check.out"
}

# The test suite steers switchback through its test hooks (sb-test-hooks.h).
run_suite _build "--enable-werror --enable-test-hooks" check
run_suite _build-asan "--enable-werror --enable-asan --enable-test-hooks" check-unit

# The unit tests again for a 32-bit target (i686; under qemu-i386 where the kernel cannot run
# it), where gsize is 32 bits and lengths are not.
if [ "${SB_SKIP_32BIT:-}" != 1 ]; then
  echo "== _build-i386: scripts/check-32bit.sh"
  "$top/scripts/check-32bit.sh" | grep -E '^(FAIL|ERROR|XPASS|# |----|[0-9]+ passed)' || true
  if [ -f "$top/_build-i386/check.out" ]; then
    logs="$logs $top/_build-i386/check.out"
    if grep -qE '^# (FAIL|ERROR|XPASS): +[1-9]' "$top/_build-i386/check.out" \
       || ! grep -q '^# TOTAL' "$top/_build-i386/check.out"; then status=1; fi
  else
    status=1
  fi
fi
# A raw-only ECU: the build must not reach libostree or libsoup (their headers are not on the
# default include path, so any use fails to compile), and the tests that remain must pass.
run_suite _build-raw "--enable-werror --disable-ostree --disable-repo --disable-tests" check \
  QEMU_TESTS=
if [ -x "$top/_build-raw/src/switchback/switchback" ] \
   && ldd "$top/_build-raw/src/switchback/switchback" | grep -qE 'libostree|libsoup'; then
  echo "check: the raw-only switchback links libostree or libsoup" >&2; status=1
fi

if [ "${SB_SKIP_DISTCHECK:-}" != 1 ]; then
  echo "== distcheck"
  if ! (cd "$top/_build" && make distcheck TESTS='$(UNIT_TESTS)' >distcheck.out 2>&1); then
    tail -n 40 "$top/_build/distcheck.out"; status=1
  else
    grep -E 'archives ready|\.tar' "$top/_build/distcheck.out" | tail -n 3
  fi
fi

passed=0; failed=0
for l in $logs; do
  p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$l" | tail -n 1)
  f=$(awk '/^# (FAIL|ERROR|XPASS):/ {n += $3} END {print n + 0}' "$l")
  passed=$((passed + ${p:-0})); failed=$((failed + f))
done
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
