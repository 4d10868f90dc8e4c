#!/usr/bin/env bash
# Sets up, builds and runs every test suite. Extra arguments go to ctest,
# e.g. `-L unit` for the fast pure-code suites only, or `-LE integration`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${ROUTER_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
cmake --build "$build_dir" -- -j"$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure --timeout 600 -j"$(nproc)" "$@"
