# The systemd units and the tmpfiles.d entry as built: systemd itself checks every key, the
# commands they run exist, and the state directory comes out mode 0700.
source "$top_srcdir/tests/libtest.sh"

command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed"
command -v systemd-tmpfiles >/dev/null || skip_all "systemd-tmpfiles is not installed"

plan 4

# The built units name $(bindir); point them at the binary of this build instead.
mkdir units
for u in switchback.service switchback-mark-good.service; do
  sed "s|@bindir@|$top_builddir/src/switchback|" "$top_srcdir/data/$u.in" >"units/$u"
done
cp "$top_srcdir/data/switchback.timer" "$top_srcdir/data/switchback-health.target" units/
assert_file_has_content "$top_builddir/data/switchback.service" '^ExecStart=/.*/switchback update'

verify () {
  local rc=0
  (cd units && SYSTEMD_LOG_LEVEL=info systemd-analyze verify --man=no "$@") >verify.out 2>&1 || rc=$?
  [ "$rc" = 0 ] || { sed 's/^/# /' verify.out; fatal "systemd-analyze verify failed"; }
  # Unknown keys are only warnings for systemd: none is allowed here.
  [ ! -s verify.out ] || { sed 's/^/# /' verify.out; fatal "systemd-analyze warned"; }
}

verify ./switchback.service ./switchback.timer
assert_file_has_content units/switchback.service '^SuccessExitStatus=10$'
assert_file_has_content units/switchback.timer '^WantedBy=timers.target$'
ok "switchback.service and its timer verify"

verify ./switchback-mark-good.service ./switchback-health.target
assert_file_has_content units/switchback-mark-good.service '^Requires=switchback-health.target$'
assert_file_has_content units/switchback-mark-good.service '^After=switchback-health.target'
assert_file_has_content units/switchback-mark-good.service 'switchback mark-good$'
ok "switchback-mark-good.service waits for switchback-health.target"

# A unit that runs what does not exist is refused, so the checks above can fail.
sed 's|^ExecStart=.*|ExecStart=/nonexistent/switchback update|' units/switchback.service \
  >units/broken.service
if (cd units && systemd-analyze verify --man=no ./broken.service) >/dev/null 2>&1; then
  fatal "a unit with a missing command verified"
fi
ok "a unit running a missing command is refused"

mkdir root
systemd-tmpfiles --create --root="$SB_TMP/root" "$top_builddir/data/tmpfiles.d/switchback.conf"
dir=$(sed -n 's/^d \([^ ]*\) .*/\1/p' "$top_builddir/data/tmpfiles.d/switchback.conf")
assert_streq "$(stat -c %a "root$dir")" 700
ok "tmpfiles.d creates the state directory with mode 0700"
