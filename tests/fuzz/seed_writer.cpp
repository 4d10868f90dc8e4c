// Writes seed corpora for the fuzz targets with our own encoders: SignedData
// and (Auth)EnvelopedData for the fuzz PKI into DIR/cms, whole S/MIME messages
// into DIR/mime, and the fuzz PKI as PEM into DIR/pki for OpenSSL-made seeds.
// Usage: fuzz_seed_writer DIR
#include "runtime/cms/cms.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/fuzz/fuzz_identity.hpp"

#include <botan/auto_rng.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

using namespace router;
namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
}

void write(const fs::path& path, const cms::bytes& data) {
  write(path, std::string(data.begin(), data.end()));
}

std::string wrap(const std::string& entity) {
  return mime::build_message({"signer@fuzz.example", {"recipient@fuzz.example"}, "Fuzz seed",
                              mime::format_date(1780272000), "<seed@fuzz.example>"},
                             entity);
}

void write_cms_and_mime_seeds(const fs::path& dir, Botan::RandomNumberGenerator& rng) {
  const fuzzing::fuzz_pki& pki = fuzzing::shared_fuzz_pki();
  const std::string document = mime::build_document_entity(
      "Seed text with =, tabs\t and a long line " + std::string(100, 'x'),
      {{"scan.pdf", "application/pdf", cms::bytes(300, 0x25)}}, "mixed-boundary");
  const cms::bytes content(document.begin(), document.end());
  const cms::signer_identity signer{&pki.signer.certificate, pki.signer.private_key.get(), {}};

  for (const bool detached : {true, false}) {
    cms::signing_options options;
    options.detached = detached;
    options.signing_time = fuzzing::fuzz_time();
    const cms::bytes der = cms::sign(content, signer, options, rng);
    const std::string name = detached ? "signed-detached" : "signed-encapsulated";
    write(dir / "cms" / (name + ".der"), der);
    write(dir / "mime" / (name + ".eml"),
          wrap(detached ? mime::build_signed_entity(document, der, "sha-256", "signed-boundary")
                        : mime::build_pkcs7_mime_entity(der, "signed-data")));
  }

  const std::vector<std::pair<cms::content_cipher, std::string>> ciphers = {
      {cms::content_cipher::aes128_cbc, "aes128-cbc"}, {cms::content_cipher::aes256_cbc, "aes256-cbc"},
      {cms::content_cipher::aes128_gcm, "aes128-gcm"}, {cms::content_cipher::aes256_gcm, "aes256-gcm"}};
  for (const auto& [cipher, name] : ciphers) {
    const cms::recipient recipient{&pki.recipient.certificate, cms::key_transport::rsa_oaep_sha256};
    const cms::bytes der = cms::encrypt(content, {recipient}, cipher, rng);
    write(dir / "cms" / ("encrypted-" + name + ".der"), der);
    write(dir / "mime" / ("encrypted-" + name + ".eml"),
          wrap(mime::build_pkcs7_mime_entity(der, cms::is_authenticated(cipher) ? "authEnveloped-data"
                                                                                 : "enveloped-data")));
  }

  for (const auto& [cipher, name] : {ciphers.front(), ciphers.back()}) {
    const cms::recipient recipient{&pki.ec_recipient.certificate, cms::key_transport::rsa_pkcs1v15,
                                   cms::recipient_identifier::subject_key_identifier};
    write(dir / "cms" / ("ecdh-" + name + ".der"), cms::encrypt(content, {recipient}, cipher, rng));
  }

  write(dir / "mime" / "quoted-printable.eml",
        wrap("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
             mime::encode_quoted_printable("caf\xc3\xa9 = soft " + std::string(90, 'q') + "\r\nend")));
}

void write_pki(const fs::path& dir) {
  const fuzzing::fuzz_pki& pki = fuzzing::shared_fuzz_pki();
  write(dir / "pki" / "root.pem", certs::to_pem(pki.builder->root().certificate));
  write(dir / "pki" / "signer.cert.pem", certs::to_pem(pki.signer.certificate));
  write(dir / "pki" / "signer.key.pem", certs::to_pem(*pki.signer.private_key));
  write(dir / "pki" / "recipient.cert.pem", certs::to_pem(pki.recipient.certificate));
  write(dir / "pki" / "recipient.key.pem", certs::to_pem(*pki.recipient.private_key));
  write(dir / "pki" / "ec-recipient.cert.pem", certs::to_pem(pki.ec_recipient.certificate));
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_writer DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  for (const char* sub : {"cms", "mime", "pki"})
    fs::create_directories(dir / sub);

  Botan::AutoSeeded_RNG rng;
  write_cms_and_mime_seeds(dir, rng);
  write_pki(dir);
  return 0;
}
