#!/bin/bash
# switchback-repo on plain TUF repositories: init for each key type, targets, staging and
# publishing, delegations (paths, hash prefixes, hash bins, succinct bins), key rotation,
# expiry, consistent snapshots, resign, and verify. Signatures are also checked independently
# of switchback, with python3's cryptography module.
source "$top_srcdir/tests/libtest.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
python3 -c 'import cryptography' 2>/dev/null || skip_all "python3 cryptography is not installed"

plan 21

R=switchback-repo

# check_sigs DIR: every metadata file is signed, every signature verifies with the key its
# delegator lists, and every key id is the sha256 of the canonical key (securesystemslib).
check_sigs () {
  python3 - "$1" <<'EOF'
import base64, glob, hashlib, json, os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

# OLPC canonical JSON as securesystemslib writes it: only '"' and '\\' are escaped.
def canon(o):
    if isinstance(o, dict):
        return '{' + ','.join(canon(k) + ':' + canon(o[k]) for k in sorted(o)) + '}'
    if isinstance(o, list):
        return '[' + ','.join(canon(x) for x in o) + ']'
    if isinstance(o, str):
        return '"' + o.replace('\\', '\\\\').replace('"', '\\"') + '"'
    if o is True or o is False:
        return 'true' if o else 'false'
    if o is None:
        return 'null'
    assert isinstance(o, int), o
    return str(o)

def canonical(o):
    return canon(o).encode()

def verify(key, sig, data):
    s = bytes.fromhex(sig)
    pub = key['keyval']['public']
    if key['keytype'] == 'ed25519':
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub)).verify(s, data)
    elif key['keytype'] == 'ecdsa':
        serialization.load_pem_public_key(pub.encode()).verify(s, data, ec.ECDSA(hashes.SHA256()))
    elif key['keytype'] == 'rsa':
        serialization.load_pem_public_key(pub.encode()).verify(
            s, data, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO), hashes.SHA256())
    else:
        raise SystemExit('unknown key type ' + key['keytype'])

d = os.path.join(sys.argv[1], 'metadata')
keys = {}
files = sorted(glob.glob(os.path.join(d, '*.json')))
for f in files:
    s = json.load(open(f))['signed']
    ks = s.get('keys', s.get('delegations', {}).get('keys', {}))
    for kid, k in ks.items():
        want = hashlib.sha256(canonical({x: k[x] for x in ('keytype', 'scheme', 'keyval')})).hexdigest()
        assert kid == want, (f, kid, want)
        keys[kid] = k
n = 0
for f in files:
    env = json.load(open(f))
    assert env['signatures'], f + ' is not signed'
    for sig in env['signatures']:
        verify(keys[sig['keyid']], sig['sig'], canonical(env['signed']))
        n += 1
print('# %d signatures in %d files verified' % (n, len(files)))
EOF
}

# jq-like: py DIR/metadata/FILE 'expression over s (the signed part)'
py () {
  python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['signed']; print($2)" "$1"
}

for type in ed25519 rsa ecdsa; do
  $R init "r-$type" --key-type "$type" >out.txt
  for f in 1.root.json root.json timestamp.json snapshot.json targets.json; do
    test -f "r-$type/metadata/$f" || fatal "init $type: no metadata/$f"
  done
  assert_streq "$(stat -c %a r-$type/keys/*.pem | sort -u)" 600
  assert_streq "$(ls r-$type/keys | wc -l)" 4
  assert_streq "$(py r-$type/metadata/root.json "s['roles']['root']['threshold'], s['version'], s['consistent_snapshot']")" "1 1 False"
  check_sigs "r-$type"
  $R verify "r-$type" >out.txt
  assert_file_has_content out.txt "^ok"
  ok "init with $type keys: keys 0600, four roles at version 1, signatures verify"
done

expect_exit 2 $R init r-ed25519
assert_file_has_content err.txt "not empty"
ok "init refuses a directory that is not empty"

