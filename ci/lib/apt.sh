# shellcheck shell=bash
# A private apt state, for the scripts that fetch Debian packages without installing them
# (ci/rpi3/userland.sh, ci/rpi4/fetch.sh): sourced, not run.
#
# apt_private DIR ARCH "URL SUITE"...: writes DIR/sources.list, one line per "URL SUITE" (main,
# signed by $keyring, which the caller sets), and sets the array apt_opts to an apt state all
# in DIR: its own package lists, cache and archives, no preferences, Dir::State::status=/dev/null
# (the host's installed packages are not looked at, and nothing is installed), ARCH as the only
# architecture. The host's apt.conf.d still applies (it may keep the package lists compressed
# or turn apt's binary cache off: the latter is turned back on here, as it makes each apt call
# a second faster). As root apt drops to the _apt user to download, which cannot write into
# root's cache: it is told not to.
apt_private() {
  local dir=$1 arch=$2 line
  : "${keyring:?apt_private needs keyring set}"
  shift 2
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/empty"
  for line in "$@"; do
    echo "deb [signed-by=$keyring] $line main"
  done >"$dir/sources.list"
  apt_opts=(
    -o APT::Architecture="$arch" -o APT::Architectures="$arch"
    -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/empty"
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$dir/empty"
    -o Dir::State::Lists="$dir/lists" -o Dir::State::status=/dev/null
    -o Dir::State::extended_states="$dir/extended_states"
    -o Dir::Cache="$dir" -o Dir::Cache::Archives="$dir/archives"
    -o Dir::Cache::pkgcache="$dir/pkgcache.bin" -o Dir::Cache::srcpkgcache="$dir/srcpkgcache.bin"
    -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
    -o APT::Install-Recommends=false -o APT::Install-Suggests=false
    -o Debug::NoLocking=true
  )
  if [ "$(id -u)" -eq 0 ]; then apt_opts+=(-o APT::Sandbox::User=root); fi
}
