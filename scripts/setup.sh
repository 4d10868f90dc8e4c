#!/usr/bin/env bash
# Installs the Debian 12 packages the router needs to build, run and test, and
# configures the build folder. Safe to run again: it installs only what is
# missing and reuses the build folder.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${ROUTER_BUILD_DIR:-$root/build}

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache
  # the system trust store, for relay certificates when no trust anchors are configured
  ca-certificates
  # libraries
  libcaf-dev libbotan-2-dev libprotobuf-dev protobuf-compiler libspdlog-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev clang libclang-rt-14-dev
  # OpenSSL development files: the benchmark baseline only, never linked into the router
  libssl-dev
  # independent checkers and peers used by the tests
  openssl gpgsm gpg-agent python3 python3-aiosmtpd python3-cryptography swaks botan
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: run as root (or install these packages yourself): ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
