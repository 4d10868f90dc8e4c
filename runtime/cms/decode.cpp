// Decoders for ContentInfo, SignedData, EnvelopedData and AuthEnvelopedData.
// Each structure is read one field per line in the order of its ASN.1
// definition. Botan exceptions on malformed input become cms::decode_error.
#include "runtime/cms/ber_reader.hpp"
#include "runtime/cms/encoding.hpp"
#include "runtime/cms/reader.hpp"

#include <botan/hex.h>

namespace router::cms {

namespace {

using namespace ber;

inline const Botan::OID id_ct_compressed_data{1, 2, 840, 113549, 1, 9, 16, 1, 9};

/// Runs a decoding step and turns Botan's exceptions into decode_error.
template <typename Step>
auto guarded(const std::string& structure, Step&& step) {
  try {
    return step();
  } catch (const decode_error&) {
    throw;
  } catch (const Botan::Exception& e) {
    throw decode_error("malformed " + structure + ": " + e.what());
  }
}

/// IssuerAndSerialNumber (RFC 5652 10.2.4) or [0] IMPLICIT SubjectKeyIdentifier.
certificate_identifier decode_identifier(Botan::BER_Decoder& decoder, const std::string& field) {
  const Botan::BER_Object object = next_any(decoder, field);
  certificate_identifier id;

  if (object.is_a(0, context_primitive) || object.is_a(0, context_constructed)) {
    id.by_key_identifier = true;
    id.subject_key_identifier = octet_string(object, field + ".subjectKeyIdentifier");
    return id;
  }

  if (!object.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
    throw decode_error(field + " is neither issuerAndSerialNumber nor subjectKeyIdentifier");
  Botan::BER_Decoder fields(object);
  fields.decode(id.issuer);                                                 // issuer
  id.serial_number = integer(fields, field + ".serialNumber");             // serialNumber
  expect_end(fields, field);
  return id;
}

attribute decode_attribute(const Botan::BER_Object& object) {
  if (!object.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
    throw decode_error("an Attribute is not a SEQUENCE");

  // Attribute ::= SEQUENCE { attrType OID, attrValues SET OF AttributeValue }
  Botan::BER_Decoder fields(object);
  attribute decoded;
  decoded.type = object_identifier(fields, "Attribute.attrType");
  Botan::BER_Decoder values(next(fields, Botan::SET, Botan::CONSTRUCTED, "Attribute.attrValues"));
  for (Botan::BER_Object value = values.get_next_object(); value.is_set(); value = values.get_next_object())
    decoded.values.push_back(encode_element(value));
  expect_end(fields, "Attribute");
  return decoded;
}

std::vector<attribute> decode_attributes(const Botan::BER_Object& implicit_set) {
  std::vector<attribute> attributes;
  Botan::BER_Decoder elements(implicit_set);
  for (Botan::BER_Object element = elements.get_next_object(); element.is_set();
       element = elements.get_next_object())
    attributes.push_back(decode_attribute(element));
  return attributes;
}

signer_info decode_signer_info(const Botan::BER_Object& object) {
  if (!object.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
    throw decode_error("a SignerInfo is not a SEQUENCE");

  Botan::BER_Decoder fields(object);
  signer_info info;
  info.version = small_integer(fields, "SignerInfo.version");
  info.sid = decode_identifier(fields, "SignerInfo.sid");
  info.digest_algorithm = algorithm_identifier(fields, "SignerInfo.digestAlgorithm");
  if (next_is(fields, 0, context_constructed)) {
    const Botan::BER_Object attributes = fields.get_next_object();  // signedAttrs [0] IMPLICIT
    // NOTE: the bytes are taken as received. RFC 5652 5.3 requires DER here,
    // and a signer that sent BER would fail with bad_signature.
    info.signed_attributes_der = as_set(attributes);
    info.signed_attributes = decode_attributes(attributes);
  }
  info.signature_algorithm = algorithm_identifier(fields, "SignerInfo.signatureAlgorithm");
  info.signature = octet_string(next(fields, Botan::OCTET_STRING, Botan::UNIVERSAL, "SignerInfo.signature"),
                                "SignerInfo.signature");
  if (next_is(fields, 1, context_constructed))
    fields.get_next_object();  // unsignedAttrs [1] IMPLICIT, not used
  expect_end(fields, "SignerInfo");
  return info;
}

/// EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
void decode_encapsulated_content_info(Botan::BER_Decoder& decoder, signed_data& out) {
  Botan::BER_Decoder fields(next(decoder, Botan::SEQUENCE, Botan::CONSTRUCTED, "SignedData.encapContentInfo"));
  out.encapsulated_content_type = object_identifier(fields, "EncapsulatedContentInfo.eContentType");
  if (next_is(fields, 0, context_constructed)) {
    Botan::BER_Decoder explicit_content(fields.get_next_object());
    const Botan::BER_Object content = next_any(explicit_content, "EncapsulatedContentInfo.eContent");
    if (content.type() != Botan::OCTET_STRING)
      throw decode_error("EncapsulatedContentInfo.eContent is not an OCTET STRING");
    out.encapsulated_content = octet_string(content, "EncapsulatedContentInfo.eContent");
    expect_end(explicit_content, "EncapsulatedContentInfo.eContent");
  }
  expect_end(fields, "EncapsulatedContentInfo");
}

/// CertificateSet: plain certificates are kept, the other CertificateChoices skipped.
std::vector<Botan::X509_Certificate> decode_certificates(const Botan::BER_Object& implicit_set) {
  std::vector<Botan::X509_Certificate> certificates;
  Botan::BER_Decoder elements(implicit_set);
  for (Botan::BER_Object element = elements.get_next_object(); element.is_set();
       element = elements.get_next_object()) {
    if (element.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
      certificates.emplace_back(encode_element(element));
  }
  return certificates;
}

signed_data decode_signed_data_fields(const Botan::BER_Object& object) {
  Botan::BER_Decoder fields(object);
  signed_data out;
  out.version = small_integer(fields, "SignedData.version");
  Botan::BER_Decoder digests(next(fields, Botan::SET, Botan::CONSTRUCTED, "SignedData.digestAlgorithms"));
  while (next_is(digests, Botan::SEQUENCE, Botan::CONSTRUCTED))
    out.digest_algorithms.push_back(algorithm_identifier(digests, "SignedData.digestAlgorithms"));
  expect_end(digests, "SignedData.digestAlgorithms");
  decode_encapsulated_content_info(fields, out);
  if (next_is(fields, 0, context_constructed))
    out.certificates = decode_certificates(fields.get_next_object());  // certificates [0] IMPLICIT
  if (next_is(fields, 1, context_constructed))
    fields.get_next_object();  // crls [1] IMPLICIT, not used
  Botan::BER_Decoder signers(next(fields, Botan::SET, Botan::CONSTRUCTED, "SignedData.signerInfos"));
  for (Botan::BER_Object signer = signers.get_next_object(); signer.is_set(); signer = signers.get_next_object())
    out.signer_infos.push_back(decode_signer_info(signer));
  expect_end(fields, "SignedData");
  return out;
}

key_trans_recipient_info decode_key_trans_recipient_info(const Botan::BER_Object& object) {
  Botan::BER_Decoder fields(object);
  key_trans_recipient_info info;
  info.version = small_integer(fields, "KeyTransRecipientInfo.version");
  info.rid = decode_identifier(fields, "KeyTransRecipientInfo.rid");
  info.key_encryption_algorithm = algorithm_identifier(fields, "KeyTransRecipientInfo.keyEncryptionAlgorithm");
  info.encrypted_key = octet_string(
      next(fields, Botan::OCTET_STRING, Botan::UNIVERSAL, "KeyTransRecipientInfo.encryptedKey"),
      "KeyTransRecipientInfo.encryptedKey");
  expect_end(fields, "KeyTransRecipientInfo");
  return info;
}

/// OriginatorPublicKey ::= SEQUENCE { algorithm AlgorithmIdentifier, publicKey BIT STRING }
originator_public_key decode_originator_public_key(const Botan::BER_Object& object) {
  Botan::BER_Decoder fields(object);
  originator_public_key key;
  key.algorithm = algorithm_identifier(fields, "OriginatorPublicKey.algorithm");
  key.public_key = bit_string(next_any(fields, "OriginatorPublicKey.publicKey"), "OriginatorPublicKey.publicKey");
  expect_end(fields, "OriginatorPublicKey");
  return key;
}

/// originator [0] EXPLICIT OriginatorIdentifierOrKey: issuerAndSerialNumber,
/// subjectKeyIdentifier [0] or originatorKey [1], the last two IMPLICIT.
void decode_originator(Botan::BER_Decoder& decoder, key_agree_recipient_info& info) {
  Botan::BER_Decoder originator(next(decoder, 0, context_constructed, "KeyAgreeRecipientInfo.originator"));
  if (next_is(originator, 1, context_constructed))
    info.originator_key = decode_originator_public_key(originator.get_next_object());
  else
    info.originator_certificate = decode_identifier(originator, "KeyAgreeRecipientInfo.originator");
  expect_end(originator, "KeyAgreeRecipientInfo.originator");
}

/// KeyAgreeRecipientIdentifier: issuerAndSerialNumber, or rKeyId [0] IMPLICIT
/// RecipientKeyIdentifier ::= SEQUENCE { subjectKeyIdentifier, date
/// GeneralizedTime OPTIONAL, other OtherKeyAttribute OPTIONAL }.
certificate_identifier decode_key_agree_recipient_identifier(Botan::BER_Decoder& decoder) {
  const std::string field = "RecipientEncryptedKey.rid";
  if (next_is(decoder, 0, context_primitive))
    throw decode_error(field + ": rKeyId is primitive, but a RecipientKeyIdentifier is a SEQUENCE");
  if (!next_is(decoder, 0, context_constructed))
    return decode_identifier(decoder, field);

  Botan::BER_Decoder fields(decoder.get_next_object());
  certificate_identifier id;
  id.by_key_identifier = true;
  id.subject_key_identifier = octet_string(
      next(fields, Botan::OCTET_STRING, Botan::UNIVERSAL, field + ".subjectKeyIdentifier"),
      field + ".subjectKeyIdentifier");
  if (next_is(fields, Botan::GENERALIZED_TIME, Botan::UNIVERSAL))
    fields.get_next_object();  // date, not used
  if (next_is(fields, Botan::SEQUENCE, Botan::CONSTRUCTED))
    fields.get_next_object();  // other, not used
  expect_end(fields, "RecipientKeyIdentifier");
  return id;
}

/// RecipientEncryptedKey ::= SEQUENCE { rid KeyAgreeRecipientIdentifier, encryptedKey OCTET STRING }
recipient_encrypted_key decode_recipient_encrypted_key(const Botan::BER_Object& object) {
  if (!object.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
    throw decode_error("a RecipientEncryptedKey is not a SEQUENCE");

  Botan::BER_Decoder fields(object);
  recipient_encrypted_key key;
  key.rid = decode_key_agree_recipient_identifier(fields);
  key.encrypted_key = octet_string(
      next(fields, Botan::OCTET_STRING, Botan::UNIVERSAL, "RecipientEncryptedKey.encryptedKey"),
      "RecipientEncryptedKey.encryptedKey");
  expect_end(fields, "RecipientEncryptedKey");
  return key;
}

key_agree_recipient_info decode_key_agree_recipient_info(const Botan::BER_Object& object) {
  Botan::BER_Decoder fields(object);
  key_agree_recipient_info info;
  info.version = small_integer(fields, "KeyAgreeRecipientInfo.version");
  if (info.version != 3)
    throw decode_error("KeyAgreeRecipientInfo.version is " + std::to_string(info.version) +
                       ", but RFC 5652 section 6.2.2 requires 3");
  decode_originator(fields, info);
  if (next_is(fields, 1, context_constructed)) {
    Botan::BER_Decoder explicit_ukm(fields.get_next_object());  // ukm [1] EXPLICIT
    const Botan::BER_Object ukm = next_any(explicit_ukm, "KeyAgreeRecipientInfo.ukm");
    if (ukm.type() != Botan::OCTET_STRING)
      throw decode_error("KeyAgreeRecipientInfo.ukm is not an OCTET STRING");
    info.ukm = octet_string(ukm, "KeyAgreeRecipientInfo.ukm");
    expect_end(explicit_ukm, "KeyAgreeRecipientInfo.ukm");
  }
  info.key_encryption_algorithm = algorithm_identifier(fields, "KeyAgreeRecipientInfo.keyEncryptionAlgorithm");
  Botan::BER_Decoder keys(
      next(fields, Botan::SEQUENCE, Botan::CONSTRUCTED, "KeyAgreeRecipientInfo.recipientEncryptedKeys"));
  for (Botan::BER_Object key = keys.get_next_object(); key.is_set(); key = keys.get_next_object())
    info.recipient_encrypted_keys.push_back(decode_recipient_encrypted_key(key));
  expect_end(fields, "KeyAgreeRecipientInfo");
  return info;
}

/// RecipientInfos: a KeyTransRecipientInfo is a bare SEQUENCE; the other
/// choices carry context tags, kari [1] and kekri [2] to ori [4] (RFC 5652 6.2).
void decode_recipient_infos(Botan::BER_Decoder& decoder, enveloped_data& out) {
  Botan::BER_Decoder elements(next(decoder, Botan::SET, Botan::CONSTRUCTED, "recipientInfos"));
  for (Botan::BER_Object element = elements.get_next_object(); element.is_set();
       element = elements.get_next_object()) {
    if (element.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
      out.key_trans_recipients.push_back(decode_key_trans_recipient_info(element));
    else if (element.is_a(1, context_constructed))
      out.key_agree_recipients.push_back(decode_key_agree_recipient_info(element));
    else
      ++out.other_recipient_count;
  }
}

encrypted_content_info decode_encrypted_content_info(Botan::BER_Decoder& decoder) {
  Botan::BER_Decoder fields(next(decoder, Botan::SEQUENCE, Botan::CONSTRUCTED, "EncryptedContentInfo"));
  encrypted_content_info info;
  info.content_type = object_identifier(fields, "EncryptedContentInfo.contentType");
  info.content_encryption_algorithm =
      algorithm_identifier(fields, "EncryptedContentInfo.contentEncryptionAlgorithm");
  if (next_is(fields, 0, context_primitive) || next_is(fields, 0, context_constructed))
    info.encrypted_content = octet_string(fields.get_next_object(), "EncryptedContentInfo.encryptedContent");
  expect_end(fields, "EncryptedContentInfo");
  return info;
}

enveloped_data decode_enveloped_data_fields(const Botan::BER_Object& object, bool authenticated) {
  const std::string structure = authenticated ? "AuthEnvelopedData" : "EnvelopedData";
  Botan::BER_Decoder fields(object);
  enveloped_data out;
  out.authenticated = authenticated;
  out.version = small_integer(fields, structure + ".version");
  if (next_is(fields, 0, context_constructed))
    fields.get_next_object();  // originatorInfo [0] IMPLICIT, not used
  decode_recipient_infos(fields, out);
  out.encrypted_content = decode_encrypted_content_info(fields);
  if (!authenticated) {
    if (next_is(fields, 1, context_constructed))
      fields.get_next_object();  // unprotectedAttrs [1] IMPLICIT, not used
    expect_end(fields, structure);
    return out;
  }

  if (next_is(fields, 1, context_constructed))
    out.authenticated_attributes_der = as_set(fields.get_next_object());  // authAttrs [1] IMPLICIT
  out.mac = octet_string(next(fields, Botan::OCTET_STRING, Botan::UNIVERSAL, structure + ".mac"), structure + ".mac");
  if (next_is(fields, 2, context_constructed))
    fields.get_next_object();  // unauthAttrs [2] IMPLICIT, not used
  expect_end(fields, structure);
  return out;
}

content_kind kind_of(const Botan::OID& type) {
  if (type == encoding::id_data)
    return content_kind::data;
  if (type == encoding::id_signed_data)
    return content_kind::signed_data;
  if (type == encoding::id_enveloped_data)
    return content_kind::enveloped_data;
  if (type == encoding::id_ct_auth_enveloped_data)
    return content_kind::auth_enveloped_data;
  if (type == id_ct_compressed_data)
    return content_kind::compressed_data;
  return content_kind::other;
}

Botan::OID decode_content_type(const bytes& ber, Botan::BER_Object* content) {
  Botan::BER_Decoder input(to_definite_lengths(ber));
  Botan::BER_Decoder fields(next(input, Botan::SEQUENCE, Botan::CONSTRUCTED, "ContentInfo"));
  expect_end(input, "the input after its ContentInfo");

  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
  const Botan::OID type = object_identifier(fields, "ContentInfo.contentType");
  if (content == nullptr)
    return type;
  Botan::BER_Decoder explicit_content(next(fields, 0, context_constructed, "ContentInfo.content"));
  *content = next_any(explicit_content, "ContentInfo.content");
  expect_end(explicit_content, "ContentInfo.content");
  expect_end(fields, "ContentInfo");
  return type;
}

} // namespace

bool certificate_identifier::matches(const Botan::X509_Certificate& certificate) const {
  if (by_key_identifier)
    return !subject_key_identifier.empty() && subject_key_identifier == certificate.subject_key_id();
  return serial_number == Botan::BigInt::decode(certificate.serial_number()) && issuer == certificate.issuer_dn();
}

std::string certificate_identifier::to_string() const {
  if (by_key_identifier)
    return "subjectKeyIdentifier " + Botan::hex_encode(subject_key_identifier);
  return "issuer " + issuer.to_string() + ", serial number " + serial_number.to_hex_string();
}

content_info decode_content_info(const bytes& ber) {
  return guarded("ContentInfo", [&] {
    content_info info;
    info.content_type = decode_content_type(ber, &info.content);
    return info;
  });
}

signed_data decode_signed_data(const content_info& info) {
  if (info.content_type != encoding::id_signed_data)
    throw decode_error("the ContentInfo contains " + info.content_type.to_formatted_string() + ", not SignedData");
  if (!info.content.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
    throw decode_error("SignedData is not a SEQUENCE");
  return guarded("SignedData", [&] { return decode_signed_data_fields(info.content); });
}

enveloped_data decode_enveloped_data(const content_info& info) {
  const bool authenticated = info.content_type == encoding::id_ct_auth_enveloped_data;
  if (!authenticated && info.content_type != encoding::id_enveloped_data)
    throw decode_error("the ContentInfo contains " + info.content_type.to_formatted_string() +
                       ", not EnvelopedData or AuthEnvelopedData");
  if (!info.content.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
    throw decode_error("the enveloped content is not a SEQUENCE");
  return guarded("EnvelopedData", [&] { return decode_enveloped_data_fields(info.content, authenticated); });
}

content_kind detect_content_kind(const bytes& ber) {
  try {
    return kind_of(guarded("ContentInfo", [&] { return decode_content_type(ber, nullptr); }));
  } catch (const decode_error&) {
    return content_kind::malformed;
  }
}

} // namespace router::cms
