#!/bin/sh
# Installs what the QEMU boot tests (tests/qemu/, docs/qemu-tests.md) need on Debian 12:
# QEMU for x86_64 and aarch64, their UEFI firmware, GRUB EFI for both, dracut, zstd (it packs
# the guests' initramfs images; without it they are gzip'd), and the aarch64 cross toolchain
# with the :arm64 -dev packages of switchback's dependencies (which needs the arm64
# architecture added to dpkg), and ostree, ostree-boot (ostree-prepare-root and its dracut
# module) and systemd for the OSTree guest. Kernels and busybox for the guests are not
# installed: the tests fetch them with apt-get download into their cache.
# Idempotent: does nothing when everything is there.
# Usage: scripts/install-qemu-deps.sh   (as root, or with sudo available)
set -eu

host_pkgs="qemu-system-x86 qemu-system-arm ovmf qemu-efi-aarch64 grub-efi-amd64-bin
 grub-common dracut-core cpio kmod binutils mtools dosfstools e2fsprogs fdisk util-linux python3
 gcc-aarch64-linux-gnu zstd ostree ostree-boot systemd"
# libsoup-3.0-dev:arm64 is left out: it cannot be installed beside the amd64 one (see
# tests/qemu/cross-build.sh), and only switchback-repo, which no guest runs, uses it.
arm64_pkgs="grub-efi-arm64-bin libc6-dev pkgconf libglib2.0-dev libjson-glib-dev
 libcurl4-openssl-dev libssl-dev libostree-dev libfdisk-dev"

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-qemu-deps: adding the arm64 architecture to dpkg" >&2
  $SUDO dpkg --add-architecture arm64
fi

installed () {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=
for p in $host_pkgs; do
  installed "$p" || missing="$missing $p"
done
for p in $arm64_pkgs; do
  installed "$p:arm64" || missing="$missing $p:arm64"
done

if [ -z "$missing" ]; then
  echo "install-qemu-deps: all packages present" >&2
  exit 0
fi

echo "install-qemu-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Also when the packages lists are there: the arm64 lists may be new, and the kernel ABI moves.
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
