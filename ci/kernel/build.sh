#!/usr/bin/env bash
# Builds the small x86_64 kernel that gpiohil's VM lane boots under QEMU.
#
#   ci/kernel/build.sh            build (or reuse) the kernel, print its path
#   ci/kernel/build.sh --path     print where the kernel for the current inputs lives; build nothing
#
# Source: Debian's linux-source-6.12 tarball (installed with apt-get when missing and running as
# root), or any kernel tree given as KERNEL_SRC=dir (built out of tree, the tree is not written).
# The result is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/kernel/<version>-<fragment hash>/
# and `current` there points at the newest build, which is where `gpiohil vm run` looks by default.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment="$here/gpiohil.config"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/kernel"
deb_pkg=linux-source-6.12
deb_tar=/usr/src/linux-source-6.12.tar.xz
jobs=${JOBS:-$(nproc)}

die() { echo "kernel: $*" >&2; exit 1; }

# need_packages PKG... installs missing Debian packages as root, or says what to run.
need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  fi
  echo "kernel: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
    die "apt-get install ${missing[*]} failed"
}

frag_hash=$(sha256sum "$fragment" | cut -c1-12)

if [ -n "${KERNEL_SRC:-}" ]; then
  [ -d "$KERNEL_SRC" ] || die "KERNEL_SRC=$KERNEL_SRC is not a directory; give the top of a kernel source tree"
  { [ -f "$KERNEL_SRC/Makefile" ] && [ -d "$KERNEL_SRC/arch/x86" ]; } ||
    die "KERNEL_SRC=$KERNEL_SRC does not look like a kernel source tree (no Makefile or arch/x86)"
  src=$(cd "$KERNEL_SRC" && pwd)
  version=$(make -s -C "$src" kernelversion 2>/dev/null) || die "cannot read the version of $src (make kernelversion failed)"
  version="$version-tree$(printf '%s' "$src" | sha256sum | cut -c1-8)"
else
  src=""
  if [ "${1:-}" != "--path" ]; then need_packages "$deb_pkg"; fi
  version=$(dpkg-query -W -f='${Version}' "$deb_pkg" 2>/dev/null || true)
  [ -n "$version" ] || die "$deb_pkg is not installed; run: sudo apt-get install -y $deb_pkg (or give KERNEL_SRC=dir)"
  version=${version//\~/_}
fi
key="$version-$frag_hash"
out="$cache/$key"

if [ "${1:-}" = "--path" ]; then echo "$out/bzImage"; exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ -s "$out/bzImage" ]; then
  ln -sfn "$key" "$cache/current"
  echo "$out/bzImage"
  exit 0
fi

need_packages build-essential flex bison bc libelf-dev cpio xz-utils

build="$cache/build-$key"
rm -rf "$build"
mkdir -p "$build"
trap 'rm -rf "$build"' EXIT
start=$(date +%s)

if [ -z "$src" ]; then
  echo "kernel: unpacking $deb_tar" >&2
  mkdir -p "$build/src"
  tar -xf "$deb_tar" -C "$build/src" --strip-components=1
  src="$build/src"
fi
obj="$build/obj"
mkdir -p "$obj"

echo "kernel: configuring $version (tinyconfig + $(basename "$fragment"))" >&2
make -s -C "$src" O="$obj" ARCH=x86_64 tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >/dev/null
make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >/dev/null

# Every requested option must have landed: Kconfig silently drops options whose
# dependencies are unmet.
missing=()
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*)
      grep -qxF "$line" "$obj/.config" || missing+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo unset))") ;;
    "# CONFIG_"*" is not set")
      opt=${line#\# }; opt=${opt%% *}
      ! grep -qE "^$opt=" "$obj/.config" || missing+=("$line (got: $(grep -E "^$opt=" "$obj/.config"))") ;;
  esac
done <"$fragment"
if [ ${#missing[@]} -gt 0 ]; then
  printf 'kernel: option not in the merged config: %s\n' "${missing[@]}" >&2
  die "the fragment $fragment asks for options this source cannot give; fix the fragment or the source"
fi

echo "kernel: building bzImage with $jobs jobs" >&2
make -s -C "$src" O="$obj" ARCH=x86_64 -j"$jobs" bzImage >&2

mkdir -p "$out.tmp"
cp "$obj/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$obj/.config" "$out.tmp/config"
echo "$version" >"$out.tmp/version"
rm -rf "$out"
mv "$out.tmp" "$out"
ln -sfn "$key" "$cache/current"
echo "kernel: built $out/bzImage in $(( $(date +%s) - start ))s" >&2
echo "$out/bzImage"