R1=r-ed25519
head -c 3000 /dev/urandom >img.bin
cp "$R1/metadata/targets.json" targets-before.json
$R add-target "$R1" img.bin --name images/img-1.bin --custom '{"note": "first"}' >out.txt
assert_file_has_content out.txt "added target images/img-1.bin to role targets"
assert_files_equal "$R1/metadata/targets.json" targets-before.json
$R status "$R1" >out.txt
assert_file_has_content out.txt "targets .*\[staged\]"
$R status "$R1" --json >status.json
python3 -c 'import json; s=json.load(open("status.json")); assert [r["staged"] for r in s["roles"] if r["name"]=="targets"]==[True]'
ok "add-target stages: published metadata unchanged until publish"

$R publish "$R1" >out.txt
assert_file_has_content out.txt "published targets v2"
assert_file_has_content out.txt "published snapshot v2"
assert_file_has_content out.txt "published timestamp v2"
assert_not_file_has_content out.txt "root"
sha=$(sha256sum img.bin | cut -d' ' -f1)
sha512=$(sha512sum img.bin | cut -d' ' -f1)
t=$R1/metadata/targets.json
assert_streq "$(py $t "s['targets']['images/img-1.bin']['length']")" 3000
assert_streq "$(py $t "s['targets']['images/img-1.bin']['hashes']['sha256']")" "$sha"
assert_streq "$(py $t "s['targets']['images/img-1.bin']['hashes']['sha512']")" "$sha512"
assert_streq "$(py $t "s['targets']['images/img-1.bin']['custom']['note']")" first
assert_files_equal "$R1/targets/images/img-1.bin" img.bin
assert_streq "$(py $R1/metadata/snapshot.json "s['meta']['targets.json']['hashes']['sha256'], s['meta']['targets.json']['length']")" \
  "$(sha256sum <$t | cut -d' ' -f1) $(stat -c %s $t)"
assert_streq "$(py $R1/metadata/timestamp.json "s['meta']['snapshot.json']['version'], s['meta']['snapshot.json']['hashes']['sha256']")" \
  "2 $(sha256sum <$R1/metadata/snapshot.json | cut -d' ' -f1)"
check_sigs "$R1"
$R verify "$R1" >out.txt
assert_file_has_content out.txt "1 targets (1 files checked)"
ok "publish: new versions of targets, snapshot and timestamp with matching lengths and hashes"

$R publish "$R1" >out.txt
assert_file_has_content out.txt "nothing to publish"
$R sign "$R1" timestamp >out.txt
assert_streq "$(py $R1/metadata/timestamp.json "s['version']")" 3
assert_streq "$(py $R1/metadata/snapshot.json "s['version']")" 2
ok "publish without changes does nothing; sign ROLE forces a new version of that role only"

# Unknown fields survive re-signing (TUF: metadata may carry fields this tool does not know).
python3 - "$t" <<'EOF'
import json, sys
p = sys.argv[1]; e = json.load(open(p)); e['signed']['x-vendor'] = {'kept': True}
json.dump(e, open(p, 'w'))
EOF
$R resign "$R1" targets >/dev/null
echo two >two.txt
$R add-target "$R1" two.txt --publish >/dev/null
assert_streq "$(py $t "s['x-vendor']['kept'], s['version'], sorted(s['targets'])")" "True 3 ['images/img-1.bin', 'two.txt']"
check_sigs "$R1"
ok "fields this tool does not know are kept when it signs a new version"

$R remove-target "$R1" images/img-1.bin --publish >out.txt
assert_file_has_content out.txt "removed target images/img-1.bin from role targets"
assert_streq "$(py $t "sorted(s['targets'])")" "['two.txt']"
test ! -e "$R1/targets/images/img-1.bin" || fatal "the removed target's file is still there"
expect_exit 1 $R remove-target "$R1" nothing.bin
assert_file_has_content err.txt "lists target nothing.bin"
expect_exit 1 $R add-target "$R1" two.txt --name ../escape
assert_file_has_content err.txt "unsafe-path"
ok "remove-target drops the listing and the file; unsafe names are refused"

# Delegation by path patterns.
$R delegate "$R1" --to firmware --paths 'fw/*,boot/*.bin' --terminating --publish >out.txt
assert_streq "$(py $t "[(r['name'], r['paths'], r['terminating'], r['threshold']) for r in s['delegations']['roles']]")" \
  "[('firmware', ['fw/*', 'boot/*.bin'], True, 1)]"
