# deps.sh: installs the Debian packages bintail's build, tests and demo need, only when missing.
# Sourced by scripts/test and scripts/demo. Runs `apt-get update` at most once.
BT_DEBS="build-essential autoconf automake libtool pkg-config clang clang-format
  libmariadb-dev libmariadb-dev-compat librdkafka-dev libzstd-dev liblz4-dev libsnappy-dev
  libcurl4-openssl-dev zlib1g-dev libdeflate-dev libssl-dev libpcre2-dev
  mariadb-server mariadb-client kcat zstd lz4 gzip
  python3 python3-kafka python3-pymysql python3-lz4 python3-zstandard python3-snappy"

bt_install_deps() {
  local missing=() p
  for p in $BT_DEBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing missing Debian packages: ${missing[*]}"
  local sudo=
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
    { echo "apt-get update failed" >&2; return 1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "apt-get install failed for: ${missing[*]}" >&2; return 1; }
}

# bt_build DIR [configure options...]: configure (once) and build bintail out of tree in DIR.
bt_build() {
  local dir=$1; shift
  local top; top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
     [ -n "$(find "$top" -name local.mk -newer "$top/configure" -print -quit)" ] ||
     [ "$top/Makefile.am" -nt "$top/configure" ]; then
    (cd "$top" && autoreconf -fi >/dev/null 2>&1) || { (cd "$top" && autoreconf -fi); return 1; }
  fi
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ] || [ "$top/configure" -nt "$dir/Makefile" ]; then
    (cd "$dir" && "$top/configure" -q "$@") || return 1
  fi
  make -C "$dir" -j"$(nproc)" -s all >/dev/null || make -C "$dir" -j1 all
}
