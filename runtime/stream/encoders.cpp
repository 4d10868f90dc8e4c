#include "runtime/stream/encoders.hpp"

#include "runtime/mime/mime.hpp"

namespace router::stream {

namespace {

/// Writes the octets of one attachment as base64 lines.
void write_attachment_body(const document_attachment& attachment, const text_sink& sink) {
  if (!attachment.file.empty()) {
    write_base64_file(attachment.file, "attachment file " + attachment.file.string(), sink);
    return;
  }
  sink(mime::base64_lines(attachment.data));
}

/// Passes octets through a base64 line encoder to a sink, a chunk at a time.
class base64_writer {
 public:
  explicit base64_writer(const text_sink& sink) : sink_(sink) {}

  void write(const uint8_t* data, size_t length) {
    encoder_.update(data, length, encoded_);
    flush();
  }

  void write(const cms::bytes& octets) { write(octets.data(), octets.size()); }

  void finish() {
    encoder_.finish(encoded_);
    flush();
  }

 private:
  void flush() {
    if (encoded_.empty())
      return;
    sink_(encoded_);
    encoded_.clear();
  }

  const text_sink& sink_;
  mime::base64_line_encoder encoder_;
  std::string encoded_;
};

} // namespace

uint64_t write_base64_file(const std::filesystem::path& file, const std::string& description, const text_sink& sink) {
  base64_writer writer(sink);
  const uint64_t length = read_file(file, description, std::nullopt,
                                    [&writer](const uint8_t* data, size_t size) { writer.write(data, size); });
  writer.finish();
  return length;
}

std::vector<std::string> write_document_entity(std::string_view body_text,
                                               const std::vector<document_attachment>& attachments,
                                               std::string_view boundary, const text_sink& sink) {
  std::vector<mime::attachment_label> labels;
  for (const document_attachment& attachment : attachments)
    labels.push_back({attachment.filename, attachment.content_type});
  const std::vector<std::string> frame = mime::document_entity_frame(body_text, labels, boundary);

  sink(frame.front());
  for (size_t i = 0; i < attachments.size(); ++i) {
    write_attachment_body(attachments[i], sink);
    sink(frame[i + 1]);
  }
  return frame;
}

cms::signed_data_frame sign_content(const content& entity, const cms::signer_identity& signer,
                                    const cms::signing_options& options, Botan::RandomNumberGenerator& rng) {
  const auto hash = cms::make_content_hash(options.digest);
  entity.read([&hash](const uint8_t* data, size_t length) { hash->update(data, length); });
  const auto digest = hash->final();
  return cms::sign_digest(cms::bytes(digest.begin(), digest.end()), entity.size(), signer, options, rng);
}

void write_encapsulated_signed_entity(const content& entity, const cms::signed_data_frame& frame,
                                      const text_sink& sink) {
  sink(mime::pkcs7_mime_entity_header("signed-data"));
  base64_writer writer(sink);
  writer.write(frame.prefix);
  entity.read([&writer](const uint8_t* data, size_t length) { writer.write(data, length); });
  writer.write(frame.suffix);
  writer.finish();
}

void write_enveloped_entity(const content& entity, cms::envelope_encryptor& encryptor, bool authenticated,
                            const text_sink& sink) {
  sink(mime::pkcs7_mime_entity_header(authenticated ? "authEnveloped-data" : "enveloped-data"));
  base64_writer writer(sink);
  writer.write(encryptor.header());

  cms::bytes ciphertext;
  entity.read([&](const uint8_t* data, size_t length) {
    encryptor.update(data, length, ciphertext);
    writer.write(ciphertext);
    ciphertext.clear();
  });
  encryptor.finish(ciphertext);
  writer.write(ciphertext);
  writer.finish();
}

} // namespace router::stream
