# shellcheck shell=bash
# lib.sh: shared by the QEMU boot-test scripts (tests/qemu/*.sh). Source it from bash. Of the
# shell options it sets only inherit_errexit; the scripts themselves run with set -euo pipefail.
#
# Environment:
#   SB_QEMU_CACHE   where downloaded .debs, unpacked kernels, initramfs images and the aarch64
#                   cross build are kept between runs (default: $top_builddir/_qemu-cache, or
#                   ./_qemu-cache when top_builddir is unset)
#   top_srcdir      the source tree (default: two levels above this file)
#   top_builddir    the native build tree whose binaries go into x86_64 guests (default: .)
#   SB_QEMU_TIMINGS a file that gets one "ARCH STEP SECONDS" line per timed step

# Command substitutions keep errexit, so a failing step inside $(...) is not ignored.
shopt -s inherit_errexit
sbq_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$sbq_here/../.." && pwd)}"
: "${top_builddir:=$PWD}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
: "${SB_QEMU_CACHE:=$top_builddir/_qemu-cache}"
mkdir -p "$SB_QEMU_CACHE"
SB_QEMU_CACHE=$(cd "$SB_QEMU_CACHE" && pwd)

sbq_prog=$(basename "$0" .sh)

sbq_die () { echo "$sbq_prog: $*" >&2; exit 1; }
sbq_log () { echo "$sbq_prog: $*" >&2; }

# sbq_arch ARCH: sets the per-architecture names. ARCH is x86_64 or aarch64.
sbq_arch () {
  SBQ_ARCH="$1"
  case "$1" in
    x86_64)
      SBQ_DEBARCH=amd64
      SBQ_TRIPLET=x86_64-linux-gnu
      SBQ_CONSOLE=ttyS0
      SBQ_GRUB_TARGET=x86_64-efi
      SBQ_EFI_NAME=BOOTX64.EFI
      SBQ_QEMU=qemu-system-x86_64
      SBQ_FW_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
      SBQ_FW_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
      SBQ_GRUB_DIR=/usr/lib/grub/x86_64-efi
      ;;
    aarch64)
      SBQ_DEBARCH=arm64
      SBQ_TRIPLET=aarch64-linux-gnu
      SBQ_CONSOLE=ttyAMA0
      SBQ_GRUB_TARGET=arm64-efi
      SBQ_EFI_NAME=BOOTAA64.EFI
      SBQ_QEMU=qemu-system-aarch64
      SBQ_FW_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
      SBQ_FW_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
      SBQ_GRUB_DIR=/usr/lib/grub/arm64-efi
      ;;
    *) sbq_die "unknown architecture '$1' (x86_64 or aarch64)" ;;
  esac
}

# sbq_missing_tools ARCH: prints what the boot tests of ARCH need and the machine lacks (one
# word each), nothing when all is there. The packages come from scripts/install-qemu-deps.sh.
sbq_missing_tools () {
  local t missing=
  sbq_arch "$1"
  for t in "$SBQ_QEMU" grub-mkstandalone grub-editenv sfdisk mkfs.vfat mcopy mmd mke2fs \
           debugfs cpio depmod readelf apt-get dpkg-deb flock; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
  done
  for t in "$SBQ_FW_CODE" "$SBQ_FW_VARS" "$SBQ_GRUB_DIR/linux.mod"; do
    [ -e "$t" ] || missing="$missing $t"
  done
  case "$1" in
    x86_64) command -v dracut >/dev/null 2>&1 || missing="$missing dracut" ;;
    aarch64)
      command -v "$SBQ_TRIPLET-gcc" >/dev/null 2>&1 || missing="$missing $SBQ_TRIPLET-gcc"
      command -v "$SBQ_TRIPLET-pkg-config" >/dev/null 2>&1 \
        || missing="$missing $SBQ_TRIPLET-pkg-config"
      ;;
  esac
  echo "${missing# }"
}

# sbq_now: seconds since the epoch with decimals, for timings.
sbq_now () { date +%s.%N; }

# sbq_timed STEP CMD...: runs CMD and records how long it took under STEP for $SBQ_ARCH.
sbq_timed () {
  local step="$1" t0 t1 rc=0
  shift
  t0=$(sbq_now)
  # Not "|| rc=$?": that would switch errexit off inside the command, and a failing step in the
  # middle of a function would go unnoticed. With errexit on, a failure ends the script here.
  "$@"
  rc=$?
  t1=$(sbq_now)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  sbq_log "$SBQ_ARCH $step: ${secs}s"
  if [ -n "${SB_QEMU_TIMINGS:-}" ]; then
    echo "$SBQ_ARCH $step $secs" >>"$SB_QEMU_TIMINGS"
  fi
  return "$rc"
}

