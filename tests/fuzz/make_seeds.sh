#!/usr/bin/env bash
# Makes the seed corpora of the fuzz targets in DIR: our encoder's output
# (fuzz_seed_writer), then OpenSSL's in the shapes other mail clients send:
# streamed BER with indefinite lengths, key identifiers, OAEP, AES-GCM and
# ECDH key agreement;
# and SMTP client sessions for smtp_fuzz into DIR/smtp.
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
ec_recipient=(-recip "$pki/ec-recipient.cert.pem")
encrypt ecdh-streamed.der cms -aes128 -stream -outform DER "${ec_recipient[@]}"
encrypt ecdh-keyid-gcm.der cms -aes-256-gcm -keyid -outform DER "${ec_recipient[@]}" -keyopt ecdh_kdf_md:sha384
rm -f "$text"

# SMTP sessions for smtp_fuzz: the first byte holds the options (see
# smtp_fuzz.cpp), the rest is what a client sends.
smtp="$dir/smtp"
mkdir -p "$smtp"
seed() {  # seed NAME OPTIONS-BYTE-IN-OCTAL TEXT (printf format)
  local name=$1 options=$2
  shift 2
  printf "\\$options$*" >"$smtp/$name"
}
seed plain 002 'EHLO client.test\r\nMAIL FROM:<alice@client.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n'
seed pipelined 360 'EHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@mx.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n'
seed helo 002 'HELO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<postmaster>\r\nRSET\r\nNOOP\r\nVRFY x\r\nEXPN y\r\nHELP\r\nQUIT\r\n'
seed starttls 003 'EHLO client.test\r\nSTARTTLS\r\nMAIL FROM:<a@b.test>\r\nEHLO again.test\r\nSTARTTLS\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nx\r\n.\r\n'
seed smuggling 362 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nfirst\n.\r\nMAIL FROM:<evil@b.test>\r\nRCPT TO:<v@d.test>\r\nDATA\r\nsmuggled\r\n.\nstill\r\n.\r\nNOOP\r\n'
seed bare-lf 002 'EHLO c.test\nNOOP\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nline\nline\r\ntext\rmore\r\n.\r\n'
seed errors 000 'FOO\r\nMAIL FROM:a@b\r\nRCPT TO:<>\r\nMAIL FROM:<a@b.test> SMTPUTF8\r\nMAIL FROM:<a@b.test> SIZE=99999999999999999999\r\nDATA x\r\n\r\n\001\r\n'
seed timeout 006 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nhalf a message\r\n'
seed early 010 'EHLO c.test\r\n'
# Lines at and over the limits: a 600-octet command and a 1200-octet data line.
{
  printf '\002EHLO c.test\r\nNOOP %0600d\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n' 0
  printf '%01200d\r\n.\r\n' 0
} >"$smtp/long-lines"
{
  printf '\002EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n'
  for _ in $(seq 80); do printf '%070d\r\n' 0; done
  printf '.\r\n'
} >"$smtp/too-big"
