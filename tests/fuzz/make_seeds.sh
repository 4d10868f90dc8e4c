#!/usr/bin/env bash
# Makes the seed corpora of the fuzz targets in DIR: our encoder's output
# (fuzz_seed_writer), then OpenSSL's in the shapes other mail clients send:
# streamed BER with indefinite lengths, key identifiers, OAEP and AES-GCM.
# Usage: make_seeds.sh FUZZ_SEED_WRITER DIR
set -euo pipefail

writer=$1
dir=$2
rm -rf "$dir"
"$writer" "$dir"

pki="$dir/pki"
text="$dir/document.txt"
printf 'Content-Type: text/plain\n\nfuzz seed made by openssl\n' >"$text"

sign() {  # sign NAME FORMAT OPTIONS...
  local name=$1 format=$2
  shift 2
  openssl cms -sign -in "$text" -signer "$pki/signer.cert.pem" -inkey "$pki/signer.key.pem" "$@" \
    -out "$dir/$format/openssl-$name"
}
encrypt() {  # encrypt NAME FORMAT OPTIONS...
  local name=$1 format=$2
  shift 2
  openssl cms -encrypt -in "$text" "$@" -out "$dir/$format/openssl-$name"
}

recipient=(-recip "$pki/recipient.cert.pem")
sign signed-streamed.der cms -nodetach -stream -outform DER
sign signed-keyid.der cms -nodetach -keyid -outform DER
sign signed-pss.der cms -nodetach -outform DER -keyopt rsa_padding_mode:pss
sign signed-detached.eml mime
sign signed-opaque.eml mime -nodetach
encrypt cbc-streamed.der cms -aes256 -stream -outform DER "${recipient[@]}"
encrypt gcm-streamed.der cms -aes-128-gcm -stream -outform DER "${recipient[@]}"
encrypt oaep-keyid.der cms -aes192 -keyid -outform DER "${recipient[@]}" \
  -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
encrypt gcm.eml mime -aes-256-gcm "${recipient[@]}"
rm -f "$text"