# sbq_locked NAME CMD...: runs CMD holding the cache lock NAME, so that tests running in
# parallel build each cached artifact once.
sbq_locked () {
  local name="$1"
  shift
  (
    flock 9
    "$@"
  ) 9>"$SB_QEMU_CACHE/.lock-$name"
}

# sbq_hash FILE...: one sha256 over the contents of the files given, in order (a directory
# counts with the names and contents of the files below it). Cache keys are built from it.
sbq_hash () {
  local f
  for f in "$@"; do
    if [ -d "$f" ]; then
      (cd "$f" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    elif [ -e "$f" ]; then
      sha256sum <"$f"
    else
      echo "absent"
    fi
  done | sha256sum | cut -c1-16
}

sbq_apt_download () {
  (cd "$SB_QEMU_CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "$1" >&2)
}

# sbq_cached_deb PKG ARCH: the newest cached .deb of PKG, or nothing.
sbq_cached_deb () {
  local f found=
  for f in "$SB_QEMU_CACHE/debs/${1}_"*"_$2.deb"; do
    [ -e "$f" ] && found="$f"
  done
  echo "$found"
}

# sbq_resolve_kernel_pkg PKG ARCH: the linux-image-N... package that the metapackage PKG depends
# on, or nothing. apt-cache reads every package list each time where APT keeps no binary cache
# (Debian's container images), a few seconds per call, so the answer is kept in the cache until
# apt-get update changes the lists.
sbq_resolve_kernel_pkg () {
  local pkg="$1" arch="$2" stamp kept real
  stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null) || stamp=none
  kept="$SB_QEMU_CACHE/debs/.resolved-$pkg-$arch"
  if [ -f "$kept" ] && [ "$(sed -n 1p "$kept")" = "$stamp" ]; then
    sed -n 2p "$kept"
    return 0
  fi
  real=$(apt-cache depends "$pkg:$arch" 2>/dev/null \
           | sed -n 's/^ *Depends: \(linux-image-[0-9][^: ]*\).*/\1/p' | head -n 1) || true
  if [ -n "$real" ]; then
    mkdir -p "$SB_QEMU_CACHE/debs"
    printf '%s\n%s\n' "$stamp" "$real" >"$kept.$$"
    mv "$kept.$$" "$kept"
  fi
  echo "$real"
}

# sbq_deb PKG ARCH: prints the path of PKG's .deb for the Debian architecture ARCH, downloading
# it into the cache on first use. A metapackage name is resolved to the package it depends on
# (linux-image-cloud-amd64 -> linux-image-6.1.0-N-cloud-amd64), since the ABI number moves.
sbq_deb () {
  local pkg="$1" arch="$2" real= deb
  case "$pkg" in linux-image-*) real=$(sbq_resolve_kernel_pkg "$pkg" "$arch") ;; esac
  [ -n "$real" ] || real="$pkg"
  mkdir -p "$SB_QEMU_CACHE/debs"
  deb=$(sbq_cached_deb "$real" "$arch")
  if [ -z "$deb" ]; then
    sbq_timed "fetch-$pkg" sbq_apt_download "$real:$arch" \
      || sbq_die "apt-get download $real:$arch failed (is 'dpkg --add-architecture arm64' done" \
                 "and 'apt-get update' run? scripts/install-qemu-deps.sh does both)"
    deb=$(sbq_cached_deb "$real" "$arch")
  fi
  [ -n "$deb" ] || sbq_die "no .deb for $real:$arch in $SB_QEMU_CACHE/debs"
  echo "$deb"
}

sbq_unpack_deb () {
  local deb="$1" dir="$2" kver
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg-deb -x "$deb" "$dir" || sbq_die "dpkg-deb -x $deb failed"
  for kver in "$dir"/lib/modules/*; do
    [ -d "$kver" ] || continue
    depmod -b "$dir" "${kver##*/}" || sbq_die "depmod -b $dir ${kver##*/} failed"
  done
  touch "$dir/.done"
}

