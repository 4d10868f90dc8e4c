// BER reading helpers for the CMS decoders: tag checks, optional elements and
// OCTET STRINGs in constructed form.
#include "runtime/cms/ber_reader.hpp"

#include <botan/der_enc.h>

namespace router::cms::ber {

namespace {

// Constructed OCTET STRINGs may nest; OpenSSL writes one level. Deeper input is
// rejected so that a crafted message cannot exhaust the stack.
constexpr size_t max_octet_string_depth = 8;

// Nesting allowed in to_definite_lengths(); CMS needs about 12 levels.
constexpr size_t max_element_depth = 32;

/// Reads one element of BER input and writes it back with definite lengths.
class length_normalizer {
 public:
  explicit length_normalizer(const bytes& in) : in_(in) {}

  /// Reads the element at `position_` and appends its definite form to `out`.
  void element(size_t depth, bytes& out) {
    if (depth > max_element_depth)
      throw decode_error("BER elements nested deeper than " + std::to_string(max_element_depth) + " levels");

    const size_t identifier_start = position_;
    const bool constructed = (byte() & 0x20) != 0;
    if ((in_[identifier_start] & 0x1F) == 0x1F) {
      // High tag number form (X.690 8.1.2.4): continuation bytes have bit 8 set.
      while ((byte() & 0x80) != 0) {
        if (position_ - identifier_start > 5)
          throw decode_error("BER tag number is too long");
      }
    }
    const bytes identifier(in_.begin() + identifier_start, in_.begin() + position_);

    bytes contents;
    const uint8_t first_length = byte();
    if (first_length == 0x80) {
      if (!constructed)
        throw decode_error("BER primitive element with indefinite length");
      while (!at_end_of_contents())
        element(depth + 1, contents);
      position_ += 2;
    } else {
      const size_t length = definite_length(first_length);
      if (constructed)
        constructed_contents(position_ + length, depth, contents);
      else
        contents.assign(in_.begin() + position_, in_.begin() + position_ + length);
      position_ += constructed ? 0 : length;
    }

    out.insert(out.end(), identifier.begin(), identifier.end());
    append_length(contents.size(), out);
    out.insert(out.end(), contents.begin(), contents.end());
  }

  size_t position() const { return position_; }

 private:
  uint8_t byte() {
    if (position_ >= in_.size())
      throw decode_error("BER input is truncated");
    return in_[position_++];
  }

  bool at_end_of_contents() {
    if (position_ + 2 > in_.size())
      throw decode_error("BER input is truncated: an end-of-contents marker is missing");
    return in_[position_] == 0 && in_[position_ + 1] == 0;
  }

  size_t definite_length(uint8_t first) {
    size_t length = first;
    if (first > 0x80) {
      const size_t count = first & 0x7F;
      if (count > 4)
        throw decode_error("BER length field is too long");
      length = 0;
      for (size_t i = 0; i < count; ++i)
        length = (length << 8) | byte();
    }
    if (length > in_.size() - position_)
      throw decode_error("BER element length exceeds the input");
    return length;
  }

  void constructed_contents(size_t end, size_t depth, bytes& contents) {
    while (position_ < end)
      element(depth + 1, contents);
    if (position_ != end)
      throw decode_error("BER element overruns its enclosing constructed element");
  }

  static void append_length(size_t length, bytes& out) {
    if (length < 0x80) {
      out.push_back(static_cast<uint8_t>(length));
      return;
    }
    bytes digits;
    for (size_t rest = length; rest > 0; rest >>= 8)
      digits.insert(digits.begin(), static_cast<uint8_t>(rest & 0xFF));
    out.push_back(static_cast<uint8_t>(0x80 | digits.size()));
    out.insert(out.end(), digits.begin(), digits.end());
  }

