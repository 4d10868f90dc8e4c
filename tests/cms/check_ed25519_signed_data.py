#!/usr/bin/env python3
"""Check an Ed25519 CMS SignedData with Python's cryptography package.

OpenSSL 3.0.19 cannot verify Ed25519 SignedData with signed attributes: it
passes a digest to the EdDSA provider, which fails with "invalid digest".
This script checks the signature itself. The signer's certificate must be in
the message, eContent (when present) must be the content, and messageDigest
must be the SHA-512 of the content. The Ed25519 signature must verify with the
certificate's key over the DER SET of the signed attributes (RFC 5652 section
5.4, RFC 8419). The certificate chain is left to `openssl verify`.

Usage: check_ed25519_signed_data.py MESSAGE.der CONTENT SIGNER.pem
Prints "Ed25519 SignedData verified" and exits 0 on success, else exits 1.
"""

import hashlib
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SHA512 = "2.16.840.1.101.3.4.2.3"
OID_ED25519 = "1.3.101.112"


class Tlv:
    """One DER element: its tag byte, its contents and its whole encoding."""

    def __init__(self, tag, contents, encoding):
        self.tag = tag
        self.contents = contents
        self.encoding = encoding

    def children(self):
        return parse_all(self.contents)


def parse_one(data, offset):
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not expected in CMS")
    length = data[offset + 1]
    header = 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[offset + 2:offset + 2 + count], "big")
        header += count
    end = offset + header + length
    if end > len(data):
        raise ValueError("element runs past the end of its container")
    return Tlv(tag, data[offset + header:end], data[offset:end]), end


def parse_all(data):
    elements = []
    offset = 0
    while offset < len(data):
        element, offset = parse_one(data, offset)
        elements.append(element)
    return elements


def oid_text(element):
    if element.tag != 0x06:
        raise ValueError("expected an OBJECT IDENTIFIER, found tag 0x%02x" % element.tag)
    body = element.contents
    arcs = [body[0] // 40, body[0] % 40] if body[0] < 80 else [2, body[0] - 80]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(str(arc) for arc in arcs)


def fail(reason):
    print("check failed: " + reason)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: check_ed25519_signed_data.py MESSAGE.der CONTENT SIGNER.pem")
    message = open(sys.argv[1], "rb").read()
    content = open(sys.argv[2], "rb").read()
    signer = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())

    content_info = parse_all(message)[0].children()
    if oid_text(content_info[0]) != OID_SIGNED_DATA:
        fail("contentType is not id-signedData")
    signed_data = content_info[1].children()[0].children()

    encapsulated = signed_data[2].children()
    if len(encapsulated) == 2 and encapsulated[1].children()[0].contents != content:
        fail("eContent differs from the content")

    certificates = [tlv for tlv in signed_data if tlv.tag == 0xA0]
    if not certificates:
        fail("the message carries no certificates")
    signer_der = signer.public_bytes(Encoding.DER)
    if signer_der not in [tlv.encoding for tlv in certificates[0].children()]:
        fail("the signer's certificate is not in the message")

    signer_info = signed_data[-1].children()[0].children()
    digest_algorithm = signer_info[2].children()
    if oid_text(digest_algorithm[0]) != OID_SHA512:
        fail("digestAlgorithm is not SHA-512")

    signed_attributes = signer_info[3]
    if signed_attributes.tag != 0xA0:
        fail("signedAttrs [0] is missing")
    digests = [attribute.children()[1].children()[0].contents
               for attribute in signed_attributes.children()
               if oid_text(attribute.children()[0]) == OID_MESSAGE_DIGEST]
    if digests != [hashlib.sha512(content).digest()]:
        fail("messageDigest is not the SHA-512 of the content")

    if oid_text(signer_info[4].children()[0]) != OID_ED25519:
        fail("signatureAlgorithm is not id-Ed25519")
    signature = signer_info[5].contents

    signed_bytes = b"\x31" + signed_attributes.encoding[1:]
    public_key = signer.public_key()
    if not isinstance(public_key, Ed25519PublicKey):
        fail("the signer's certificate has no Ed25519 key")
    try:
        public_key.verify(signature, signed_bytes)
    except InvalidSignature:
        fail("the Ed25519 signature does not verify")

    print("Ed25519 SignedData verified")


if __name__ == "__main__":
    main()
