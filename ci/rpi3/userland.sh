#!/usr/bin/env bash
# Builds a trimmed Debian arm64 userland for gpiohil's emulated Raspberry Pi 3 lane (bench vm-rpi3):
# Python and the Raspberry Pi GPIO tools Debian packages, as one uncompressed newc cpio archive
# that the kernel unpacks before gpiohil's own per-run initramfs (the userland goes first in the
# -initrd concatenation, gpiohil's small archive after it, so its /init and /bin links win).
#
#   ci/rpi3/userland.sh [bookworm|trixie]...            build (or reuse) each release; default both
#   ci/rpi3/userland.sh --update [bookworm|trixie]...   ask the archive for newer packages first
#   ci/rpi3/userland.sh --path RELEASE                  print where the current one is; fetch nothing
#
# What goes in, per release: python3, python3-rpi.gpio, python3-gpiozero, python3-libgpiod, gpiod,
# python3-pigpio and pigpio-tools for arm64, with their Depends and Pre-Depends closure and no
# Recommends (bookworm: Python 3.11, libgpiod 1.6.3; trixie: Python 3.13, libgpiod 2.2.1). apt-get
# resolves and downloads them with an arm64 architecture override, a private sources list (the
# release, its -updates and -security suites) and a private package list and cache, and
# Dir::State::status=/dev/null: the host's apt state is not touched, no foreign architecture is
# added to the host's dpkg and nothing arm64 is installed on the host. Every .deb is unpacked with
# dpkg-deb and tar into a merged-/usr root (bin, lib, lib64 and sbin are symlinks into usr, as
# Debian's usrmerge makes them); no maintainer scripts run (none is needed). Then:
#   - trimmed: documentation, manual and info pages, translations, lintian overrides, dpkg's and
#     debconf's metadata and programs, tar, glibc's gconv modules (Python does its own codecs and
#     glibc's built-in UTF-8 needs none), Python's test support and test extension modules,
#     pydoc's topic data, and any __pycache__;
#   - absolute symlinks made relative (same meaning in the guest, and they no longer point into
#     the host while this script works on the tree);
#   - Python's bytecode precompiled for the guest's interpreter, with the guest's paths and the
#     packages' own file times (a .pyc is valid while its source's mtime and size match), by the
#     host's python3 when it has the guest's bytecode magic number (bookworm on a Debian 12 host),
#     otherwise by the release's own python3.N for the host's architecture (trixie: its
#     python3.13-minimal closure, 10 packages, 9 MB, fetched into a private apt state and
#     unpacked under compiler/, run through its own loader and libc), which writes the same code
#     objects as the guest's python in 3 s instead of about 190 s under qemu-aarch64; the
#     guest's own python under qemu-aarch64 is the fallback when that cannot be had;
#   - checked: the loader resolves, the .pyc files carry the guest's magic number, and the guest
#     python (under qemu-aarch64) imports gpiozero, gpiod, pigpio and RPi without compiling
#     anything;
#   - written as one newc cpio archive, owner root:root, padded to a multiple of 512 bytes.
#
# Installs qemu-user (for qemu-aarch64, which runs the guest's python on the host) and cpio with
# apt-get when they are missing and this runs as root; otherwise it says what to run. Debian's
# archive keyring (/usr/share/keyrings/debian-archive-keyring.gpg, 2023.3+deb12u2 on bookworm)
# holds the trixie keys too, so both releases are verified against it.
#
# Result, under ${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/rpi3/userland/<release>-<hash>/ where the
# hash is the start of the sha256 of the sorted package=version list:
#   userland.cpio   the root, an uncompressed newc archive
#   manifest.txt    one "name version" line per package, sorted, then "# key value" lines: the
#                   release, Python's version and bytecode magic, the sizes in bytes
# and `current-<release>` there points at it. A second run with a complete current-<release> does
# nothing and needs no network. The downloaded .debs stay in the private apt cache
# (userland/apt/<release>/archives; superseded versions are dropped by apt-get autoclean), so a
# rebuild needs no download; an older <release>-<hash> directory is removed once a newer one is
# built.
set -euo pipefail
# shellcheck source=ci/lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/rpi3/userland"
packages=(python3 python3-rpi.gpio python3-gpiozero python3-libgpiod gpiod python3-pigpio pigpio-tools)
known_releases=(bookworm trixie)
# Bumped when what a build puts in the archive changes, so that an older build is not reused.
format=1
usage="usage: ci/rpi3/userland.sh [--update] [bookworm|trixie]... | --path RELEASE"

