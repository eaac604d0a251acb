#!/bin/bash
# `switchback status` and `config` change nothing on disk, and every command checks the
# configuration it needs before it writes anything: with a missing or incomplete configuration
# no state directory, ECU key or lock file (state.lock, update.lock) appears, and the error names
# the section, the key and the file. Real files in a temporary directory, compared with `find`
# listings (type, mode, size, mtime, digest) taken before and after.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v sfdisk >/dev/null || skip_all "sfdisk is not installed"
command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"

plan 7

# snapshot DIR: every path below DIR with its type, mode, size and mtime, then each file's digest.
snapshot () {
  (
    cd "$1"
    find . -printf '%y %m %s %T@ %p\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
  )
}

# assert_unchanged DIR BEFORE WHAT: DIR still matches the snapshot in file BEFORE.
assert_unchanged () {
  snapshot "$1" >"$SB_TMP/now.txt"
  if ! cmp -s "$2" "$SB_TMP/now.txt"; then
    diff "$2" "$SB_TMP/now.txt" | sed 's/^/# /'
    fatal "$3 changed $1"
  fi
}

# py FILE EXPR: EXPR over j, the JSON document in FILE.
py () {
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); v=($2); print(v)" "$1"
}

# A system with nothing of switchback's on it yet: a configuration directory whose file sets
# only where the state directory and the boot files are (everything else is the default), and
# a kernel command line from the slot GRUB booted. There is no grubenv and no state directory.
SYS="$SB_TMP/sys"
CONF="$SYS/etc/switchback/switchback.conf"
mkdir -p "$SYS/etc/switchback"
echo "BOOT_IMAGE=/vmlinuz root=PARTLABEL=rootfs-a ro switchback.slot=A" >"$SYS/cmdline"
cat >"$CONF" <<EOF
[storage]
state-dir=$SYS/state
[boot]
grubenv=$SYS/esp/grubenv
cmdline-file=$SYS/cmdline
EOF
x () { switchback --config "$CONF" "$@"; }
snapshot "$SYS" >before.txt

expect_exit 0 x config
assert_file_has_content out.txt "state-dir=$SYS/state"
assert_unchanged "$SYS" before.txt "config"
expect_exit 0 x config --json
assert_unchanged "$SYS" before.txt "config --json"
expect_exit 0 x status
assert_file_has_content out.txt "no ECU key yet"
assert_unchanged "$SYS" before.txt "status"
expect_exit 0 x status --json
assert_streq "$(py out.txt 'j["identity"]["keyid"]')" None
assert_streq "$(py out.txt 'j["install"]["state"]')" idle
assert_unchanged "$SYS" before.txt "status --json"
ok "status and config write nothing: no state directory, ECU key or state.lock"

# The commands that need the repositories say which key is missing, and where.
for cmd in check update "daemon --once" "daemon --once --check-only"; do
  # shellcheck disable=SC2086 # the command and its options are words
  expect_exit 1 x $cmd
  assert_file_has_content err.txt "\[uptane\] director-url is not set in $CONF \[config\]"
  assert_unchanged "$SYS" before.txt "$cmd"
  # shellcheck disable=SC2086
  expect_exit 1 x --json $cmd
  assert_streq "$(py out.txt 'j["error"]["class"]')" config
  assert_unchanged "$SYS" before.txt "$cmd --json"
done
ok "check, update and daemon without director-url: a config error naming the key, nothing written"

# mark-good and mark-bad read grubenv, which is not there: nothing written either.
for cmd in mark-good mark-bad; do
  expect_exit 1 x "$cmd"
  assert_file_has_content err.txt "$SYS/esp/grubenv"
  assert_unchanged "$SYS" before.txt "$cmd"
done
ok "mark-good and mark-bad without a grubenv: nothing written, not even state.lock"

# Incomplete in other ways, one key at a time.
cat >>"$CONF" <<EOF
[uptane]
director-url=http://127.0.0.1:9/director
director-root=$SYS/roots/director-root.json
image-root=$SYS/roots/image-root.json
EOF
snapshot "$SYS" >before.txt
expect_exit 1 x check
assert_file_has_content err.txt "\[uptane\] image-url is not set in $CONF"
assert_unchanged "$SYS" before.txt "check without image-url"
sed -i "s|^\[uptane\]|&\nimage-url=http://127.0.0.1:9/repo|" "$CONF"
snapshot "$SYS" >before.txt
expect_exit 1 x check
assert_file_has_content err.txt "\[uptane\] director-root: the initial trusted root $SYS/roots/director-root.json"
assert_unchanged "$SYS" before.txt "check without the shipped root"
expect_exit 1 x update
assert_file_has_content err.txt "director-root"
assert_unchanged "$SYS" before.txt "update without the shipped root"
ok "check and update name a missing image-url and a missing shipped root, nothing written"

# Everything the repositories need is there; the slots are not: the disk has no rootfs-b.
mkdir -p "$SYS/roots" "$SYS/esp"
echo '{}' >"$SYS/roots/director-root.json"
echo '{}' >"$SYS/roots/image-root.json"
grub-editenv "$SYS/esp/grubenv" create
truncate -s 8M "$SYS/disk.img"
sfdisk -q "$SYS/disk.img" <<'EOF' >/dev/null
label: gpt
size=2MiB, name=esp
size=2MiB, name=rootfs-a
name=data
EOF
printf '[slots]\ndisk=%s\n' "$SYS/disk.img" >>"$CONF"
snapshot "$SYS" >before.txt
expect_exit 1 x update
assert_file_has_content err.txt "no GPT partition named \"rootfs-b\""
assert_unchanged "$SYS" before.txt "update with a disk without slot B"
expect_exit 1 x daemon --once
assert_file_has_content err.txt "no GPT partition named \"rootfs-b\""
assert_unchanged "$SYS" before.txt "daemon with a disk without slot B"
ok "update and daemon check the slots before writing anything"

# A configuration file named on purpose that does not exist: every command fails, nothing is
# written.
rm -rf "$SYS"
mkdir -p "$SYS"
snapshot "$SYS" >before.txt
for cmd in config status check update "daemon --once" mark-good mark-bad; do
  # shellcheck disable=SC2086
  expect_exit 1 switchback --config "$SYS/missing.conf" $cmd
  assert_file_has_content err.txt "$SYS/missing.conf"
  assert_unchanged "$SYS" before.txt "$cmd with a missing --config file"
done
ok "a missing --config file: every command fails, nothing written"

# A working system: status and config leave every file of the state directory as it was, and
# create no lock file.
uptane_setup
expect_exit 0 sb check
rm -f "$STATE/state.lock" "$STATE/update.lock" "$STATE/metadata/.lock"
snapshot "$STATE" >before.txt
expect_exit 0 sb status
assert_file_has_content out.txt "ECU serial     $ECU"
expect_exit 0 sb status --json
expect_exit 0 sb config
assert_unchanged "$STATE" before.txt "status and config"
ok "status and config over a populated state directory change nothing"
