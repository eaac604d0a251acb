#!/bin/bash
# Runs the public TUF conformance suite (theupdateframework/tuf-conformance) against
# switchback-tuf, one TAP line per suite test. The suite and its Python dependencies are not part
# of switchback: point SB_TUF_CONFORMANCE at a directory holding checkouts named
# tuf-conformance, python-tuf (5.x) and securesystemslib (1.x). Debian's python3-pytest,
# python3-cryptography, python3-requests and faketime are enough to run them.
source "$top_srcdir/tests/libtest.sh"

dir="${SB_TUF_CONFORMANCE:-}"
if [ -z "$dir" ] || [ ! -d "$dir/tuf-conformance/tuf_conformance" ]; then
  skip_all "set SB_TUF_CONFORMANCE to a directory with tuf-conformance, python-tuf and securesystemslib checkouts"
fi
python=/usr/bin/python3
"$python" -c 'import pytest, cryptography, requests' 2>/dev/null || skip_all "python3-pytest, python3-cryptography or python3-requests missing"
command -v faketime >/dev/null || skip_all "faketime missing"

export SB_TUF_CLIENT="$top_builddir/src/tuf-client/switchback-tuf"
export PYTHONPATH="$top_srcdir/tests/conformance:$dir/python-tuf:$dir/securesystemslib:$dir/tuf-conformance"
entry="$top_srcdir/tests/conformance/switchback-tuf-entry"

(cd "$dir/tuf-conformance" && "$python" -m pytest -p no:cacheprovider -rA -q \
   tuf_conformance --entrypoint "$entry") >pytest.out 2>&1 || true

# The short summary lists every test as PASSED, FAILED, XFAIL, XPASS, ERROR or SKIPPED.
grep -E '^(PASSED|FAILED|XFAIL|XPASS|ERROR|SKIPPED) ' pytest.out >results.txt || true
n=$(wc -l <results.txt)
[ "$n" -gt 0 ] || { sed 's/^/# /' pytest.out | tail -n 40; fatal "the conformance suite did not run"; }
echo "1..$n"
i=0
while read -r status name rest; do
  i=$((i + 1))
  case "$status" in
    PASSED) echo "ok $i - $name" ;;
    XFAIL) echo "ok $i - $name # TODO expected failure (see switchback-tuf-entry.xfails)" ;;
    SKIPPED) echo "ok $i - $name # SKIP $rest" ;;
    *) echo "not ok $i - $name $status $rest" ;;
  esac
done <results.txt
grep -E '(passed|failed)' pytest.out | tail -n 1 | sed 's/^/# /' || true
