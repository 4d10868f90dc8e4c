#!/usr/bin/env bash
# Sets up, builds and runs the demo: every source function, real documents,
# a throwaway PKI, messages in OUT/outbox/new. OUT defaults to ./demo-out.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${ROUTER_BUILD_DIR:-$root/build}
out=${1:-$root/demo-out}

"$root/scripts/setup.sh"
cmake --build "$build_dir" --target smime-router -- -j"$(nproc)"
"$build_dir/runtime/cli/smime-router" demo --out "$out"
