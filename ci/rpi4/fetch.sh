#!/usr/bin/env bash
# Fetches what an emulated Raspberry Pi 4 lane boots: a QEMU that has the raspi4b machine, and the
# Raspberry Pi 4 B device tree of the kernel the Pi 3 lane already boots, changed so that
# Debian's kernel boots on QEMU's model of the board.
#
#   ci/rpi4/fetch.sh            fetch once (or reuse the cache), print the QEMU directory
#   ci/rpi4/fetch.sh --update   look in bookworm-backports for a newer QEMU and fetch it if there is one
#   ci/rpi4/fetch.sh --path     print where the current QEMU directory is; fetch nothing
#
# QEMU: bookworm's QEMU 7.2 has no raspi4b (it came in QEMU 9.0); bookworm-backports has QEMU 10.
# qemu-system-arm (which holds qemu-system-aarch64), qemu-system-common and qemu-system-data for
# the host's architecture, the newest version bookworm-backports offers, are downloaded with
# apt-get into a private apt state (a private sources list and package lists, a private cache,
# Dir::State::status=/dev/null) and unpacked with dpkg-deb: nothing is installed on the host and
# the host's apt state is not touched. `apt-get download` rather than `install --download-only`:
# against an empty status the latter would fetch the whole dependency closure, libc and all.
# The backport is built for bookworm and needs no library that bookworm's qemu-system-arm 7.2
# does not (ci/rpi3/fetch.sh installs that on a host without it). Whatever library packages the
# host still lacks (apt-get, simulating the install against the host's dpkg status, read only,
# says which) are downloaded too and unpacked into the same tree, and the wrapper below puts them
# on LD_LIBRARY_PATH.
#
# QEMU is built with its paths fixed at /usr (not relocatable): unpacked elsewhere, it would still
# read its data (firmware, keymaps) from /usr/share/qemu and its modules from
# /usr/lib/<triplet>/qemu, which are the host's QEMU 7.2's if that is installed. The raspi4b
# machine booted with -kernel needs neither, but the wrapper qemu-system-aarch64 in the result
# points QEMU at its own: -L <dir>/usr/share/qemu (searched before the built-in directory) and
# QEMU_MODULE_DIR=<dir>/usr/lib/<triplet>/qemu.
#
# Device tree: Debian's arm64 kernel with the stock bcm2711-rpi-4-b.dtb panics on raspi4b (the
# brcmstb L2 interrupt controller QEMU does not model). board-pi4.dtb, written next to the kernel
# in ci/rpi3/fetch.sh's kernel directory (which this script runs first), is that tree with
# status = "disabled" on
#   /soc/interrupt-controller@7ef00100  the L2 interrupt controller (panic in brcmstb_l2_intc_of_init)
#   /soc/i2c@7ef04500, /soc/i2c@7ef09500  the HDMI I2C controllers (abort in brcmstb_i2c_probe)
#   /soc/clock@7ef00000                 the DVP clock (external abort in clk_disable_unused)
# plus /system/linux,revision = 0xb03115 (a Pi 4 Model B 2 GB, rev 1.5, as QEMU's raspi4b says
# it is: RPi.GPIO refuses to run on a board without a revision) and 64 random bytes of
# /chosen/rng-seed (Python's first start otherwise waits for the kernel's entropy), written with
# fdtput from device-tree-compiler. QEMU itself disables the nodes of the devices it does not
# model (PCIe, rng200, thermal, genet).
#
# Boot it (console on ttyAMA0, one TCG thread: the secondary cores spin in QEMU's boot stub):
#   <dir>/qemu-system-aarch64 -M raspi4b -m 2G -accel tcg,thread=single -kernel <kernel>/vmlinuz \
#     -dtb <kernel>/board-pi4.dtb -initrd ... -append 'console=ttyAMA0 ...'
#
# Result, under ${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/rpi4/qemu-<version without epoch>/:
#   usr/...               the three packages unpacked (documentation, manual pages and the
#                         32-bit qemu-system-arm left out), and library packages the host lacks
#   qemu-system-aarch64   the wrapper to run: sets -L, QEMU_MODULE_DIR (and LD_LIBRARY_PATH)
#   version, packages     QEMU's package version; the packages unpacked, "name version" a line
# and `current` there points at the newest fetch. The .debs stay in the private apt cache
# (rpi4/apt/archives) until a newer QEMU is fetched. A second run with a complete `current` and
# board-pi4.dtb does nothing and needs no network.
set -euo pipefail
# shellcheck source=ci/lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpiohil/rpi4"
suite=bookworm-backports
packages=(qemu-system-arm qemu-system-common qemu-system-data)
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "rpi4: $*" >&2; exit 1; }
say() { echo "rpi4: $*" >&2; }

