#!/bin/bash
# switchback-repo end to end with a TUF client: repositories made and served by switchback-repo
# are refreshed and downloaded from by switchback-tuf, through new targets, delegations, key
# rotations and consistent snapshots; expired metadata, a rollback made with `resign` and an
# endless timestamp are refused; and after a timestamp key rotation the client recovers from a
# fast-forward attack (TUF §5.3.11).
source "$top_srcdir/tests/libtest.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
command -v switchback-tuf >/dev/null || skip_all "switchback-tuf is not built"

plan 8

R=switchback-repo

# serve NAME DIR: starts a server for DIR; sets URL_NAME.
serve () {
  rm -f "port-$1"
  $R serve "$2" --control --port 0 --port-file "port-$1" >"serve-$1.log" 2>&1 &
  SB_PIDS+=($!)
  wait_for_file "port-$1" $!
  printf -v "URL_$1" %s "http://127.0.0.1:$(cat "port-$1")"
}

# client NAME URL [TARGET...]: refresh against URL with the client state NAME (created from
# the repository's 1.root.json on first use), then download each TARGET into NAME-dl/.
client () {
  local name=$1 url=$2 repo=$3
  shift 3
  if [ ! -d "$name" ]; then
    mkdir -p "$name" "$name-dl"
    switchback-tuf --metadata-dir "$name" init "$repo/metadata/1.root.json"
  fi
  local args=()
  for t in "$@"; do args+=(--target-name "$t"); done
  if [ $# -gt 0 ]; then
    switchback-tuf --metadata-dir "$name" --metadata-url "$url/metadata" \
      --target-base-url "$url/targets" --target-dir "$name-dl" "${args[@]}" download
  else
    switchback-tuf --metadata-dir "$name" --metadata-url "$url/metadata" refresh
  fi
}

# downloaded NAME TARGET FILE: the client stored TARGET (percent-encoded name) equal to FILE.
downloaded () {
  local enc
  enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$2")
  assert_files_equal "$1-dl/$enc" "$3"
}

head -c 20000 /dev/urandom >a.bin
head -c 30000 /dev/urandom >b.bin
$R init repo >/dev/null
$R add-target repo a.bin --name "images/a 1.bin" --publish >/dev/null
serve plain repo
client c1 "$URL_plain" repo "images/a 1.bin"
downloaded c1 "images/a 1.bin" a.bin
$R add-target repo b.bin --publish >/dev/null
client c1 "$URL_plain" repo b.bin
downloaded c1 b.bin b.bin
ok "a client downloads targets from a served repository, then new ones after publish"

$R delegate repo --to apps --paths 'apps/*' --publish >/dev/null
$R add-target repo a.bin --name apps/x.bin --publish >/dev/null
$R delegate repo --from apps --to deep --paths 'apps/deep/*' --terminating --publish >/dev/null
$R add-target repo b.bin --name apps/deep/y.bin --publish >/dev/null
client c1 "$URL_plain" repo apps/x.bin apps/deep/y.bin
downloaded c1 apps/x.bin a.bin
downloaded c1 apps/deep/y.bin b.bin
ok "targets in delegated roles, two levels down"

$R init bins >/dev/null
$R delegate-succinct bins --bit-length 4 --name-prefix bin --publish >/dev/null
$R init hashbins --consistent-snapshot >/dev/null
$R delegate-hashbins hashbins --bins 8 --publish >/dev/null
for i in 1 2 3 4 5; do
  $R add-target bins a.bin --name "f/$i.bin" >/dev/null
  $R add-target hashbins b.bin --name "g/$i.bin" >/dev/null
done
$R publish bins >/dev/null
$R publish hashbins >/dev/null
serve bins bins
serve hashbins hashbins
client c2 "$URL_bins" bins f/1.bin f/3.bin f/5.bin
downloaded c2 f/5.bin a.bin
client c3 "$URL_hashbins" hashbins g/2.bin g/4.bin
downloaded c3 g/4.bin b.bin
ok "succinct hash bins and (with consistent snapshots) classic hash bins"

$R rotate repo root --publish >/dev/null
$R rotate repo root --publish >/dev/null
$R rotate repo timestamp >/dev/null
$R rotate repo snapshot >/dev/null
$R rotate repo targets >/dev/null
$R rotate repo apps --publish >/dev/null
echo after-rotation >c.txt
$R add-target repo c.txt --name apps/c.txt --publish >/dev/null
client c1 "$URL_plain" repo apps/c.txt
downloaded c1 apps/c.txt c.txt
assert_streq "$(python3 -c 'import json; print(json.load(open("c1/root.json"))["signed"]["version"])')" 4
ok "the client follows root, timestamp, snapshot, targets and delegated key rotations"

$R expire repo timestamp 2000-01-01 --publish >/dev/null
expect_exit 1 client c1 "$URL_plain" repo
assert_file_has_content err.txt "\[expired\]"
$R expire repo timestamp 1d --publish >/dev/null
client c1 "$URL_plain" repo
ok "an expired timestamp is refused; a fresh one accepted"

cp -a repo old
$R sign repo timestamp >/dev/null
client c1 "$URL_plain" repo
cp old/metadata/timestamp.json repo/metadata/timestamp.json
expect_exit 1 client c1 "$URL_plain" repo
assert_file_has_content err.txt "\[rollback\]"
$R sign repo timestamp >/dev/null
client c1 "$URL_plain" repo
ok "a replayed older timestamp is refused as a rollback"

curl -sf -X POST "$URL_plain/_control/fault?path=/metadata/timestamp.json&mode=endless" >/dev/null
expect_exit 1 client c1 "$URL_plain" repo
assert_file_has_content err.txt "\[endless-data\]"
curl -sf -X POST "$URL_plain/_control/reset" >/dev/null
client c1 "$URL_plain" repo
ok "an endless timestamp is cut off; the client recovers once it is served normally"

# Fast-forward attack: a stolen timestamp key signs version 1000; the repository rotates the
# key and goes on at its own (lower) version, and the client must follow (TUF §5.3.11).
rm -rf ff && cp -a repo ff
python3 - ff/metadata/timestamp.json <<'EOF'
import json, sys
p = sys.argv[1]; e = json.load(open(p)); e['signed']['version'] = 1000
json.dump(e, open(p, 'w'))
EOF
$R resign ff timestamp >/dev/null
serve ff ff
client c1 "$URL_ff" repo
assert_streq "$(python3 -c 'import json; print(json.load(open("c1/timestamp.json"))["signed"]["version"])')" 1000
$R rotate repo timestamp --publish >/dev/null
$R add-target repo c.txt --name final.txt --publish >/dev/null
client c1 "$URL_plain" repo final.txt
downloaded c1 final.txt c.txt
ts=$(python3 -c 'import json; print(json.load(open("c1/timestamp.json"))["signed"]["version"])')
[ "$ts" -lt 1000 ] || fatal "the client still holds the fast-forwarded timestamp"
ok "after a timestamp key rotation the client recovers from a fast-forward attack"
