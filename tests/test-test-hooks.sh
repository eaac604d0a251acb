#!/bin/bash
# Every environment variable switchback reads goes through the test-hook gate
# (sb-test-hooks.h), so a release build and a secure-mode process ignore all of them.
source "$top_srcdir/tests/libtest.sh"

plan 1

hits=$(grep -rn 'getenv *(' "$top_srcdir/src" | grep -v 'src/libswitchback/state/sb-test-hooks\.c:' || true)
[ -z "$hits" ] || fatal "environment read outside sb-test-hooks.c: $hits"
ok "no source file but sb-test-hooks.c reads the environment"