complete() {
  [ -x "$1/usr/bin/qemu-system-aarch64" ] && [ -x "$1/qemu-system-aarch64" ] &&
    [ -d "$1/usr/share/qemu" ] && [ -s "$1/version" ] && [ -s "$1/packages" ]
}

update=false
case "${1:-}" in
  "") ;;
  --update) update=true ;;
  --path) echo "$cache/current"; exit 0 ;;
  *) die "unknown argument ${1}; usage: ci/rpi4/fetch.sh [--update|--path]" ;;
esac
[ $# -le 1 ] || die "usage: ci/rpi4/fetch.sh [--update|--path]"

for t in dpkg-deb dpkg apt-get apt-cache flock; do
  command -v "$t" >/dev/null || die "$t not found; this script needs Debian's apt and dpkg"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -s "$keyring" ] || die "$keyring not found; run: sudo apt-get install debian-archive-keyring"
if ! command -v fdtput >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "fdtput not found; run: sudo apt-get install -y device-tree-compiler"
  say "installing device-tree-compiler"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends device-tree-compiler >&2 ||
    die "apt-get install device-tree-compiler failed"
fi

# The kernel: ci/rpi3/fetch.sh's (no network when its cache is complete), and its Pi 4 tree.
kernel=$("$here/../rpi3/fetch.sh") || die "ci/rpi3/fetch.sh failed"
[ -s "$kernel/bcm2711-rpi-4-b.dtb" ] || die "$kernel has no bcm2711-rpi-4-b.dtb; run ci/rpi3/fetch.sh"
if [ ! -s "$kernel/board-pi4.dtb" ]; then
  # The kernel directory is ci/rpi3/fetch.sh's: write into it under its lock.
  exec 8>"$(dirname "$kernel")/.lock"
  flock 8
  if [ ! -s "$kernel/board-pi4.dtb" ]; then
    t="$kernel/board-pi4.dtb.tmp"
    cp "$kernel/bcm2711-rpi-4-b.dtb" "$t"
    for node in /soc/interrupt-controller@7ef00100 /soc/i2c@7ef04500 /soc/i2c@7ef09500 /soc/clock@7ef00000; do
      fdtput -t s "$t" "$node" status disabled || { rm -f "$t"; die "bcm2711-rpi-4-b.dtb has no node $node"; }
    done
    fdtput -p -t x "$t" /system linux,revision b03115
    # shellcheck disable=SC2046 # 64 words, one per byte
    fdtput -p -t bx "$t" /chosen rng-seed $(od -An -tx1 -N64 /dev/urandom)
    mv "$t" "$kernel/board-pi4.dtb"
    say "wrote $kernel/board-pi4.dtb"
  fi
  exec 8>&-
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if ! $update && complete "$cache/current"; then
  readlink -f "$cache/current"
  exit 0
fi

# A private apt state for the host's architecture (ci/lib/apt.sh). bookworm's own suites are
# listed for the libraries a host may lack; QEMU's version is picked from $suite explicitly (its
# pin priority is below bookworm's).
arch=$(dpkg --print-architecture)
apt_dir="$cache/apt"
apt_opts=()
apt_private "$apt_dir" "$arch" "http://deb.debian.org/debian bookworm" "http://deb.debian.org/debian bookworm-updates" \
  "http://deb.debian.org/debian-security bookworm-security" "http://deb.debian.org/debian $suite"
say "reading the $arch package lists of bookworm and $suite"
apt-get -q "${apt_opts[@]}" update >&2 || die "apt-get update failed (is the Debian archive reachable?)"

ver=$(apt-cache "${apt_opts[@]}" madison qemu-system-arm | awk -F' [|] ' -v s="$suite/" 'index($3, s) { print $2 }' |
  sort -V | tail -1)
