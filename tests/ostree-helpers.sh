#!/bin/bash
# ostree-helpers.sh: builds the OSTree fixtures that tests/test-ostree.c and bench/bench-ostree.sh
# use, with the real ostree CLI so the on-disk formats are libostree's own.
#
#   ostree-helpers.sh make-tree DIR KVER [NFILES [KIB]]
#       A fake root filesystem in DIR: a kernel and initramfs under usr/lib/modules/KVER (so
#       libostree can deploy it), usr/etc/os-release, and NFILES files of KIB KiB of random,
#       incompressible bytes under usr/share/payload.
#   ostree-helpers.sh commit REPO DIR VERSION [--no-sizes]
#       Commits DIR into REPO (created as an archive repository if missing) with "version"
#       metadata and, unless --no-sizes, the ostree.sizes metadata; prints the checksum.
#   ostree-helpers.sh make-sysroot DIR OSNAME
#       An empty OSTree sysroot in DIR (ostree admin init-fs + os-init) whose repository
#       keeps no min-free-space reserve (so tests do not depend on the host's free space) and
#       drives no bootloader (switchback's GRUB fragment does).
#   ostree-helpers.sh provision SYSROOT OSNAME REPO CHECKSUM KARGS...
#       What a factory image holds: CHECKSUM pulled from REPO and deployed with KARGS.
#   ostree-helpers.sh serve DIR PORTFILE LOGFILE
#       Serves DIR over HTTP on 127.0.0.1 (python3), writes the port to PORTFILE and one line
#       per request to LOGFILE. Runs in the foreground.
set -euo pipefail

# Deployments are left without the immutable bit so temporary sysroots can be removed.
export OSTREE_SYSROOT_DEBUG="${OSTREE_SYSROOT_DEBUG:-mutable-deployments}"

make_tree () {
  local dir="$1" kver="$2" nfiles="${3:-0}" kib="${4:-4}" i
  mkdir -p "$dir/usr/lib/modules/$kver" "$dir/usr/bin" "$dir/usr/etc" "$dir/usr/share/payload"
  printf 'kernel %s\n' "$kver" > "$dir/usr/lib/modules/$kver/vmlinuz"
  printf 'initramfs %s\n' "$kver" > "$dir/usr/lib/modules/$kver/initramfs.img"
  printf '#!/bin/sh\n' > "$dir/usr/bin/sh"
  printf 'NAME="Test OS"\nID=testos\nPRETTY_NAME="Test OS"\nVERSION_ID=%s\n' "$kver" \
    > "$dir/usr/etc/os-release"
  printf 'default\n' > "$dir/usr/etc/switchback-test.conf"
  for i in $(seq 1 "$nfiles"); do
    head -c "$((kib * 1024))" /dev/urandom > "$dir/usr/share/payload/f$i"
  done
}

commit () {
  local repo="$1" dir="$2" version="$3" sizes=--generate-sizes
  if [ "${4:-}" = --no-sizes ]; then sizes=; fi
  if [ ! -d "$repo/objects" ]; then ostree init --repo="$repo" --mode=archive; fi
  # shellcheck disable=SC2086
  ostree --repo="$repo" commit --tree=dir="$dir" --bootable $sizes \
    --add-metadata-string=version="$version" --subject="version $version" \
    --branch=testos/main
}

make_sysroot () {
  local dir="$1" osname="$2"
  mkdir -p "$dir"
  ostree admin init-fs "$dir" >/dev/null
  ostree admin os-init --sysroot="$dir" "$osname" >/dev/null
  ostree --repo="$dir/ostree/repo" config set core.min-free-space-percent 0
  ostree --repo="$dir/ostree/repo" config set sysroot.bootloader none
}

provision () {
  local sysroot="$1" osname="$2" repo="$3" checksum="$4" args=() k
  shift 4
  for k in "$@"; do args+=("--karg=$k"); done
  ostree --repo="$sysroot/ostree/repo" pull-local "$repo" "$checksum" >/dev/null
  ostree admin deploy --sysroot="$sysroot" --os="$osname" "${args[@]}" "$checksum" >/dev/null
}

serve () {
  local dir="$1" portfile="$2" log="$3"
  exec python3 - "$dir" "$portfile" "$log" <<'EOF'
import functools, http.server, sys
root, portfile, log = sys.argv[1:4]
logf = open(log, "a", buffering=1)
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        logf.write("%s\n" % (fmt % args))
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                      functools.partial(Handler, directory=root))
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF
}

cmd="${1:?usage: ostree-helpers.sh make-tree|commit|make-sysroot|provision|serve ...}"
shift
case "$cmd" in
  make-tree) make_tree "$@" ;;
  commit) commit "$@" ;;
  make-sysroot) make_sysroot "$@" ;;
  provision) provision "$@" ;;
  serve) serve "$@" ;;
  *) echo "ostree-helpers.sh: unknown command $cmd" >&2; exit 2 ;;
esac
