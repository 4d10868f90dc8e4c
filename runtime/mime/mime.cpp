// Entity and message builders: the document entity, multipart/signed,
// application/pkcs7-mime, the top-level message and its Date value.
// Header folding and encoding live in header_fields.cpp, the transfer
// encodings in transfer_encoding.cpp.
#include "runtime/mime/mime.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "runtime/common/error.hpp"
#include "runtime/mime/header_fields.hpp"

namespace router::mime {

namespace {

using detail::header_field;

constexpr std::string_view crlf = "\r\n";

/// Checks the RFC 2045 2.7 rules for 7bit data: ASCII without NUL, CR and LF only
/// as CR LF, and lines of at most 998 octets.
bool is_7bit_text(std::string_view text) {
  size_t line_length = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto octet = static_cast<uint8_t>(text[i]);
    if (octet == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      line_length = 0;
      ++i;
      continue;
    }
    if (octet == 0 || octet > 0x7F || octet == '\r' || octet == '\n')
      return false;
    if (++line_length > detail::max_line_length)
      return false;
  }
  return true;
}

/// Checks that every CR is followed by LF and every LF follows a CR.
bool has_canonical_line_ends(std::string_view text) {
  // Line by line with memchr, which is much faster than a loop over bytes:
  // the only CR of a line must sit right before its LF.
  const char* line = text.data();
  const char* const end = line + text.size();
  while (line < end) {
    const auto* lf = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    const char* const line_end = lf != nullptr ? lf : end;
    const auto* cr = static_cast<const char*>(std::memchr(line, '\r', static_cast<size_t>(line_end - line)));
    if (lf == nullptr)
      return cr == nullptr;
    if (cr != lf - 1)
      return false;
    line = lf + 1;
  }
  return true;
}

std::string text_part(std::string_view body_text) {
  if (!detail::is_valid_utf8(body_text))
    throw router_error("document text is not valid UTF-8; pass the text as UTF-8");

  std::string canonical = canonicalize_line_ends(body_text);
  const bool ends_with_line_break = canonical.size() >= 2 && canonical.compare(canonical.size() - 2, 2, crlf) == 0;
  if (!canonical.empty() && !ends_with_line_break)
    canonical += crlf;

  const bool seven_bit = is_7bit_text(canonical);
  std::string part = header_field("Content-Type", "text/plain; charset=utf-8");
  part += header_field("Content-Transfer-Encoding", seven_bit ? "7bit" : "quoted-printable");
  part += crlf;
  part += seven_bit ? canonical : encode_quoted_printable(canonical);
  return part;
}

void check_attachment(const attachment_label& file) {
  detail::reject_line_breaks("attachment file name", file.filename);
  if (file.filename.empty())
    throw router_error("attachment file name is empty; give every attachment a file name");
  if (!detail::is_valid_utf8(file.filename))
    throw router_error("attachment file name is not valid UTF-8; pass file names as UTF-8");

  const std::string field = "content type of attachment \"" + file.filename + "\"";
  detail::reject_line_breaks(field, file.content_type);
  const size_t slash = file.content_type.find('/');
  const bool valid = slash != std::string::npos &&
                     detail::is_token(std::string_view(file.content_type).substr(0, slash)) &&
                     detail::is_token(std::string_view(file.content_type).substr(slash + 1));
  if (!valid)
    throw router_error(field + " \"" + file.content_type +
                       "\" is invalid; expected type/subtype without parameters, such as application/pdf");
}

/// Returns the header fields and empty line of an attachment part; its base64 body follows.
std::string attachment_part_header(const attachment_label& file) {
  check_attachment(file);

  const std::string content_type =
      detail::with_parameters(file.content_type, detail::filename_parameter("name", file.filename));
  const std::string disposition =
      detail::with_parameters("attachment", detail::filename_parameter("filename", file.filename));

  std::string part = header_field("Content-Type", content_type);
  part += header_field("Content-Transfer-Encoding", "base64");
  part += header_field("Content-Disposition", disposition);
  part += crlf;
  return part;
}

void check_message_id(std::string_view message_id) {
  detail::reject_line_breaks("Message-ID", message_id);

  bool printable = true;
  for (const char c : message_id) {
    if (c <= 0x20 || c >= 0x7F)
      printable = false;
  }
  const bool bracketed = message_id.size() >= 5 && message_id.front() == '<' && message_id.back() == '>';
  const size_t at = message_id.find('@');
  const bool has_both_sides = at != std::string_view::npos && at > 1 && at + 2 < message_id.size();
  if (printable && bracketed && has_both_sides)
    return;

  throw router_error("Message-ID \"" + std::string(message_id) +
                     "\" is invalid; expected <left@right> in printable ASCII without spaces");
}

} // namespace