# sbq_unpacked PKG ARCH: prints a directory holding PKG unpacked with dpkg -x (never installed
# on the host). Kernels get their modules.dep from depmod -b.
sbq_unpacked () {
  local deb dir
  deb=$(sbq_deb "$1" "$2") || exit 1
  dir="$SB_QEMU_CACHE/unpacked/$(basename "$deb" .deb)"
  if [ ! -e "$dir/.done" ]; then
    sbq_timed "unpack-$1" sbq_unpack_deb "$deb" "$dir"
  fi
  echo "$dir"
}

# sbq_kernel ARCH: sets SBQ_KROOT (the unpacked kernel package), SBQ_KVER and SBQ_VMLINUZ.
sbq_kernel () {
  sbq_arch "$1"
  SBQ_KROOT=$(sbq_locked unpack sbq_unpacked "linux-image-cloud-$SBQ_DEBARCH" "$SBQ_DEBARCH") \
    || exit 1
  SBQ_KVER=
  local d
  for d in "$SBQ_KROOT"/lib/modules/*; do
    [ -d "$d" ] && SBQ_KVER="${d##*/}"
  done
  SBQ_VMLINUZ="$SBQ_KROOT/boot/vmlinuz-$SBQ_KVER"
  [ -n "$SBQ_KVER" ] && [ -f "$SBQ_VMLINUZ" ] || sbq_die "no kernel in $SBQ_KROOT"
}

# sbq_busybox ARCH: prints the path of busybox-static for ARCH.
sbq_busybox () {
  local dir
  sbq_arch "$1"
  dir=$(sbq_locked unpack sbq_unpacked busybox-static "$SBQ_DEBARCH") || exit 1
  echo "$dir/bin/busybox"
}

# sbq_busybox_applets: the applet names of busybox-static (the same build configuration for
# every architecture), read from the x86_64 binary, which runs here.
sbq_busybox_applets () {
  local bb
  bb=$(sbq_busybox x86_64) || exit 1
  "$bb" --list
}

# sbq_install_busybox ARCH ROOT: busybox-static as ROOT/usr/bin/busybox with a symlink for each
# applet in ROOT/usr/bin (ROOT/bin and ROOT/sbin are expected to point there).
sbq_install_busybox () {
  local bb a
  bb=$(sbq_busybox "$1") || exit 1
  mkdir -p "$2/usr/bin"
  install -m 0755 "$bb" "$2/usr/bin/busybox"
  for a in $(sbq_busybox_applets); do
    case "$a" in busybox|init|linuxrc) continue ;; esac
    [ -e "$2/usr/bin/$a" ] || ln -s busybox "$2/usr/bin/$a"
  done
}

# sbq_merged_usr ROOT: the /bin, /sbin, /lib -> /usr layout of Debian 12.
sbq_merged_usr () {
  mkdir -p "$1/usr/bin" "$1/usr/lib" "$1/usr/lib64"
  ln -sfn usr/bin "$1/bin"
  ln -sfn usr/bin "$1/sbin"
  ln -sfn usr/bin "$1/usr/sbin"
  ln -sfn usr/lib "$1/lib"
  ln -sfn usr/lib64 "$1/lib64"
}

# sbq_lib_path NAME: the host path of the shared library NAME for $SBQ_TRIPLET.
sbq_lib_path () {
  local d
  for d in "/usr/lib/$SBQ_TRIPLET" "/lib/$SBQ_TRIPLET" /usr/lib /lib; do
    if [ -e "$d/$1" ]; then echo "$d/$1"; return 0; fi
  done
  return 1
}

