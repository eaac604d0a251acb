#!/bin/bash
# The demo and the aarch64 cross build work whichever build the user made first: the source tree
# configured in place (./autogen.sh), or an out-of-tree _build, in both orders, and they leave
# the user's build as it is.
#
# Run on a small autotools project into which the real autogen.sh, scripts/demo.sh,
# tests/qemu/cross-build.sh and lib.sh are copied. Its configure is made by the same autoconf and
# automake as the project's, so it refuses a second build of a tree configured in place just as
# the project's does ("source directory already configured"); its "programs" are scripts that
# say where, for which host and from which sources they were built. That proves the scripts'
# choice of build in seconds, without three full builds or a cross compiler.
# scripts/install-deps.sh is a stub in the copy: nothing is installed.
source "$top_srcdir/tests/libtest.sh"

for t in autoreconf automake make flock; do
  command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ -f "$top_srcdir/scripts/demo.sh" ] || skip_all "no scripts/demo.sh here"

plan 4

# make_tree DIR: the small project, with the scripts under test.
make_tree () {
  mkdir -p "$1/scripts" "$1/tests/qemu"
  cp "$top_srcdir/autogen.sh" "$1/"
  cp "$top_srcdir/scripts/demo.sh" "$1/scripts/"
  cp "$top_srcdir/tests/qemu/cross-build.sh" "$top_srcdir/tests/qemu/lib.sh" "$1/tests/qemu/"
  printf '#!/bin/sh\nexit 0\n' >"$1/scripts/install-deps.sh"
  chmod +x "$1/scripts/install-deps.sh"
  cat >"$1/configure.ac" <<'EOF'
AC_INIT([mini], [1])
AC_CONFIG_AUX_DIR([build-aux])
AC_CANONICAL_HOST
AM_INIT_AUTOMAKE([foreign subdir-objects])
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
EOF
  {
    echo 'PROGS = src/switchback/switchback src/boot/switchback-boot src/repo/switchback-repo'
    echo 'all-local: $(PROGS)'
    echo '$(PROGS): $(srcdir)/version.txt'
    printf '\t@mkdir -p $(@D)\n'
    printf '\t@printf '"'"'#!/bin/sh\\necho built in %%s for %%s from %%s\\n'"'"' "$(abs_builddir)" "$(host)" "`cat $(srcdir)/version.txt`" >$@\n'
    printf '\t@chmod +x $@\n'
    echo 'EXTRA_DIST = version.txt'
    echo 'CLEANFILES = $(PROGS)'
  } >"$1/Makefile.am"
  echo v1 >"$1/version.txt"
}

# The scripts run make themselves; the make running this test must not hand them its flags.
nomake () { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$@"; }

# in_place DIR: ./autogen.sh as a user runs it, which configures the tree in place.
in_place () {
  (cd "$1" && nomake ./autogen.sh) >"$1.autogen.log" 2>&1 \
    || { sed 's/^/# /' "$1.autogen.log" | tail -n 20; fatal "./autogen.sh in $1 failed"; }
  [ -f "$1/config.status" ] || fatal "./autogen.sh did not configure $1 in place"
}

# demo_build DIR: scripts/demo.sh --build-only in DIR; prints the build directory it chose.
demo_build () {
  expect_exit 0 nomake "$1/scripts/demo.sh" --build-only
  tail -n 1 out.txt
}

# cross SRCDIR BUILDDIR CACHE: tests/qemu/cross-build.sh for that native build.
cross () {
  expect_exit 0 nomake env top_srcdir="$1" top_builddir="$2" SB_QEMU_CACHE="$3" \
    bash "$1/tests/qemu/cross-build.sh"
}

# built_by PROGRAM: what the program says of its build.
built_by () { "$1"; }

# 1. The tree configured in place first.
A="$SB_TMP/A"
make_tree "$A"
in_place "$A"
assert_streq "$(demo_build "$A")" "$A"
assert_streq "$(built_by "$A/src/switchback/switchback" | cut -d' ' -f1-3)" "built in $A"
ok "demo after ./autogen.sh (configured in place): it builds and uses that tree"

cross "$A" "$A" "$SB_TMP/cache-A"
assert_streq "$(built_by "$SB_TMP/cache-A/build-aarch64/src/switchback/switchback")" \
  "built in $SB_TMP/cache-A/build-aarch64 for aarch64-unknown-linux-gnu from v1"
# The clean copy follows the working tree's edits.
echo v2 >"$A/version.txt"
cross "$A" "$A" "$SB_TMP/cache-A"
assert_streq "$(built_by "$SB_TMP/cache-A/build-aarch64/src/boot/switchback-boot")" \
  "built in $SB_TMP/cache-A/build-aarch64 for aarch64-unknown-linux-gnu from v2"
# The user's own build is still there, configured in place.
[ -f "$A/config.status" ] || fatal "the cross build unconfigured $A"
assert_streq "$(built_by "$A/src/switchback/switchback" | cut -d' ' -f1-3)" "built in $A"
ok "aarch64 cross build after ./autogen.sh: from a clean copy with the tree's edits, the tree untouched"

# 2. An out-of-tree _build first (what the demo makes on a fresh clone), then ./autogen.sh.
B="$SB_TMP/B"
make_tree "$B"
assert_streq "$(demo_build "$B")" "$B/_build"
[ ! -f "$B/config.status" ] || fatal "the demo configured $B in place"
cross "$B" "$B/_build" "$SB_TMP/cache-B"
assert_streq "$(cat "$SB_TMP/cache-B/build-aarch64/.srcdir")" "$B"
assert_streq "$(built_by "$SB_TMP/cache-B/build-aarch64/src/switchback/switchback")" \
  "built in $SB_TMP/cache-B/build-aarch64 for aarch64-unknown-linux-gnu from v1"
ok "demo and cross build on a fresh tree: _build, and the cross build straight from the tree"

in_place "$B"
assert_streq "$(demo_build "$B")" "$B"
cross "$B" "$B/_build" "$SB_TMP/cache-B"
assert_streq "$(built_by "$SB_TMP/cache-B/build-aarch64/src/switchback/switchback")" \
  "built in $SB_TMP/cache-B/build-aarch64 for aarch64-unknown-linux-gnu from v1"
[ -x "$B/_build/src/switchback/switchback" ] || fatal "the earlier _build of $B is gone"
ok "after _build, then ./autogen.sh: the demo uses the tree, the cross build a clean copy"
