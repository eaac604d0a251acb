#!/bin/bash
# docs/errors.md lists every SB_ERROR_* code of sb-error.h with its class and exit status, and
# every class named there is the one sb_error_code_name gives (sb-error.c).
source "$top_srcdir/tests/libtest.sh"

plan 2

header="$top_srcdir/src/libswitchback/sb-error.h"
source_c="$top_srcdir/src/libswitchback/sb-error.c"
doc="$top_srcdir/docs/errors.md"
codes=$(sed -n 's/^ *\(SB_ERROR_[A-Z_]*\),.*/\1/p' "$header")
[ -n "$codes" ] || fatal "no SB_ERROR_* codes found in $header"
n=0
for c in $codes; do
  grep -q "^| \`$c\` | " "$doc" || fatal "$c (sb-error.h) has no row in docs/errors.md"
  n=$((n + 1))
done
ok "each of the $n codes in sb-error.h has a row in docs/errors.md"

for c in $codes; do
  name=$(sed -n "s/^ *\[$c\] = \"\([^\"]*\)\",/\1/p" "$source_c")
  [ -n "$name" ] || fatal "$c has no name in sb-error.c"
  grep -q "^| \`$c\` | \`$name\` | [0-9]* | " "$doc" \
    || fatal "docs/errors.md: $c must read | \`$c\` | \`$name\` | EXIT | ..."
done
ok "each row names the class sb_error_code_name prints"
