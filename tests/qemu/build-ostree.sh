#!/bin/bash
# build-ostree.sh: an OSTree-based QEMU test guest (x86_64), built without mounting anything
# (docs/ostree.md, "The QEMU scenario").
#
# Usage:
#   tests/qemu/build-ostree.sh initramfs OUT --config FILE
#       A systemd initramfs made by the host's dracut with OSTree's module (98ostree, Debian's
#       ostree-boot: ostree-prepare-root.service) and the project's dracut/90switchback, whose
#       pre-pivot hook runs switchback-boot once ostree-prepare-root has made /sysroot the
#       deployment. Cached in $SB_QEMU_CACHE/initramfs under a hash of what goes into it.
#   tests/qemu/build-ostree.sh commit REPO VERSION --config FILE [--broken kernel]
#       Commits a guest root filesystem into the archive repository REPO (made if missing) on
#       the branch sb/main, with "version" metadata and ostree.sizes; prints the checksum. The
#       tree is the guest's whole userland, as lib.sh builds it for the raw guests: busybox-static,
#       switchback and switchback-boot (and the OSTree module switchback-ostree.so when the build
#       has one) with their shared libraries, guest-init.sh as /sbin/init, the kernel modules for
#       the NIC, the RNG, fw_cfg and FAT; the kernel and the initramfs in
#       /usr/lib/modules/KVER/{vmlinuz,initramfs.img}, where libostree's deploy takes them;
#       /etc (as /usr/etc) with the config FILE, the version, and an fstab that mounts the ESP on
#       /boot/efi and the data partition on /data. --broken kernel: vmlinuz is not a kernel, so
#       GRUB cannot load it.
#   tests/qemu/build-ostree.sh disk OUT.img REPO CHECKSUM [--data DIR] [--max-tries N]
#       A GPT disk: esp (FAT: the standalone GRUB whose memdisk holds grub-wrapper-ostree.cfg,
#       gen-switchback-cfg.sh's script and grub/switchback-ostree.cfg; EFI/switchback/grubenv
#       with SB_ORDER=A, A's tries, B's 0), rootfs (ext4 label sb-ostree: an OSTree sysroot made
#       with `ostree admin init-fs`, `os-init sb` and `deploy` of CHECKSUM pulled from REPO, with
#       /boot/switchback/ostree-slots.cfg naming that deployment as slot A), data (ext4: DIR's
#       files and an empty switchback/ state directory).
#
# SBQ_OSTREE_INITRAMFS=shell builds the initramfs without systemd instead (dracut's shell init,
# modules "base rootfs-block kernel-modules udev-rules ostree switchback"): there 98ostree's unit
# never runs and the switchback hook runs ostree-prepare-root itself (dracut/90switchback).
#
# The stateroot is "sb". The deployment's kernel arguments: root=LABEL=sb-ostree rw and the
# console and reset-on-failure arguments of the raw guests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage () {
  echo "usage: build-ostree.sh initramfs OUT --config FILE" >&2
  echo "       build-ostree.sh commit REPO VERSION --config FILE [--broken kernel]" >&2
  echo "       build-ostree.sh disk OUT.img REPO CHECKSUM [--data DIR] [--max-tries N]" >&2
  exit 2
}

OSNAME=sb
ROOT_LABEL=sb-ostree
KARGS="root=LABEL=$ROOT_LABEL rw console=ttyS0 panic=-1 rd.shell=0 rd.emergency=reboot"
# Deployments without the immutable bit, so the build directories can be removed.
export OSTREE_SYSROOT_DEBUG=mutable-deployments
arch=x86_64

# --- initramfs -------------------------------------------------------------------------------

