#!/bin/bash
# switchback's global options (--config FILE, --config=FILE, --json, --verbose) before and after
# the subcommand, for every subcommand: the two forms give the same exit status and the same
# stdout, and the file named after the subcommand is the one loaded. `config --json` prints the
# effective configuration as JSON.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

plan 11

uptane_setup
CONF="$SB_TMP/sb.conf"

# py FILE EXPR: EXPR over j, the JSON document in FILE.
py () {
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); v=($2); print(v)" "$1"
}

# same_both_ways WANT SUBCOMMAND [OPTIONS...]: `switchback --config F --json SUB OPTS` and
# `switchback SUB OPTS --config F --json` (and --config=F --json in the middle) both exit WANT,
# and print the same JSON on stdout (volatile members aside).
same_both_ways () {
  local want="$1" sub="$2"; shift 2
  expect_exit "$want" switchback --config "$CONF" --json "$sub" "$@"
  mv out.txt before.json
  expect_exit "$want" switchback "$sub" "$@" --config "$CONF" --json
  mv out.txt after.json
  expect_exit "$want" switchback "$sub" --json --config="$CONF" "$@"
  mv out.txt middle.json
  for f in before.json after.json middle.json; do
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" \
      || fatal "$sub: stdout of $f is not JSON: $(head -c 300 "$f")"
  done
  # Timestamps and counters that move between runs are not the options' business.
  local norm='import json,sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("time", "timestamp", "checked_at", "last_check", "expires", "report_counter")}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
print(json.dumps(strip(json.load(open(sys.argv[1]))), sort_keys=True))'
  assert_streq "$(python3 -c "$norm" after.json)" "$(python3 -c "$norm" before.json)"
  assert_streq "$(python3 -c "$norm" middle.json)" "$(python3 -c "$norm" before.json)"
}

# config: the file after the subcommand is the one loaded; --json is the effective config.
expect_exit 0 switchback config --config "$CONF"
assert_file_has_content out.txt "state-dir=$STATE"
expect_exit 0 switchback config --config "$CONF" --json
assert_streq "$(py out.txt 'j["storage"]["state-dir"]')" "$STATE"
assert_streq "$(py out.txt 'j["path"]')" "$CONF"
assert_streq "$(py out.txt 'j["uptane"]["ota-ce-compat"] is False')" True
assert_streq "$(py out.txt 'j["uptane"]["poll-interval"] == 3600')" True
assert_streq "$(py out.txt 'j["slots"]["disk"] is None')" True
same_both_ways 0 config
ok "config: --config and --json before and after the command; --json is the effective config"

same_both_ways 0 check
assert_streq "$(py before.json 'len(j["targets"]) > 0')" True
ok "check: --config and --json before and after the command"

same_both_ways 0 status
ok "status: --config and --json before and after the command"

# No [slots] disk is configured: update fails the same way whichever order the options have,
# and not as a usage error.
expect_exit 0 true
rc=0; switchback --config "$CONF" --json update >/dev/null 2>&1 || rc=$?
[ "$rc" != 2 ] && [ "$rc" != 0 ] || fatal "update without a disk exited $rc"
same_both_ways "$rc" update --no-progress
ok "update: --config and --json before and after the command (exit $rc both ways)"

rc=0; switchback --config "$CONF" --json mark-good >/dev/null 2>&1 || rc=$?
[ "$rc" != 2 ] || fatal "mark-good --json was refused as a usage error"
same_both_ways "$rc" mark-good
ok "mark-good: --config and --json before and after the command (exit $rc both ways)"

rc=0; switchback --config "$CONF" --json mark-bad >/dev/null 2>&1 || rc=$?
[ "$rc" != 2 ] || fatal "mark-bad --json was refused as a usage error"
same_both_ways "$rc" mark-bad
ok "mark-bad: --config and --json before and after the command (exit $rc both ways)"

# daemon --json: one check-only cycle; a failed cycle is a JSON error object on stdout.
expect_exit 0 switchback daemon --once --check-only --config "$CONF" --json
expect_exit 0 switchback --config "$CONF" daemon --json --once --check-only
sed "s|^director-url=.*|director-url=http://127.0.0.1:$PORT/no-such-director|" "$CONF" \
  > "$SB_TMP/bad.conf"
rc=0; switchback daemon --once --check-only --json --config "$SB_TMP/bad.conf" >out.txt \
  2>err.txt || rc=$?
[ "$rc" = 4 ] || fatal "daemon against a missing Director exited $rc: $(tail -n 3 err.txt)"
assert_streq "$(py out.txt 'j["error"]["exit_status"]')" 4
ok "daemon: --config and --json before and after the command; a failed cycle as JSON"

# --verbose (and -v) after the command is taken as the global option, not refused.
expect_exit 0 switchback status --verbose --config "$CONF"
cp out.txt verbose-after.txt
expect_exit 0 switchback -v --config "$CONF" status
assert_files_equal out.txt verbose-after.txt
expect_exit 0 switchback config -v --config "$CONF"
ok "--verbose after the command"

# A missing --config value and an unknown option stay usage errors in both positions.
expect_exit 2 switchback status --config
expect_exit 2 switchback --config
expect_exit 2 switchback status --no-such-option --config "$CONF"
assert_file_has_content err.txt "no-such-option"
ok "a missing --config FILE and an unknown option are usage errors"

# A file named after the command that does not exist is refused, so it really was used.
expect_exit 1 switchback status --config "$SB_TMP/does-not-exist.conf"
assert_file_has_content err.txt "does-not-exist.conf"
ok "--config after the command names the file loaded"

# A subcommand's --help lists the global options.
expect_exit 0 switchback update --help
assert_file_has_content out.txt "Global options, before or after the command"
assert_file_has_content out.txt "--config FILE"
ok "a subcommand's --help lists the global options"
