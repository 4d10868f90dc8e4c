#!/usr/bin/env bash
# Sets up, builds and runs every test suite. Extra arguments go to ctest,
# e.g. `-L unit` for the fast pure-code suites only, or `-LE integration`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${ROUTER_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
cmake --build "$build_dir" -- -j"$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure --timeout 600 -j"$(nproc)" "$@"

# --- fuzz smoke runs ---------------------------------------------------------
# libFuzzer needs clang, so the fuzz targets live in their own build folder
# (ROUTER_FUZZ_BUILD_DIR, default build-fuzz), configured with clang and
# ROUTER_BUILD_FUZZ=ON; only the fuzz targets are built there. They run when
# no ctest arguments are given or when an argument names the "fuzz" label
# (`-L fuzz`). Set ROUTER_SKIP_FUZZ=1 to skip them.
# With arguments, only an include filter (-L or --label-regex) naming fuzz
# selects them; an exclude filter such as `-LE fuzz` does not.
run_fuzz=1
if (($# > 0)); then
  run_fuzz=0
  previous=""
  for argument in "$@"; do
    if [[ ( "$previous" == "-L" || "$previous" == "--label-regex" ) && "$argument" == *fuzz* ]] ||
       [[ "$argument" == -Lfuzz* ]]; then
      run_fuzz=1
    fi
    previous=$argument
  done
fi
if [[ -n "${ROUTER_SKIP_FUZZ:-}" ]]; then
  run_fuzz=0
fi
if ((run_fuzz)); then
  fuzz_build_dir=${ROUTER_FUZZ_BUILD_DIR:-$root/build-fuzz}
  if [[ ! -f "$fuzz_build_dir/build.ninja" ]]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz_build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DROUTER_BUILD_FUZZ=ON -DROUTER_BUILD_BENCH=OFF
  fi
  cmake --build "$fuzz_build_dir" --target router_fuzz_targets -- -j"$(nproc)"
  ctest --test-dir "$fuzz_build_dir" --output-on-failure -L fuzz
fi