  const bytes& in_;
  size_t position_ = 0;
};

std::string describe_tag(const Botan::BER_Object& object) {
  if (!object.is_set())
    return "nothing";
  return "tag " + std::to_string(object.type()) + " class " + std::to_string(object.get_class());
}

void append_octet_string(const Botan::BER_Object& object, const std::string& field, size_t depth, bytes& out) {
  if ((object.get_class() & Botan::CONSTRUCTED) == 0) {
    out.insert(out.end(), object.bits(), object.bits() + object.length());
    return;
  }

  if (depth >= max_octet_string_depth)
    throw decode_error(field + ": constructed OCTET STRING nested deeper than " +
                       std::to_string(max_octet_string_depth) + " levels");

  // X.690 8.7.3.2: the segments of a constructed string are OCTET STRINGs.
  Botan::BER_Decoder segments(object);
  for (Botan::BER_Object segment = segments.get_next_object(); segment.is_set();
       segment = segments.get_next_object()) {
    if (segment.type() != Botan::OCTET_STRING)
      throw decode_error(field + ": a segment of a constructed OCTET STRING has " + describe_tag(segment));
    append_octet_string(segment, field, depth + 1, out);
  }
}

} // namespace

bytes to_definite_lengths(const bytes& ber) {
  length_normalizer normalizer(ber);
  bytes out;
  normalizer.element(0, out);
  if (normalizer.position() != ber.size())
    throw decode_error("unexpected data after the BER element");
  return out;
}

bool next_is(Botan::BER_Decoder& decoder, int type, Botan::ASN1_Tag class_tag) {
  Botan::BER_Object upcoming = decoder.get_next_object();
  const bool matches = upcoming.is_a(type, class_tag);
  decoder.push_back(std::move(upcoming));
  return matches;
}

Botan::BER_Object next(Botan::BER_Decoder& decoder, int type, Botan::ASN1_Tag class_tag,
                       const std::string& field) {
  Botan::BER_Object object = decoder.get_next_object();
  if (!object.is_a(type, class_tag))
    throw decode_error(field + ": expected tag " + std::to_string(type) + " class " + std::to_string(class_tag) +
                       ", found " + describe_tag(object));
  return object;
}

Botan::BER_Object next_any(Botan::BER_Decoder& decoder, const std::string& field) {
  Botan::BER_Object object = decoder.get_next_object();
  if (!object.is_set())
    throw decode_error(field + " is missing");
  return object;
}

void expect_end(Botan::BER_Decoder& decoder, const std::string& structure) {
  const Botan::BER_Object extra = decoder.get_next_object();
  if (extra.is_set())
    throw decode_error(structure + " has an unexpected trailing element (" + describe_tag(extra) + ")");
}

bytes octet_string(const Botan::BER_Object& object, const std::string& field) {
  bytes out;
  append_octet_string(object, field, 0, out);
  return out;
}

bytes bit_string(const Botan::BER_Object& object, const std::string& field) {
  if (!object.is_a(Botan::BIT_STRING, Botan::UNIVERSAL))
    throw decode_error(field + ": expected a primitive BIT STRING, found " + describe_tag(object));
  // The first content octet counts the unused bits of the last octet (X.690 8.6.2.2).
  if (object.length() == 0)
    throw decode_error(field + ": the BIT STRING has no initial octet");
  if (object.bits()[0] != 0)
    throw decode_error(field + ": the BIT STRING has " + std::to_string(object.bits()[0]) +
                       " unused bits, but a key is a whole number of octets");
  return bytes(object.bits() + 1, object.bits() + object.length());
}

Botan::OID object_identifier(Botan::BER_Decoder& decoder, const std::string& field) {
  const Botan::BER_Object object = next(decoder, Botan::OBJECT_ID, Botan::UNIVERSAL, field);
  Botan::OID oid;
  Botan::BER_Decoder(encode_element(object)).decode(oid);
  return oid;
}

size_t small_integer(Botan::BER_Decoder& decoder, const std::string& field) {
  const Botan::BigInt value = integer(decoder, field);
  if (value.is_negative() || value.bits() > 32)
    throw decode_error(field + " is out of range");
  return value.to_u32bit();
}

Botan::BigInt integer(Botan::BER_Decoder& decoder, const std::string& field) {
  if (!next_is(decoder, Botan::INTEGER, Botan::UNIVERSAL))
    throw decode_error(field + ": expected an INTEGER, found " + describe_tag(decoder.get_next_object()));
  Botan::BigInt value;
  decoder.decode(value);
  return value;
}

Botan::AlgorithmIdentifier algorithm_identifier(Botan::BER_Decoder& decoder, const std::string& field) {
  const Botan::BER_Object object = next(decoder, Botan::SEQUENCE, Botan::CONSTRUCTED, field);

  // AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }
  Botan::BER_Decoder fields(object);
  const Botan::OID algorithm = object_identifier(fields, field + ".algorithm");
  bytes parameters;
  const Botan::BER_Object parameter_object = fields.get_next_object();
  if (parameter_object.is_set())
    parameters = encode_element(parameter_object);
  expect_end(fields, field);
  return Botan::AlgorithmIdentifier(algorithm, parameters);
}

bytes encode_element(const Botan::BER_Object& object) {
  bytes out;
  Botan::DER_Encoder(out).add_object(object.type(), object.get_class(), object.bits(), object.length());
  return out;
}

bytes as_set(const Botan::BER_Object& implicit_set) {
  bytes out;
  Botan::DER_Encoder(out).add_object(Botan::SET, Botan::CONSTRUCTED, implicit_set.bits(), implicit_set.length());
  return out;
}

} // namespace router::cms::ber
