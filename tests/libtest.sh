# libtest.sh: shared setup for the shell integration tests. Source it, then call
# `plan N` and use `ok`/`fail`-style helpers. Each test gets a fresh temporary directory that is
# removed on exit, and any server it started is stopped.
set -euo pipefail

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"

SB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sb-test.XXXXXX")
SB_PIDS=()
_sb_test_n=0

sb_cleanup () {
  local pid
  for pid in "${SB_PIDS[@]:-}"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  if [ -z "${SB_KEEP_TMP:-}" ]; then rm -rf "$SB_TMP"; else echo "# kept $SB_TMP" >&2; fi
}
trap sb_cleanup EXIT
cd "$SB_TMP"

plan () { echo "1..$1"; }
skip_all () { echo "1..0 # SKIP $*"; exit 0; }
# require_test_hooks: skips the whole test unless switchback was configured with
# --enable-test-hooks (sb-test-hooks.h), which it needs to steer switchback.
require_test_hooks () {
  [ "${SB_TEST_HOOKS_ENABLED:-no}" = yes ] \
    || skip_all "needs a build configured with --enable-test-hooks"
}
ok () { _sb_test_n=$((_sb_test_n + 1)); echo "ok $_sb_test_n - $*"; }

fatal () { echo "Bail out! $*"; exit 1; }

assert_file_has_content () {
  grep -q -e "$2" "$1" || { echo "# $1 does not contain '$2':"; sed 's/^/# /' "$1" | tail -n 30; fatal "assert_file_has_content $1 $2"; }
}
assert_not_file_has_content () {
  if grep -q -e "$2" "$1"; then echo "# $1 contains '$2':"; sed 's/^/# /' "$1" | tail -n 30; fatal "assert_not_file_has_content $1 $2"; fi
}
assert_streq () { [ "$1" = "$2" ] || fatal "expected '$2', got '$1'"; }
assert_files_equal () { cmp -s "$1" "$2" || fatal "$1 and $2 differ"; }

# expect_exit CODE CMD...: runs CMD, captures stdout/stderr in out.txt/err.txt, checks the status.
expect_exit () {
  local want="$1"; shift
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "# '$*' exited $rc, expected $want"; sed 's/^/# stderr: /' err.txt | tail -n 30
    fatal "unexpected exit status $rc from $1"
  fi
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_file PATH [PID]: waits until PATH is not empty (a server's port file, written once it
# listens). With PID, the process that writes it: its exit ends the wait at once. There is no
# deadline of its own, so a loaded machine only makes the wait longer; the test's timeout
# (tests/tap-test) still bounds it.
wait_for_file () {
  while [ ! -s "$1" ]; do
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
      [ -s "$1" ] && return 0
      fatal "process $2 exited before writing $1"
    fi
    sleep 0.05
  done
}

# provision_ecu_key STATE_DIR: an ECU key put in place as a factory does (switchback-repo keygen):
# STATE_DIR/ecu/private.pem (mode 0600) and its public key object STATE_DIR/ecu/public.json, the
# one to register with the Director. `switchback status` creates no key; check, update and
# daemon create one on their first run when none was provisioned.
provision_ecu_key () {
  mkdir -p "$1" && mkdir -m 0700 "$1/ecu" \
    && switchback-repo keygen "$1/ecu/private.pem" --public="$1/ecu/public.json" >/dev/null \
    || fatal "cannot provision an ECU key in $1/ecu"
}
