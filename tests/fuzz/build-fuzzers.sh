#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/fuzz-*.c) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer: `make fuzz` runs this with the variables below set.
#   FUZZ_CC   clang
#   FUZZ_CPPFLAGS, FUZZ_CFLAGS, FUZZ_LIBS   include paths, dependency flags and libraries
#   FUZZ_LIB_SOURCES   the .c files of libswitchback (relative to the source tree)
#   FUZZ_TARGETS       target names (fuzz-NAME.c)
# Usage: build-fuzzers.sh SRCDIR BUILDDIR
set -eu
srcdir=$1
builddir=$2
objdir=$builddir/tests/fuzz/obj
mkdir -p "$objdir"

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-std=gnu11 -g -O1 $san $FUZZ_CPPFLAGS $FUZZ_CFLAGS"

# $1 is newer than $2, or $2 is missing (any header change rebuilds everything: simple, and
# the fuzz build is small).
stale () {
  [ ! -e "$2" ] && return 0
  [ "$1" -nt "$2" ] && return 0
  for h in "$srcdir"/src/libswitchback/*/*.h "$srcdir"/tests/fuzz/*.h "$builddir"/config.h; do
    [ "$h" -nt "$2" ] && return 0
  done
  return 1
}

compile () { # source object [extra flags]
  src=$1; obj=$2; shift 2
  if stale "$src" "$obj"; then
    echo "  FUZZCC   ${src#"$srcdir"/}"
    # shellcheck disable=SC2086
    $FUZZ_CC $cflags -fsanitize=fuzzer-no-link "$@" -c "$src" -o "$obj"
  fi
}

lib_objs=
for s in $FUZZ_LIB_SOURCES; do
  case $s in *.c) ;; *) continue ;; esac
  o=$objdir/$(basename "$s" .c).o
  compile "$srcdir/$s" "$o"
  lib_objs="$lib_objs $o"
done
compile "$srcdir/tests/fuzz/fuzz-util.c" "$objdir/fuzz-util.o"

for t in $FUZZ_TARGETS; do
  compile "$srcdir/tests/fuzz/fuzz-$t.c" "$objdir/fuzz-$t.o"
  echo "  FUZZLD   tests/fuzz/fuzz-$t"
  # shellcheck disable=SC2086
  $FUZZ_CC $san -fsanitize=fuzzer -o "$builddir/tests/fuzz/fuzz-$t" "$objdir/fuzz-$t.o" \
    "$objdir/fuzz-util.o" $lib_objs $FUZZ_LIBS
done