std::vector<std::string> document_entity_frame(std::string_view body_text,
                                               const std::vector<attachment_label>& attachments,
                                               std::string_view boundary) {
  std::string text = text_part(body_text);
  if (attachments.empty())
    return {std::move(text)};

  detail::check_boundary(boundary);
  detail::check_boundary_absent(text, boundary);

  // The multipart body of RFC 2046 5.1.1. Each delimiter is CR LF, "--" and
  // the boundary, so a part's bytes are exactly what lies between the CR LF
  // that ends one delimiter line and the CR LF that starts the next. The
  // base64 bodies need no boundary check: "-" is not in the base64 alphabet.
  const std::string delimiter = std::string(crlf) + "--" + std::string(boundary) + std::string(crlf);
  const std::string content_type =
      detail::with_parameters("multipart/mixed", {"boundary=\"" + std::string(boundary) + "\""});
  std::string piece = header_field("Content-Type", content_type);
  piece += crlf;
  piece += "This is a MIME message with attached documents.";
  piece += delimiter;
  piece += text;

  std::vector<std::string> frame;
  for (const attachment_label& file : attachments) {
    const std::string header = attachment_part_header(file);
    detail::check_boundary_absent(header, boundary);
    piece += delimiter;
    piece += header;
    frame.push_back(std::move(piece));
    piece.clear();
  }
  piece += crlf;
  piece += "--" + std::string(boundary) + "--";
  piece += crlf;
  frame.push_back(std::move(piece));
  return frame;
}

std::string build_document_entity(std::string_view body_text, const std::vector<attachment>& attachments,
                                  std::string_view boundary) {
  std::vector<attachment_label> labels;
  for (const attachment& file : attachments)
    labels.push_back({file.filename, file.content_type});
  const std::vector<std::string> frame = document_entity_frame(body_text, labels, boundary);

  std::string entity = frame.front();
  for (size_t i = 0; i < attachments.size(); ++i) {
    entity += base64_lines(attachments[i].data);
    entity += frame[i + 1];
  }
  return entity;
}

entity_frame signed_entity_frame(const std::vector<uint8_t>& signature_der, std::string_view micalg,
                                 std::string_view boundary) {
  detail::check_boundary(boundary);
  if (signature_der.empty())
    throw router_error("signature is empty; pass the DER-encoded CMS SignedData");

  detail::reject_line_breaks("micalg", micalg);
  if (!detail::is_token(micalg))
    throw router_error("micalg \"" + std::string(micalg) + "\" is invalid; expected a name such as sha-256");

  std::string signature_part = header_field("Content-Type", "application/pkcs7-signature; name=smime.p7s");
  signature_part += header_field("Content-Transfer-Encoding", "base64");
  signature_part += header_field("Content-Disposition", "attachment; filename=smime.p7s");
  signature_part += crlf;
  signature_part += base64_lines(signature_der);

  const std::string content_type = detail::with_parameters(
      "multipart/signed", {"protocol=\"application/pkcs7-signature\"", "micalg=" + std::string(micalg),
                           "boundary=\"" + std::string(boundary) + "\""});
  const std::string delimiter = std::string(crlf) + "--" + std::string(boundary) + std::string(crlf);

  entity_frame frame;
  frame.before = header_field("Content-Type", content_type);
  frame.before += crlf;
  frame.before += "This is an S/MIME signed message.";
  frame.before += delimiter;
  frame.after = delimiter;
  frame.after += signature_part;
  frame.after += crlf;
  frame.after += "--" + std::string(boundary) + "--";
  frame.after += crlf;
  return frame;
}

void check_boundary_absent(std::string_view content, std::string_view boundary) {
  detail::check_boundary_absent(content, boundary);
}

