# test-update-lib.sh: a switchback system and an Uptane repository for the `switchback update`
# tests. Source it after libtest.sh.
#
# The system lives in ./sys: a GPT disk image made by sfdisk (esp, rootfs-a, rootfs-b, data),
# a grubenv made by grub-editenv, the kernel command line GRUB would pass, the state directory
# and switchback.conf. The repository is an Uptane pair made by switchback-repo in ./repo and
# served on loopback by `switchback-repo serve`, whose /_control/ endpoint sets faults.
# Reboots run the project's GRUB script under tests/grub-sim.sh, then switchback-boot.

command -v sfdisk >/dev/null || skip_all "sfdisk is not installed"
command -v grub-editenv >/dev/null || skip_all "grub-editenv is not installed"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v switchback-repo >/dev/null || skip_all "switchback-repo is not built"
source "$top_srcdir/tests/grub-sim.sh"
# The slots hold random test images, not filesystems with a kernel.
SB_GRUB_SIM_NO_FS=1

SLOT_SIZE=$((16 * 1024 * 1024))
ECU=ecu-1
HWID=board-a
SB=(switchback --config "$SB_TMP/sys/switchback.conf")

# read_slot_offsets: the byte offsets of rootfs-a and rootfs-b in sys/disk.img, from its GPT.
read_slot_offsets () {
  SLOT_OFFSETS=$(sfdisk --json sys/disk.img | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
off = {p.get("name"): p["start"] * t.get("sectorsize", 512) for p in t["partitions"]}
print(off["rootfs-a"], off["rootfs-b"])')
}
# slot_offset A|B
slot_offset () {
  case $1 in A) echo "${SLOT_OFFSETS% *}" ;; B) echo "${SLOT_OFFSETS#* }" ;; esac
}

# slot_sha A|B [LEN]: sha256 of the first LEN bytes of the slot (the whole slot by default).
slot_sha () {
  local off len=${2:-$SLOT_SIZE}
  off=$(slot_offset "$1")
  dd if=sys/disk.img iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none \
    | sha256sum | cut -d' ' -f1
}

# write_slot A|B FILE: FILE's bytes at the start of the slot.
write_slot () {
  dd if="$2" of=sys/disk.img oflag=seek_bytes seek="$(slot_offset "$1")" conv=notrunc status=none
}

# random_file FILE SIZE SEED: SIZE reproducible pseudo-random bytes.
random_file () {
  python3 -c '
import random, sys
r = random.Random(int(sys.argv[3]))
with open(sys.argv[1], "wb") as f:
    left = int(sys.argv[2])
    while left > 0:
        n = min(left, 1 << 20)
        f.write(r.randbytes(n))
        left -= n' "$1" "$2" "$3"
}

# new_repo: an Uptane pair in ./repo, served on loopback; sets REPO_URL.
new_repo () {
  rm -rf repo port.txt
  mkdir -p images
  switchback-repo uptane-init repo >/dev/null
  switchback-repo serve repo --control --port 0 --port-file port.txt >serve.log 2>&1 &
  SB_PIDS+=($!)
  SERVE_PID=$!
  wait_for_file port.txt $!
  REPO_URL="http://127.0.0.1:$(cat port.txt)"
}