die() { echo "userland: $*" >&2; exit 1; }
say() { echo "userland: $*" >&2; }
mb() { echo "$(($1 / 1000000)).$(($1 / 100000 % 10)) MB"; }

known() {
  local r
  for r in "${known_releases[@]}"; do [ "$r" = "$1" ] && return 0; done
  return 1
}

complete() {
  [ -s "$1/userland.cpio" ] && [ -s "$1/manifest.txt" ] && grep -qx "# format $format" "$1/manifest.txt"
}

update=false
releases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --path)
      if [ $# -ne 2 ] || ! known "$2"; then die "$usage"; fi
      echo "$cache/current-$2"
      exit 0
      ;;
    --update) update=true ;;
    -*) die "unknown argument $1; $usage" ;;
    *) known "$1" || die "unknown release $1; $usage"; releases+=("$1") ;;
  esac
  shift
done
[ ${#releases[@]} -gt 0 ] || releases=("${known_releases[@]}")

# Host tools. qemu-aarch64 (Debian's qemu-user; qemu-user-static's qemu-aarch64-static will do)
# runs the guest's python; cpio writes the archive.
missing=()
command -v cpio >/dev/null || missing+=(cpio)
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] ||
    die "${missing[*]} not installed; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
    die "apt-get install ${missing[*]} failed"
fi
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)
for t in dpkg-deb apt-get sha256sum flock; do
  command -v "$t" >/dev/null || die "$t not found; this script needs Debian's apt and dpkg"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -s "$keyring" ] || die "$keyring not found; run: sudo apt-get install debian-archive-keyring"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT

# apt_state RELEASE ARCH DIR: sets apt_opts to a private apt state in DIR for RELEASE's ARCH
# packages (ci/lib/apt.sh): the release, its -updates and -security suites.
apt_state() {
  apt_private "$3" "$2" "http://deb.debian.org/debian $1" "http://deb.debian.org/debian $1-updates" \
    "http://deb.debian.org/debian-security $1-security"
}

# apt_update RELEASE ARCH DIR: reads the package lists of the apt state in DIR (apt_opts); on
# failure goes on with lists read before, unless --update asked for new ones.
apt_update() {
  if ! apt-get -q "${apt_opts[@]}" update >&2; then
    if ! $update && compgen -G "$3/lists/*_Packages*" >/dev/null; then
      say "apt-get update for $1 $2 failed; going on with the package lists read before"
    else
      die "apt-get update for $1 $2 failed (is the Debian archive reachable?)"
    fi
  fi
}

