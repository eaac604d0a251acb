#!/bin/bash
# cross-build.sh: builds switchback and switchback-boot for aarch64 guests, with Debian's
# gcc-aarch64-linux-gnu and the :arm64 -dev packages (scripts/install-qemu-deps.sh), in
# $SB_QEMU_CACHE/build-aarch64. Incremental: make rebuilds only what changed in the sources.
#
# Usage: tests/qemu/cross-build.sh
#
# The cross build takes prefix, sysconfdir and localstatedir from the native build in
# $top_builddir, so both architectures' binaries read the same compiled-in paths.
#
# A source tree configured in place (./autogen.sh without NOCONFIGURE) cannot hold a second,
# out-of-tree build: automake's configure refuses it ("source directory already configured"),
# and make would pick the tree's native objects through VPATH. The cross build then starts from
# a clean copy of the sources, $SB_QEMU_CACHE/src-aarch64, made by the tree's own `make distdir`
# (the files of a release tarball, with the working tree's edits; cp -p keeps their times, so
# make still rebuilds only what changed). The user's build is left as it is.
#
# libsoup-3.0-dev:arm64 cannot be installed beside the amd64 one on Debian 12 (through
# libsysprof-capture-4-dev it needs libsysprof-4-dev, GTK 4 and gobject-introspection:arm64,
# which needs python3:arm64). libsoup serves only switchback-repo, a host-side tool that no guest
# runs, so configure is given the SOUP flags directly and switchback-repo is not built here.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sbq_arch aarch64

build="$SB_QEMU_CACHE/build-aarch64"
srcdir=$top_srcdir
if [ -f "$top_srcdir/config.status" ]; then
  srcdir="$SB_QEMU_CACHE/src-aarch64"
fi

# make_var NAME: a directory variable of the native build's Makefile, unexpanded
# ("${prefix}/etc"), which configure takes as it is.
make_var () {
  sed -n "s/^$1 = //p" "$top_builddir/Makefile" | head -n 1
}

prefix=$(make_var prefix)
sysconfdir=$(make_var sysconfdir)
localstatedir=$(make_var localstatedir)
[ -n "$prefix" ] || sbq_die "$top_builddir/Makefile has no prefix (configure the native build)"
args="--host=$SBQ_TRIPLET --prefix=$prefix --sysconfdir=$sysconfdir --localstatedir=$localstatedir"
targets="src/switchback/switchback src/boot/switchback-boot"

configured () {
  [ -f "$build/Makefile" ] && [ "$(cat "$build/.configure-args" 2>/dev/null)" = "$args" ] \
    && [ "$(cat "$build/.srcdir" 2>/dev/null)" = "$srcdir" ]
}

# copy_sources: refreshes the clean copy of the sources from the tree configured in place.
copy_sources () {
  (env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_srcdir" distdir distdir="$srcdir" \
     top_distdir="$srcdir" >"$SB_QEMU_CACHE/distdir.out" 2>&1) \
    || { tail -n 30 "$SB_QEMU_CACHE/distdir.out" >&2
         sbq_die "make distdir in $top_srcdir failed (it is configured in place)"; }
}

cross_build () {
  if [ "$srcdir" != "$top_srcdir" ]; then
    copy_sources
  fi
  mkdir -p "$build"
  if ! configured; then
    sbq_log "configuring the $SBQ_TRIPLET build in $build (sources: $srcdir)"
    # A build configured from the other source tree (the tree itself, or the clean copy) is
    # started again: its objects and dependency files name that tree's paths.
    if [ -f "$build/Makefile" ] && [ "$(cat "$build/.srcdir" 2>/dev/null)" != "$srcdir" ]; then
      rm -rf "$build"
      mkdir -p "$build"
    fi
    (cd "$build" && "$srcdir/configure" --host="$SBQ_TRIPLET" --prefix="$prefix" \
       --sysconfdir="$sysconfdir" --localstatedir="$localstatedir" \
       PKG_CONFIG="$SBQ_TRIPLET-pkg-config" \
       SOUP_CFLAGS="-I/usr/include/libsoup-3.0" SOUP_LIBS="-lsoup-3.0" \
       >configure.out 2>&1) \
      || { tail -n 30 "$build/configure.out" >&2; sbq_die "configure --host=$SBQ_TRIPLET failed"; }
    echo "$args" >"$build/.configure-args"
    echo "$srcdir" >"$build/.srcdir"
  fi
  # A make of the tests (make check) must not hand its flags and variables down to this one.
  (cd "$build" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j"$(nproc)" $targets \
     >make.out 2>&1) \
    || { tail -n 40 "$build/make.out" >&2; sbq_die "the $SBQ_TRIPLET build failed"; }
}

# Make runs every time (a tenth of a second when nothing changed); the time is recorded only
# when something was compiled.
build_and_time () {
  local t0 secs
  t0=$(sbq_now)
  cross_build
  if grep -q -E '^ +(CC|CCLD|AR) ' "$build/make.out"; then
    secs=$(awk -v a="$t0" -v b="$(sbq_now)" 'BEGIN { printf "%.1f", b - a }')
    sbq_log "$SBQ_ARCH cross-build: ${secs}s"
    if [ -n "${SB_QEMU_TIMINGS:-}" ]; then
      echo "$SBQ_ARCH cross-build $secs" >>"$SB_QEMU_TIMINGS"
    fi
  fi
}

sbq_locked cross-build build_and_time
