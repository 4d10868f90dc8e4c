#!/usr/bin/env bash
# The smime-router program as a user runs it: demo, check-config and send.
# openssl checks every message the demo leaves in its outbox.
# Usage: cli_test.sh PATH_TO_SMIME_ROUTER
set -uo pipefail

router=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

# --- demo -------------------------------------------------------------------
demo="$work/demo"
expect_exit 0 "demo runs" -- "$router" demo --out "$demo"
cp "$work/out.txt" "$work/demo-output.txt"
outbox="$demo/outbox/new"

for function in STANDARD_ADDRESS EMAIL_TX_RESULTS FOLDER_TRANSFER_RESULT_REPORT STORE PERSONAL_BOX TRANSFER_BOX \
                FORWARDING SMTP_RECEPTION; do
  if grep -q " $function " "$work/demo-output.txt"; then pass; else fail "demo output has no line for $function"; fi
done

count=$(find "$outbox" -name '*.eml' | wc -l)
if [[ $count -ge 14 ]]; then pass; else fail "demo left $count messages in $outbox, expected at least 14"; fi

id_for() {  # maps a To address to the address-book id whose key decrypts it
  local local_part=${1%%@*}
  echo "$local_part"
}

encrypted=0 signed=0 both=0
for file in "$outbox"/*.eml; do
  to=$(grep -m1 '^To: ' "$file" | sed 's/^To: //; s/\r$//')
  if grep -q 'Content-Type: application/pkcs7-mime' "$file"; then
    id=$(id_for "$to")
    if ! openssl cms -decrypt -in "$file" -inkey "$demo/pki/$id.key.pem" -recip "$demo/pki/$id.cert.pem" \
        -out "$work/inner.eml" 2>"$work/err.txt"; then
      fail "openssl cannot decrypt $file for $id"; cat "$work/err.txt"; continue
    fi
    pass
    if grep -q 'multipart/signed' "$work/inner.eml"; then
      if openssl cms -verify -in "$work/inner.eml" -CAfile "$demo/pki/root.pem" -out /dev/null 2>"$work/err.txt"; then
        pass; both=$((both + 1))
      else
        fail "openssl cannot verify the signed entity inside $file"; cat "$work/err.txt"
      fi
    else
      encrypted=$((encrypted + 1))
    fi
  elif grep -q 'Content-Type: multipart/signed' "$file"; then
    if openssl cms -verify -in "$file" -CAfile "$demo/pki/root.pem" -out /dev/null 2>"$work/err.txt"; then
      pass; signed=$((signed + 1))
    else
      fail "openssl cannot verify $file"; cat "$work/err.txt"
    fi
  fi
  if grep -q 'x-pkcs7' "$file"; then fail "$file uses an application/x-pkcs7 type"; else pass; fi
  if awk 'length($0) > 999 { found = 1 } END { exit !found }' "$file"; then fail "$file has a line over 998 octets"; else pass; fi
done
[[ $encrypted -ge 1 ]] && pass || fail "no encrypted-only message in the demo outbox"
[[ $signed -ge 1 ]] && pass || fail "no signed-only message in the demo outbox"
[[ $both -ge 1 ]] && pass || fail "no signed-and-encrypted message in the demo outbox"

# carol's certificate has expired: she gets nothing; the fax sender gets a notice without the document.
if grep -l '^To: carol@example.com' "$outbox"/*.eml >/dev/null 2>&1; then fail "carol received a message"; else pass; fi
notice=$(grep -l '^To: fax-sender@remote.example.net' "$outbox"/*.eml | head -1)
if [[ -n "$notice" ]]; then
  pass
  # Neither the TIFF ("II*" in base64 is "SUkq") nor the PDF ("%PDF" is "JVBER") may appear.
  if grep -q -e 'SUkqAA' -e 'JVBERi0' -e 'fax-page.tif' "$notice"; then fail "the notice carries the document"; else pass; fi
  if grep -q 'carol@example.com' "$notice"; then pass; else fail "the notice does not name the failed destination"; fi
else
  fail "no certificate notice to the originator"
fi

# Running the demo again into the same folder works and starts a fresh outbox.
expect_exit 0 "demo runs again" -- "$router" demo --out "$demo"
# A folder that is not an earlier demo folder is left alone, even when it
# looks like a router folder with a config, keys and queued mail.
mkdir -p "$work/other/pki" "$work/other/outbox/new"
echo "my config" >"$work/other/router.textproto"
echo "my key" >"$work/other/pki/device.key.pem"
echo "queued" >"$work/other/outbox/new/1.eml"
expect_exit 2 "demo refuses a foreign folder" -- "$router" demo --out "$work/other"
if [[ "$(cat "$work/other/router.textproto")" == "my config" && -f "$work/other/pki/device.key.pem" &&
      -f "$work/other/outbox/new/1.eml" ]]; then pass; else fail "demo changed a foreign folder"; fi
# Demo private keys are readable by their owner only.
if [[ "$(stat -c %a "$demo/pki/alice.key.pem")" == "600" ]]; then pass; else fail "demo key is not mode 600"; fi

# --- check-config -----------------------------------------------------------
# The demo config is valid, but carol's certificate has expired, so the health check fails.
expect_exit 1 "check-config reports the expired certificate" -- "$router" check-config --config "$demo/router.textproto"
if grep -q "error: address_book 'carol': the certificate has expired" "$work/out.txt"; then pass
else fail "check-config output: $(cat "$work/out.txt")"; fi
sed 's/kind: EMAIL/kind: PIGEON/' "$demo/router.textproto" >"$demo/bad.textproto"
expect_exit 3 "check-config rejects an unknown kind" -- "$router" check-config --config "$demo/bad.textproto"
if grep -q 'bad.textproto' "$work/err.txt" && grep -q 'PIGEON' "$work/err.txt"; then pass
else fail "check-config error does not name the file and value: $(cat "$work/err.txt")"; fi
expect_exit 3 "check-config rejects a missing file" -- "$router" check-config --config "$demo/none.textproto"
expect_exit 2 "check-config needs --config" -- "$router" check-config
expect_exit 0 "check-config --help" -- "$router" check-config --help
: >"$demo/empty.textproto"
expect_exit 3 "check-config rejects an empty file" -- "$router" check-config --config "$demo/empty.textproto"
if grep -q 'empty' "$work/err.txt"; then pass; else fail "empty config message: $(cat "$work/err.txt")"; fi
expect_exit 3 "check-config rejects a folder" -- "$router" check-config --config "$demo"

# --- send ---------------------------------------------------------------------
pdf=$(dirname "$0")/../../demo/documents/maintenance-report.pdf
expect_exit 0 "send to bob" -- "$router" send --config "$demo/router.textproto" --function store --to bob \
  --attach "$pdf" --subject "Stored report"
if grep -q '"outcome":"sent_encrypted"' "$work/out.txt"; then pass; else fail "send output: $(cat "$work/out.txt")"; fi
file=$(sed 's/.*"outbox_file":"\([^"]*\)".*/\1/' "$work/out.txt")
if openssl cms -decrypt -in "$file" -inkey "$demo/pki/bob.key.pem" -recip "$demo/pki/bob.cert.pem" -out "$work/bob.eml"; then
  pass
  if grep -q 'maintenance-report.pdf' "$work/bob.eml"; then pass; else fail "decrypted message lacks the attachment"; fi
