#!/bin/sh
# Builds switchback for a 32-bit target (i686, where gsize is 32 bits while image and metadata
# lengths are 64) and runs the unit tests, under qemu-i386 when the kernel cannot run IA-32
# binaries itself. Writes _build-i386/check.out (automake's TAP summary) and ends with
# "N passed, N failed".
# Usage: scripts/check-32bit.sh   (as root on Debian 12, or with sudo; installs what it needs
#        with scripts/install-32bit-deps.sh)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
build="$top/_build-i386"
triplet=i686-linux-gnu

"$top/scripts/install-32bit-deps.sh" || { echo "check-32bit: installing dependencies failed" >&2; exit 1; }
[ -x "$top/configure" ] || (NOCONFIGURE=1 ./autogen.sh >/dev/null 2>&1) \
  || { echo "check-32bit: autogen.sh failed" >&2; exit 1; }

mkdir -p "$build"
rm -f "$build/check.out"
# Only libsoup's library is installed for i386 (see install-32bit-deps.sh): its headers come
# from the amd64 -dev package, and it is linked by its soname.
if ! (cd "$build" && "$top/configure" --host="$triplet" --enable-werror --enable-test-hooks \
        PKG_CONFIG="$triplet-pkg-config" \
        SOUP_CFLAGS="-I/usr/include/libsoup-3.0 $($triplet-pkg-config --cflags gio-2.0)" \
        SOUP_LIBS="-l:libsoup-3.0.so.0 $($triplet-pkg-config --libs gio-2.0)" \
        >configure.out 2>&1); then
  tail -n 30 "$build/configure.out"; echo "0 passed, 1 failed"; exit 1
fi
if ! (cd "$build" && nice make -j"$jobs" >make.out 2>&1); then
  tail -n 40 "$build/make.out"; echo "0 passed, 1 failed"; exit 1
fi

# An x86_64 kernel without IA-32 emulation answers "Exec format error".
# SB_32BIT_RUNNER=qemu-i386 forces the emulator where the kernel could run the binaries itself.
runner=${SB_32BIT_RUNNER:-}
if [ -z "$runner" ] && ! "$build/src/boot/switchback-boot" --help >/dev/null 2>&1; then
  runner=qemu-i386
  echo "check-32bit: running the tests under $runner"
fi
(cd "$build" && SB_TEST_RUNNER="$runner" nice make -j"$jobs" check-unit 2>&1 | tee check.out \
   | grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# )')
status=0
if grep -qE '^# (FAIL|ERROR|XPASS): +[1-9]' "$build/check.out" || ! grep -q '^# TOTAL' "$build/check.out"; then
  status=1
  find "$build/tests" -name '*.log' -newer "$build/make.out" 2>/dev/null | while read -r l; do
    if grep -qE '^(FAIL|ERROR|not ok)' "$l"; then echo "---- $l"; tail -n 60 "$l"; fi
  done
fi
p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$build/check.out" | tail -n 1)
f=$(awk '/^# (FAIL|ERROR|XPASS):/ {n += $3} END {print n + 0}' "$build/check.out")
if [ "$status" != 0 ] && [ "$f" = 0 ]; then f=1; fi
echo "${p:-0} passed, $f failed"
exit "$status"
