#!/bin/bash
# The layout of src/libswitchback holds (src/libswitchback/README.md): folders use only the
# folders below them, core/ does no I/O, and no include cycle exists. The checker is also run on
# copies of the tree with one violation planted each, and must refuse every one.
. "$top_srcdir/tests/libtest.sh"
plan 7
check="$top_srcdir/tests/check-layout.py"
lib="$top_srcdir/src/libswitchback"

python3 "$check" "$lib" >out.txt 2>&1 || { sed 's/^/# /' out.txt; fatal "the tree breaks its layout"; }
ok "the tree keeps its layout"

# planted LABEL EXPECTED-TEXT: runs the checker on the planted copy, which must fail naming it.
planted () {
  local rc=0
  python3 "$check" copy >out.txt 2>&1 || rc=$?
  [ "$rc" = 1 ] || fatal "$1: the checker exited $rc on a planted violation"
  assert_file_has_content out.txt "$2"
  rm -rf copy
}
fresh () { rm -rf copy; cp -r "$lib" copy; }

fresh
printf '#include "state/sb-durable.h"\n' >> copy/core/sb-json.c
planted "core including state" 'core/sb-json.c: core/ may not include state/sb-durable.h'
ok "a core file that includes a state header is refused"

fresh
printf 'static int f (void) { return open ("x", 0); }\n' >> copy/core/sb-hash.c
planted "core calling open" 'core/sb-hash.c:[0-9]*: core calls open()'
ok "a core file that calls open() is refused"

fresh
printf '#include <curl/curl.h>\n' >> copy/core/sb-crypto.c
planted "core including curl" 'core includes <curl/curl.h>'
ok "a core file that includes curl is refused"

fresh
printf '#include "core/sb-crypto.h"\n' >> copy/core/sb-json.h
printf '#include "core/sb-json.h"\n' >> copy/core/sb-hash.h
planted "include cycle" 'include cycle: '
ok "an include cycle is refused"

fresh
printf '/* open ("x") in a comment */ static const char *s = "read (fd)";\n' >> copy/core/sb-hash.c
python3 "$check" copy >out.txt 2>&1 || { sed 's/^/# /' out.txt; fatal "comment or string taken for a call"; }
rm -rf copy
ok "calls named only in comments and strings are not violations"

# The initramfs helper links only what a boot decision needs: no fetcher, so no libcurl.
boot="$top_builddir/src/boot/switchback-boot"
if nm -u "$boot" | grep -q ' curl_'; then
  nm -u "$boot" | grep ' curl_' | sed 's/^/# /' | head -n 5
  fatal "switchback-boot references libcurl"
fi
ok "switchback-boot links no fetcher (no libcurl symbol)"
