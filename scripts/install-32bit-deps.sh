#!/bin/sh
# Installs what scripts/check-32bit.sh needs on Debian 12: the i686 cross compiler, the :i386
# -dev packages of switchback's dependencies (which needs the i386 architecture added to dpkg),
# and qemu-user, which runs the 32-bit tests where the kernel has no IA-32 emulation.
# libsoup-3.0-dev:i386 cannot be installed beside the amd64 one on Debian 12 (it pulls in
# python3:i386 through gobject-introspection), so only its library is installed; check-32bit.sh
# compiles against the amd64 package's headers, which are the same on every architecture.
# Idempotent: does nothing when everything is there.
# Usage: scripts/install-32bit-deps.sh   (as root, or with sudo available)
set -eu

host_pkgs="gcc-i686-linux-gnu qemu-user"
i386_pkgs="libc6-dev pkgconf libglib2.0-dev libjson-glib-dev libcurl4-openssl-dev libssl-dev
 libostree-dev libfdisk-dev libsoup-3.0-0 glib-networking"

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

if ! dpkg --print-foreign-architectures | grep -qx i386; then
  echo "install-32bit-deps: adding the i386 architecture to dpkg" >&2
  $SUDO dpkg --add-architecture i386
fi

installed () {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=
for p in $host_pkgs; do
  installed "$p" || missing="$missing $p"
done
for p in $i386_pkgs; do
  installed "$p:i386" || missing="$missing $p:i386"
done

if [ -z "$missing" ]; then
  echo "install-32bit-deps: all packages present" >&2
  exit 0
fi

echo "install-32bit-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The i386 lists may be new.
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
