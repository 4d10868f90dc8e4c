#!/usr/bin/env bash
# Runs every benchmark of the router in one go and writes a Markdown table of
# medians and ratios:
#   - the Google Benchmark micro benchmarks (router_bench);
#   - the end-to-end load generator (router_load) for sign, encrypt and
#     sign+encrypt of 4 KiB, 100 KiB and 1 MiB documents, one mixed workload
#     and one fixed-rate run;
#   - the OpenSSL peers (openssl_peer) for the same work: the CMS API in
#     process, and one `openssl cms` process per message;
#   - `botan speed` for RSA-2048 signing and AES-256-CBC, the raw Botan limit;
#   - the signing-bound pairs: raw Botan RSA-2048 signing and the router
#     signing 4 KiB messages, in turns;
#   - large_document: peak RSS for one 64 MiB and one 256 MiB document sent
#     by path, signed and encrypted (about 10 s; needs about 1.2 GiB free in
#     TMPDIR for the document, the intermediate files and the message).
# Each end-to-end figure is the median of BENCH_REPEATS runs of BENCH_SECONDS
# seconds each. On a 2-core machine the whole run takes about six minutes
# once built (343 s when recorded in docs/BENCHMARKS.md).
#
# Usage: bench/run-benchmarks.sh [OUTPUT.md]
# Environment: ROUTER_BENCH_BUILD_DIR (default build-bench), BENCH_SECONDS
# (default 2), BENCH_REPEATS (default 3), BENCH_THREADS (peer threads and
# router crypto workers, default: two per core), BENCH_PAIRED_ROUNDS (rounds of
# the signing-bound pairs, default 5).
# Needs the packages of scripts/setup.sh (libssl-dev for the OpenSSL peer).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${ROUTER_BENCH_BUILD_DIR:-$root/build-bench}
output=${1:-$build_dir/benchmark-results.md}
seconds=${BENCH_SECONDS:-2}
repeats=${BENCH_REPEATS:-3}
threads=${BENCH_THREADS:-$((2 * $(nproc)))}
paired_rounds=${BENCH_PAIRED_ROUNDS:-5}
SECONDS=0
mkdir -p "$(dirname "$output")"

echo "run-benchmarks: load before: $(uptime)"
load_before=$(uptime)

# Build only what the benchmarks need.
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build_dir" -j2 router_bench router_load openssl_peer large_document
bin=$build_dir/bench

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/router-benchmarks-XXXXXX")
trap 'rm -rf "$work_dir"' EXIT
results=$work_dir/results.jsonl
: >"$results"

# A first short run writes the test PKI that every later run and the peers share.
"$bin/router_load" --pki "$work_dir" --jobs 4 --workers "$threads" >/dev/null

echo "run-benchmarks: micro benchmarks"
"$bin/router_bench" --benchmark_repetitions="$repeats" --benchmark_min_time=0.2 \
  --benchmark_report_aggregates_only=true --benchmark_out="$work_dir/micro.json" \
  --benchmark_out_format=json >/dev/null

echo "run-benchmarks: botan speed"
botan speed --msec=500 --buf-size=1048576 RSA AES-256/CBC SHA-256 >"$work_dir/botan-speed.txt"

# record KEY RUN...: runs a program that prints one JSON summary and stores it with its key.
record() {
  local key=$1
  shift
  local line
  if ! line=$("$@" --json); then
    echo "run-benchmarks: FAILED or incomplete: $*" >&2
  fi
  # A run that printed no figures is left out; the report counts the rest.
  if [[ $line != "{"* ]]; then
    echo "run-benchmarks: no figures from: $*" >&2
    return 0
  fi
  printf '{"key":"%s","run":%s}\n' "$key" "$line" >>"$results"
}

# router_load arguments that make the router do each kind of work for alice:
# smtp_reception signs only, standard_address with --encrypt --no-sign
# encrypts only, store signs and encrypts (see tests/common/test_pki.cpp).
router_work() {
  case $1 in
    sign) echo "--functions smtp_reception" ;;
    encrypt) echo "--functions standard_address --encrypt --no-sign" ;;
    sign+encrypt) echo "--functions store" ;;
  esac
}

