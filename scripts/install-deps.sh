#!/bin/sh
# Installs the Debian 12 packages that building, testing and the demo need.
# Usage: scripts/install-deps.sh [--qemu]   (as root, or with sudo available)
set -eu

pkgs="build-essential autoconf automake libtool pkg-config autoconf-archive
 libglib2.0-dev libjson-glib-dev libcurl4-openssl-dev libssl-dev
 libostree-dev libfdisk-dev libsoup-3.0-dev
 ostree grub-common fdisk util-linux e2fsprogs dosfstools mtools
 curl openssl faketime time python3 python3-cryptography python3-requests
 git ca-certificates glib-networking busybox stress-ng"

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
else
  echo "install-deps: all packages present" >&2
fi
