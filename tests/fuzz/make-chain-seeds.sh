#!/bin/bash
# Makes the seeds of the chain and metadata fuzz targets from real repositories that
# switchback-repo builds: a plain one with two levels of delegation, and one with succinct hash
# bins. Usage (from the build directory): tests/fuzz/make-chain-seeds.sh SRCDIR
# Writes SRCDIR/tests/fuzz/corpus/{chain,metadata}/repo-*.
set -euo pipefail
srcdir=$(cd "$1" && pwd)
R=$PWD/src/repo/switchback-repo
out_chain=$srcdir/tests/fuzz/corpus/chain
out_md=$srcdir/tests/fuzz/corpus/metadata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
sep=$'\n%%SB%%\n'

head -c 200 /dev/urandom >a.bin
$R init plain >/dev/null
$R add-target plain a.bin --name images/a.bin >/dev/null
$R delegate plain --to apps --paths 'apps/*' >/dev/null
$R add-target plain a.bin --name apps/x.bin >/dev/null
$R delegate plain --from apps --to deep --paths 'apps/deep-*' --terminating >/dev/null
$R add-target plain a.bin --name apps/deep-y.bin --publish >/dev/null
$R init bins >/dev/null
$R delegate-succinct bins --bit-length 2 --name-prefix bin >/dev/null
$R add-target bins a.bin --name f/1.bin --publish >/dev/null

# chain SEED REPO PATH ROLE...: root, timestamp, snapshot, targets, the path, the roles.
chain () {
  local seed=$1 m=$2/metadata path=$3
  shift 3
  {
    cat "$m/1.root.json"; printf %s "$sep"
    cat "$m/timestamp.json"; printf %s "$sep"
    cat "$m/snapshot.json"; printf %s "$sep"
    cat "$m/targets.json"; printf %s "$sep"
    printf %s "$path"
    for role in "$@"; do printf %s "$sep"; cat "$m/$role.json"; done
  } >"$out_chain/$seed"
}
chain repo-top plain images/a.bin
chain repo-delegated plain apps/x.bin apps
chain repo-two-levels plain apps/deep-y.bin apps deep
bin=$(cd bins/metadata && ls bin-*.json | head -1)
chain repo-succinct bins f/1.bin "${bin%.json}" || true
for f in plain/metadata/1.root.json plain/metadata/timestamp.json plain/metadata/snapshot.json \
         plain/metadata/targets.json plain/metadata/apps.json bins/metadata/targets.json; do
  case $f in
    *root*) b='\000' ;; *timestamp*) b='\001' ;; *snapshot*) b='\002' ;; *) b='\003' ;;
  esac
  name=repo-$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f")
  { printf "$b"; cat "$f"; } >"$out_md/$name"
done
ls "$out_chain" "$out_md"
