#!/bin/bash
# Every "design.md §N" that the code, headers, units, scripts and docs cite is a section of
# docs/design.md ("## N. Title"). The checker is also run on a planted bogus reference.
. "$top_srcdir/tests/libtest.sh"
plan 2

# check_refs DESIGN-FILE DIR...: prints each citation of a missing section; fails if any.
check_refs () {
  local design="$1"; shift
  local missing=0 ref n
  while IFS= read -r ref; do
    n=${ref##*§}
    if ! grep -qE "^## ${n}\. " "$design"; then
      echo "# cited but missing in $(basename "$design"): $ref"; missing=1
    fi
  done < <(grep -rnoE 'design\.md §[0-9]+' "$@" | sort -u)
  return "$missing"
}

check_refs "$top_srcdir/docs/design.md" "$top_srcdir/src" "$top_srcdir/tests" \
  "$top_srcdir/data" "$top_srcdir/dracut" "$top_srcdir/grub" "$top_srcdir/scripts" \
  "$top_srcdir/docs" "$top_srcdir/README.md" || fatal "a cited design section does not exist"
ok "every design.md section the tree cites exists"

mkdir planted
printf '/* see design.md §4 and design.md §%s */\n' 42 > planted/x.c
if check_refs "$top_srcdir/docs/design.md" planted > out.txt; then
  fatal "a citation of a missing section was not noticed"
fi
assert_file_has_content out.txt 'design.md §4''2'
assert_not_file_has_content out.txt 'design.md §4$'
ok "a citation of a section that does not exist is refused"
