#!/bin/bash
# docs/errors.md lists every SB_ERROR_* code of sb-error.h with its class and exit status, and
# every class named there is the one sb_error_code_name gives (sb-error.c), and every exit
# status there is the one sb_cli_exit_code returns (src/switchback/main.c: each code has its own
# case, so a new code without one does not build with -Werror).
source "$top_srcdir/tests/libtest.sh"

plan 3

header="$top_srcdir/src/libswitchback/core/sb-error.h"
source_c="$top_srcdir/src/libswitchback/core/sb-error.c"
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

main_c="$top_srcdir/src/switchback/main.c"
cli_h="$top_srcdir/src/switchback/sb-cli.h"
# CODE STATUS for every case of sb_cli_exit_code, the statuses resolved through sb-cli.h.
mapping=$(awk '
  FNR == NR { if (match ($0, /SB_EXIT_[A-Z_]+ = [0-9]+/)) { split (substr ($0, RSTART, RLENGTH), a, " = "); v[a[1]] = a[2] } next }
  /^sb_cli_exit_code/ { on = 1 }
  on && /^}/ { on = 0 }
  on && match ($0, /case SB_ERROR_[A-Z_]+/) { pending = pending " " substr ($0, RSTART + 5, RLENGTH - 5) }
  on && match ($0, /return SB_EXIT_[A-Z_]+/) { e = substr ($0, RSTART + 7, RLENGTH - 7); n = split (pending, c, " "); for (i = 1; i <= n; i++) print c[i], v[e]; pending = "" }
' "$cli_h" "$main_c")
for c in $codes; do
  status=$(echo "$mapping" | awk -v c="$c" '$1 == c { print $2 }')
  [ -n "$status" ] || fatal "$c has no case in sb_cli_exit_code (src/switchback/main.c)"
  grep -q "^| \`$c\` | \`[a-z-]*\` | $status | " "$doc" \
    || fatal "docs/errors.md: $c exits with $status (sb_cli_exit_code), the table says otherwise"
done
ok "each code's exit status in docs/errors.md is the one switchback returns"