initramfs () {
  local out="$1" config="$2"
  [ -x /usr/lib/ostree/ostree-prepare-root ] || sbq_die "no ostree-prepare-root (ostree-boot)"
  sbq_kernel "$arch"
  local boot_bin conf_path moddir drivers key cached
  boot_bin=$(sbq_project_bin "$arch" switchback-boot)
  conf_path=$(sbq_config_path)
  moddir="$top_srcdir/dracut/90switchback"
  drivers="virtio_pci virtio_blk ext4 vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1"
  local flavor="${SBQ_OSTREE_INITRAMFS:-systemd}" modules wants
  case "$flavor" in
    systemd)
      modules="systemd systemd-initrd dracut-systemd base rootfs-block kernel-modules udev-rules"
      modules="$modules ostree switchback"
      wants="initrd-root-fs.target.wants/ostree-prepare-root.service"
      wants="$wants dracut-pre-pivot.service.d/90-switchback-ostree.conf"
      ;;
    shell)
      modules="base rootfs-block kernel-modules udev-rules ostree switchback"
      wants=
      ;;
    *) sbq_die "SBQ_OSTREE_INITRAMFS must be systemd or shell, not '$flavor'" ;;
  esac
  key=$({ sbq_hash "$0" "$sbq_here/lib.sh" "$SBQ_VMLINUZ" "$boot_bin" "$moddir" "$config"
          echo "$conf_path $drivers $flavor"
          dpkg-query -W dracut-core ostree-boot systemd 2>/dev/null || true; } \
          | sha256sum | cut -c1-16)
  cached="$SB_QEMU_CACHE/initramfs/ostree-$flavor-$arch-$key.img"
  build_one () {
    [ -f "$cached" ] && return 0
    mkdir -p "$SB_QEMU_CACHE/initramfs"
    local log="$SB_QEMU_CACHE/initramfs/dracut-ostree-$arch.log"
    sbq_dracut ostree "$cached.tmp" "$log" "$modules" "$drivers" gzip "$boot_bin" "$moddir" \
      "$config" "$conf_path"
    local listing want
    listing=$(lsinitrd "$cached.tmp" 2>/dev/null) || sbq_die "lsinitrd $cached.tmp failed"
    for want in dracut/hooks/pre-pivot/90-switchback-hook.sh usr/lib/ostree/ostree-prepare-root \
                $wants; do
      grep -q -E "$want( ->|\$)" <<<"$listing" || sbq_die "the initramfs has no $want (log: $log)"
    done
    mv "$cached.tmp" "$cached"
  }
  sbq_timed ostree-initramfs sbq_locked "initramfs-ostree-$arch" build_one
  cp "$cached" "$out"
}

# --- commit ----------------------------------------------------------------------------------

