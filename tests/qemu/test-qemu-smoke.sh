#!/bin/bash
# The boot chain of the QEMU guests, on x86_64 and aarch64 at once: UEFI firmware, GRUB with the
# project's slot-choosing script, the Debian kernel, the initramfs with switchback-boot's hook,
# and the init of rootfs A, which runs a scenario handed in through fw_cfg, fetches a file from
# a server on the host's loopback and powers off.
#
# Needs the packages of scripts/install-qemu-deps.sh; an architecture whose tools are missing
# is skipped. Downloaded packages and built initramfs images stay in $SB_QEMU_CACHE.
source "$top_srcdir/tests/libtest.sh"
source "$top_srcdir/tests/qemu/lib.sh"
qemu="$top_srcdir/tests/qemu"

archs=
skipped=
for arch in x86_64 aarch64; do
  missing=$(sbq_missing_tools "$arch")
  if [ -z "$missing" ]; then
    archs="$archs $arch"
  else
    skipped="$skipped $arch"
    eval "missing_$arch=\"\$missing\""
  fi
done
if [ -z "$archs" ]; then
  skip_all "QEMU boot tools missing ($(sbq_missing_tools x86_64));" \
    "scripts/install-qemu-deps.sh installs them"
fi

# The host side of the network check: a file served on 127.0.0.1 only.
mkdir -p srv
head -c 3000000 /dev/urandom >srv/payload.bin
want_sha=$(sha256sum <srv/payload.bin | cut -d' ' -f1)
port=$(free_port)
# It exits 0 on SIGTERM, which is how libtest.sh stops it.
python3 - "$port" >server.log 2>&1 <<'EOF' &
import functools, http.server, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="srv")
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
EOF
SB_PIDS+=("$!")
for _ in $(seq 1 50); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null \
    && break
  sleep 0.1
done

cat >scenario.sh <<EOF
echo "smoke: slot=\$SB_QEMU_SLOT version=\$SB_QEMU_VERSION"
wget -q -O /tmp/payload.bin http://10.0.2.100/payload.bin || exit 20
echo "smoke: payload \$(sha256sum </tmp/payload.bin | cut -d' ' -f1)"
exit 7
EOF

# The power is cut while this one sleeps.
printf 'echo "smoke: cut here"\nsleep 600\necho "smoke: not cut"\n' >cut.sh

export SB_QEMU_TIMINGS="$SB_TMP/timings"
: >"$SB_QEMU_TIMINGS"

# run_arch ARCH: builds the disk and boots it once; then puts a slot B whose initramfs fails
# first in grubenv with one try, and boots twice: B fails, then GRUB falls back to A, where the
# power is cut during the scenario. The outcome lands in ARCH.* files.
run_arch () {
  local arch="$1"
  "$qemu/build-disk.sh" "$arch" "$arch.img" >"$arch.build.log" 2>&1 || return 1
  touch "$arch.built"
  "$qemu/boot.sh" "$arch" "$arch.img" "$arch.console" 300 --scenario scenario.sh \
    --server "$port" >"$arch.boot" 2>>"$arch.build.log" || return 1
  "$qemu/disk-files.sh" "$arch.img" env >"$arch.env"
  "$qemu/disk-files.sh" "$arch.img" cat data /switchback/install.json >"$arch.install.json"

  "$qemu/build-rootfs.sh" "$arch" "$arch.broken.ext4" --label rootfs-b --version 2 \
    --slot-image --broken initramfs >>"$arch.build.log" 2>&1 || return 1
  "$qemu/disk-files.sh" "$arch.img" write-slot rootfs-b "$arch.broken.ext4"
  "$qemu/disk-files.sh" "$arch.img" set-env "SB_ORDER=B A" SB_B_TRIES=1
  touch "$arch.broken.built"
  "$qemu/boot.sh" "$arch" "$arch.img" "$arch.console2" 300 >"$arch.boot2" \
    2>>"$arch.build.log" || return 1
  "$qemu/disk-files.sh" "$arch.img" env >"$arch.env2"
  "$qemu/boot.sh" "$arch" "$arch.img" "$arch.console3" 300 --scenario cut.sh \
    --cut-on '^smoke: cut here' >"$arch.boot3" 2>>"$arch.build.log" || return 1
}

