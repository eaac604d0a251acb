#!/bin/bash
# switchback-repo on an Uptane pair (design.md §3): uptane-init, images with their custom fields,
# Director assignments copied from the Image repository, clearing, ECU registration, key
# rotation of either repository, and `verify` catching a Director/Image mismatch.
source "$top_srcdir/tests/libtest.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"

plan 11

R=switchback-repo
py () {
  python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['signed']; print($2)" "$1"
}
D=up/director/metadata/targets.json
I=up/image/metadata/targets.json

$R uptane-init up --vin VIN-1 >out.txt
for part in director image; do
  for f in 1.root.json root.json timestamp.json snapshot.json targets.json; do
    test -f "up/$part/metadata/$f" || fatal "uptane-init: no $part/metadata/$f"
  done
done
assert_streq "$(py $D "s['targets'], s['custom']")" "{} {'vin': 'VIN-1'}"
[ "$(py up/director/metadata/root.json "sorted(s['keys'])")" != "$(py up/image/metadata/root.json "sorted(s['keys'])")" ] \
  || fatal "the Director and the Image repository share keys"
$R verify up >out.txt
assert_file_has_content out.txt "every Director target matches"
expect_exit 2 $R uptane-init up
ok "uptane-init: a Director and an Image repository with their own keys; empty targets carry the vin"

head -c 4000 /dev/urandom >rootfs-2.img
$R uptane-add-image up rootfs-2.img --hardware-id hw-a,hw-b --version 2.0 --release-counter 2 >out.txt
assert_file_has_content out.txt "added image rootfs-2.img (BINARY, hardware hw-a,hw-b)"
test ! -e up/image/targets/rootfs-2.img || fatal "the image was published before publish"
$R publish up >out.txt
assert_streq "$(head -n 1 out.txt)" "published targets v2 ($SB_TMP/up/image)"
assert_streq "$(py $I "s['targets']['rootfs-2.img']['custom']")" \
  "{'hardwareIds': ['hw-a', 'hw-b'], 'targetFormat': 'BINARY', 'version': '2.0', 'releaseCounter': 2}"
assert_streq "$(py $I "s['targets']['rootfs-2.img']['length']")" 4000
assert_files_equal up/image/targets/rootfs-2.img rootfs-2.img
ok "uptane-add-image: custom hardwareIds, targetFormat, version, releaseCounter; publish DIR publishes both"

commit=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
$R uptane-add-image up --format OSTREE --commit "$commit" --name os-3 --hardware-id hw-a --publish >/dev/null
assert_streq "$(py $I "s['targets']['os-3']['length'], s['targets']['os-3']['hashes'], s['targets']['os-3']['custom']['targetFormat']")" \
  "0 {'sha256': '$commit'} OSTREE"
expect_exit 2 $R uptane-add-image up --format OSTREE --name os-4 --hardware-id hw-a
assert_file_has_content err.txt "commit"
expect_exit 2 $R uptane-add-image up rootfs-2.img
assert_file_has_content err.txt "hardware-id is required"
$R verify up >/dev/null
ok "uptane-add-image --format OSTREE: the commit is the sha256, length 0, no file"

$R uptane-assign up --name rootfs-2.img --ecu ECU-1 --hardware-id hw-a --correlation-id corr-1 >out.txt
assert_file_has_content out.txt "assigned rootfs-2.img to ECU ECU-1 (hardware hw-a), correlation id corr-1"
$R publish up >/dev/null
assert_streq "$(py $D "s['targets']['rootfs-2.img']['custom']")" \
  "{'ecuIdentifiers': {'ECU-1': {'hardwareId': 'hw-a'}}, 'targetFormat': 'BINARY', 'releaseCounter': 2}"
assert_streq "$(py $D "s['targets']['rootfs-2.img']['hashes'] == json.load(open('$I'))['signed']['targets']['rootfs-2.img']['hashes'], s['targets']['rootfs-2.img']['length']")" \
  "True 4000"
assert_streq "$(py $D "s['custom']")" "{'vin': 'VIN-1', 'correlationId': 'corr-1'}"
$R verify up >out.txt
assert_file_has_content out.txt "every Director target matches"
ok "uptane-assign: length and hashes copied, ecuIdentifiers, targetFormat, releaseCounter, correlationId and vin"

