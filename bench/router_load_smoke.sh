#!/usr/bin/env bash
# Smoke test of the load generator: six jobs over two functions, two
# destination counts and two document sizes must all be delivered.
# Usage: router_load_smoke.sh PATH_TO_ROUTER_LOAD
set -euo pipefail

router_load=$1
status=0
output=$("$router_load" --jobs 6 --seconds 60 --functions store,forwarding \
  --destinations 1,2 --sizes 4k,100k --workers 2) || status=$?
echo "$output"

if [[ $status -ne 0 ]]; then
  echo "FAIL: router_load exited with status $status" >&2
  exit 1
fi
if ! grep -Eq '^jobs submitted +6$' <<<"$output"; then
  echo "FAIL: expected 'jobs submitted 6' in the output" >&2
  exit 1
fi
if ! grep -Eq '^jobs delivered +6$' <<<"$output"; then
  echo "FAIL: expected 'jobs delivered 6' in the output" >&2
  exit 1
fi
if ! grep -Eq '^messages delivered +9$' <<<"$output"; then
  echo "FAIL: expected 'messages delivered 9' (1+2 destinations, three times) in the output" >&2
  exit 1
fi
echo "PASS: router_load delivered every job"
