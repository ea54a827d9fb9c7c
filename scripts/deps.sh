#!/usr/bin/env bash
# Installs the Debian 12 packages simul builds and tests with, if any are missing.
# On other systems it prints what to install and exits non-zero.
#   scripts/deps.sh          what `make test` and `make demo` need
#   scripts/deps.sh --fuzz   that plus clang and its libFuzzer runtime (`make fuzz` only)
set -euo pipefail

packages=(cmake ninja-build g++ make pkg-config git
          libasio-dev libspdlog-dev libyaml-cpp-dev doctest-dev libcli11-dev libssl-dev openssl redis-server libhiredis-dev
          python3 python3-irc python3-matplotlib)
if [[ ${1:-} == --fuzz ]]; then
  # clang 14 is Debian 12's; libclang-rt-14-dev holds libFuzzer and the sanitizer runtimes.
  packages+=(clang libclang-rt-14-dev)
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps.sh: this is not a Debian-like system. Install by hand: a C++20 compiler (g++ >= 12)," >&2
  echo "  CMake >= 3.20, Ninja, standalone Asio >= 1.22, spdlog, yaml-cpp, doctest, CLI11, python3 and" >&2
  echo "  its 'irc' library; then run: cmake -S . -B build -G Ninja && cmake --build build" >&2
  echo "  (make fuzz also needs clang with libFuzzer, i.e. compiler-rt)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps.sh: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps.sh: not root and no sudo; run as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
