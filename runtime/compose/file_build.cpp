#include "runtime/compose/file_build.hpp"

#include "runtime/compose/choices.hpp"
#include "runtime/compose/compose.hpp"

#include "runtime/cms/streaming.hpp"
#include "runtime/common/error.hpp"
#include "runtime/mime/mime.hpp"
#include "runtime/mime/received_message.hpp"
#include "runtime/stream/encoders.hpp"

#include <optional>

namespace router::compose {

namespace {

using namespace detail;

stream::text_sink sink_for(stream::temporary_file& file) {
  return [&file](std::string_view text) { file.write(text); };
}

std::vector<stream::document_attachment> attachments_of(const messages::job_request& job) {
  std::vector<stream::document_attachment> attachments;
  for (const auto& source : job.attachments()) {
    stream::document_attachment attachment;
    attachment.filename = source.filename();
    attachment.content_type = source.content_type();
    attachment.file = source.path();
    attachment.data.assign(source.data().begin(), source.data().end());
    attachments.push_back(std::move(attachment));
  }
  return attachments;
}

/// Returns a content that is the closed temporary file.
stream::content content_of(const stream::temporary_file& file) {
  stream::content content;
  content.add_file(file.path(), file.size(), "temporary file " + file.path().string());
  return content;
}

} // namespace

bool builds_as_file(const messages::job_request& job) {
  return has_file_attachments(job) || job.received_message().size() > received_file_threshold;
}

std::string received_entity(const messages::job_request& job) {
  // A signature inside the received content covers these exact bytes, so
  // nothing in them is re-encoded, refolded or canonicalized.
  const size_t lone_break = mime::find_lone_line_break(job.received_message());
  if (lone_break != std::string::npos)
    throw router_error("the received message has a lone CR or LF at octet " + std::to_string(lone_break) +
                       ", so it cannot be sent on unchanged");
  return mime::received_content_entity(job.received_message());
}

bool has_file_attachments(const messages::job_request& job) {
  for (const auto& attachment : job.attachments()) {
    if (!attachment.path().empty())
      return true;
  }
  return false;
}

void check_attachments(const messages::job_request& job) {
  for (const auto& attachment : job.attachments()) {
    if (attachment.path().empty())
      continue;
    if (!attachment.data().empty())
      throw router_error("attachment \"" + attachment.filename() +
                         "\" sets both data and path; set data for a small document or path for a file, not both");
    stream::readable_file_size(attachment.path(), "attachment file " + attachment.path());
  }
}

std::filesystem::path work_directory(const config::loaded_config& config) {
  const auto& delivery = config.settings.delivery();
  if (delivery.has_outbox() && !delivery.outbox().directory().empty())
    return std::filesystem::path(delivery.outbox().directory()) / "tmp";
  return std::filesystem::temp_directory_path();
}

messages::built_message build_message_file(const config::loaded_config& config, const messages::job_request& job,
                                           const messages::destination_plan& plan,
                                           const Botan::X509_Certificate* recipient, time_point now,
                                           Botan::RandomNumberGenerator& rng, messages::built_message built) {
  check_attachments(job);
  const std::filesystem::path directory = work_directory(config);
  std::filesystem::create_directories(directory);

  // The random values are drawn in the order of the in-memory builder:
  // document boundary, signature, signed boundary, envelope, Message-ID.
  stream::temporary_file document_file(directory, "router-entity");
  std::vector<std::string> document_texts;
  if (job.received_message().empty()) {
    document_texts = stream::write_document_entity(job.body_text(), attachments_of(job),
                                                   "=_mixed_" + random_hex(rng, 12), sink_for(document_file));
  } else {
    document_texts.push_back(received_entity(job));
    document_file.write(document_texts.back());
  }
  document_file.close();
  stream::content entity = content_of(document_file);

  std::string algorithms;
  std::optional<stream::temporary_file> signed_file;
  std::optional<cms::signed_data_frame> encapsulated;  // an opaque signature written into the message itself
  if (plan.sign()) {
    const signing_choice choice = choose_signing(config, now);
    cms::signed_data_frame frame = stream::sign_content(entity, choice.signer, choice.options, rng);
    algorithms += choice.description;

    if (choice.options.detached) {
      const std::string boundary = "=_signed_" + random_hex(rng, 12);
      for (const std::string& text : document_texts)
        mime::check_boundary_absent(text, boundary);
      const auto around = mime::signed_entity_frame(frame.prefix, cms::micalg_name(choice.options.digest), boundary);
      stream::content signed_entity;
      signed_entity.add_text(around.before);
      signed_entity.add_file(document_file.path(), document_file.size(),
                             "temporary file " + document_file.path().string());
      signed_entity.add_text(around.after);
      entity = std::move(signed_entity);
    } else if (plan.encrypt()) {
      signed_file.emplace(directory, "router-signed");
      stream::write_encapsulated_signed_entity(entity, frame, sink_for(*signed_file));
      signed_file->close();
      entity = content_of(*signed_file);
    } else {
      encapsulated = std::move(frame);
    }
  }

  std::optional<cms::envelope_encryptor> encryptor;
  bool authenticated = false;
  if (plan.encrypt()) {
    const encryption_choice choice = choose_encryption(config, plan.destination_id(), *recipient);
    algorithms += std::string(algorithms.empty() ? "" : ", then ") + choice.description;
    authenticated = cms::is_authenticated(choice.cipher);
    encryptor.emplace(choice.recipients, choice.cipher, entity.size(), rng);
  }

  auto headers = headers_for(config, plan.address(), job.subject(), job.job_id(), now, rng);
  headers.trace = received_trace(job);
  stream::temporary_file message_file(directory, "router-message");
  const stream::text_sink sink = sink_for(message_file);
  sink(mime::message_header_block(headers));
  if (encryptor)
    stream::write_enveloped_entity(entity, *encryptor, authenticated, sink);
  else if (encapsulated)
    stream::write_encapsulated_signed_entity(entity, *encapsulated, sink);
  else
    entity.read([&message_file](const uint8_t* data, size_t length) { message_file.write(data, length); });

  built.set_message_file(message_file.release().string());
  built.set_planned_outcome(planned_outcome(plan));
  built.set_algorithms(algorithms);
  return built;
}

} // namespace router::compose