else
  fail "openssl cannot decrypt the sent message"
fi

# An attachment over 1 MiB goes by path and is streamed; openssl must return it unchanged.
head -c 3145739 /dev/urandom >"$work/large.bin"
expect_exit 0 "send a 3 MiB attachment" -- "$router" send --config "$demo/router.textproto" --function store \
  --to bob --attach "$work/large.bin"
if grep -q '"outcome":"sent_encrypted"' "$work/out.txt"; then pass; else fail "large send output: $(cat "$work/out.txt")"; fi
large_file=$(sed 's/.*"outbox_file":"\([^"]*\)".*/\1/' "$work/out.txt")
mkdir -p "$work/large-parts"
if openssl cms -decrypt -in "$large_file" -inkey "$demo/pki/bob.key.pem" -recip "$demo/pki/bob.cert.pem" \
    -out "$work/large.eml" &&
    /usr/bin/python3 "$(dirname "$0")/../mime/dump_mime_parts.py" "$work/large.eml" "$work/large-parts" \
      >"$work/large-parts.txt"; then
  pass
  part=$(sed -n 's/^part \([0-9]*\) .* large.bin$/\1/p' "$work/large-parts.txt")
  if [[ -n "$part" ]] && cmp -s "$work/large.bin" "$work/large-parts/part-$part.bin"; then pass
  else fail "the large attachment came back changed: $(cat "$work/large-parts.txt")"; fi