# sbq_install_elf ARCH ROOT SRC DEST: copies the ELF file SRC to ROOT/DEST with every shared
# library it needs, recursively, and the dynamic loader, from the host's multiarch directories
# (/usr/lib/x86_64-linux-gnu, or the :arm64 packages in /usr/lib/aarch64-linux-gnu). Libraries
# keep their host path under ROOT. Works for a foreign architecture: it reads the ELF headers
# with readelf and runs nothing.
sbq_install_elf () {
  local root="$2" src="$3" dest="$4" interp lib path todo seen=" "
  sbq_arch "$1"
  mkdir -p "$root/$(dirname "$dest")"
  install -m 0755 "$src" "$root/$dest"
  interp=$(readelf -l "$src" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  if [ -n "$interp" ]; then
    path=$(readlink -f "$interp") || sbq_die "no $interp on this machine"
    [ -e "$path" ] || sbq_die "the loader $interp of $src is missing (install libc6:$SBQ_DEBARCH)"
    mkdir -p "$root/$(dirname "$interp")"
    [ -e "$root/$interp" ] || cp -L "$path" "$root/$interp"
  fi
  todo="$src"
  while [ -n "$todo" ]; do
    set -- $todo
    todo=
    for f in "$@"; do
      for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case "$seen" in *" $lib "*) continue ;; esac
        seen="$seen$lib "
        path=$(sbq_lib_path "$lib") \
          || sbq_die "$lib, needed by $(basename "$f"), is not in /usr/lib/$SBQ_TRIPLET"
        mkdir -p "$root/$(dirname "$path")"
        cp -L "$path" "$root/$path"
        todo="$todo $path"
      done
    done
  done
}

# sbq_install_modules ROOT MODULE...: copies MODULEs of the kernel set by sbq_kernel, with the
# modules they depend on, into ROOT/lib/modules/KVER and runs depmod there, so that busybox or
# kmod modprobe loads them.
sbq_install_modules () {
  local root="$1" m rel dep want todo seen=" " mdir="$SBQ_KROOT/lib/modules/$SBQ_KVER"
  shift
  mkdir -p "$root/lib/modules/$SBQ_KVER"
  todo=
  for m in "$@"; do
    rel=$(awk -F: -v m="$m" '{ n = $1; sub(".*/", "", n); sub("\\.ko.*", "", n); gsub("-", "_", n);
                               w = m; gsub("-", "_", w); if (n == w) { print $1; exit } }' \
            "$mdir/modules.dep")
    if [ -z "$rel" ]; then
      grep -q -E "/$m\\.ko" "$mdir/modules.builtin" 2>/dev/null && continue
      sbq_die "kernel module $m is not in $SBQ_KVER"
    fi
    todo="$todo $rel"
  done
  while [ -n "$todo" ]; do
    set -- $todo
    todo=
    for rel in "$@"; do
      case "$seen" in *" $rel "*) continue ;; esac
      seen="$seen$rel "
      mkdir -p "$root/lib/modules/$SBQ_KVER/$(dirname "$rel")"
      cp "$mdir/$rel" "$root/lib/modules/$SBQ_KVER/$rel"
      dep=$(grep -E "^$rel:" "$mdir/modules.dep" | cut -d: -f2)
      todo="$todo $dep"
    done
  done
  for want in modules.order modules.builtin modules.builtin.modinfo; do
    [ -e "$mdir/$want" ] && cp "$mdir/$want" "$root/lib/modules/$SBQ_KVER/"
  done
  depmod -b "$root" "$SBQ_KVER" || sbq_die "depmod in $root failed"
}

# sbq_part_start DISK NAME, sbq_part_sectors DISK NAME: the first sector and the length in
# 512-byte sectors of the GPT partition named NAME in the disk image DISK.
sbq_part_field () {
  sfdisk -d "$1" 2>/dev/null | awk -v want="name=\"$2\"" -v field="$3" '
    index($0, want) {
      n = split($0, parts, ",")
      for (i = 1; i <= n; i++) {
        p = parts[i]; sub(/^.*: /, "", p); gsub(/ /, "", p)
        if (p ~ "^" field "=") { sub("^" field "=", "", p); print p; found = 1; exit }
      }
    }
    END { exit found ? 0 : 1 }' || sbq_die "no partition named $2 in $1"
}
# The PARTUUIDs of the guests' slot partitions, fixed in build-disk.sh's layout as an image
# build fixes them, and set for the GRUB script in grub-wrapper.cfg.
SBQ_PARTUUID_A=5b0c3a1e-5a0b-4c1d-9e2f-00000000000a
SBQ_PARTUUID_B=5b0c3a1e-5a0b-4c1d-9e2f-00000000000b
sbq_part_start () { sbq_part_field "$1" "$2" start; }
sbq_part_sectors () { sbq_part_field "$1" "$2" size; }

# sbq_config_path: the configuration file path compiled into the native build's
# switchback-boot (its --print-paths), which the aarch64 cross build shares.
sbq_config_path () {
  local bin="$top_builddir/src/boot/switchback-boot" out
  [ -x "$bin" ] || sbq_die "$bin is not built (run make in $top_builddir)"
  out=$("$bin" --print-paths) || sbq_die "$bin --print-paths failed"
  printf '%s\n' "$out" | sed -n 's/^config=//p'
}

