#!/bin/bash
# Scenarios 1 and 2 of test-qemu-update.sh (update, reboot, commit; broken update, rollback)
# on an aarch64 guest: AAVMF, GRUB for arm64-efi, the Debian arm64 kernel, the busybox
# initramfs that sources the same switchback hook, and switchback cross-built for aarch64. A
# test of its own, so that make -j2 check runs it beside the x86_64 one.
SBQ_UPDATE_ARCH=aarch64
# shellcheck source=tests/qemu/test-qemu-update.sh
source "$top_srcdir/tests/qemu/test-qemu-update.sh"