pids=()
for arch in $archs; do
  run_arch "$arch" &
  pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

# failed WHAT: the end of the build and boot log, then a bail-out.
failed () {
  sed 's/^/# /' "$arch.build.log" | tail -n 60
  fatal "$1"
}

n_per_arch=7
plan $((2 * n_per_arch))
for arch in x86_64 aarch64; do
  case " $archs " in
    *" $arch "*) ;;
    *)
      eval "why=\$missing_$arch"
      for i in $(seq 1 "$n_per_arch"); do
        _sb_test_n=$((_sb_test_n + 1))
        echo "ok $_sb_test_n # SKIP $arch: missing $why"
      done
      continue
      ;;
  esac
  [ -e "$arch.built" ] || failed "$arch: build-disk.sh failed"
  ok "$arch: build-disk.sh builds the disk"

  [ -s "$arch.boot" ] || failed "$arch: boot.sh failed"
  tr -d '\r' <"$arch.console" >"$arch.txt"
  assert_file_has_content "$arch.boot" "^boot: $arch poweroff "
  assert_file_has_content "$arch.txt" "sb-grub: slot=A"
  assert_file_has_content "$arch.txt" "switchback.slot=A"
  assert_file_has_content "$arch.txt" "switchback: first boot of slot A"
  assert_file_has_content "$arch.txt" "^SB-QEMU: init slot=A version=1 emergency=0"
  ok "$arch: GRUB boots slot A, the initramfs hook runs switchback-boot, rootfs A's init runs"

  assert_file_has_content "$arch.txt" "^smoke: slot=A version=1"
  assert_file_has_content "$arch.txt" "^smoke: payload $want_sha"
  assert_file_has_content "$arch.txt" "^SB-QEMU: scenario exit=7"
  assert_file_has_content "$arch.txt" "^SB-QEMU: poweroff"
  ok "$arch: the fw_cfg scenario runs and fetches from the host's loopback server"

  assert_file_has_content "$arch.env" "^SB_ORDER=A B$"
  assert_file_has_content "$arch.env" "^SB_A_TRIES=3$"
  assert_file_has_content "$arch.install.json" '"committed" *: *"A"'
  ok "$arch: slot A is committed with its tries reset"

  [ -e "$arch.broken.built" ] || failed "$arch: build-rootfs.sh --broken failed"
  [ -s "$arch.boot2" ] || failed "$arch: boot.sh failed"
  tr -d '\r' <"$arch.console2" >"$arch.txt2"
  assert_file_has_content "$arch.boot2" "^boot: $arch reset "
  assert_file_has_content "$arch.txt2" "sb-grub: slot=B"
  assert_file_has_content "$arch.txt2" "^SB-QEMU: broken initramfs"
  assert_not_file_has_content "$arch.txt2" "\] switchback: "
  assert_not_file_has_content "$arch.txt2" "^SB-QEMU: init"
  assert_file_has_content "$arch.env2" "^SB_B_TRIES=0$"
  ok "$arch: a slot whose initramfs fails resets before switchback-boot and uses its try up"

  [ -s "$arch.boot3" ] || failed "$arch: boot.sh failed"
  tr -d '\r' <"$arch.console3" >"$arch.txt3"
  assert_file_has_content "$arch.txt3" "sb-grub: slot=A"
  assert_file_has_content "$arch.txt3" "^SB-QEMU: init slot=A version=1 emergency=0"
  ok "$arch: GRUB falls back to slot A when B has no tries left"

  assert_file_has_content "$arch.boot3" "^boot: $arch cut "
  assert_file_has_content "$arch.txt3" "^smoke: cut here"
  assert_not_file_has_content "$arch.txt3" "^smoke: not cut"
  assert_not_file_has_content "$arch.txt3" "^SB-QEMU: scenario exit"
  ok "$arch: boot.sh --cut-on cuts the power at the console line"
done

sed 's/^/# time: /' "$SB_QEMU_TIMINGS"
