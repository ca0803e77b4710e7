#!/usr/bin/env bash
# Fetches what gpiohil's emulated Raspberry Pi 3 lane (bench vm-rpi3) boots: Debian's stock arm64
# kernel, its Raspberry Pi 3 B device tree, the watchdog module that powers the board off, and a
# static arm64 busybox, so that tools driven from a shell (the sysfs profile) run in the guest.
# It also keeps the package's Raspberry Pi 4 B device tree, which ci/rpi4/fetch.sh turns into
# the emulated Pi 4's (the Pi 4 lane boots the same kernel).
#
#   ci/rpi3/fetch.sh            fetch once (or reuse the cache), print the kernel directory
#   ci/rpi3/fetch.sh --update   look in the archive for a newer kernel and fetch it if there is one
#   ci/rpi3/fetch.sh --path     print where the current kernel directory is; fetch nothing
#
# Installs qemu-system-arm (which holds qemu-system-aarch64) with apt-get when it is missing and
# this runs as root; otherwise it says what to run. The kernel package,
# linux-image-*-arm64-unsigned (the generic flavour), and busybox-static are downloaded with
# apt-get and an arm64 architecture override into a private package list, unpacked with
# dpkg-deb and never installed; the rest needs no root. The newest kernel the archive offers is
# chosen: Debian removes superseded kernel packages, so a pinned version would stop downloading.
#
# A shell script rather than Go: every step is an apt-get or dpkg-deb call, like ci/kernel/build.sh.
#
# Result, under ${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/rpi3/<package version>/:
#   vmlinuz              the kernel (an arm64 Image, not compressed)
#   bcm2837-rpi-3-b.dtb  the kernel package's device tree for a Raspberry Pi 3 B
#   bcm2711-rpi-4-b.dtb  the kernel package's device tree for a Raspberry Pi 4 B, as it is
#   board.dtb            the device tree QEMU's raspi3b machine is booted with: the one above
#                        plus /system/linux,revision = 0xa02082 (a Pi 3 Model B: RPi.GPIO
#                        refuses to run on a board without a revision) and 64 random bytes of
#                        /chosen/rng-seed (Python's first start otherwise waits about 2 s for
#                        the kernel's entropy), written with fdtput from device-tree-compiler
#   bcm2835_wdt.ko       the watchdog driver, decompressed: the guest loads it to power off
#   busybox              Debian's busybox-static for arm64 (sh, cat, echo, ...)
#   config               the kernel's configuration, for reference
#   release, package, version   the kernel's uname -r, package name and version
# and `current` there points at the newest fetch, which is where gpiohil looks by default.
# A second run with a complete `current` does nothing and needs no network (a kernel directory
# fetched before the Pi 4 device tree was kept is not complete: the newest kernel is fetched).
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/rpi3"
pi4_dtb=bcm2711-rpi-4-b.dtb
files=(vmlinuz bcm2837-rpi-3-b.dtb "$pi4_dtb" bcm2835_wdt.ko busybox release)

die() { echo "rpi3: $*" >&2; exit 1; }

complete() {
  local f
  for f in "${files[@]}"; do [ -s "$1/$f" ] || return 1; done
}

case "${1:-}" in
  "" | --update) ;;
  --path) echo "$cache/current"; exit 0 ;;
  *) die "unknown argument ${1}; usage: ci/rpi3/fetch.sh [--update|--path]" ;;
esac

# qemu-system-aarch64 comes in Debian's qemu-system-arm.
if ! command -v qemu-system-aarch64 >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "qemu-system-aarch64 not found; run: sudo apt-get install -y qemu-system-arm"
  echo "rpi3: installing qemu-system-arm" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends qemu-system-arm >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends qemu-system-arm >&2; } ||
    die "apt-get install qemu-system-arm failed"
fi
command -v dpkg-deb >/dev/null || die "dpkg-deb not found; this script needs Debian's dpkg to unpack the kernel package"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# board derives board.dtb in kernel directory $1 when it is missing: no network needed.
board() {
  [ -s "$1/board.dtb" ] && return 0
  if ! command -v fdtput >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "fdtput not found; run: sudo apt-get install -y device-tree-compiler"
    echo "rpi3: installing device-tree-compiler" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends device-tree-compiler >&2 ||
      die "apt-get install device-tree-compiler failed"
  fi
  cp "$1/bcm2837-rpi-3-b.dtb" "$1/board.dtb.tmp"
  fdtput -p -t x "$1/board.dtb.tmp" /system linux,revision a02082
  # shellcheck disable=SC2046 # 64 words, one per byte
  fdtput -p -t bx "$1/board.dtb.tmp" /chosen rng-seed $(od -An -tx1 -N64 /dev/urandom)
  mv "$1/board.dtb.tmp" "$1/board.dtb"
}

if [ "${1:-}" != --update ] && complete "$cache/current"; then
  board "$(readlink -f "$cache/current")"
  readlink -f "$cache/current"
  exit 0