# host_compiler RELEASE PY MAGIC: prints the root of RELEASE's own python (PY, python3.N) for the
# host's architecture, unpacked from its python3.N-minimal closure (a private apt state beside the
# arm64 one, never installed, removed once the python is unpacked) and cached; fails when it
# cannot be had or its bytecode magic is not MAGIC. Bytecode does not depend on the
# architecture: this python compiles the guest's modules natively, where the guest's own python
# under qemu-aarch64 takes minutes. It runs through its own loader and libc (a newer release's
# python needs a newer glibc than the host's).
host_compiler() {
  local rel=$1 py=$2 magic=$3 arch
  arch=$(dpkg --print-architecture)
  local dir="$cache/compiler/$rel-$arch-$py"
  if [ ! -s "$dir/ready" ]; then
    local apt_dir="$cache/apt/$rel-$arch" apt_opts=()
    apt_state "$rel" "$arch" "$apt_dir"
    say "fetching $rel's $py for $arch to compile bytecode with"
    apt_update "$rel" "$arch" "$apt_dir" || return 1
    apt-get -q -y "${apt_opts[@]}" install --download-only "$py-minimal" >&2 || return 1
    local sim list name ver f
    sim=$(apt-get -s "${apt_opts[@]}" install "$py-minimal" 2>&1) || return 1
    list=$(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p' <<<"$sim")
    rm -rf "$dir"
    mkdir -p "$dir/root"
    while read -r name ver; do
      set -- "$apt_dir/archives/${name}_${ver//:/%3a}"_*.deb
      [ -f "$1" ] || return 1
      dpkg-deb -x "$1" "$dir/root" || return 1
    done <<<"$list"
    local loader libc
    loader=$(find "$dir/root" -name 'ld-linux*.so.[0-9]' | head -1)
    libc=$(find "$dir/root" -name libc.so.6 | head -1)
    [ -n "$loader" ] && [ -n "$libc" ] || return 1
    printf '%s\n%s\n' "$loader" "$(dirname "$libc")" >"$dir/ready"
    # Its package lists (about 110 MB) and .debs are needed again only for a newer Python.
    rm -rf "$apt_dir"
  fi
  local got
  got=$(compiler_python "$dir" -c 'import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())') || return 1
  [ "$got" = "$magic" ] || { say "$rel's $py for $arch has magic $got, not $magic"; return 1; }
  echo "$dir"
}

# compiler_python DIR ARGS...: the python host_compiler unpacked in DIR, with a clean environment.
compiler_python() {
  local dir=$1 loader libs
  shift
  { read -r loader && read -r libs; } <"$dir/ready"
  set -- "$dir"/root/usr/bin/python3.[0-9]* "$@"
  env -i PATH=/usr/bin:/bin PYTHONHOME="$dir/root/usr" PYTHONDONTWRITEBYTECODE=1 \
    "$loader" --library-path "$libs" "$@"
}

# guest_python ROOT ARGS...: the guest's python3 under qemu-aarch64, its loader and libraries
# from ROOT, with a clean environment. It is given host paths (under ROOT): qemu's -L only
# redirects a path that exists under ROOT, so new files would otherwise land in the host's /usr.
guest_python() {
  local root=$1
  shift
  env -i PATH=/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 "$qemu" -L "$root" "$root/usr/bin/python3" "$@"
}

# build RELEASE: prints the directory of RELEASE's userland, building it first if need be.
build() {
  local rel=$1 start=$SECONDS
  local link="$cache/current-$rel"
  if ! $update && complete "$link"; then
    readlink -f "$link"
    return
  fi

  local apt_dir="$cache/apt/$rel" apt_opts=()
  apt_state "$rel" arm64 "$apt_dir"
  say "reading the $rel arm64 package lists"
  apt_update "$rel" arm64 "$apt_dir"

  # The closure: what apt would install on an empty system, without recommends.
  local sim list
  sim=$(apt-get -s "${apt_opts[@]}" install "${packages[@]}" 2>&1) ||
    die "apt-get cannot resolve ${packages[*]} for $rel arm64: $(grep '^E:' <<<"$sim" | head -3)"
  list=$(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p' <<<"$sim" | LC_ALL=C sort)
  [ -n "$list" ] || die "apt-get resolved nothing for $rel: $sim"
  local hash key out
  hash=$(tr ' ' = <<<"$list" | sha256sum | cut -c1-12)
  key="$rel-$hash"
  out="$cache/$key"
  if complete "$out"; then
    ln -sfn "$key" "$link"
    say "$rel up to date: $out"
    echo "$out"
    return
  fi

  say "downloading what is not cached yet of $(wc -l <<<"$list") packages for $rel"
  apt-get -q -y "${apt_opts[@]}" install --download-only "${packages[@]}" >&2 ||
    die "apt-get install --download-only for $rel failed"
  local debs=() name ver f
  while read -r name ver; do
    set -- "$apt_dir/archives/${name}_${ver//:/%3a}"_*.deb
    [ -f "$1" ] || die "apt-get downloaded no .deb for $name $ver"
    debs+=("$1")
  done <<<"$list"

  work="$cache/build-$key"
  rm -rf "$work" "$out"
  local root="$work/root"
  mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/usr/sbin"
  ln -s usr/bin "$root/bin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s usr/sbin "$root/sbin"
  say "unpacking ${#debs[@]} packages"
  for f in "${debs[@]}"; do
    dpkg-deb --fsys-tarfile "$f" | tar -x -C "$root" --keep-directory-symlink --no-same-owner ||
      die "cannot unpack $(basename "$f")"
  done
  for f in bin lib lib64 sbin; do
    [ -L "$root/$f" ] || die "a package replaced the /$f symlink with a directory"
  done
  [ -e "$root/lib/ld-linux-aarch64.so.1" ] || die "no /lib/ld-linux-aarch64.so.1 in the $rel userland"
  local size_debs size_unpacked size_trimmed size_root size_cpio
  size_debs=$(du -cb "${debs[@]}" | tail -1 | cut -f1)
  size_unpacked=$(du -sb "$root" | cut -f1)

  # Trim. Nothing here is read by Python, the gpiod tools or pigpio's.
  rm -rf "$root"/usr/share/{doc,doc-base,man,info,locale,lintian,bug,menu,pixmaps,applications}
  rm -rf "$root"/usr/share/{bash-completion,zsh,fish,polkit-1,gdb,gcc,binfmts,perl5}
  rm -rf "$root"/usr/lib/{valgrind,binfmt.d,systemd,udev,mime,tmpfiles.d}
  rm -rf "$root"/usr/lib/aarch64-linux-gnu/gconv
  # dpkg, debconf and tar: package management without a package database (and debconf without
  # perl); busybox has a tar.
  rm -rf "$root"/var/lib/dpkg "$root"/var/cache/debconf "$root"/etc/dpkg "$root"/etc/apt \
    "$root"/usr/share/dpkg "$root"/usr/share/debconf "$root"/usr/lib/dpkg "$root"/etc/cron.daily \
    "$root"/etc/logrotate.d
  rm -f "$root"/usr/bin/{dpkg,dpkg-*,debconf,debconf-*,tar,update-alternatives}
  rm -f "$root"/usr/sbin/{dpkg-*,start-stop-daemon,rmt-tar,tarcat} "$root"/etc/rmt
  local py pyver
  set -- "$root"/usr/lib/python3.[0-9]*
  [ -d "$1" ] || die "no usr/lib/python3.N in the $rel userland"
  py=${1##*/}
  rm -rf "$root/usr/lib/$py"/{test,idlelib,tkinter,turtledemo,pydoc_data}
  rm -f "$root/usr/lib/$py"/lib-dynload/{_test,_ctypes_test,xxlimited,_xxtestfuzz}*.so
  find "$root" -depth -name __pycache__ -type d -exec rm -rf {} +
  # Absolute symlinks made relative, from where the link physically is.
  local l t
  while IFS= read -r -d '' l; do
    t=$(readlink "$l")
    ln -sfn "$(realpath -m -s --relative-to="$(dirname "$l")" "$root$t")" "$l"
  done < <(find "$root" -type l -lname '/*' -print0)
  size_trimmed=$(du -sb "$root" | cut -f1)

  # Bytecode for the guest's python.
  local guest magic host_magic="" compiler
  guest=$(guest_python "$root" -c \
    'import importlib.util, sys; print(sys.version.split()[0], importlib.util.MAGIC_NUMBER.hex())') ||
    die "the $rel python3 does not run under $qemu"
  read -r pyver magic <<<"$guest"
  [ "python${pyver%.*}" = "$py" ] || die "python3 is $pyver but the standard library is $py"
  if [ -x /usr/bin/python3 ]; then
    host_magic=$(/usr/bin/python3 -c \
      'import importlib.util, sys; print(sys.version.split()[0].rsplit(".", 1)[0], importlib.util.MAGIC_NUMBER.hex())' 2>/dev/null) || true
  fi
  local compile=() dirs=("$root/usr/lib/$py" "$root/usr/lib/python3/dist-packages")
  if [ "$host_magic" = "${pyver%.*} $magic" ]; then
    say "compiling bytecode for python $pyver with the host's python3 (same magic number, $magic)"
    compile=(env -i PATH=/usr/bin:/bin /usr/bin/python3 -m compileall -j 2)
  elif compiler=$(host_compiler "$rel" "$py" "$magic"); then
    say "compiling bytecode for python $pyver with $rel's own $py for $(dpkg --print-architecture)"
    # One process: a worker pool would start the python without its loader.
    compile=(compiler_python "$compiler" -m compileall -j 1)
  else
    # One process: multiprocessing's forkserver does not start under qemu-user.
    say "compiling bytecode for python $pyver with the guest's python3 under qemu-aarch64 (slow)"
    compile=(env -i PATH=/usr/bin:/bin "$qemu" -L "$root" "$root/usr/bin/python3" -m compileall -j 1)
  fi
  "${compile[@]}" -q --invalidation-mode timestamp -s "$root" -p / "${dirs[@]}" >&2 ||
    die "compileall failed for the $rel userland"
  local n=0 bad=0 pyc
  while IFS= read -r -d '' pyc; do
    n=$((n + 1))
    [ "$(od -An -tx1 -N4 "$pyc" | tr -d ' \n')" = "$magic" ] || bad=$((bad + 1))
  done < <(find "$root/usr/lib" -name '*.pyc' -print0)
  local sources
  sources=$(find "${dirs[@]}" -name '*.py' | wc -l)
  [ "$n" -ge "$sources" ] || die "$n .pyc files for $sources .py files in the $rel userland: compileall missed some"
  [ "$bad" -eq 0 ] || die "$bad of $n .pyc files in the $rel userland lack the guest's magic number $magic"
  # The guest imports the tools from bytecode alone: -v reports a module compiled from source as
  # "code object from /....py" (from bytecode, the path is quoted). RPi.GPIO refuses to load off
  # a Pi; its package still imports.
  local trace
  trace=$(guest_python "$root" -v -c 'import gpiozero, gpiod, pigpio, RPi, colorzero; print("ok")' 2>&1) ||
    die "the $rel userland's python cannot import its tools: $(tail -5 <<<"$trace")"
  if grep -E "code object from [^'].*\.py\$|bytecode is stale|bad magic number" <<<"$trace" >&2; then
    die "the $rel userland's python compiled the modules above from source: the bytecode is not used"
  fi
  say "checked $n .pyc files (magic $magic) and the tools' imports from bytecode"
  size_root=$(du -sb "$root" | cut -f1)

  say "writing userland.cpio"
  (cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) >"$work/userland.cpio" ||
    die "cpio failed"
  size_cpio=$(stat -c %s "$work/userland.cpio")
  # The kernel reads the next archive of the -initrd concatenation from a 4-byte boundary; cpio
  # pads its output to its 512-byte block.
  [ $((size_cpio % 512)) -eq 0 ] || die "userland.cpio is $size_cpio bytes, not a multiple of 512"
  {
    echo "$list"
    echo "# release $rel arm64"
    echo "# format $format"
    echo "# python $pyver magic $magic"
    echo "# packages $(wc -l <<<"$list")"
    echo "# bytes-debs $size_debs"
    echo "# bytes-unpacked $size_unpacked"
    echo "# bytes-trimmed $size_trimmed"
    echo "# bytes-with-bytecode $size_root"
    echo "# bytes-cpio $size_cpio"
  } >"$work/manifest.txt"

  mkdir "$out"
  mv "$work/userland.cpio" "$work/manifest.txt" "$out/"
  ln -sfn "$key" "$link"
  rm -rf "$work"
  work=""
  for f in "$cache/$rel"-*; do
    [ "$f" = "$out" ] || [ ! -d "$f" ] || { say "removing the superseded $(basename "$f")"; rm -rf "$f"; }
  done
  apt-get -q "${apt_opts[@]}" autoclean >/dev/null 2>&1 || true
  say "$rel: ${#debs[@]} debs $(mb "$size_debs"), unpacked $(mb "$size_unpacked"), trimmed $(mb "$size_trimmed"), with bytecode $(mb "$size_root"), cpio $(mb "$size_cpio"); built in $((SECONDS - start)) s"
  echo "$out"
}

for rel in "${releases[@]}"; do
  build "$rel"
done
