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

# --outbox-parent: the outbox is made there and removed after the run.
parent=$(mktemp -d)
trap 'rm -rf "$parent"' EXIT
output=$("$router_load" --jobs 2 --seconds 60 --functions store --to alice --workers 1 --outbox-parent "$parent")
if ! grep -Eq '^jobs delivered +2$' <<<"$output"; then
  echo "FAIL: expected 'jobs delivered 2' with --outbox-parent; got:" >&2
  echo "$output" >&2
  exit 1
fi
if [[ -n "$(ls -A "$parent")" ]]; then
  echo "FAIL: the outbox under --outbox-parent was left behind: $(ls -A "$parent")" >&2
  exit 1
fi
status=0
"$router_load" --jobs 1 --workers 1 --outbox-parent "$parent/missing" >/dev/null 2>"$parent/error.txt" || status=$?
if [[ $status -ne 2 ]] || ! grep -q "$parent/missing" "$parent/error.txt"; then
  echo "FAIL: a missing --outbox-parent should exit 2 and name the folder; exit $status:" >&2
  cat "$parent/error.txt" >&2
  exit 1
fi
status=0
"$router_load" --jobs 1 --workers 1 --to alice,zed >/dev/null 2>"$parent/error.txt" || status=$?
if [[ $status -ne 2 ]] || ! grep -q "'zed'" "$parent/error.txt"; then
  echo "FAIL: an unknown --to id should exit 2 and name the id; exit $status:" >&2
  cat "$parent/error.txt" >&2
  exit 1
fi
echo "PASS: router_load delivered every job"
