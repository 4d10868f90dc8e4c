// SignedData producer (RFC 5652 section 5) with one signer.
//
// The signer is identified by issuerAndSerialNumber and always signs the
// attributes contentType, messageDigest, signingTime and SMIMECapabilities.
// The key type decides the signature algorithm: RSA PKCS#1 v1.5 (written as
// rsaEncryption) or, when asked, RSASSA-PSS (RFC 4056); ECDSA with the chosen
// SHA-2 digest; or Ed25519, which RFC 8419 pairs with SHA-512 only. No CRLs and
// no unsigned attributes are written.
#include "runtime/certs/certs.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/cms/encoding.hpp"
#include "runtime/cms/signer_cache.hpp"
#include "runtime/cms/streaming.hpp"
#include "runtime/common/error.hpp"

#include <botan/hash.h>
#include <botan/pubkey.h>

#include <stdexcept>

namespace router::cms {

namespace {

using namespace encoding;

/// The signatureAlgorithm to write, with the Botan padding and output format
/// that produce a matching signature.
struct signature_scheme {
  Botan::AlgorithmIdentifier algorithm;
  std::string botan_padding;
  Botan::Signature_Format format = Botan::IEEE_1363;
};

const Botan::OID& ecdsa_oid(digest_algorithm digest) {
  switch (digest) {
    case digest_algorithm::sha256:
      return ecdsa_with_sha256;
    case digest_algorithm::sha384:
      return ecdsa_with_sha384;
    case digest_algorithm::sha512:
      return ecdsa_with_sha512;
  }
  throw std::logic_error("unhandled digest_algorithm");
}

/// Returns the AlgorithmIdentifier of a digest as RFC 4055 section 2.1 writes
/// it inside RSASSA-PSS-params: with NULL parameters.
Botan::AlgorithmIdentifier pss_hash_identifier(digest_algorithm digest) {
  return Botan::AlgorithmIdentifier(digest_oid(digest), Botan::AlgorithmIdentifier::USE_NULL_PARAM);
}

/// Returns id-RSASSA-PSS with explicit parameters (RFC 4056 section 3): the
/// digest, MGF1 with the same digest, and a salt as long as the digest output.
/// trailerField keeps its default (trailerFieldBC), so DER omits it.
Botan::AlgorithmIdentifier rsassa_pss_algorithm(digest_algorithm digest) {
  bytes mgf1_parameters;
  Botan::DER_Encoder(mgf1_parameters).encode(pss_hash_identifier(digest));

  bytes parameters;
  Botan::DER_Encoder(parameters)
      .start_cons(Botan::SEQUENCE)
      .start_explicit(0)  // hashAlgorithm [0]
      .encode(pss_hash_identifier(digest))
      .end_explicit()
      .start_explicit(1)  // maskGenAlgorithm [1]
      .encode(Botan::AlgorithmIdentifier(id_mgf1, mgf1_parameters))
      .end_explicit()
      .start_explicit(2)  // saltLength [2]
      .encode(digest_length(digest))
      .end_explicit()
      .end_cons();
  return Botan::AlgorithmIdentifier(id_rsassa_pss, parameters);
}

signature_scheme choose_signature_scheme(const Botan::Private_Key& key, const signing_options& options) {
  const std::string algorithm = key.algo_name();
  const digest_algorithm digest = options.digest;
  const std::string hash = botan_hash_name(digest);

  if (algorithm == "RSA" && options.rsa_scheme == rsa_signature_scheme::pss) {
    const std::string salt_length = std::to_string(digest_length(digest));
    return {rsassa_pss_algorithm(digest), "PSSR(" + hash + ",MGF1," + salt_length + ")", Botan::IEEE_1363};
  }

  if (algorithm == "RSA") {
    // rsaEncryption with NULL parameters: the digest is named by digestAlgorithm
    // (RFC 3370, RFC 5754).
    return {Botan::AlgorithmIdentifier(rsa_encryption, Botan::AlgorithmIdentifier::USE_NULL_PARAM),
            "EMSA3(" + hash + ")", Botan::IEEE_1363};
  }

  if (algorithm == "ECDSA") {
    // RFC 5754 section 3.3: ecdsa-with-SHA*, parameters absent, signature as
    // a DER SEQUENCE of r and s.
    return {Botan::AlgorithmIdentifier(ecdsa_oid(digest), Botan::AlgorithmIdentifier::USE_EMPTY_PARAM),
            "EMSA1(" + hash + ")", Botan::DER_SEQUENCE};
  }

  if (algorithm == "Ed25519") {
    if (digest != digest_algorithm::sha512)
      throw router_error("the signing key is Ed25519, which CMS pairs only with the SHA-512 digest "
                         "(RFC 8419); set the signature digest to sha512");
    return {Botan::AlgorithmIdentifier(id_ed25519, Botan::AlgorithmIdentifier::USE_EMPTY_PARAM), "Pure",
            Botan::IEEE_1363};
  }

  throw router_error("the signing key type " + algorithm +
                     " is not supported; use an RSA, ECDSA or Ed25519 key and certificate");
}

/// Checks that the signer can sign; `cache`, when given, remembers a certificate
/// its key was found to match.
void check_signer(const signer_identity& signer, signer_cache* cache) {
  if (signer.certificate == nullptr)
    throw router_error("cannot sign: no signing certificate was given; configure the device certificate");
  if (signer.private_key == nullptr)
    throw router_error("cannot sign: no private key was given for certificate " +
                       describe(*signer.certificate) + "; configure the device private key");
  const bool matches = cache != nullptr ? cache->key_matches(*signer.certificate)
                                        : certs::key_matches_certificate(*signer.private_key, *signer.certificate);
  if (!matches)
    throw router_error("cannot sign: the private key does not match certificate " +
                       describe(*signer.certificate) + " (SHA-256 fingerprint " +
                       certs::fingerprint_sha256(*signer.certificate) +
                       "); configure the key that belongs to this certificate");
}

bytes encode_attribute(const Botan::OID& type, const bytes& value) {
  bytes out;
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .encode(type)                                               // attrType
      .add_object(Botan::SET, Botan::CONSTRUCTED, value)  // attrValues, one value
      .end_cons();
  return out;
}

bytes encode_smime_capabilities() {
  // RFC 8551 section 2.5.2: strongest first. Only ciphers encrypt() can
  // produce are listed, so a peer never picks RC2, DES or 3DES because of us.
  const std::vector<const Botan::OID*> ciphers = {&id_aes256_gcm, &id_aes128_gcm, &id_aes256_cbc,
                                                  &id_aes192_cbc, &id_aes128_cbc};

  Botan::DER_Encoder der;
  der.start_cons(Botan::SEQUENCE);
  for (const Botan::OID* cipher : ciphers) {
    der.start_cons(Botan::SEQUENCE)
        .encode(*cipher)  // capabilityID; parameters absent
        .end_cons();
  }
  der.end_cons();
  const auto encoded = der.get_contents();
  return bytes(encoded.begin(), encoded.end());
}

bytes encode_value(const Botan::ASN1_Object& value) {
  bytes out;
  Botan::DER_Encoder(out).encode(value);
  return out;
}

bytes encode_octet_string(const bytes& value) {
  bytes out;
  Botan::DER_Encoder(out).encode(value, Botan::OCTET_STRING);
  return out;
}

/// Returns the content octets of the SignedAttributes SET (RFC 5652 section 5.3).
bytes signed_attributes_contents(const bytes& message_digest, const signing_options& options) {
  return sorted_set_contents({
      encode_attribute(id_content_type, encode_value(id_data)),
      encode_attribute(id_message_digest, encode_octet_string(message_digest)),
      encode_attribute(id_signing_time, encode_value(certs::to_asn1_time(options.signing_time))),
      encode_attribute(id_smime_capabilities, encode_smime_capabilities()),
  });
}

/// Returns the content octets of CertificateSet: the signer's certificate and
/// the intermediates, each once.
bytes certificate_set_contents(const signer_identity& signer) {
  std::vector<bytes> certificates = {signer.certificate->BER_encode()};
  for (const auto& intermediate : signer.intermediates) {
    bytes encoded = intermediate.BER_encode();
    if (std::find(certificates.begin(), certificates.end(), encoded) == certificates.end())
      certificates.push_back(std::move(encoded));
  }
  return sorted_set_contents(std::move(certificates));
}

bytes encode_signer_info(const signer_identity& signer, digest_algorithm digest, const bytes& signed_attributes,
                         const Botan::AlgorithmIdentifier& signature_algorithm, const std::vector<uint8_t>& signature) {
  bytes out;
  Botan::DER_Encoder der(out);
  der.start_cons(Botan::SEQUENCE);
  der.encode(size_t{1});  // version: 1 because sid is issuerAndSerialNumber (RFC 5652 5.3)
  encode_issuer_and_serial_number(der, *signer.certificate);                   // sid
  der.encode(digest_algorithm_identifier(digest));                             // digestAlgorithm
  der.add_object(Botan::ASN1_Tag(0), context_constructed, signed_attributes);  // signedAttrs [0] IMPLICIT
  der.encode(signature_algorithm);                                             // signatureAlgorithm
  der.encode(signature, Botan::OCTET_STRING);                                  // signature
  der.end_cons();
  return out;
}

void append(bytes& out, const bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

/// Frames the SignedData ContentInfo (RFC 5652 sections 3 and 5.1) around
/// `content_length` octets of encapsulated content, or around none when the
/// signature is detached.
signed_data_frame frame_signed_data(uint64_t content_length, const signer_identity& signer,
                                    const signing_options& options, const bytes& signer_info) {
  // version 1 (RFC 5652 5.1): no attribute or "other" certificates, eContentType
  // id-data and only version 1 SignerInfos.
  bytes version;
  Botan::DER_Encoder(version).encode(size_t{1});
  bytes digest_algorithms;
  Botan::DER_Encoder(digest_algorithms)
      .add_object(Botan::SET, Botan::CONSTRUCTED,
                  sorted_set_contents({encode_value(digest_algorithm_identifier(options.digest))}));
  bytes certificates;  // certificates [0] IMPLICIT
  Botan::DER_Encoder(certificates)
      .add_object(Botan::ASN1_Tag(0), context_constructed, certificate_set_contents(signer));
  bytes signer_infos;
  Botan::DER_Encoder(signer_infos).add_object(Botan::SET, Botan::CONSTRUCTED, sorted_set_contents({signer_info}));

  // encapContentInfo: eContentType, then eContent [0] EXPLICIT OCTET STRING
  // unless detached. The content octets themselves are not part of the frame.
  bytes encapsulated_start = encode_value(id_data);
  uint64_t encapsulated_length = encapsulated_start.size();
  if (!options.detached) {
    const bytes octet_string = der_header(0x04, content_length);
    const bytes explicit_tag = der_header(0xA0, octet_string.size() + content_length);
    append(encapsulated_start, explicit_tag);
    append(encapsulated_start, octet_string);
    encapsulated_length += explicit_tag.size() + octet_string.size() + content_length;
  }
  const bytes encapsulated_header = der_header(0x30, encapsulated_length);

  const uint64_t signed_data_length = version.size() + digest_algorithms.size() + encapsulated_header.size() +
                                      encapsulated_length + certificates.size() + signer_infos.size();
  const bytes signed_data_header = der_header(0x30, signed_data_length);
  const bytes content_type = encode_value(id_signed_data);
  const bytes explicit_content = der_header(0xA0, signed_data_header.size() + signed_data_length);
  const bytes content_info_header =
      der_header(0x30, content_type.size() + explicit_content.size() + signed_data_header.size() + signed_data_length);

  signed_data_frame frame;
  const std::initializer_list<const bytes*> prefix_pieces = {
      &content_info_header, &content_type,        &explicit_content,    &signed_data_header,
      &version,             &digest_algorithms,   &encapsulated_header, &encapsulated_start};
  for (const bytes* piece : prefix_pieces)
    append(frame.prefix, *piece);
  append(frame.suffix, certificates);
  append(frame.suffix, signer_infos);
  if (options.detached) {
    append(frame.prefix, frame.suffix);
    frame.suffix.clear();
  }
  return frame;
}

} // namespace

digest_algorithm signing_digest(const Botan::Private_Key& key, digest_algorithm configured) {
  return key.algo_name() == "Ed25519" ? digest_algorithm::sha512 : configured;
}

std::unique_ptr<Botan::HashFunction> make_content_hash(digest_algorithm digest) {
  return Botan::HashFunction::create_or_throw(botan_hash_name(digest));
}

namespace {

/// Builds the SignedData around content of the given digest and length;
/// `sign_attributes` returns the signature over the DER of the signed
/// attributes for the chosen scheme.
template <class Sign>
signed_data_frame frame_with_signature(const bytes& content_digest, uint64_t content_length,
                                       const signer_identity& signer, const signing_options& options,
                                       signer_cache* cache, Sign&& sign_attributes) {
  check_signer(signer, cache);
  const signature_scheme scheme = choose_signature_scheme(*signer.private_key, options);

  // RFC 5652 section 5.4: the signature covers the DER of the attributes with
  // the SET OF tag (0x31), while the SignerInfo carries them as [0] IMPLICIT.
  const bytes attributes = signed_attributes_contents(content_digest, options);
  bytes attributes_as_set;
  Botan::DER_Encoder(attributes_as_set).add_object(Botan::SET, Botan::CONSTRUCTED, attributes);

  const auto signature = sign_attributes(attributes_as_set, scheme);

  const bytes signer_info = encode_signer_info(signer, options.digest, attributes, scheme.algorithm, signature);
  return frame_signed_data(content_length, signer, options, signer_info);
}

bytes digest_of(const bytes& content, digest_algorithm digest) {
  const auto hash = make_content_hash(digest);
  const auto value = hash->process(content);
  return bytes(value.begin(), value.end());
}

/// Returns the whole SignedData: the frame with the content inside, unless detached.
bytes assemble(const bytes& content, signed_data_frame frame, const signing_options& options) {
  bytes out = std::move(frame.prefix);
  if (!options.detached)
    append(out, content);
  append(out, frame.suffix);
  return out;
}

} // namespace

signed_data_frame sign_digest(const bytes& content_digest, uint64_t content_length, const signer_identity& signer,
                              const signing_options& options, Botan::RandomNumberGenerator& rng) {
  return frame_with_signature(content_digest, content_length, signer, options, nullptr,
                              [&](const bytes& attributes, const signature_scheme& scheme) {
                                Botan::PK_Signer operation(*signer.private_key, rng, scheme.botan_padding,
                                                           scheme.format);
                                return operation.sign_message(attributes, rng);
                              });
}

bytes sign(const bytes& content, const signer_identity& signer, const signing_options& options,
           Botan::RandomNumberGenerator& rng) {
  return assemble(content, sign_digest(digest_of(content, options.digest), content.size(), signer, options, rng),
                  options);
}

bytes sign(const bytes& content, const signer_identity& signer, const signing_options& options,
           signer_cache& cache) {
  if (signer.private_key != nullptr && signer.private_key != &cache.key())
    throw std::invalid_argument("cms::sign was given a signer_cache made for another private key");
  const signed_data_frame frame = frame_with_signature(
      digest_of(content, options.digest), content.size(), signer, options, &cache,
      [&](const bytes& attributes, const signature_scheme& scheme) {
        return cache.signer_for(scheme.botan_padding, scheme.format).sign_message(attributes, cache.rng());
      });
  return assemble(content, frame, options);
}

} // namespace router::cms