$R add-target "$R1" img.bin --name fw/a.bin --role firmware --publish >/dev/null
assert_streq "$(py $R1/metadata/firmware.json "list(s['targets'])")" "['fw/a.bin']"
assert_streq "$(py $R1/metadata/snapshot.json "s['meta']['firmware.json']['version']")" 2
$R add-target "$R1" img.bin --name boot/b.bin >out.txt
assert_file_has_content out.txt "added target boot/b.bin to role firmware"
$R add-target "$R1" img.bin --name boot/b.bin --role firmware --publish >/dev/null
expect_exit 2 $R add-target "$R1" img.bin --name other/a.bin --role firmware
assert_file_has_content err.txt "not trusted for target other/a.bin"
$R delegate "$R1" --from firmware --to fw-ab --hash-prefixes 'ab,cd' --threshold 2 --key-type ecdsa --publish >/dev/null
assert_streq "$(py $R1/metadata/firmware.json "[(r['name'], r['path_hash_prefixes'], len(r['keyids']), r['threshold']) for r in s['delegations']['roles']]")" \
  "[('fw-ab', ['ab', 'cd'], 2, 2)]"
check_sigs "$R1"
$R verify "$R1" >out.txt
assert_file_has_content out.txt "2 delegated roles"
ok "delegate by paths and by hash prefixes; add-target follows delegations, --role is checked"

# Classic hash bins.
$R init hb >/dev/null
$R delegate-hashbins hb --bins 16 --publish >/dev/null
assert_streq "$(py hb/metadata/targets.json "len(s['delegations']['roles']), s['delegations']['roles'][10]['name'], s['delegations']['roles'][10]['path_hash_prefixes']")" \
  "16 a ['a']"
for name in alpha.bin beta.bin gamma/delta.bin; do
  $R add-target hb img.bin --name "$name" >out.txt
  bin=$(printf %s "$name" | sha256sum | cut -c1)
  assert_file_has_content out.txt "to role $bin\$"
done
$R publish hb >/dev/null
name=gamma/delta.bin; bin=$(printf %s "$name" | sha256sum | cut -c1)
assert_streq "$(py hb/metadata/$bin.json "list(s['targets'])")" "['gamma/delta.bin']"
$R init hb4 >/dev/null
$R delegate-hashbins hb4 --bins 4 --name-prefix bins --publish >/dev/null
assert_streq "$(py hb4/metadata/targets.json "[(r['name'], ''.join(r['path_hash_prefixes'])) for r in s['delegations']['roles']][1]")" \
  "('bins-4-7', '4567')"
check_sigs hb
$R verify hb >out.txt
assert_file_has_content out.txt "16 delegated roles, 3 targets"
ok "delegate-hashbins: path_hash_prefixes bins, targets go to the bin that covers them"

# Succinct hash bins (TAP 15), named as python-tuf's SuccinctRoles names them.
$R init sc --consistent-snapshot >/dev/null
$R delegate-succinct sc --bit-length 5 --name-prefix bin --publish >/dev/null
assert_streq "$(py sc/metadata/targets.json "s['delegations']['succinct_roles']['bit_length'], s['delegations']['succinct_roles']['name_prefix'], 'roles' in s['delegations']")" \
  "5 bin False"
test -f sc/metadata/bin-00.json && test -f sc/metadata/bin-1f.json && test ! -e sc/metadata/bin-20.json \
  || fatal "succinct bins are not bin-00 .. bin-1f"
for name in one.bin two.bin three/four.bin; do
  $R add-target sc img.bin --name "$name" >out.txt
  want=$(python3 -c 'import hashlib,sys; h=hashlib.sha256(sys.argv[1].encode()).digest(); print("bin-%02x" % (int.from_bytes(h[:4], "big") >> 27))' "$name")
  assert_file_has_content out.txt "to role $want\$"
done
$R publish sc >/dev/null
check_sigs sc
$R verify sc >out.txt
assert_file_has_content out.txt "32 delegated roles, 3 targets (3 files checked)"
ok "delegate-succinct: 2^B bins sharing one key, targets placed by the leading bits of sha256(path)"

