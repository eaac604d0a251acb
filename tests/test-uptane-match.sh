#!/bin/bash
# How the primary matches each Director target with the Image repository (design.md §3): hash,
# length, hardware id and release counter must agree; a target the Image repository does not
# list is refused; a target is found through delegations, and a terminating delegation hides
# what later roles list (TUF §5.6.7). Against switchback-repo serve on loopback.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/uptane-helpers.sh"

command -v python3 >/dev/null || skip_all "python3 is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"

plan 9

uptane_setup
expect_exit 0 sb check
save_state "$SB_TMP/good.txt"

# mismatch CLASS: check is refused with CLASS and the trusted state stays as it was.
mismatch () {
  expect_refused 3 "$1" sb check
  assert_state_unchanged "$SB_TMP/good.txt"
}

# assign NAME [uptane-assign options...]
assign () {
  local name="$1"; shift
  R uptane-assign "$UP" --name "$name" --ecu "$ECU" --hardware-id "$HWID" --publish "$@" > /dev/null
}

# add_image NAME SIZE SEED [uptane-add-image options...]
add_image () {
  local name="$1" size="$2" seed="$3"; shift 3
  make_image "$SB_TMP/$name" "$size" "$seed"
  R uptane-add-image "$UP" "$SB_TMP/$name" --name "$name" "$@" --publish > /dev/null
}

good () {
  expect_exit 0 sb check
  assert_file_has_content out.txt "target  *$1"
  save_state "$SB_TMP/good.txt"
}

assign fw-1.bin --sha256 "$(printf x | sha256sum | cut -d' ' -f1)"
mismatch director-image-mismatch
assign fw-1.bin
good fw-1.bin
ok "a hash that differs from the Image repository's is refused"

assign fw-1.bin --length 4096
mismatch director-image-mismatch
assign fw-1.bin
good fw-1.bin
ok "a length that differs is refused"

add_image fw-hw2.bin 3000 3 --hardware-id hw-2,hw-3 --release-counter 1
assign fw-hw2.bin
mismatch bad-hardware-id
add_image fw-hw1.bin 3000 4 --hardware-id hw-2,"$HWID" --release-counter 1
assign fw-hw1.bin
good fw-hw1.bin
ok "the hardware id must be one the Image repository lists for the image"

assign fw-1.bin --release-counter 2
mismatch director-image-mismatch
add_image fw-nocounter.bin 3000 5 --hardware-id "$HWID"
assign fw-nocounter.bin --release-counter 1
mismatch director-image-mismatch
assign fw-1.bin
good fw-1.bin
expect_exit 0 sb check --json
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["targets"][0]["release_counter"] == 1' < out.txt
ok "the release counter must agree when either repository gives one"

R remove-target "$UP/image" fw-1.bin --publish > /dev/null
R sign "$UP/director" targets > /dev/null
mismatch director-image-mismatch
add_image fw-1.bin 5000 1 --hardware-id "$HWID" --release-counter 1
good fw-1.bin
ok "a Director target the Image repository does not list is refused"

# Two images, two ECUs' worth of trouble: one bad assignment refuses the whole update.
R uptane-assign "$UP" --name fw-hw1.bin --ecu ECU-OTHER --hardware-id "$HWID" --publish > /dev/null
mismatch bad-ecu-id
R uptane-clear "$UP" --vin "$VIN" > /dev/null
assign fw-1.bin
good fw-1.bin
ok "if any Director target fails, the whole update is refused"

# Delegations in the Image repository.
R delegate "$UP/image" --to firmware --paths 'fw-2*' --publish > /dev/null
add_image fw-2.bin 4000 2 --hardware-id "$HWID" --release-counter 2
python3 -c 'import json,sys; assert "fw-2.bin" in json.load(open(sys.argv[1]))["signed"]["targets"]' \
  "$UP/image/metadata/firmware.json"
assign fw-2.bin
good fw-2.bin
[ -e "$STATE/metadata/image/firmware.json" ] || fatal "the delegated role is not trusted"
ok "a target listed only by a delegated role is found and matched"

R delegate "$UP/image" --to gate --paths 'fw-3*' --terminating --publish > /dev/null
R delegate "$UP/image" --to late --paths '*' --publish > /dev/null
make_image "$SB_TMP/fw-3.bin" 3500 33
R add-target "$UP/image" "$SB_TMP/fw-3.bin" --name fw-3.bin --role late \
  --custom "{\"hardwareIds\": [\"$HWID\"], \"targetFormat\": \"BINARY\", \"releaseCounter\": 3}" \
  --publish > /dev/null
assign fw-3.bin
mismatch director-image-mismatch
[ "$(hits /repo/late.json)" = 0 ] || fatal "the role behind the terminating delegation was fetched"
ok "a terminating delegation hides a target that a later role lists"

# The same target reached when the terminating role lists it itself.
R add-target "$UP/image" "$SB_TMP/fw-3.bin" --name fw-3.bin --role gate \
  --custom "{\"hardwareIds\": [\"$HWID\"], \"targetFormat\": \"BINARY\", \"releaseCounter\": 3}" \
  --publish > /dev/null
assign fw-3.bin
good fw-3.bin
ok "the terminating role's own target is found"
