// SignedData verification (RFC 5652 section 5.6, RFC 8551 section 2.5).
// Checks the messageDigest attribute against the content, the signature over
// the DER of the signed attributes and the signer certificate's key usage.
// Botan's x509_path_validate then builds a chain to the trust anchors at the
// given time.
//
// Signature algorithms: RSA PKCS#1 v1.5 (rsaEncryption or sha*WithRSAEncryption),
// RSASSA-PSS with MGF1 over the same digest, ECDSA and Ed25519.
#include "runtime/cms/ber_reader.hpp"
#include "runtime/cms/encoding.hpp"
#include "runtime/cms/reader.hpp"

#include <botan/certstor.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/x509path.h>

namespace router::cms {

namespace {

using namespace encoding;

const Botan::OID sha224_with_rsa{1, 2, 840, 113549, 1, 1, 14};
const Botan::OID sha256_with_rsa{1, 2, 840, 113549, 1, 1, 11};
const Botan::OID sha384_with_rsa{1, 2, 840, 113549, 1, 1, 12};
const Botan::OID sha512_with_rsa{1, 2, 840, 113549, 1, 1, 13};
const Botan::OID id_rsassa_pss{1, 2, 840, 113549, 1, 1, 10};
const Botan::OID ecdsa_with_sha224{1, 2, 840, 10045, 4, 3, 1};
const Botan::OID id_ec_public_key{1, 2, 840, 10045, 2, 1};
const Botan::OID id_kp_email_protection{1, 3, 6, 1, 5, 5, 7, 3, 4};
const Botan::OID any_extended_key_usage{2, 5, 29, 37, 0};

/// A verification outcome for one signer; `ok` when it passed.
struct signer_outcome {
  verify_status status = verify_status::ok;
  std::string detail;
};

signer_outcome fail(verify_status status, std::string detail) {
  return {status, std::move(detail)};
}

/// Botan's padding name and signature format for a signatureAlgorithm.
struct verification_scheme {
  std::string padding;  // empty when the algorithm is not supported
  Botan::Signature_Format format = Botan::IEEE_1363;
};

/// Returns the hash of an RFC 4055 hashAlgorithm or MGF1 parameter, an AlgorithmIdentifier.
std::string hash_of_algorithm_identifier(const Botan::BER_Object& wrapper) {
  Botan::BER_Decoder inner(wrapper);
  const Botan::AlgorithmIdentifier algorithm = ber::algorithm_identifier(inner, "RSASSA-PSS-params");
  return sha2_hash_name(algorithm.get_oid());
}

/// RSASSA-PSS-params (RFC 4055 section 3.1): every field has a SHA-1 based
/// default, and SHA-1 is not accepted, so hashAlgorithm must be present.
verification_scheme pss_scheme(const Botan::AlgorithmIdentifier& algorithm) {
  Botan::BER_Decoder input(algorithm.get_parameters());
  Botan::BER_Decoder fields(ber::next(input, Botan::SEQUENCE, Botan::CONSTRUCTED, "RSASSA-PSS-params"));

  std::string hash;
  std::string mgf_hash;
  size_t salt_length = 20;
  if (ber::next_is(fields, 0, ber::context_constructed))
    hash = hash_of_algorithm_identifier(fields.get_next_object());  // hashAlgorithm [0]
  if (ber::next_is(fields, 1, ber::context_constructed)) {
    // maskGenAlgorithm [1]: MGF1 whose parameters are the hash AlgorithmIdentifier.
    Botan::BER_Decoder wrapper(fields.get_next_object());
    const Botan::AlgorithmIdentifier mgf = ber::algorithm_identifier(wrapper, "RSASSA-PSS-params.maskGenAlgorithm");
    Botan::BER_Decoder mgf_parameters(mgf.get_parameters());
    if (mgf.get_oid() == id_mgf1)
      mgf_hash = sha2_hash_name(ber::algorithm_identifier(mgf_parameters, "MGF1 parameters").get_oid());
  }
  if (ber::next_is(fields, 2, ber::context_constructed)) {
    Botan::BER_Decoder wrapper(fields.get_next_object());  // saltLength [2]
    salt_length = ber::small_integer(wrapper, "RSASSA-PSS-params.saltLength");
  }
  if (ber::next_is(fields, 3, ber::context_constructed)) {
    Botan::BER_Decoder wrapper(fields.get_next_object());  // trailerField [3], must be 1
    if (ber::small_integer(wrapper, "RSASSA-PSS-params.trailerField") != 1)
      return {};
  }
  ber::expect_end(fields, "RSASSA-PSS-params");

  // Botan 2 uses the message digest for MGF1 as well.
  if (hash.empty() || mgf_hash != hash)
    return {};
  return {"EMSA4(" + hash + ",MGF1," + std::to_string(salt_length) + ")", Botan::IEEE_1363};
}

verification_scheme choose_scheme(const Botan::AlgorithmIdentifier& signature_algorithm,
                                  const std::string& digest_hash) {
  const Botan::OID& oid = signature_algorithm.get_oid();
  const std::vector<std::pair<const Botan::OID*, std::string>> rsa_with_hash = {
      {&sha224_with_rsa, "SHA-224"}, {&sha256_with_rsa, "SHA-256"},
      {&sha384_with_rsa, "SHA-384"}, {&sha512_with_rsa, "SHA-512"}};
  const std::vector<std::pair<const Botan::OID*, std::string>> ecdsa_with_hash = {
      {&ecdsa_with_sha224, "SHA-224"}, {&ecdsa_with_sha256, "SHA-256"},
      {&ecdsa_with_sha384, "SHA-384"}, {&ecdsa_with_sha512, "SHA-512"}};

  if (oid == rsa_encryption)
    return {"EMSA3(" + digest_hash + ")", Botan::IEEE_1363};
  for (const auto& [known, hash] : rsa_with_hash) {
    if (oid == *known)
      return {"EMSA3(" + hash + ")", Botan::IEEE_1363};
  }
  if (oid == id_rsassa_pss)
    return pss_scheme(signature_algorithm);
  if (oid == id_ec_public_key)
    return {"EMSA1(" + digest_hash + ")", Botan::DER_SEQUENCE};
  for (const auto& [known, hash] : ecdsa_with_hash) {
    if (oid == *known)
      return {"EMSA1(" + hash + ")", Botan::DER_SEQUENCE};
  }
  if (oid == id_ed25519)
    return {"Pure", Botan::IEEE_1363};
  return {};
}

const Botan::X509_Certificate* find_certificate(const certificate_identifier& sid,
                                                const std::vector<Botan::X509_Certificate>& embedded,
                                                const std::vector<Botan::X509_Certificate>& extra) {
  for (const auto* certificates : {&embedded, &extra}) {
    for (const Botan::X509_Certificate& certificate : *certificates) {
      if (sid.matches(certificate))
        return &certificate;
    }
  }
  return nullptr;
}

const attribute* find_attribute(const signer_info& signer, const Botan::OID& type) {
  const attribute* found = nullptr;
  for (const attribute& candidate : signer.signed_attributes) {
    if (candidate.type != type)
      continue;
    if (found != nullptr)
      throw decode_error("the signed attribute " + type.to_formatted_string() + " occurs twice");
    found = &candidate;
  }
  return found;
}

/// Returns the single value of a signed attribute that RFC 5652 11 requires.
const bytes& single_value(const signer_info& signer, const Botan::OID& type, const std::string& name) {
  const attribute* found = find_attribute(signer, type);
  if (found == nullptr)
    throw decode_error("the signed attributes lack " + name);
  if (found->values.size() != 1)
    throw decode_error("the " + name + " attribute must have exactly one value");
  return found->values.front();
}

/// Checks contentType and messageDigest (RFC 5652 section 11.1 and 11.2).
signer_outcome check_signed_attributes(const signer_info& signer, const Botan::OID& content_type,
                                       const bytes& digest) {
  Botan::OID signed_type;
  Botan::BER_Decoder(single_value(signer, id_content_type, "contentType")).decode(signed_type);
  if (signed_type != content_type)
    return fail(verify_status::malformed, "the contentType attribute " + signed_type.to_formatted_string() +
                                              " differs from the eContentType " + content_type.to_formatted_string());

  Botan::BER_Decoder digest_value(single_value(signer, id_message_digest, "messageDigest"));
  const bytes signed_digest = ber::octet_string(
      ber::next(digest_value, Botan::OCTET_STRING, Botan::UNIVERSAL, "messageDigest"), "messageDigest");
  if (signed_digest != digest)
    return fail(verify_status::digest_mismatch,
                "the messageDigest attribute does not match the digest of the content; the content was changed");
  return {};
}

signer_outcome check_signature(const signer_info& signer, const Botan::X509_Certificate& certificate,
                               const std::string& digest_hash, const bytes& signed_bytes) {
  const verification_scheme scheme = choose_scheme(signer.signature_algorithm, digest_hash);
  if (scheme.padding.empty())
    return fail(verify_status::unsupported_algorithm,
                "the signature algorithm " + signer.signature_algorithm.get_oid().to_formatted_string() +
                    " (or its parameters) is not supported");

  try {
    const auto public_key = certificate.load_subject_public_key();
    Botan::PK_Verifier verifier(*public_key, scheme.padding, scheme.format);
    if (!verifier.verify_message(signed_bytes, signer.signature))
      return fail(verify_status::bad_signature, "the signature does not verify with the signer's public key");
  } catch (const Botan::Exception& e) {
    return fail(verify_status::bad_signature,
                std::string("the signature cannot be checked with the signer's public key: ") + e.what());
  }
  return {};
}

/// RFC 8550 4.4.2 and 4.4.4: a signer certificate that restricts its use must
/// allow digitalSignature or nonRepudiation, and e-mail protection.
signer_outcome check_key_usage(const Botan::X509_Certificate& certificate) {
  const Botan::Key_Constraints usage = certificate.constraints();
  if (usage != Botan::NO_CONSTRAINTS &&
      (usage & (Botan::DIGITAL_SIGNATURE | Botan::NON_REPUDIATION)) == 0)
    return fail(verify_status::wrong_key_usage,
                "the signer certificate's key usage allows neither digitalSignature nor nonRepudiation");

  const std::vector<Botan::OID>& extended = certificate.extended_key_usage();
  const bool email_allowed = extended.empty() ||
                             std::find(extended.begin(), extended.end(), id_kp_email_protection) != extended.end() ||
                             std::find(extended.begin(), extended.end(), any_extended_key_usage) != extended.end();
  if (!email_allowed)
    return fail(verify_status::wrong_key_usage, "the signer certificate's extended key usage lacks emailProtection");
  return {};
}

verify_status status_of(Botan::Certificate_Status_Code code) {
  switch (code) {
    case Botan::Certificate_Status_Code::CERT_HAS_EXPIRED:
      return verify_status::expired;
    case Botan::Certificate_Status_Code::CERT_NOT_YET_VALID:
      return verify_status::not_yet_valid;
    case Botan::Certificate_Status_Code::INVALID_USAGE:
      return verify_status::wrong_key_usage;
    default:
      return verify_status::untrusted;
  }
}

signer_outcome check_chain(const Botan::X509_Certificate& certificate, const signed_data& data,
                           const verify_options& options) {
  std::vector<Botan::X509_Certificate> chain = {certificate};
  for (const auto* certificates : {&data.certificates, &options.extra_certificates})
    chain.insert(chain.end(), certificates->begin(), certificates->end());

  Botan::Certificate_Store_In_Memory anchors;
  for (const Botan::X509_Certificate& anchor : options.trust_anchors)
    anchors.add_certificate(anchor);

  const Botan::Path_Validation_Restrictions restrictions;
  const Botan::Path_Validation_Result result = Botan::x509_path_validate(
      chain, restrictions, {&anchors}, "", Botan::Usage_Type::UNSPECIFIED, options.validation_time);
  if (result.successful_validation())
    return {};
  return fail(status_of(result.result()), "certificate path validation failed: " + result.result_string());
}

signer_outcome verify_signer(const signer_info& signer, const signed_data& data, const bytes& content,
                             const verify_options& options, std::string& signer_subject) {
  const Botan::X509_Certificate* certificate = find_certificate(signer.sid, data.certificates,
                                                                options.extra_certificates);
  if (certificate == nullptr)
    return fail(verify_status::signer_not_found,
                "no certificate in the message matches the signer (" + signer.sid.to_string() + ")");
  signer_subject = certificate->subject_dn().to_string();

  const std::string digest_hash = sha2_hash_name(signer.digest_algorithm.get_oid());
  if (digest_hash.empty())
    return fail(verify_status::unsupported_algorithm, "the digest algorithm " +
                                                          signer.digest_algorithm.get_oid().to_formatted_string() +
                                                          " is not supported; SHA-224/256/384/512 are");
  const auto digest = Botan::HashFunction::create_or_throw(digest_hash)->process(content);

  bytes signed_bytes = content;
  if (signer.signed_attributes_der) {
    const signer_outcome attributes = check_signed_attributes(signer, data.encapsulated_content_type,
                                                              bytes(digest.begin(), digest.end()));
    if (attributes.status != verify_status::ok)
      return attributes;
    signed_bytes = *signer.signed_attributes_der;
  }

  for (const signer_outcome& outcome : {check_signature(signer, *certificate, digest_hash, signed_bytes),
                                        check_key_usage(*certificate)}) {
    if (outcome.status != verify_status::ok)
      return outcome;
  }
  return check_chain(*certificate, data, options);
}

verify_result verify_content(const signed_data& data, const bytes& content, const verify_options& options) {
  verify_result result;
  result.content = content;
  if (data.signer_infos.empty()) {
    result.detail = "the SignedData has no SignerInfo";
    return result;
  }

  // The result names the first signer, or the first one that fails.
  for (size_t i = 0; i < data.signer_infos.size(); ++i) {
    std::string subject;
    const signer_outcome outcome = verify_signer(data.signer_infos[i], data, content, options, subject);
    if (i == 0 || outcome.status != verify_status::ok)
      result.signer_subject = subject;
    if (outcome.status != verify_status::ok) {
      result.status = outcome.status;
      result.detail = outcome.detail;
      return result;
    }
  }
  result.status = verify_status::ok;
  return result;
}

verify_result malformed(const std::string& detail) {
  verify_result result;
  result.status = verify_status::malformed;
  result.detail = detail;
  return result;
}

verify_result verify_any(const bytes& ber, const bytes* detached_content, const verify_options& options) {
  try {
    const signed_data data = decode_signed_data(decode_content_info(ber));
    if (detached_content != nullptr && data.encapsulated_content)
      return malformed("the SignedData encapsulates its content, but detached content was given as well");
    if (detached_content == nullptr && !data.encapsulated_content)
      return malformed("the SignedData is detached; its content must be passed in");
    return verify_content(data, detached_content != nullptr ? *detached_content : *data.encapsulated_content,
                          options);
  } catch (const decode_error& e) {
    return malformed(e.what());
  } catch (const Botan::Exception& e) {
    return malformed(std::string("malformed SignedData: ") + e.what());
  }
}

} // namespace

std::string to_string(verify_status status) {
  switch (status) {
    case verify_status::ok:
      return "ok";
    case verify_status::malformed:
      return "malformed";
    case verify_status::unsupported_algorithm:
      return "unsupported_algorithm";
    case verify_status::signer_not_found:
      return "signer_not_found";
    case verify_status::digest_mismatch:
      return "digest_mismatch";
    case verify_status::bad_signature:
      return "bad_signature";
    case verify_status::wrong_key_usage:
      return "wrong_key_usage";
    case verify_status::untrusted:
      return "untrusted";
    case verify_status::expired:
      return "expired";
    case verify_status::not_yet_valid:
      return "not_yet_valid";
  }
  return "unknown";
}

verify_result verify_signed_data(const bytes& ber, const verify_options& options) {
  return verify_any(ber, nullptr, options);
}

verify_result verify_signed_data(const bytes& ber, const bytes& detached_content, const verify_options& options) {
  return verify_any(ber, &detached_content, options);
}

} // namespace router::cms