[ -n "$ver" ] || die "$suite offers no qemu-system-arm for $arch"
key=${ver#*:}
key="qemu-${key//\~/_}"
out="$cache/$key"
if complete "$out"; then
  ln -sfn "$key" "$cache/current"
  say "up to date: $out"
  echo "$out"
  exit 0
fi

# What the host lacks to run it: a simulated install against the host's dpkg status (read
# only). New installs other than QEMU's own are libraries to unpack beside it; an upgrade of
# something the host has is left to the host (with a warning: the loader would take the host's).
# A host whose dpkg state apt finds broken gets a warning; the start check below then says
# whether QEMU runs all the same.
if ! sim=$(apt-get -s "${apt_opts[@]}" -o Dir::State::status=/var/lib/dpkg/status install \
  "${packages[@]/%/=$ver}" 2>&1); then
  say "warning: apt-get cannot work out what the host lacks for QEMU $ver: $(grep '^E:' <<<"$sim" | head -3)"
  sim=""
fi
libs=() lib_debs=()
while read -r name rest; do
  case " ${packages[*]} " in *" $name "*) continue ;; esac
  case "$rest" in
    '['*) say "warning: the host has $name ${rest%%]*}], older than QEMU $ver asks for; upgrade it if QEMU fails to start" ;;
    *)
      rest=${rest#(}
      rest=${rest%% *}
      libs+=("$name=$rest")
      lib_debs+=("${name}_${rest//:/%3a}")
      ;;
  esac
done < <(sed -n 's/^Inst \([^ ]*\) \(.*\)/\1 \2/p' <<<"$sim")
[ ${#libs[@]} -eq 0 ] || say "the host lacks ${libs[*]}: unpacking them beside QEMU"

say "downloading ${packages[*]} $ver${libs[*]:+ and ${libs[*]}}"
(cd "$apt_dir/archives" && apt-get -q "${apt_opts[@]}" download "${packages[@]/%/=$ver}" "${libs[@]}" >&2) ||
  die "apt-get download failed"
debs=()
for p in "${packages[@]}"; do
  set -- "$apt_dir/archives/${p}_${ver//:/%3a}"_*.deb
  [ -f "$1" ] || die "apt-get downloaded no .deb for $p $ver"
  debs+=("$1")
done
for p in "${lib_debs[@]}"; do
  set -- "$apt_dir/archives/${p}"_*.deb
  [ -f "$1" ] || die "apt-get downloaded no .deb for ${p%%_*}"
  debs+=("$1")
done

work="$out.tmp"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
say "unpacking ${#debs[@]} packages into $out"
: >"$work/packages"
for f in "${debs[@]}"; do
  dpkg-deb -x "$f" "$work" || die "cannot unpack $(basename "$f")"
  echo "$(dpkg-deb -f "$f" Package) $(dpkg-deb -f "$f" Version)" >>"$work/packages"
done
rm -rf "${work:?}"/usr/share/{doc,doc-base,man,lintian,icons,applications} "${work:?}"/usr/lib/systemd "${work:?}"/etc
rm -f "$work"/usr/bin/qemu-system-arm "$work"/usr/bin/qemu-system-armel "$work"/usr/bin/qemu-system-armhf
echo "$ver" >"$work/version"
# The multiarch triplet, from where qemu-system-common put the modules: x86_64-linux-gnu.
set -- "$work"/usr/lib/*/qemu
[ -d "$1" ] || die "qemu-system-common holds no usr/lib/<triplet>/qemu"
triplet=$(basename "$(dirname "$1")")
# shellcheck disable=SC2016 # the wrapper's own expansions, done when it runs
{
  echo '#!/bin/sh'
  echo "# QEMU $ver from $suite, unpacked by ci/rpi4/fetch.sh: its own data and modules, not the host's."
  echo 'd=$(dirname "$(readlink -f "$0")")'
  echo "QEMU_MODULE_DIR=\"\$d/usr/lib/$triplet/qemu\""
  echo 'export QEMU_MODULE_DIR'
  if [ ${#libs[@]} -gt 0 ]; then
    echo "LD_LIBRARY_PATH=\"\$d/usr/lib/$triplet:\$d/lib/$triplet\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
    echo 'export LD_LIBRARY_PATH'
  fi
  echo 'exec "$d/usr/bin/qemu-system-aarch64" -L "$d/usr/share/qemu" "$@"'
} >"$work/qemu-system-aarch64"
chmod 755 "$work/qemu-system-aarch64"

# It runs on this host and has the machine.
machines=$("$work/qemu-system-aarch64" -machine help 2>&1) ||
  die "the unpacked QEMU does not start: $(head -3 <<<"$machines")"
grep -q '^raspi4b ' <<<"$machines" || die "QEMU $ver has no raspi4b machine"
[ "$("$work/qemu-system-aarch64" -L help | head -1)" = "$(readlink -f "$work")/usr/share/qemu" ] ||
  die "QEMU does not search its own data directory first"

rm -rf "$out"
mv "$work" "$out"
trap - EXIT
# The wrapper finds everything relative to itself: nothing to rewrite after the move.
ln -sfn "$key" "$cache/current"
for f in "$cache"/qemu-*; do
  [ "$f" = "$out" ] || [ ! -d "$f" ] || { say "removing the superseded $(basename "$f")"; rm -rf "$f"; }
done
apt-get -q "${apt_opts[@]}" autoclean >/dev/null 2>&1 || true
say "fetched QEMU $ver into $out (device tree $kernel/board-pi4.dtb)"
echo "$out"
