// BER reading helpers for the CMS decoders, on top of Botan's BER_Decoder.
//
// These helpers add what CMS input from other producers needs:
// indefinite lengths rewritten as definite ones before Botan parses them,
// OCTET STRINGs in constructed form, peeking at an OPTIONAL element, and
// errors that name the field. Every helper throws decode_error on malformed
// input. Internal to runtime/cms.
#pragma once

#include "runtime/cms/reader.hpp"

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/bigint.h>

#include <string>

namespace router::cms::ber {

/// Class bits of a context-specific tag in primitive and in constructed form.
inline const auto context_primitive = Botan::CONTEXT_SPECIFIC;
inline const auto context_constructed = Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED);

/// Rewrites the BER element `ber` with every indefinite length (X.690 8.1.3.6)
/// replaced by a definite one. Primitive contents are kept byte for byte.
/// CMS input goes through this first because Botan 2.19's BER_Decoder misreads
/// indefinite lengths below the top level: its sub-decoders peek from the wrong
/// offset. Throws decode_error on truncated input, nesting deeper than 32
/// levels, an indefinite primitive, or bytes after the element.
bytes to_definite_lengths(const bytes& ber);

/// Returns true when the next element has this tag, without consuming it.
bool next_is(Botan::BER_Decoder& decoder, int type, Botan::ASN1_Tag class_tag);

/// Reads the next element and checks its tag; throws decode_error naming the field.
Botan::BER_Object next(Botan::BER_Decoder& decoder, int type, Botan::ASN1_Tag class_tag,
                       const std::string& field);

/// Reads the next element whatever its tag; throws decode_error when there is none.
Botan::BER_Object next_any(Botan::BER_Decoder& decoder, const std::string& field);

/// Throws decode_error unless every element of a constructed value has been read.
void expect_end(Botan::BER_Decoder& decoder, const std::string& structure);

/// Returns the octets of an OCTET STRING, primitive or constructed (X.690 8.7.3),
/// under whatever tag an IMPLICIT tagging gave it.
bytes octet_string(const Botan::BER_Object& object, const std::string& field);

/// Returns the octets of a primitive BIT STRING whose length is a whole number
/// of octets, as key values are (X.690 8.6); throws decode_error otherwise.
bytes bit_string(const Botan::BER_Object& object, const std::string& field);

/// Reads an OBJECT IDENTIFIER.
Botan::OID object_identifier(Botan::BER_Decoder& decoder, const std::string& field);

/// Reads a non-negative INTEGER that fits in 32 bits, such as a CMSVersion.
size_t small_integer(Botan::BER_Decoder& decoder, const std::string& field);

/// Reads an INTEGER of any size.
Botan::BigInt integer(Botan::BER_Decoder& decoder, const std::string& field);

/// Reads an AlgorithmIdentifier; its parameters stay encoded.
Botan::AlgorithmIdentifier algorithm_identifier(Botan::BER_Decoder& decoder, const std::string& field);

/// Returns the encoding of a whole element: tag, definite length and value. For
/// an element that arrived in DER this reproduces the input bytes.
bytes encode_element(const Botan::BER_Object& object);

/// Returns the DER of a SET OF whose content octets arrived under an IMPLICIT
/// tag, as RFC 5652 5.4 and RFC 5083 2.2 need for signed and authenticated
/// attributes.
bytes as_set(const Botan::BER_Object& implicit_set);

} // namespace router::cms::ber