commit () {
  local repo="$1" version="$2" config="$3" broken="$4"
  sbq_kernel "$arch"
  local conf_path root
  conf_path=$(sbq_config_path)
  root=$(mktemp -d "${TMPDIR:-/tmp}/sb-ostree-tree.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$root'" EXIT

  mkdir -p "$root"/{proc,sys,dev,run,tmp,mnt,data,boot,sysroot,var,root,usr/etc/sb-qemu}
  # libostree's pull into the system repository stages in /var/tmp. On a systemd system
  # tmpfiles makes it; this guest's init is not systemd, so the tree carries it.
  mkdir -p "$root/var/tmp"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  # The deployment reaches the sysroot's repository as /ostree/repo.
  ln -s sysroot/ostree "$root/ostree"
  sbq_merged_usr "$root"
  sbq_install_busybox "$arch" "$root"
  local b src
  for b in switchback switchback-boot; do
    src=$(sbq_project_bin "$arch" "$b")
    sbq_install_elf "$arch" "$root" "$src" "/usr/bin/$b"
    strip "$root/usr/bin/$b"
  done
  # The libostree module, once switchback is built with one (sb-ostree-module.h): the scenario
  # names it with SWITCHBACK_OSTREE_MODULE.
  if [ -f "$top_builddir/src/switchback/switchback-ostree.so" ]; then
    sbq_install_elf "$arch" "$root" "$top_builddir/src/switchback/switchback-ostree.so" \
      /usr/lib/switchback/switchback-ostree.so
  fi
  sbq_install_modules "$root" virtio_net virtio_rng qemu_fw_cfg vfat nls_cp437 nls_ascii \
    nls_utf8 nls_iso8859-1

  # The config at the path compiled into the binaries; below /etc it goes to /usr/etc, which
  # libostree turns into the deployment's /etc.
  case "$conf_path" in
    /etc/*) install -D -m 0644 "$config" "$root/usr$conf_path" ;;
    *) install -D -m 0644 "$config" "$root$conf_path" ;;
  esac
  cat >"$root/usr/etc/fstab" <<'EOF'
# The ESP (grubenv) and the data partition (switchback state, scenarios). The root is the OSTree
# deployment that ostree-prepare-root set up; /boot is the sysroot's, bind-mounted by it.
/dev/disk/by-partlabel/esp   /boot/efi  vfat  defaults  0 0
/dev/disk/by-partlabel/data  /data      ext4  defaults  0 0
EOF
  echo "$version" >"$root/usr/etc/sb-qemu/version"
  printf 'ID=sb-qemu\nNAME="switchback OSTree test guest"\nVERSION_ID=%s\n' "$version" \
    >"$root/usr/etc/os-release"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/usr/etc/passwd"
  echo "root:x:0:" >"$root/usr/etc/group"
  printf 'hosts: files dns\n' >"$root/usr/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n' >"$root/usr/etc/hosts"
  install -m 0755 "$sbq_here/guest-init.sh" "$root/usr/bin/init"

  local kdir="$root/usr/lib/modules/$SBQ_KVER"
  mkdir -p "$kdir"
  if [ "$broken" = kernel ]; then
    # GRUB reads a kernel header and finds none.
    head -c 65536 /dev/zero | tr '\0' 'X' >"$kdir/vmlinuz"
  else
    cp "$SBQ_VMLINUZ" "$kdir/vmlinuz"
  fi
  initramfs "$kdir/initramfs.img" "$config"

  if [ ! -d "$repo/objects" ]; then
    ostree init --repo="$repo" --mode=archive >/dev/null
  fi
  sbq_timed ostree-commit ostree --repo="$repo" commit --tree=dir="$root" --bootable \
    --generate-sizes --owner-uid=0 --owner-gid=0 \
    --add-metadata-string=version="$version" --subject="version $version" --branch=sb/main
  rm -rf "$root"
  trap - EXIT
}

# --- disk ------------------------------------------------------------------------------------

grub_modules="part_gpt fat ext2 search search_label search_fs_file regexp loadenv test echo
 linux normal configfile reboot halt sleep true gzio"

# sysroot DIR REPO CHECKSUM: the factory sysroot with CHECKSUM deployed, and the GRUB fragment
# that makes it slot A.
sysroot () {
  local dir="$1" repo="$2" checksum="$3" k args=()
  mkdir -p "$dir"
  ostree admin init-fs "$dir" >/dev/null
  ostree admin os-init --sysroot="$dir" "$OSNAME" >/dev/null
  ostree --repo="$dir/ostree/repo" config set sysroot.bootloader none
  ostree --repo="$dir/ostree/repo" pull-local "$repo" "$checksum" >/dev/null
  for k in $KARGS; do args+=("--karg=$k"); done
  ostree admin deploy --sysroot="$dir" --os="$OSNAME" "${args[@]}" "$checksum" >/dev/null
  mkdir -p "$dir/boot/efi" "$dir/boot/switchback"

  # What libostree wrote into the deployment's BLS entry, as switchback's slot table takes it
  # (sb-ostree-slots.h): kernel, initramfs, and the arguments without ostree=, which names
  # switchback's bootlink of the deployment instead (a relative symlink, as
  # ostree-prepare-root wants).
  local entry linux initrd options deploy
  entry=$(ls "$dir"/boot/loader/entries/*.conf)
  [ "$(echo "$entry" | wc -l)" = 1 ] || sbq_die "expected one BLS entry, found: $entry"
  linux=$(sed -n 's/^linux //p' "$entry")
  initrd=$(sed -n 's/^initrd //p' "$entry")
  options=$(sed -n 's/^options //p' "$entry" | tr ' ' '\n' | grep -v '^ostree=' | xargs)
  deploy=$(cd "$dir/ostree/deploy/$OSNAME/deploy" && ls -d "$checksum".*[0-9])
  [ -n "$linux" ] && [ -n "$initrd" ] && [ -n "$deploy" ] || sbq_die "cannot read $entry"
  mkdir -p "$dir/ostree/switchback/$OSNAME"
  ln -s "../../deploy/$OSNAME/deploy/$deploy" "$dir/ostree/switchback/$OSNAME/$deploy"
  cat >"$dir/boot/switchback/ostree-slots.cfg" <<EOF
# switchback: the OSTree deployment behind each boot slot (design.md §4).
# The factory image's: commit $checksum in slot A. switchback rewrites it.
set sb_ostree_A_linux='/boot$linux'
set sb_ostree_A_initrd='/boot$initrd'
set sb_ostree_A_options='$options ostree=/ostree/switchback/$OSNAME/$deploy'
set sb_ostree_B_linux=''
set sb_ostree_B_initrd=''
set sb_ostree_B_options=''
set sb_ostree_slots='A'
EOF
}

disk () {
  local out="$1" repo="$2" checksum="$3" data_dir="$4" max_tries="$5"
  local work gen
  sbq_arch "$arch"
  gen="$top_srcdir/grub/gen-switchback-cfg.sh"
  work=$(mktemp -d "${TMPDIR:-/tmp}/sb-ostree-disk.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT

  sh "$gen" "$max_tries" >"$work/switchback.cfg" || sbq_die "$gen $max_tries failed"
  sed "s/@CONSOLE@/$SBQ_CONSOLE/" "$sbq_here/grub-wrapper-ostree.cfg" >"$work/grub.cfg"
  grub-mkstandalone -O "$SBQ_GRUB_TARGET" -o "$work/$SBQ_EFI_NAME" \
    --modules="$grub_modules" --install-modules="$grub_modules" \
    --locales= --themes= --fonts= \
    "boot/grub/grub.cfg=$work/grub.cfg" "boot/grub/switchback.cfg=$work/switchback.cfg" \
    "boot/grub/switchback-ostree.cfg=$top_srcdir/grub/switchback-ostree.cfg" \
    || sbq_die "grub-mkstandalone failed"
  # Slot B holds no deployment yet: no tries, so GRUB never picks it before an update does.
  grub-editenv "$work/grubenv" create
  grub-editenv "$work/grubenv" set SB_ORDER=A "SB_A_TRIES=$max_tries" SB_B_TRIES=0
  mkfs.vfat -C -n SB-ESP "$work/esp.img" $((32 * 1024)) >/dev/null
  mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/switchback
  mcopy -i "$work/esp.img" "$work/$SBQ_EFI_NAME" "::/EFI/BOOT/$SBQ_EFI_NAME"
  mcopy -i "$work/esp.img" "$work/grubenv" ::/EFI/switchback/grubenv

  sbq_timed ostree-sysroot sysroot "$work/sysroot" "$repo" "$checksum"
  # Room for two more deployments' worth of changed files and kernels.
  local kib mib
  kib=$(du -sk "$work/sysroot" | cut -f1)
  mib=$(( kib * 2 / 1024 + 64 ))
  mke2fs -q -F -t ext4 -L "$ROOT_LABEL" -E root_owner=0:0 -d "$work/sysroot" \
    "$work/rootfs.ext4" "${mib}M" || sbq_die "mke2fs of the sysroot failed"

  mkdir -p "$work/data"
  [ -z "$data_dir" ] || cp -a "$data_dir/." "$work/data/"
  mkdir -p "$work/data/switchback"
  chmod 0700 "$work/data/switchback"
  mke2fs -q -F -t ext4 -L data -E root_owner=0:0 -d "$work/data" "$work/data.ext4" 64M \
    || sbq_die "mke2fs of the data partition failed"

  rm -f "$out"
  truncate -s $(( (1 + 32 + mib + 64 + 1) * 1024 * 1024 )) "$out"
  sfdisk -q "$out" >/dev/null <<EOF || sbq_die "sfdisk on $out failed"
label: gpt
first-lba: 2048
size=32MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
size=${mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="rootfs"
size=64MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data"
EOF
  local part img
  for part in esp rootfs data; do
    case "$part" in esp) img=esp.img ;; rootfs) img=rootfs.ext4 ;; data) img=data.ext4 ;; esac
    dd if="$work/$img" of="$out" bs=1M oflag=seek_bytes \
      seek=$(( $(sbq_part_start "$out" "$part") * 512 )) conv=notrunc,sparse status=none \
      || sbq_die "writing $part into $out failed"
  done
  rm -rf "$work"
  trap - EXIT
}

[ $# -ge 1 ] || usage
cmd="$1"
shift
sbq_arch "$arch"
# abs FILE: FILE as an absolute path (dracut --include takes no relative one).
abs () { [ -f "$1" ] || sbq_die "no file $1"; echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
case "$cmd" in
  initramfs)
    [ $# = 3 ] && [ "$2" = --config ] || usage
    initramfs "$1" "$(abs "$3")"
    ;;
  commit)
    [ $# -ge 4 ] && [ "$3" = --config ] || usage
    broken=
    if [ $# = 6 ] && [ "$5" = --broken ] && [ "$6" = kernel ]; then broken=kernel
    elif [ $# != 4 ]; then usage; fi
    commit "$1" "$2" "$(abs "$4")" "$broken"
    ;;
  disk)
    [ $# -ge 3 ] || usage
    out="$1" repo="$2" checksum="$3"
    shift 3
    data_dir=
    max_tries=3
    while [ $# -gt 0 ]; do
      case "$1" in
        --data) [ $# -ge 2 ] || usage; data_dir="$2"; shift 2 ;;
        --max-tries) [ $# -ge 2 ] || usage; max_tries="$2"; shift 2 ;;
        *) usage ;;
      esac
    done
    sbq_timed ostree-disk disk "$out" "$repo" "$checksum" "$data_dir" "$max_tries"
    ;;
  *) usage ;;
esac