# Consistent snapshots (TUF §5.5, §5.7.3).
$R init cs --consistent-snapshot >/dev/null
echo payload >p.bin
$R add-target cs p.bin --name dir/p.bin --publish >/dev/null
$R add-target cs two.txt --publish >/dev/null
for f in 1.root.json 1.targets.json 2.targets.json 3.targets.json 1.snapshot.json 3.snapshot.json \
         root.json targets.json snapshot.json timestamp.json; do
  test -f "cs/metadata/$f" || fatal "consistent snapshot: no metadata/$f"
done
test ! -e cs/metadata/1.timestamp.json || fatal "timestamp must not be versioned"
assert_files_equal cs/metadata/3.targets.json cs/metadata/targets.json
assert_files_equal "cs/targets/dir/$(sha256sum <p.bin | cut -d' ' -f1).p.bin" p.bin
assert_files_equal "cs/targets/dir/$(sha512sum <p.bin | cut -d' ' -f1).p.bin" p.bin
assert_files_equal "cs/targets/$(sha256sum <two.txt | cut -d' ' -f1).two.txt" two.txt
assert_streq "$(py cs/metadata/root.json "s['consistent_snapshot']")" True
$R verify cs >out.txt
assert_file_has_content out.txt "2 targets (2 files checked)"
ok "consistent snapshots: N.ROLE.json, unversioned timestamp, targets/DIR/HASH.NAME for each hash"

# Root rotation: the new root is signed by the old root keys and the new ones (TUF §5.3.4).
old_root_key=$(py $R1/metadata/root.json "s['roles']['root']['keyids'][0]")
$R rotate "$R1" root --publish >out.txt
assert_file_has_content out.txt "published root v2"
new_root_key=$(py $R1/metadata/2.root.json "s['roles']['root']['keyids'][0]")
[ "$old_root_key" != "$new_root_key" ] || fatal "root key did not change"
assert_streq "$(python3 -c 'import json,sys; print(sorted(x["keyid"] for x in json.load(open(sys.argv[1]))["signatures"]))' $R1/metadata/2.root.json)" \
  "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' $old_root_key $new_root_key)"
assert_files_equal $R1/metadata/2.root.json $R1/metadata/root.json
test -f "$R1/keys/$old_root_key.pem" || fatal "the old root key was deleted"
check_sigs "$R1"
$R verify "$R1" >out.txt
assert_file_has_content out.txt "root v2 (2 versions)"
ok "rotate root: 2.root.json signed by the old and the new root key; the chain verifies"

ts_v=$(py $R1/metadata/timestamp.json "s['version']")
snap_v=$(py $R1/metadata/snapshot.json "s['version']")
old_ts_key=$(py $R1/metadata/root.json "s['roles']['timestamp']['keyids'][0]")
$R rotate "$R1" timestamp >/dev/null
$R rotate "$R1" snapshot --publish >out.txt
assert_file_has_content out.txt "published root v3"
assert_file_has_content out.txt "published snapshot v$((snap_v + 1))"
assert_file_has_content out.txt "published timestamp v$((ts_v + 1))"
assert_streq "$(py $R1/metadata/timestamp.json "s['version']")" $((ts_v + 1))
[ "$(py $R1/metadata/root.json "s['roles']['timestamp']['keyids'][0]")" != "$old_ts_key" ] || fatal "timestamp key unchanged"
assert_streq "$(py $R1/metadata/root.json "sorted(s['keys']) == sorted(set(k for r in s['roles'].values() for k in r['keyids']))")" True
check_sigs "$R1"
$R verify "$R1" >/dev/null
ok "rotate timestamp and snapshot: root lists the new keys only, both roles re-signed by them"

