// Streaming S/MIME encoders: the document entity with attachments read from
// files, detached and encapsulated SignedData over an entity, and
// EnvelopedData or AuthEnvelopedData with the content encrypted chunk by
// chunk. Each writes the same bytes as the in-memory builders of runtime/mime
// and runtime/cms for the same input and random source, while holding only a
// few chunks in memory. Output goes to a text_sink, usually a temporary_file.
//
// Errors throw router::router_error: a missing or unreadable attachment file,
// a file that changed size while it was read, a full disk.
#pragma once

#include "runtime/cms/cms.hpp"
#include "runtime/cms/streaming.hpp"
#include "runtime/stream/content.hpp"

#include <botan/rng.h>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace router::stream {

/// Receives encoded text, one piece at a time.
using text_sink = std::function<void(std::string_view text)>;

/// An attachment of the document entity: data in memory, or a file read as a stream.
struct document_attachment {
  std::string filename;
  std::string content_type;
  std::filesystem::path file;  // read in chunks when not empty
  std::vector<uint8_t> data;   // used when file is empty
};

/// Writes a file as base64 lines of 76 characters ended by CR LF.
/// `description` names the file in errors. Returns the file's length.
uint64_t write_base64_file(const std::filesystem::path& file, const std::string& description, const text_sink& sink);

/// Writes the document entity that mime::build_document_entity() builds for
/// the same text, attachments and boundary. Returns the entity's text around
/// the attachment bodies, so a caller can check it for another boundary.
std::vector<std::string> write_document_entity(std::string_view body_text,
                                               const std::vector<document_attachment>& attachments,
                                               std::string_view boundary, const text_sink& sink);

/// Reads the content once for its digest and signs it as cms::sign() does.
cms::signed_data_frame sign_content(const content& entity, const cms::signer_identity& signer,
                                    const cms::signing_options& options, Botan::RandomNumberGenerator& rng);

/// Writes an application/pkcs7-mime signed-data entity whose SignedData
/// encapsulates the content, framed by `frame` from sign_content().
void write_encapsulated_signed_entity(const content& entity, const cms::signed_data_frame& frame,
                                      const text_sink& sink);

/// Writes an application/pkcs7-mime entity with the content encrypted by
/// `encryptor`, which must have been made for content.size() octets.
void write_enveloped_entity(const content& entity, cms::envelope_encryptor& encryptor, bool authenticated,
                            const text_sink& sink);

} // namespace router::stream