$R uptane-assign up --name rootfs-2.img --ecu ECU-2 --hardware-id hw-b --publish >out.txt
cid=$(py $D "s['custom']['correlationId']")
[[ "$cid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || fatal "correlation id $cid is not a UUID"
assert_streq "$(py $D "sorted(s['targets']['rootfs-2.img']['custom']['ecuIdentifiers'])")" "['ECU-1', 'ECU-2']"
$R uptane-assign up --name os-3 --ecu ECU-1 --hardware-id hw-a --vin VIN-2 --publish >/dev/null
assert_streq "$(py $D "sorted(s['targets']), sorted(s['targets']['rootfs-2.img']['custom']['ecuIdentifiers']), s['targets']['os-3']['custom']['targetFormat'], s['custom']['vin']")" \
  "['os-3', 'rootfs-2.img'] ['ECU-2'] OSTREE VIN-2"
$R uptane-assign up --name os-3 --ecu ECU-2 --hardware-id hw-b --publish 2>err.txt >/dev/null
assert_file_has_content err.txt "not released for hardware id hw-b"
assert_streq "$(py $D "sorted(s['targets'])")" "['os-3']"
expect_exit 1 $R uptane-assign up --name nothing.img --ecu ECU-1 --hardware-id hw-a
assert_file_has_content err.txt "nothing.img"
ok "one image per ECU: reassigning moves the ECU; a new correlation id each time; unknown images refused"

expect_exit 3 $R verify up
assert_file_has_content err.txt "ECU-2.*not released for hardware id hw-b.*\[bad-hardware-id\]"
$R uptane-assign up --name rootfs-2.img --ecu ECU-2 --hardware-id hw-b --length 3999 --publish >/dev/null
expect_exit 3 $R verify up
assert_file_has_content err.txt "length 3999 differs.*\[director-image-mismatch\]"
$R uptane-assign up --name rootfs-2.img --ecu ECU-2 --hardware-id hw-b --release-counter 1 --publish >/dev/null
expect_exit 3 $R verify up
assert_file_has_content err.txt "release counter differs.*\[director-image-mismatch\]"
$R uptane-assign up --name rootfs-2.img --ecu ECU-2 --hardware-id hw-b --sha256 "$commit" --publish >/dev/null
expect_exit 3 $R verify up
assert_file_has_content err.txt "sha256 differs.*\[director-image-mismatch\]"
$R uptane-assign up --name rootfs-2.img --ecu ECU-2 --hardware-id hw-b --publish >/dev/null
$R verify up >/dev/null
ok "verify refuses Director targets that do not match the Image repository (hardware, length, counter, hash)"

$R uptane-clear up --vin VIN-3 --publish >/dev/null
assert_streq "$(py $D "s['targets'], s['custom']")" "{} {'vin': 'VIN-3'}"
$R verify up 2>err.txt >/dev/null
assert_not_file_has_content err.txt "warning"
expect_exit 2 $R uptane-clear up
ok "uptane-clear: no image, the vin signed in"

$R keygen ecu.pem --type ecdsa >keyid.txt
assert_streq "$(python3 -c 'import json; print(json.load(open("ecu.json"))["keytype"])')" ecdsa
$R register-ecu up ECU-1 ecu.json --hardware-id hw-a >out.txt
assert_file_has_content out.txt "registered ECU ECU-1 with key $(cat keyid.txt)"
assert_streq "$(python3 -c 'import json; r=json.load(open("up/director/ecus/ECU-1.json")); print(r["ecu_serial"], r["hardware_id"], r["public_key"]["scheme"])')" \
  "ECU-1 hw-a ecdsa-sha2-nistp256"
$R uptane-assign up --name rootfs-2.img --ecu ECU-1 >out.txt
assert_file_has_content out.txt "hardware hw-a"
expect_exit 2 $R uptane-assign up --name rootfs-2.img --ecu ECU-7
assert_file_has_content err.txt "ECU-7 is not registered"
echo '{"keytype": "ed25519"}' >bad.json
expect_exit 1 $R register-ecu up ECU-8 bad.json
assert_file_has_content err.txt "bad.json"
ok "register-ecu stores the TUF key object; uptane-assign takes the registered hardware id"

expect_exit 2 $R rotate up targets
assert_file_has_content err.txt "name one of them"
old=$(py up/director/metadata/root.json "s['roles']['targets']['keyids'][0]")
$R rotate up/director targets --publish >/dev/null
$R rotate up/image root --publish >/dev/null
[ "$(py up/director/metadata/root.json "s['roles']['targets']['keyids'][0]")" != "$old" ] || fatal "no rotation"
assert_streq "$(py up/image/metadata/root.json "s['version']")" 2
$R publish up >/dev/null
$R verify up >out.txt
assert_file_has_content out.txt "up/image: root v2 (2 versions)"
ok "key rotation in either repository of the pair (named by its path)"

head -c 100 /dev/urandom >app.bin
$R delegate up --to apps --paths 'apps/*' >/dev/null
$R add-target up app.bin --name apps/app.bin --publish >/dev/null
assert_streq "$(py up/image/metadata/apps.json "list(s['targets'])")" "['apps/app.bin']"
expect_exit 2 $R delegate up/director --to x --paths 'x/*'
assert_file_has_content err.txt "Director"
expect_exit 2 $R add-target up/director app.bin
assert_file_has_content err.txt "uptane-assign"
$R verify up >/dev/null
ok "add-target and delegate on a pair go to the Image repository; the Director never delegates"

$R status up >out.txt
assert_file_has_content out.txt "director repository"
assert_file_has_content out.txt "image repository"
$R status up --json >status.json
assert_streq "$(python3 -c 'import json; print([r["kind"] for r in json.load(open("status.json"))])')" "['director', 'image']"
ok "status shows both repositories of a pair"