# sbq_project_bin ARCH NAME: prints the path of the project binary NAME (switchback,
# switchback-boot) for ARCH: the native build for x86_64, the cross build for aarch64.
sbq_project_bin () {
  local path
  case "$1" in
    x86_64)
      case "$2" in
        switchback) path="$top_builddir/src/switchback/switchback" ;;
        switchback-boot) path="$top_builddir/src/boot/switchback-boot" ;;
        *) sbq_die "unknown project binary $2" ;;
      esac
      ;;
    aarch64)
      "$sbq_here/cross-build.sh" >&2 || sbq_die "the aarch64 cross build failed"
      case "$2" in
        switchback) path="$SB_QEMU_CACHE/build-aarch64/src/switchback/switchback" ;;
        switchback-boot) path="$SB_QEMU_CACHE/build-aarch64/src/boot/switchback-boot" ;;
        *) sbq_die "unknown project binary $2" ;;
      esac
      ;;
  esac
  [ -x "$path" ] || sbq_die "$path is not built"
  echo "$path"
}

# sbq_dracut NAME OUT LOG MODULES DRIVERS COMPRESS BOOT_BIN MODDIR CONFIG CONF_PATH: an initramfs
# for the kernel of sbq_kernel built by the host's dracut into OUT (log in LOG), with the dracut
# modules MODULES and the project's module MODDIR as 90switchback, the config file CONFIG at
# CONF_PATH and switchback-boot found beside BOOT_BIN. The host's dracut tree is linked into
# $SB_QEMU_CACHE/dracut-base-NAME with the project's module added, so the module is used from the
# source tree and nothing is installed on the host, and no host configuration is read.
sbq_dracut () {
  local name="$1" out="$2" log="$3" modules="$4" drivers="$5" compress="$6" boot_bin="$7"
  local moddir="$8" config="$9" conf_path="${10}"
  local base="$SB_QEMU_CACHE/dracut-base-$name" emptyconf="$SB_QEMU_CACHE/dracut-conf.d" e
  rm -rf "$base"
  mkdir -p "$base/modules.d" "$emptyconf"
  for e in /usr/lib/dracut/*; do
    [ "$(basename "$e")" = modules.d ] || ln -s "$e" "$base/"
  done
  for e in /usr/lib/dracut/modules.d/*; do
    ln -s "$e" "$base/modules.d/"
  done
  ln -sfn "$moddir" "$base/modules.d/90switchback"
  if ! dracutbasedir="$base" \
       DRACUT_PATH="/usr/sbin /usr/bin /sbin /bin $(dirname "$boot_bin")" \
       dracut --force --quiet --no-hostonly --no-hostonly-cmdline --no-early-microcode \
         --conf /dev/null --confdir "$emptyconf" \
         --kver "$SBQ_KVER" --kmoddir "$SBQ_KROOT/lib/modules/$SBQ_KVER" \
         -m "$modules" \
         --drivers "$drivers" \
         --include "$config" "$conf_path" \
         --compress "$compress" "$out" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    sbq_die "dracut failed (log: $log)"
  fi
}

# sbq_update_conf VIN ECU HARDWARE_ID CONFIRM MAX_TRIES SLOTS_SECTION: prints the switchback.conf
# of a guest updated from a Director and an Image repository on the host (boot.sh --server,
# reached at http://10.0.2.100/), with the trusted roots and the state directory on the data
# partition. SLOTS_SECTION says where the slots are: [slots] for a raw disk ($SBQ_RAW_SLOTS),
# [ostree] for an OSTree sysroot.
sbq_update_conf () {
  cat <<EOF
[uptane]
director-url=http://10.0.2.100/director
image-url=http://10.0.2.100/repo
director-root=/data/roots/director-root.json
image-root=/data/roots/image-root.json
vehicle-id=$1
ecu-serial=$2
hardware-id=$3
allow-http=true

[storage]
state-dir=/data/switchback

$6

[boot]
grubenv=/boot/efi/EFI/switchback/grubenv
max-tries=$5
confirm=$4
EOF
}

# The [slots] section of the raw guests (build-disk.sh's partition names).
SBQ_RAW_SLOTS='[slots]
disk=/dev/vda
slot-a=rootfs-a
slot-b=rootfs-b'
