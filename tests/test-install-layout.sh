#!/bin/bash
# `make install DESTDIR=…` puts every file where the system looks for it: the programs, the
# OSTree module, the dracut module in dracut's module directory (pkg-config dracut), the systemd
# units and the tmpfiles.d snippet where systemd reads them (pkg-config systemd), the config in
# $(sysconfdir)/switchback/, the docs, and a man page for every program and switchback.conf(5).
source "$top_srcdir/tests/libtest.sh"

plan 8

DEST="$SB_TMP/dest"
${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$DEST" >"$SB_TMP/install.log" 2>&1 \
  || { tail -n 30 "$SB_TMP/install.log" | sed 's/^/# /'; fatal "make install failed"; }
${MAKE:-make} -s -C "$top_builddir" sb-print-install-dirs >"$SB_TMP/dirs.txt" \
  || fatal "make sb-print-install-dirs failed"
dir () { sed -n "s/^$1=//p" "$SB_TMP/dirs.txt"; }
bindir=$(dir bindir); pkglibdir=$(dir pkglibdir); sysconfdir=$(dir sysconfdir)
docdir=$(dir docdir); mandir=$(dir mandir); pkgdatadir=$(dir pkgdatadir)
dracutdir=$(dir dracutmodulesdir); unitdir=$(dir systemdsystemunitdir); tmpfilesdir=$(dir tmpfilesdir)

need () { [ -e "$DEST$1" ] || fatal "make install did not install $1"; }
need_x () { need "$1"; [ -x "$DEST$1" ] || fatal "$1 is installed but not executable"; }

# The build's directories are the system's, where the system says (the defaults of configure).
pc_dracut=$(pkg-config --variable=dracutmodulesdir dracut 2>/dev/null || true)
pc_units=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
pc_tmpfiles=$(pkg-config --variable=tmpfilesdir systemd 2>/dev/null || true)
# (Unless the build was configured with other directories on purpose.)
if ! grep -qE -- '^  \$ .*configure .*--with-(dracutmodulesdir|systemdsystemunitdir|tmpfilesdir)' \
     "$top_builddir/config.log"; then
  assert_streq "$dracutdir" "${pc_dracut:-/usr/lib/dracut/modules.d}"
  assert_streq "$unitdir" "${pc_units:-/usr/lib/systemd/system}"
  assert_streq "$tmpfilesdir" "${pc_tmpfiles:-/usr/lib/tmpfiles.d}"
fi
ok "dracut, systemd and tmpfiles.d directories are the ones pkg-config names"

progs=()
for p in $(dir programs); do progs+=("${p##*/}"); done
[ "${#progs[@]}" -ge 3 ] || fatal "too few programs: ${progs[*]}"
for p in "${progs[@]}"; do need_x "$bindir/$p"; done
for m in $(dir modules); do need_x "$pkglibdir/${m##*/}"; done
ok "programs in bindir (${progs[*]}), the OSTree module in pkglibdir"

need_x "$dracutdir/90switchback/module-setup.sh"
need_x "$dracutdir/90switchback/switchback-hook.sh"
need "$pkgdatadir/grub/gen-switchback-cfg.sh"
ok "the dracut module in $dracutdir/90switchback, the GRUB scripts in $pkgdatadir/grub"

for u in switchback.service switchback.timer switchback-mark-good.service \
         switchback-health.target; do
  need "$unitdir/$u"
done
assert_file_has_content "$DEST$unitdir/switchback.service" "^ExecStart=$bindir/switchback "
need "$tmpfilesdir/switchback.conf"
assert_file_has_content "$DEST$tmpfilesdir/switchback.conf" "^d .*/lib/switchback 0700 root root"
ok "systemd units in $unitdir, the state directory in $tmpfilesdir"

need "$sysconfdir/switchback/switchback.conf"
[ -d "$DEST$sysconfdir/switchback/conf.d" ] || fatal "no $sysconfdir/switchback/conf.d"
assert_files_equal "$DEST$sysconfdir/switchback/switchback.conf" "$top_srcdir/data/switchback.conf"
# What it says is the defaults: loading it changes nothing.
switchback --config "$DEST$sysconfdir/switchback/switchback.conf" config --json > "$SB_TMP/a.json"
: > "$SB_TMP/empty.conf"
switchback --config "$SB_TMP/empty.conf" config --json > "$SB_TMP/b.json"
assert_streq "$(grep -v '"path"' "$SB_TMP/a.json")" "$(grep -v '"path"' "$SB_TMP/b.json")"
# A second install keeps a local edit.
echo '# local edit' >> "$DEST$sysconfdir/switchback/switchback.conf"
${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$DEST" >"$SB_TMP/install2.log" 2>&1 \
  || fatal "second make install failed"
assert_file_has_content "$DEST$sysconfdir/switchback/switchback.conf" "^# local edit"
ok "the config in $sysconfdir/switchback/, kept by a later install"

need "$docdir/README.md"
need "$docdir/ostree.md"
ok "docs in $docdir"

# A man page for every installed program, and switchback.conf(5); each renders without warnings.
pages=("man5/switchback.conf.5")
for p in "${progs[@]}"; do
  if [ -e "$DEST$mandir/man1/$p.1" ]; then pages+=("man1/$p.1")
  elif [ -e "$DEST$mandir/man8/$p.8" ]; then pages+=("man8/$p.8")
  else fatal "no man page for $p in $mandir/man1 or man8"; fi
done
for m in "${pages[@]}"; do
  need "$mandir/$m"
  if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww -z "$DEST$mandir/$m" 2>"$SB_TMP/groff.err" || fatal "groff failed on $m"
    [ ! -s "$SB_TMP/groff.err" ] || fatal "groff warns about $m: $(head -n 3 "$SB_TMP/groff.err")"
  fi
done
# switchback.conf(5) documents every key `switchback config` knows.
switchback --config "$SB_TMP/empty.conf" config --json > "$SB_TMP/keys.json"
python3 - "$SB_TMP/keys.json" "$DEST$mandir/man5/switchback.conf.5" <<'EOF' || fatal "switchback.conf(5) misses keys"
import json, sys
j = json.load(open(sys.argv[1]))
page = open(sys.argv[2]).read().replace("\\-", "-")
missing = [f"[{g}] {k}" for g, keys in j.items() if isinstance(keys, dict) for k in keys
           if f"\\fB{k}\\fR=" not in page]
if missing:
    print("# missing:", ", ".join(missing)); sys.exit(1)
EOF
ok "man pages: ${pages[*]}"

# The OSTree module carries no copy of the core library and no libcurl of its own: what it
# calls of libswitchback, the installed switchback exports.
mod="$DEST$pkglibdir/switchback-ostree.so"
if [ -e "$mod" ]; then
  ! readelf -d "$mod" | grep -q 'NEEDED.*libcurl' || fatal "the module links a libcurl itself"
  nm -D --defined-only "$mod" | awk '{print $3}' | grep '^sb_' > "$SB_TMP/mod-defs.txt" || true
  assert_streq "$(cat "$SB_TMP/mod-defs.txt")" "sb_ostree_module"
  nm -D --undefined-only "$mod" | awk '$2 ~ /^sb_/ {print $2}' | sort > "$SB_TMP/mod-undef.txt"
  nm -D --defined-only "$DEST$bindir/switchback" | awk '{print $3}' | sort > "$SB_TMP/exe-defs.txt"
  [ -s "$SB_TMP/mod-undef.txt" ] || fatal "the module calls no libswitchback function"
  missing=$(comm -23 "$SB_TMP/mod-undef.txt" "$SB_TMP/exe-defs.txt")
  [ -z "$missing" ] || fatal "switchback does not export what the module needs: $missing"
  ok "the OSTree module uses switchback's core library and links no libcurl"
else
  ok "# SKIP the OSTree module is not built (--disable-ostree)"
fi