std::string build_signed_entity(std::string_view signed_entity, const std::vector<uint8_t>& signature_der,
                                std::string_view micalg, std::string_view boundary) {
  detail::check_boundary(boundary);
  if (signed_entity.empty())
    throw router_error("signed entity is empty; pass the entity that was signed");
  if (!has_canonical_line_ends(signed_entity))
    throw router_error("signed entity contains a lone CR or LF; canonicalize it to CR LF before signing");
  detail::check_boundary_absent(signed_entity, boundary);

  const entity_frame frame = signed_entity_frame(signature_der, micalg, boundary);
  std::string entity = frame.before;
  entity += signed_entity;
  entity += frame.after;
  return entity;
}

std::string pkcs7_mime_entity_header(std::string_view smime_type) {
  // RFC 8551 3.2.2 lists these smime-type values.
  const std::vector<std::string_view> known_types = {"enveloped-data", "authEnveloped-data", "signed-data",
                                                     "certs-only", "compressed-data"};
  detail::reject_line_breaks("smime-type", smime_type);
  if (std::find(known_types.begin(), known_types.end(), smime_type) == known_types.end())
    throw router_error("smime-type \"" + std::string(smime_type) +
                       "\" is invalid; expected enveloped-data, authEnveloped-data or signed-data");

  const std::string content_type = detail::with_parameters(
      "application/pkcs7-mime", {"smime-type=" + std::string(smime_type), "name=smime.p7m"});
  std::string header = header_field("Content-Type", content_type);
  header += header_field("Content-Transfer-Encoding", "base64");
  header += header_field("Content-Disposition", "attachment; filename=smime.p7m");
  header += crlf;
  return header;
}

std::string build_pkcs7_mime_entity(const std::vector<uint8_t>& cms_der, std::string_view smime_type) {
  std::string entity = pkcs7_mime_entity_header(smime_type);
  if (cms_der.empty())
    throw router_error("CMS content is empty; pass the DER-encoded CMS ContentInfo");
  entity += base64_lines(cms_der);
  return entity;
}

bool is_trace_field(std::string_view field) {
  constexpr std::string_view name = "received:";
  if (field.size() <= name.size() + 2 || field.substr(field.size() - 2) != crlf)
    return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(field[i])) != name[i])
      return false;
  if (!has_canonical_line_ends(field))
    return false;
  for (size_t end = field.find(crlf); end + 2 < field.size(); end = field.find(crlf, end + 2)) {
    const char next = field[end + 2];
    if (next != ' ' && next != '\t')
      return false;
  }
  return true;
}

std::string message_header_block(const message_headers& headers) {
  for (const std::string& field : headers.trace)
    if (!is_trace_field(field))
      throw router_error("trace field is not one whole Received: field ended by CR LF; pass it as received");
  detail::reject_line_breaks("Date", headers.date);
  if (headers.date.empty())
    throw router_error("Date is empty; format the send time with format_date()");
  check_message_id(headers.message_id);
  if (headers.to.empty())
    throw router_error("message has no To address; add at least one recipient");

  std::string recipients;
  for (const std::string& to : headers.to) {
    if (!recipients.empty())
      recipients += ", ";
    recipients += detail::mailbox_value("To", to);
  }

  std::string block;
  for (const std::string& field : headers.trace)
    block += field;
  block += header_field("From", detail::mailbox_value("From", headers.from));
  block += header_field("To", recipients);
  block += header_field("Subject", detail::subject_value(headers.subject));
  block += header_field("Date", headers.date);
  block += header_field("Message-ID", headers.message_id);
  block += header_field("MIME-Version", "1.0");
  return block;
}

std::string build_message(const message_headers& headers, std::string_view entity) {
  std::string message = message_header_block(headers);
  if (entity.empty() || !has_canonical_line_ends(entity))
    throw router_error("entity is empty or contains a lone CR or LF; build it with the mime builders");
  message += entity;
  return message;
}

std::string format_date(int64_t unix_seconds) {
  static constexpr const char* day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm fields{};
  // RFC 5322 3.3: the year is 1900 or later.
  if (seconds != unix_seconds || ::gmtime_r(&seconds, &fields) == nullptr || fields.tm_year < 0)
    throw router_error("Unix time " + std::to_string(unix_seconds) +
                       " is out of range for an RFC 5322 date; pass a time from the year 1900 on");

  char formatted[64];
  std::snprintf(formatted, sizeof formatted, "%s, %02d %s %04d %02d:%02d:%02d +0000", day_names[fields.tm_wday],
                fields.tm_mday, month_names[fields.tm_mon], fields.tm_year + 1900, fields.tm_hour, fields.tm_min,
                fields.tm_sec);
  return formatted;
}

} // namespace router::mime