fi

# A private apt state: the host's own package lists and status stay untouched, and no root is
# needed for this part. (As root apt drops to the _apt user to download, which cannot write
# into root's cache: tell it not to.)
apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
apt_opts=(
  -o APT::Architecture=arm64 -o APT::Architectures=arm64
  -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
  -o Dir::State::status=/dev/null
  -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
  -o Debug::NoLocking=true
)
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
echo "rpi3: reading the arm64 package lists" >&2
apt-get -q "${apt_opts[@]}" update >&2 || die "apt-get update for arm64 failed (is the Debian archive reachable?)"

# The generic arm64 flavour: not -cloud- (no Raspberry Pi drivers), not -rt-.
pkg="" ver=""
while read -r p; do
  v=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$p" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
  [ -n "$v" ] || continue
  if [ -z "$ver" ] || dpkg --compare-versions "$v" gt "$ver"; then pkg=$p ver=$v; fi
done < <(apt-cache "${apt_opts[@]}" pkgnames linux-image- | grep -E -- '-arm64-unsigned$' | grep -vE -- '-(cloud|rt)-arm64-unsigned$')
[ -n "$pkg" ] || die "no linux-image-*-arm64-unsigned package in the archive's arm64 lists"

key=${ver//\~/_}
out="$cache/$key"
if complete "$out"; then
  board "$out"
  ln -sfn "$key" "$cache/current"
  echo "rpi3: up to date: $out ($pkg)" >&2
  echo "$out"
  exit 0
fi

work="$cache/fetch-$key"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "rpi3: downloading $pkg $ver and busybox-static" >&2
(cd "$work" && apt-get -q "${apt_opts[@]}" download "$pkg:arm64" busybox-static:arm64 >&2) ||
  die "apt-get download $pkg busybox-static failed"
deb=$(ls "$work"/linux-image-*.deb)

echo "rpi3: unpacking $(basename "$deb")" >&2
mkdir -p "$work/x"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards \
  './boot/vmlinuz-*' './boot/config-*' \
  './usr/lib/linux-image-*/broadcom/bcm2837-rpi-3-b.dtb' \
  "./usr/lib/linux-image-*/broadcom/$pi4_dtb" \
  './lib/modules/*/kernel/drivers/watchdog/bcm2835_wdt.ko*' ||
  die "$(basename "$deb") does not hold a kernel, the bcm2837-rpi-3-b and bcm2711-rpi-4-b device trees and bcm2835_wdt"

mkdir -p "$out.tmp"
set -- "$work"/x/boot/vmlinuz-*
[ -s "$1" ] || die "no vmlinuz in $(basename "$deb")"
cp "$1" "$out.tmp/vmlinuz"
release=${1##*/vmlinuz-}
cp "$work"/x/boot/config-* "$out.tmp/config"
cp "$work"/x/usr/lib/linux-image-*/broadcom/bcm2837-rpi-3-b.dtb "$work"/x/usr/lib/linux-image-*/broadcom/"$pi4_dtb" "$out.tmp/"
set -- "$work"/x/lib/modules/*/kernel/drivers/watchdog/bcm2835_wdt.ko*
case "$1" in
  *.ko) cp "$1" "$out.tmp/bcm2835_wdt.ko" ;;
  *.ko.xz) xz -dc "$1" >"$out.tmp/bcm2835_wdt.ko" ;;
  *.ko.zst) zstd -qdc "$1" >"$out.tmp/bcm2835_wdt.ko" ;;
  *.ko.gz) gzip -dc "$1" >"$out.tmp/bcm2835_wdt.ko" ;;
  *) die "bcm2835_wdt in $(basename "$deb") is compressed in an unknown way: $1" ;;
esac
mkdir -p "$work/bb"
dpkg-deb --fsys-tarfile "$work"/busybox-static_*.deb | tar -x -C "$work/bb" ./bin/busybox ||
  die "busybox-static holds no bin/busybox"
cp "$work/bb/bin/busybox" "$out.tmp/busybox"
echo "$release" >"$out.tmp/release"
echo "$pkg" >"$out.tmp/package"
echo "$ver" >"$out.tmp/version"
# An arm64 Image carries "ARM\x64" at offset 56; Debian's vmlinuz is one, not compressed.
[ "$(dd if="$out.tmp/vmlinuz" bs=1 skip=56 count=4 2>/dev/null | od -An -c | tr -d ' ')" = 'ARMd' ] ||
  die "vmlinuz from $pkg is not a raw arm64 Image; this script does not know how to unpack it"
board "$out.tmp"
rm -rf "$out"
mv "$out.tmp" "$out"
ln -sfn "$key" "$cache/current"
rm -f "$apt_dir"/cache/archives/*.deb
echo "rpi3: fetched $pkg $ver ($release) into $out" >&2
echo "$out"
