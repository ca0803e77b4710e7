#!/usr/bin/env bash
# Installs the Debian packages gpiohil's tests and VM lane need, when missing.
# As root it runs apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail
pkgs=(qemu-system-x86 qemu-system-arm qemu-user device-tree-compiler cpio gpiod python3-libgpiod gcc libc6-dev libxml2-utils shellcheck)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
  { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