else
  fail "openssl cannot decrypt the message with the large attachment"
fi
if [[ -z "$(ls -A "$demo/outbox/tmp")" ]]; then pass; else fail "files left in $demo/outbox/tmp: $(ls "$demo/outbox/tmp")"; fi

expect_exit 1 "send to an unknown id" -- "$router" send --config "$demo/router.textproto" --function store --to nobody
if grep -q '"outcome":"rejected","reason":"UNKNOWN_DESTINATION"' "$work/out.txt"; then pass
else fail "unknown id output: $(cat "$work/out.txt")"; fi

expect_exit 1 "send to an expired certificate" -- "$router" send --config "$demo/router.textproto" \
  --function forwarding --to carol --originator sender@remote.example.net
if grep -q '"reason":"CERTIFICATE_EXPIRED"' "$work/out.txt"; then pass; else fail "expired output: $(cat "$work/out.txt")"; fi

if grep -q '"notice":"certificate_failure","sent":true' "$work/out.txt"; then pass
else fail "send output lacks the notice line: $(cat "$work/out.txt")"; fi

expect_exit 2 "send --sign outside standard_address" -- "$router" send --config "$demo/router.textproto" \
  --function store --to bob --sign
expect_exit 2 "send :sign outside standard_address" -- "$router" send --config "$demo/router.textproto" \
  --function store --to bob:sign
expect_exit 0 "send :sign for standard_address" -- "$router" send --config "$demo/router.textproto" \
  --function standard_address --to bob:sign
if grep -q '"outcome":"sent_signed"' "$work/out.txt"; then pass; else fail "bob:sign output: $(cat "$work/out.txt")"; fi

expect_exit 2 "send with an unknown function" -- "$router" send --config "$demo/router.textproto" \
  --function teleport --to bob
expect_exit 2 "send without --to" -- "$router" send --config "$demo/router.textproto" --function store
expect_exit 2 "send with a missing attachment" -- "$router" send --config "$demo/router.textproto" \
  --function store --to bob --attach "$work/none.pdf"
expect_exit 3 "send with an invalid config" -- "$router" send --config "$demo/bad.textproto" --function store --to bob
expect_exit 2 "unknown command" -- "$router" frobnicate

