#!/usr/bin/env bash
# smime-router serve and stats end to end: a daemon on 127.0.0.1 with GET
# /metrics and a job folder, stats against it, then SIGTERM. Every wait is
# bounded, and the daemon is killed on any exit.
# Usage: serve_test.sh PATH_TO_SMIME_ROUTER
set -uo pipefail

router=$1
work=$(mktemp -d)
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]]; then
    kill -KILL "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.1
  done
}

# A PKI and config from the demo, plus a metrics port that was free a moment ago.
"$router" demo --out "$work/demo" >/dev/null 2>&1 || { echo "FAIL: demo did not run"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
config="$work/router.textproto"
sed "s|\"pki/|\"$work/demo/pki/|g; s|directory: \"[^\"]*\"|directory: \"$work/outbox\"|" \
  "$work/demo/router.textproto" >"$config"
printf 'metrics_listen: "127.0.0.1:%s"\n' "$port" >>"$config"
cat >>"$config" <<CONFIG
reception {
  listen: "127.0.0.1:0"
  spool_directory: "$work/spool"
  routes { address: "scan@mfp.example" function: FORWARDING destinations: "alice" }
}
CONFIG
jobs="$work/jobs"
mkdir -p "$jobs"

# --- serve ------------------------------------------------------------------
"$router" serve --config "$config" --jobs "$jobs" --poll-ms 100 >"$work/serve.out" 2>"$work/serve.err" &
daemon_pid=$!
if wait_for 15 grep -qs '^metrics http://127.0.0.1:' "$work/serve.out"; then pass; else
  fail "serve printed no metrics line within 15 s"; cat "$work/serve.err"; exit 1
fi
url="http://127.0.0.1:$port/metrics"
if grep -q "^metrics $url\$" "$work/serve.out"; then pass; else fail "serve printed $(cat "$work/serve.out")"; fi

# --- SMTP reception -----------------------------------------------------------
if wait_for 15 grep -qs '^smtp reception port [0-9]' "$work/serve.out"; then pass; else
  fail "serve printed no reception port: $(cat "$work/serve.out")"
fi
smtp_port=$(sed -n 's/^smtp reception port //p' "$work/serve.out")
before=$(find "$work/outbox/new" -type f 2>/dev/null | wc -l)
expect_exit 0 "swaks to the reception server" -- timeout 60 swaks --server "127.0.0.1:$smtp_port" \
  --from sender@example.org --to scan@mfp.example --header "Subject: Scan by mail" --body "reception test" \
  --timeout 30
if grep -q '250 2.0.0' "$work/out.txt"; then pass; else fail "swaks transcript: $(cat "$work/out.txt")"; fi
if wait_for 15 bash -c "(( \$(find '$work/outbox/new' -type f | wc -l) > $before ))"; then pass; else
  fail "the received message reached no outbox within 15 s"
fi
expect_exit 24 "swaks to an unknown recipient" -- timeout 60 swaks --server "127.0.0.1:$smtp_port" \
  --from sender@example.org --to nobody@mfp.example --timeout 30
if grep -q '550 5.1.1' "$work/out.txt"; then pass; else fail "swaks transcript: $(cat "$work/out.txt")"; fi

cat >"$jobs/first.tmp" <<'JOB'
function: STORE
subject: "Job from the folder"
destinations { id: "alice" }
attachments { filename: "note.txt" content_type: "text/plain" data: "job folder test\n" }
JOB
mv "$jobs/first.tmp" "$jobs/first.textproto"
echo 'function: {' >"$jobs/broken.textproto"

if wait_for 15 test -f "$jobs/done/first.result.json"; then pass; else
  fail "first.textproto did not reach done/ within 15 s"; ls -R "$jobs"; cat "$work/serve.err"
fi
if [[ -f "$jobs/done/first.textproto" && ! -f "$jobs/first.textproto" ]]; then pass; else fail "first.textproto not moved"; fi
if grep -q '"outcome":"sent_encrypted' "$jobs/done/first.result.json"; then pass; else
  fail "first.result.json: $(cat "$jobs/done/first.result.json")"
fi
if wait_for 15 test -f "$jobs/failed/broken.result.json"; then pass; else fail "broken.textproto did not reach failed/"; fi
if grep -q '"error":".*line 1, column' "$jobs/failed/broken.result.json"; then pass; else
  fail "broken.result.json names no parse error position: $(cat "$jobs/failed/broken.result.json")"
fi

# --- stats ------------------------------------------------------------------
expect_exit 0 "stats --metrics" -- "$router" stats --metrics "$url"
if grep -Eq '^source\.store +1 +1 +0 ' "$work/out.txt"; then pass; else fail "stats table: $(cat "$work/out.txt")"; fi
if grep -Eq "^jobs sent +2$" "$work/out.txt"; then pass; else fail "stats shows other than 2 sent jobs (a received one and a folder one): $(cat "$work/out.txt")"; fi
if grep -Eq '^encrypt AES' "$work/out.txt"; then pass; else fail "stats shows no encryption"; fi
expect_exit 0 "stats --config" -- "$router" stats --config "$config"
if grep -q '^delivery ' "$work/out.txt"; then pass; else fail "stats --config table: $(cat "$work/out.txt")"; fi

expect_exit 2 "stats without an address" -- "$router" stats
expect_exit 2 "stats with a non-loopback URL" -- "$router" stats --metrics http://192.0.2.1:9464/metrics
expect_exit 3 "stats with a config without metrics_listen" -- "$router" stats --config "$work/demo/router.textproto"
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 1 "stats against a closed port" -- "$router" stats --metrics "http://127.0.0.1:$closed/metrics" --timeout-ms 2000
expect_exit 1 "stats against a path that is not /metrics" -- "$router" stats --metrics "http://127.0.0.1:$port/other"

# --- serve refusals -----------------------------------------------------------
sed "s|metrics_listen: .*|metrics_listen: \"0.0.0.0:$port\"|" "$config" >"$work/public.textproto"
expect_exit 3 "serve with a non-loopback metrics_listen" -- "$router" serve --config "$work/public.textproto"
if grep -q "metrics_listen" "$work/err.txt"; then pass; else fail "error names no field: $(cat "$work/err.txt")"; fi
expect_exit 4 "serve on a busy metrics port" -- timeout 20 "$router" serve --config "$config"
sed "/^metrics_listen:/d; s|listen: \"127.0.0.1:0\"|listen: \"127.0.0.1:$smtp_port\"|" "$config" >"$work/busy.textproto"
expect_exit 4 "serve on a busy reception port" -- timeout 20 "$router" serve --config "$work/busy.textproto"
if grep -q "reception.listen" "$work/err.txt" && grep -q "pick a free port" "$work/err.txt"; then pass; else
  fail "busy reception port error: $(cat "$work/err.txt")"
fi
expect_exit 0 "serve --help" -- "$router" serve --help
if grep -q "smtp reception port N" "$work/out.txt"; then pass; else fail "serve --help: $(cat "$work/out.txt")"; fi
expect_exit 2 "serve without --config" -- "$router" serve
expect_exit 2 "serve with a bad --poll-ms" -- "$router" serve --config "$config" --poll-ms 5
expect_exit 4 "serve with a missing job folder" -- timeout 20 "$router" serve \
  --config "$work/demo/router.textproto" --jobs "$work/no-such-folder"
if [[ -e "$work/no-such-folder" ]]; then fail "serve created a missing job folder"; else pass; fi

# --- stop ---------------------------------------------------------------------
kill -TERM "$daemon_pid"
if wait_for 15 bash -c "! kill -0 $daemon_pid 2>/dev/null"; then pass; else fail "serve did not stop within 15 s of SIGTERM"; fi
wait "$daemon_pid"
status=$?
daemon_pid=""
if [[ $status -eq 0 ]]; then pass; else fail "serve exited $status after SIGTERM"; fi
if grep -q 'serve: started' "$work/serve.err" && grep -q 'serve: stopped' "$work/serve.err"; then pass; else
  fail "serve logged no start or stop line"; cat "$work/serve.err"
fi

report