# restart_server: stops the server and starts it again on the same port.
restart_server () {
  kill "$SERVE_PID" && wait "$SERVE_PID" 2>/dev/null || true
  local port=${REPO_URL##*:}
  rm -f port.txt
  switchback-repo serve repo --control --port "$port" --port-file port.txt >>serve.log 2>&1 &
  SB_PIDS+=($!)
  SERVE_PID=$!
  wait_for_file port.txt $!
}

stop_server () { kill "$SERVE_PID" && wait "$SERVE_PID" 2>/dev/null || true; }

# new_system [CONFIRM]: a fresh ./sys booted from slot A, registered with the Director.
new_system () {
  rm -rf sys
  mkdir -p sys/state
  truncate -s 48M sys/disk.img
  printf 'label: gpt\nsize=1MiB, name=esp\nsize=16MiB, name=rootfs-a\nsize=16MiB, name=rootfs-b\nname=data\n' \
    | sfdisk -q sys/disk.img
  read_slot_offsets
  [ -f factory-a.img ] || random_file factory-a.img "$SLOT_SIZE" 1
  [ -f junk-b.img ] || random_file junk-b.img "$SLOT_SIZE" 2
  write_slot A factory-a.img
  write_slot B junk-b.img
  # The GRUB script finds the slots by PARTUUID, read from the disk as an image build does.
  sh "$top_srcdir/grub/gen-switchback-cfg.sh" --disk sys/disk.img 3 >sys/switchback.cfg
  grub-editenv sys/grubenv create
  grub-editenv sys/grubenv set "SB_ORDER=A B" SB_A_TRIES=3 SB_B_TRIES=3
  booted A
  cat >sys/switchback.conf <<EOF
[uptane]
director-url=$REPO_URL/director
image-url=$REPO_URL/repo
director-root=$SB_TMP/repo/director/metadata/1.root.json
image-root=$SB_TMP/repo/image/metadata/1.root.json
ecu-serial=$ECU
hardware-id=$HWID
[storage]
state-dir=$SB_TMP/sys/state
[slots]
disk=$SB_TMP/sys/disk.img
[boot]
grubenv=$SB_TMP/sys/grubenv
cmdline-file=$SB_TMP/sys/cmdline
max-tries=3
confirm=${1:-initramfs}
EOF
  provision_ecu_key sys/state
  switchback-repo register-ecu repo "$ECU" sys/state/ecu/public.json --hardware-id "$HWID" \
    >/dev/null
  SLOT_A_SHA=$(slot_sha A)
}

booted () { echo "BOOT_IMAGE=/vmlinuz root=PARTLABEL=rootfs ro switchback.slot=$1" >sys/cmdline; }

# add_image NAME SIZE SEED [uptane-add-image options]: an image file published in the Image
# repository for this hardware id.
add_image () {
  local name=$1 size=$2 seed=$3
  shift 3
  random_file "images/$name" "$size" "$seed"
  switchback-repo uptane-add-image repo "images/$name" --name "$name" --hardware-id "$HWID" \
    --publish "$@" >/dev/null
}

# assign NAME [uptane-assign options]: the Director assigns NAME to this ECU.
assign () {
  local name=$1
  shift
  switchback-repo uptane-assign repo --name "$name" --ecu "$ECU" --publish "$@" >/dev/null
}

image_sha () { sha256sum "images/$1" | cut -d' ' -f1; }
image_size () { stat -c %s "images/$1"; }

# fault PATH MODES [TIMES]: a fault switch of the server (repo-faults.h); MODES "none" clears.
fault () {
  curl -sf -X POST "$REPO_URL/_control/fault?path=$1&mode=$2${3:+&times=$3}" >/dev/null \
    || fatal "setting fault $2 on $1"
}
clear_faults () { curl -sf -X POST "$REPO_URL/_control/reset" >/dev/null; }
hits () { curl -sf "$REPO_URL/_control/hits?path=$1"; }

# update STATUS [options]: `switchback update`, which must exit with STATUS.
update () {
  local want=$1
  shift
  expect_exit "$want" "${SB[@]}" update "$@"
}

json_get () {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"
}
install_state () { json_get sys/state/install.json 'd["state"]'; }
env_get () { grub-editenv sys/grubenv list | sed -n "s/^$1=//p"; }

# reboot: GRUB's script picks a slot and counts the try, then the initramfs hook decides.
# Sets BOOTED.
reboot () {
  sb_grub_sim sys/switchback.cfg sys/grubenv sys/cmdline sys/disk.img \
    || fatal "the GRUB script failed"
  BOOTED=$(sed -n 's/.*switchback\.slot=\([AB]\).*/\1/p' sys/cmdline)
  switchback-boot --config sys/switchback.conf --stderr >boot.out 2>&1 || true
}

# The reports the Director received, oldest first (one file each).
manifests () { ls repo/director/manifests/*.json 2>/dev/null | sort; }

# assert_active_intact: slot A is byte for byte as the system was set up.
assert_active_intact () { assert_streq "$(slot_sha A)" "$SLOT_A_SHA"; }

# assert_slot_holds SLOT NAME: the slot starts with the image NAME.
assert_slot_holds () {
  assert_streq "$(slot_sha "$1" "$(image_size "$2")")" "$(image_sha "$2")"
}

# reported: "CODE CORRELATION_ID" of every installation report the Director received, one a
# line, oldest first.
reported () {
  local m
  for m in $(manifests); do
    json_get "$m" '" ".join((d["signed"]["installation_report"]["report"]["result"]["code"], d["signed"]["installation_report"]["report"]["correlation_id"])) if "installation_report" in d["signed"] else ""'
  done | sed '/^$/d'
}
# installed_reported: the installed image of the Director's last manifest.
installed_reported () {
  json_get "$(manifests | tail -n 1)" 'd["signed"]["ecu_version_manifests"]["'"$ECU"'"]["signed"]["installed_image"]["filepath"]'
}