$R rotate "$R1" targets --add-key ecdsa --add-key rsa --threshold 2 --publish >out.txt
assert_streq "$(py $R1/metadata/root.json "len(s['roles']['targets']['keyids']), s['roles']['targets']['threshold']")" "3 2"
assert_streq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["signatures"]))' $R1/metadata/targets.json)" 3
first=$(py $R1/metadata/root.json "s['roles']['targets']['keyids'][0]")
$R rotate "$R1" targets --remove-key "${first:0:10}" --publish >/dev/null
assert_streq "$(py $R1/metadata/root.json "len(s['roles']['targets']['keyids'])")" 2
expect_exit 2 $R rotate "$R1" targets --threshold 3
assert_file_has_content err.txt "would have 2 keys for threshold 3"
check_sigs "$R1"
$R verify "$R1" >/dev/null
ok "rotate --add-key/--remove-key/--threshold: multi-key roles, refused when below threshold"

$R rotate "$R1" firmware --publish >out.txt
assert_file_has_content out.txt "published firmware v"
$R rotate sc bin --publish >out.txt
assert_file_has_content out.txt "published bin-1f v"
check_sigs sc
$R verify sc >/dev/null
$R verify "$R1" >/dev/null
ok "rotate a delegated role and a whole succinct delegation (by its name prefix)"

$R expire "$R1" timestamp 2001-01-01 --publish >/dev/null
assert_streq "$(py $R1/metadata/timestamp.json "s['expires']")" 2001-01-01T00:00:00Z
expect_exit 3 $R verify "$R1"
assert_file_has_content err.txt "timestamp.*\[expired\]"
$R verify "$R1" --at 2000-06-01 >/dev/null
$R expire "$R1" timestamp 3d --publish >/dev/null
$R verify "$R1" >/dev/null
expect_exit 3 $R verify "$R1" --at 4d
$R expire "$R1" delegated 2030-01-01T00:00:00Z --publish >/dev/null
assert_streq "$(py $R1/metadata/fw-ab.json "s['expires']")" 2030-01-01T00:00:00Z
expect_exit 2 $R expire "$R1" timestamp 10q
ok "expire: fixed dates (also past ones) and durations, for one role or every delegated role"

# Attacks crafted with resign: verify refuses them as a client would.
cp -a "$R1" atk
python3 - atk/metadata/timestamp.json <<'EOF'
import json, sys
p = sys.argv[1]; e = json.load(open(p)); e['signed']['meta']['snapshot.json']['hashes']['sha256'] = '00' * 32
json.dump(e, open(p, 'w'))
EOF
expect_exit 3 $R verify atk
assert_file_has_content err.txt "bad-signature\|threshold"
$R resign atk timestamp >out.txt
assert_file_has_content out.txt "re-signed timestamp"
expect_exit 3 $R verify atk
assert_file_has_content err.txt "hash-mismatch"
ok "resign re-signs hand-edited metadata without bumping anything; verify catches the bad hash"

cp -a "$R1" atk2
$R keygen attacker.pem >/dev/null
test -f attacker.json || fatal "keygen wrote no public key"
assert_streq "$(stat -c %a attacker.pem)" 600
$R resign atk2 timestamp --key attacker.pem >/dev/null
expect_exit 3 $R verify atk2
assert_file_has_content err.txt "threshold"
cp -a "$R1" atk3
echo tampered >>atk3/targets/two.txt
expect_exit 3 $R verify atk3
assert_file_has_content err.txt "two.txt.*mismatch"
ok "verify refuses metadata signed by a foreign key and a tampered target file"

$R --help >out.txt
for cmd in init add-target remove-target delegate delegate-hashbins delegate-succinct rotate expire \
           publish sign resign status verify keygen uptane-init uptane-add-image uptane-add-ostree \
           uptane-assign uptane-clear register-ecu serve; do
  assert_file_has_content out.txt "^  $cmd "
  $R "$cmd" --help >help.txt
  assert_file_has_content help.txt "switchback-repo $cmd \[OPTION"
done
expect_exit 2 $R frobnicate
assert_file_has_content err.txt "unknown command"
expect_exit 2 $R add-target
assert_file_has_content err.txt "expected DIR and FILE"
expect_exit 2 $R init x --key-type dsa
assert_file_has_content err.txt "unknown key type"
expect_exit 1 $R status nowhere
assert_file_has_content err.txt "not a switchback-repo repository"
ok "--help for every command; usage errors exit 2 and say what is wrong"