limits=(--seconds "$seconds" --jobs 1000000)
for repeat in $(seq "$repeats"); do
  echo "run-benchmarks: end-to-end runs, repeat $repeat of $repeats"
  for work in sign encrypt sign+encrypt; do
    for size in 4k 100k 1m; do
      # shellcheck disable=SC2046 # router_work returns separate arguments
      record "router $work $size" "$bin/router_load" --pki "$work_dir" --workers "$threads" \
        $(router_work "$work") --to alice --sizes "$size" "${limits[@]}"
      record "openssl-library $work $size" "$bin/openssl_peer" --pki "$work_dir" --mode library \
        --threads "$threads" --work "$work" --sizes "$size" --seconds "$seconds" --messages 1000000
      record "openssl-command $work $size" "$bin/openssl_peer" --pki "$work_dir" --mode command \
        --threads "$threads" --work "$work" --sizes "$size" --seconds "$seconds" --messages 1000000
    done
  done
  record "router mix" "$bin/router_load" --pki "$work_dir" --workers "$threads" \
    --functions store,forwarding,standard_address,smtp_reception --destinations 1,3 \
    --to alice,bob,fax --sizes 4k,100k "${limits[@]}"
  record "router rate" "$bin/router_load" --pki "$work_dir" --workers "$threads" \
    --functions store --to alice --sizes 4k --rate 50 "${limits[@]}"
done

# The signing-bound ratio. Raw Botan signing and the router signing 4 KiB
# messages take turns, so a change in machine load hits both. The raw rate is
# the best rsa2048_sign_reused variant of router_bench. The router runs with
# its outbox on a tmpfs, where fsync costs nothing, and then on disk.
shm_dir=""
if [[ -d /dev/shm && -w /dev/shm && "$(stat -f -c %T /dev/shm)" == tmpfs ]]; then
  shm_dir=/dev/shm
fi
for round in $(seq "$paired_rounds"); do
  echo "run-benchmarks: signing-bound pair, round $round of $paired_rounds"
  "$bin/router_bench" --benchmark_filter='^rsa2048_sign_reused' --benchmark_min_time="$seconds" \
    --benchmark_format=json 2>/dev/null >"$work_dir/raw-signing.json"
  printf '{"key":"paired raw","run":%s}\n' "$(python3 -c '
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
best = max(runs, key=lambda run: run["items_per_second"])
print(json.dumps({"signatures_per_second": best["items_per_second"], "variant": best["name"]}))' \
    "$work_dir/raw-signing.json")" >>"$results"
  if [[ -n "$shm_dir" ]]; then
    record "paired router tmpfs" "$bin/router_load" --pki "$work_dir" --workers "$threads" --outbox-parent "$shm_dir" \
      --functions smtp_reception --to alice --sizes 4k "${limits[@]}"
  fi
  record "paired router disk" "$bin/router_load" --pki "$work_dir" --workers "$threads" \
    --functions smtp_reception --to alice --sizes 4k "${limits[@]}"
done

# One process per size, because peak RSS only grows within a process.
echo "run-benchmarks: large documents by path"
large_rows=""
for size in 64m 256m; do
  if ! line=$("$bin/large_document" --pki "$work_dir" --workers "$threads" --size "$size" --json); then
    echo "run-benchmarks: FAILED or incomplete: large_document --size $size" >&2
  fi
  large_rows+=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
mib = 1024 * 1024
print("| %.0f MiB | %.0f MiB | %.1f MiB | %.1f MiB | %.1f s |" % (
    r["document_bytes"] / mib, r["message_bytes"] / mib, r["peak_rss_before_kib"] / 1024,
    r["peak_rss_kib"] / 1024, r["wall_seconds"]))' "$line")$'\n'
done

load_after=$(uptime)
echo "run-benchmarks: load after: $load_after"

# The raw runs stay next to the table, so it can be summarized again.
cp "$results" "${output%.md}-runs.jsonl"
cp "$work_dir/micro.json" "${output%.md}-micro.json"
cp "$work_dir/botan-speed.txt" "${output%.md}-botan-speed.txt"
python3 "$root/bench/summarize_results.py" --results "$results" --micro "$work_dir/micro.json" \
  --botan "$work_dir/botan-speed.txt" --threads "$threads" --seconds "$seconds" --repeats "$repeats" \
  --load-before "$load_before" --load-after "$load_after" --run-seconds "$SECONDS" >"$output"
{
  printf '\n## One large document by path, signed and encrypted (large_document)\n\n'
  printf '| document | message | peak RSS before the job | peak RSS | wall time |\n'
  printf '| ---: | ---: | ---: | ---: | ---: |\n'
  printf '%s' "$large_rows"
} >>"$output"

cat "$output"
echo "run-benchmarks: table written to $output, raw runs to ${output%.md}-runs.jsonl"
echo "run-benchmarks: run time ${SECONDS} s"