# --- verify and decrypt ---------------------------------------------------------
signed_file=$(grep -l 'Content-Type: multipart/signed' "$outbox"/*.eml | head -1)
expect_exit 0 "verify a signed demo message" -- "$router" verify "$signed_file" --ca "$demo/pki/root.pem"
if grep -q '^result: good' "$work/out.txt" && grep -q '^reason: ok' "$work/out.txt" && grep -q '^signer: .*CN=' "$work/out.txt"
then pass; else fail "verify output: $(cat "$work/out.txt")"; fi
expect_exit 1 "verify without a trust anchor" -- "$router" verify "$signed_file"
if grep -q '^reason: untrusted' "$work/out.txt"; then pass; else fail "untrusted output: $(cat "$work/out.txt")"; fi
expect_exit 1 "verify long after expiry" -- "$router" verify "$signed_file" --ca "$demo/pki/root.pem" --at 4102444800
if grep -q '^reason: expired' "$work/out.txt"; then pass; else fail "expired output: $(cat "$work/out.txt")"; fi
# Change the case of one header name inside the signed part: same meaning, other bytes.
awk '/^--=_signed/ { inside = 1 } inside && !done && /^Content-Type: / { sub(/^Content-Type: /, "Content-type: "); done = 1 } { print }' \
  "$signed_file" >"$work/tampered.eml"
expect_exit 1 "verify a changed message" -- "$router" verify "$work/tampered.eml" --ca "$demo/pki/root.pem"
if grep -q '^reason: digest_mismatch' "$work/out.txt"; then pass; else fail "tampered output: $(cat "$work/out.txt")"; fi
expect_exit 2 "verify a missing file" -- "$router" verify "$work/none.eml" --ca "$demo/pki/root.pem"
expect_exit 2 "verify with an invalid --at" -- "$router" verify "$signed_file" --at yesterday

# bob's message from the send section above: decrypt it, then check the inner entity.
expect_exit 0 "decrypt the message sent to bob" -- "$router" decrypt "$file" --key "$demo/pki/bob.key.pem" \
  --cert "$demo/pki/bob.cert.pem" --out "$work/bob-inner.eml"
if grep -q 'maintenance-report.pdf' "$work/bob-inner.eml"; then pass; else fail "decrypted entity lacks the attachment"; fi
if cmp -s "$work/bob-inner.eml" "$work/bob.eml"; then pass; else fail "decrypt output differs from openssl's"; fi
expect_exit 1 "decrypt with another recipient's key" -- "$router" decrypt "$file" --key "$demo/pki/alice.key.pem" \
  --cert "$demo/pki/alice.cert.pem"
if grep -q 'recipient_not_found' "$work/err.txt"; then pass; else fail "wrong-key output: $(cat "$work/err.txt")"; fi
expect_exit 1 "decrypt with a key that does not match" -- "$router" decrypt "$file" --key "$demo/pki/alice.key.pem" \
  --cert "$demo/pki/bob.cert.pem"
if grep -q 'key_mismatch' "$work/err.txt"; then pass; else fail "key-mismatch output: $(cat "$work/err.txt")"; fi
expect_exit 1 "decrypt a signed message" -- "$router" decrypt "$signed_file" --key "$demo/pki/bob.key.pem" \
  --cert "$demo/pki/bob.cert.pem"
expect_exit 2 "decrypt without --key" -- "$router" decrypt "$file" --cert "$demo/pki/bob.cert.pem"

# Signed and encrypted demo messages: decrypt, then verify what was inside.
for inner_file in $(grep -l 'Content-Type: application/pkcs7-mime' "$outbox"/*.eml); do
  id=$(id_for "$(grep -m1 '^To: ' "$inner_file" | sed 's/^To: //; s/\r$//')")
  [[ -f "$demo/pki/$id.key.pem" ]] || continue
  expect_exit 0 "decrypt $inner_file" -- "$router" decrypt "$inner_file" --key "$demo/pki/$id.key.pem" \
    --cert "$demo/pki/$id.cert.pem" --out "$work/inner.eml"
  if grep -q 'multipart/signed' "$work/inner.eml"; then
    expect_exit 0 "verify inside $inner_file" -- "$router" verify "$work/inner.eml" --ca "$demo/pki/root.pem"
  fi
done

# Messages made by openssl read back by the router.
printf 'Content-Type: text/plain\n\nmade by openssl\n' >"$work/plain.txt"
openssl cms -sign -in "$work/plain.txt" -signer "$demo/pki/device.cert.pem" -inkey "$demo/pki/device.key.pem" \
  -certfile "$demo/pki/intermediate.pem" -out "$work/openssl-signed.eml"
expect_exit 0 "verify an openssl signature" -- "$router" verify "$work/openssl-signed.eml" --ca "$demo/pki/root.pem"
openssl cms -encrypt -aes-256-gcm -in "$work/plain.txt" -recip "$demo/pki/bob.cert.pem" -out "$work/openssl-gcm.eml"
expect_exit 0 "decrypt an openssl AuthEnvelopedData" -- "$router" decrypt "$work/openssl-gcm.eml" \
  --key "$demo/pki/bob.key.pem" --cert "$demo/pki/bob.cert.pem" --out "$work/openssl-plain.txt"
if grep -q 'made by openssl' "$work/openssl-plain.txt"; then pass; else fail "openssl GCM message decrypted wrongly"; fi

report
