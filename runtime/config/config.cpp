#include "runtime/config/config.hpp"

#include "runtime/config/error_context.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/common/error.hpp"
#include "runtime/stats/http.hpp"

#include <botan/data_src.h>
#include <botan/x509_crl.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace router::config {

namespace {

using detail::error_context;

/// An enum field of the config, with its path from the top, e.g. "delivery.smtp_relay.starttls".
struct enum_field {
  std::string path;
  const google::protobuf::EnumDescriptor* type = nullptr;
};

/// Collects every enum field named `name` below `message`. A message type
/// already on the current path is skipped, so recursive types end.
void find_enum_fields(const google::protobuf::Descriptor* message, const std::string& prefix, const std::string& name,
                      std::set<const google::protobuf::Descriptor*>& visited, std::vector<enum_field>& found) {
  if (!visited.insert(message).second)
    return;
  for (int i = 0; i < message->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = message->field(i);
    const std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
    if (field->enum_type() != nullptr && field->name() == name)
      found.push_back({path, field->enum_type()});
    if (field->message_type() != nullptr)
      find_enum_fields(field->message_type(), path, name, visited, found);
  }
  visited.erase(message);
}

/// Rewrites protobuf's "Unknown enumeration value of "x" for field "f"."
/// with the field's path and its valid values, which are upper case; returns
/// other messages unchanged.
std::string explain_parse_error(const std::string& message) {
  const std::string value_start = "Unknown enumeration value of \"";
  const std::string field_start = "\" for field \"";
  if (message.rfind(value_start, 0) != 0)
    return message;
  const auto value_end = message.find(field_start, value_start.size());
  const auto name_end = message.rfind('"');
  if (value_end == std::string::npos || name_end <= value_end + field_start.size())
    return message + " (enum values are upper case)";
  const std::string value = message.substr(value_start.size(), value_end - value_start.size());
  const std::string name =
      message.substr(value_end + field_start.size(), name_end - value_end - field_start.size());

  std::set<const google::protobuf::Descriptor*> visited;
  std::vector<enum_field> fields;
  find_enum_fields(router_config::descriptor(), "", name, visited, fields);
  const bool one_type = !fields.empty() && std::all_of(fields.begin(), fields.end(), [&](const enum_field& field) {
    return field.type == fields.front().type;
  });
  if (!one_type)
    return message + " (enum values are upper case)";

  std::string paths;
  for (const auto& field : fields)
    paths += (paths.empty() ? "'" : "' or '") + field.path;
  std::string choices;
  std::string suggestion;
  std::string upper = value;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const google::protobuf::EnumDescriptor* type = fields.front().type;
  for (int i = 0; i < type->value_count(); ++i) {
    // Value 0 is the unset state (..._UNSPECIFIED), which a config does not write.
    if (type->value(i)->number() == 0)
      continue;
    choices += (choices.empty() ? "" : ", ") + type->value(i)->name();
    if (type->value(i)->name() == upper)
      suggestion = type->value(i)->name();
  }
  std::string text = "invalid value \"" + value + "\" for field " + paths + "'; ";
  if (!suggestion.empty())
    return text + "enum values are upper case, so write " + suggestion + " (valid values: " + choices + ")";
  return text + "use one of " + choices + " (enum values are upper case)";
}

/// Collects the first protobuf text-format parse error with its position.
class parse_error_collector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (!first_error_.empty())
      return;
    first_error_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " +
                   explain_parse_error(message);
  }

  const std::string& first_error() const { return first_error_; }

 private:
  std::string first_error_;
};

std::string resolve_path(const std::filesystem::path& base, const std::string& path) {
  if (path.empty())
    return path;
  const std::filesystem::path candidate(path);
  if (candidate.is_absolute())
    return candidate.lexically_normal().string();
  return (base / candidate).lexically_normal().string();
}

bool is_valid_entry_id(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
}

std::string entry_label(int index, const address_entry& entry) {
  std::string label = "address_book[" + std::to_string(index) + "]";
  if (!entry.id().empty())
    label += " (id '" + entry.id() + "')";
  return label;
}

/// Loads a certificate, turning a load failure into a config error for `entry`/`field`.
Botan::X509_Certificate load_certificate_for(const error_context& errors, const std::string& entry,
                                             const std::string& field, const std::string& path) {
  try {
    return certs::load_certificate(path);
  } catch (const router_error& e) {
    errors.fail(entry, field, e.what());
  }
}

void validate_address_book(const error_context& errors, loaded_config& loaded) {
  std::set<std::string> seen_ids;
  const auto& book = loaded.settings.address_book();

  for (int i = 0; i < book.size(); ++i) {
    const address_entry& entry = book.Get(i);
    const std::string label = entry_label(i, entry);

    if (!is_valid_entry_id(entry.id()))
      errors.fail(label, "id", "'" + entry.id() +
                                   "' is not a valid id; use 1-64 letters, digits, '-', '_' or '.'");
    if (!seen_ids.insert(entry.id()).second)
      errors.fail(label, "id", "duplicate id '" + entry.id() + "'; every address-book id must be unique");
    if (!is_valid_address(entry.address()))
      errors.fail(label, "address", "'" + entry.address() + "' is not a valid e-mail address (user@example.com)");
    if (entry.kind() == DESTINATION_KIND_UNSPECIFIED)
      errors.fail(label, "kind", "missing; set kind: EMAIL or kind: INTERNET_FAX");

    if (entry.certificate_file().empty())
      continue;

    const Botan::X509_Certificate certificate =
        load_certificate_for(errors, label, "certificate_file", entry.certificate_file());
    loaded.certificate_index[entry.id()] = policy::certificate_info{
        entry.certificate_file(), certs::not_before(certificate), certs::not_after(certificate)};
    loaded.destination_certificates.emplace(entry.id(), certificate);
  }
}

void validate_functions(const error_context& errors, const router_config& settings) {
  std::set<int> seen;
  for (int i = 0; i < settings.functions_size(); ++i) {
    const function_setting& setting = settings.functions(i);
    const std::string label = "functions[" + std::to_string(i) + "]";

    if (setting.function() == SOURCE_FUNCTION_UNSPECIFIED)
      errors.fail(label, "function", "missing; name one of STANDARD_ADDRESS, EMAIL_TX_RESULTS, "
                                     "FOLDER_TRANSFER_RESULT_REPORT, STORE, PERSONAL_BOX, TRANSFER_BOX, "
                                     "FORWARDING, SMTP_RECEPTION");
    if (!seen.insert(setting.function()).second)
      errors.fail(label, "function", "duplicate settings for " + function_name(setting.function()) +
                                         "; keep one entry per function");
  }
}

bool any_function_signs(const router_config& settings) {
  return std::any_of(settings.functions().begin(), settings.functions().end(),
                     [](const function_setting& setting) { return setting.sign(); });
}

void validate_device(const error_context& errors, loaded_config& loaded) {
  const device_identity& device = loaded.settings.device();

  if (!is_valid_address(device.sender_address()))
    errors.fail("device", "sender_address",
                "'" + device.sender_address() + "' is not a valid e-mail address; set the device's From address");
  if (!device.admin_address().empty() && !is_valid_address(device.admin_address()))
    errors.fail("device", "admin_address", "'" + device.admin_address() + "' is not a valid e-mail address");

  const bool must_sign = loaded.settings.signature_mode() == USE_ALWAYS || any_function_signs(loaded.settings);
  if (device.certificate_file().empty()) {
    if (must_sign)
      errors.fail("device", "certificate_file",
                  "missing, but messages are to be signed; set the device signing certificate or turn signing off");
    if (!device.private_key_file().empty())
      errors.fail("device", "certificate_file", "missing although private_key_file is set; set both or neither");
    return;
  }
  if (device.private_key_file().empty())
    errors.fail("device", "private_key_file", "missing; the signing certificate needs its private key");

  loaded.device_certificate = load_certificate_for(errors, "device", "certificate_file", device.certificate_file());
  try {
    loaded.device_key = certs::load_private_key(device.private_key_file());
  } catch (const router_error& e) {
    errors.fail("device", "private_key_file", e.what());
  }
  if (!certs::key_matches_certificate(*loaded.device_key, *loaded.device_certificate))
    errors.fail("device", "private_key_file",
                "the key in " + device.private_key_file() + " does not belong to the certificate in " +
                    device.certificate_file() + "; configure the matching pair");

  for (int i = 0; i < device.chain_files_size(); ++i) {
    const std::string field = "chain_files[" + std::to_string(i) + "]";
    try {
      for (auto& certificate : certs::load_certificates(device.chain_files(i)))
        loaded.device_chain.push_back(std::move(certificate));
    } catch (const router_error& e) {
      errors.fail("device", field, e.what());
    }
  }
}

/// Loads every CRL in a PEM file (or the single one in a DER file).
std::vector<Botan::X509_CRL> load_crls(const std::string& path) {
  std::vector<Botan::X509_CRL> crls;
  try {
    Botan::DataSource_Stream source(path, true);
    while (!source.end_of_data()) {
      crls.emplace_back(source);
      // Skip the blank lines between PEM blocks so end_of_data() reports the end.
      uint8_t next = 0;
      while (source.peek(&next, 1, 0) == 1 && (next == '\n' || next == '\r' || next == ' '))
        source.discard_next(1);
    }
  } catch (const std::exception& e) {
    throw router_error("cannot read CRL file " + path + ": " + e.what() + "; provide a PEM or DER X.509 CRL");
  }
  if (crls.empty())
    throw router_error("no CRL found in " + path + "; provide a PEM or DER X.509 CRL");
  return crls;
}

void validate_trust(const error_context& errors, loaded_config& loaded) {
  const auto& files = loaded.settings.trust_anchor_files();
  for (int i = 0; i < files.size(); ++i) {
    try {
      for (auto& certificate : certs::load_certificates(files.Get(i)))
        loaded.trust_anchors.push_back(std::move(certificate));
    } catch (const router_error& e) {
      errors.fail("", "trust_anchor_files[" + std::to_string(i) + "]", e.what());
    }
  }
  if (loaded.trust_anchors.empty() && !loaded.destination_certificates.empty())
    errors.fail("", "trust_anchor_files", "missing; destination certificates are checked against trust anchors, "
                                          "so name the CA certificates that issued them");

  // Self-signed certificates are anchors; the others can only complete chains.
  for (const auto& certificate : loaded.trust_anchors) {
    if (certificate.is_self_signed())
      loaded.trust.anchors.push_back(certificate);
    else
      loaded.trust.intermediates.push_back(certificate);
  }
  loaded.trust.intermediates.insert(loaded.trust.intermediates.end(), loaded.device_chain.begin(),
                                    loaded.device_chain.end());

  const auto& crl_files = loaded.settings.crl_files();
  for (int i = 0; i < crl_files.size(); ++i) {
    try {
      for (auto& crl : load_crls(crl_files.Get(i)))
        loaded.trust.crls.push_back(std::move(crl));
    } catch (const router_error& e) {
      errors.fail("", "crl_files[" + std::to_string(i) + "]", e.what());
    }
  }
}

/// Returns "VALUE is not a known NAME" for an enum field that contains a bare
/// number outside the schema (proto3 text format accepts numbers for enums).
std::string unknown_enum_value(int value, const std::string& type) {
  return std::to_string(value) + " is not a known " + type + "; use one of the names listed in config.proto";
}

/// Returns true when text has no space or control character, as host names need.
bool is_plain_token(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

/// Returns "" when the password file can be used, else the problem.
std::string password_file_problem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string first_line;
  if (!in)
    return "cannot read " + path + "; check the path and its permissions";
  std::getline(in, first_line);
  if (!first_line.empty() && first_line.back() == '\r')
    first_line.pop_back();
  if (first_line.empty())
    return path + " is empty; write the password on its first line";
  return "";
}

void validate_relay_tls(const error_context& errors, const smtp_relay_target& relay) {
  if (!starttls_mode_IsValid(relay.starttls()))
    errors.fail("delivery", "smtp_relay.starttls", unknown_enum_value(relay.starttls(), "starttls_mode"));

  const bool never = relay.starttls() == NEVER;
  const std::string never_fix = "; remove it, or set starttls to OPPORTUNISTIC or REQUIRED";
  if (never && relay.tls_trust_anchor_files_size() > 0)
    errors.fail("delivery", "smtp_relay.tls_trust_anchor_files", "set, but starttls is NEVER" + never_fix);
  if (never && !relay.tls_server_name().empty())
    errors.fail("delivery", "smtp_relay.tls_server_name", "set, but starttls is NEVER" + never_fix);
  if (!relay.tls_server_name().empty() && !is_plain_token(relay.tls_server_name()))
    errors.fail("delivery", "smtp_relay.tls_server_name",
                "'" + relay.tls_server_name() + "' is not a host name; give the DNS name in the relay certificate");

  for (int i = 0; i < relay.tls_trust_anchor_files_size(); ++i) {
    try {
      certs::load_certificates(relay.tls_trust_anchor_files(i));
    } catch (const router_error& e) {
      errors.fail("delivery", "smtp_relay.tls_trust_anchor_files[" + std::to_string(i) + "]", e.what());
    }
  }
}

void validate_relay_auth(const error_context& errors, const smtp_relay_target& relay) {
  const bool has_username = !relay.username().empty();
  const bool has_password_file = !relay.password_file().empty();
  if (has_username && !has_password_file)
    errors.fail("delivery", "smtp_relay.password_file",
                "missing, but username '" + relay.username() + "' is set; name the file that holds its password");
  if (!has_username && has_password_file)
    errors.fail("delivery", "smtp_relay.username",
                "missing, but password_file is set; set the username too, or remove password_file");
  if (!has_username)
    return;

  const bool control_character = std::any_of(relay.username().begin(), relay.username().end(),
                                             [](unsigned char c) { return c < ' ' || c == 0x7f; });
  if (control_character)
    errors.fail("delivery", "smtp_relay.username", "contains a control character; AUTH cannot send it");
  if (relay.starttls() == NEVER)
    errors.fail("delivery", "smtp_relay.username",
                "set, but starttls is NEVER; AUTH is only sent inside TLS, so set starttls to REQUIRED");
  const std::string problem = password_file_problem(relay.password_file());
  if (!problem.empty())
    errors.fail("delivery", "smtp_relay.password_file", problem);
}

void validate_smtp_relay(const error_context& errors, const smtp_relay_target& relay) {
  if (relay.host().empty())
    errors.fail("delivery", "smtp_relay.host", "missing; name the relay host");
  if (!is_plain_token(relay.host()))
    errors.fail("delivery", "smtp_relay.host", "'" + relay.host() + "' is not a host name or IP address");
  if (relay.port() == 0 || relay.port() > 65535)
    errors.fail("delivery", "smtp_relay.port", std::to_string(relay.port()) + " is not a TCP port; use 1-65535");
  if (!relay.helo_name().empty() && (!is_plain_token(relay.helo_name()) || relay.helo_name().size() > 255))
    errors.fail("delivery", "smtp_relay.helo_name",
                "'" + relay.helo_name() + "' is not a host name; give this device's DNS name, e.g. printer.example.com");
  if (relay.timeout_seconds() > 3600)
    errors.fail("delivery", "smtp_relay.timeout_seconds",
                std::to_string(relay.timeout_seconds()) + " is too long; use 1-3600 seconds, or 0 for 30");

  validate_relay_tls(errors, relay);
  validate_relay_auth(errors, relay);
}

void validate_delivery(const error_context& errors, const router_config& settings) {
  const delivery_target& delivery = settings.delivery();
  switch (delivery.target_case()) {
    case delivery_target::kOutbox:
      if (delivery.outbox().directory().empty())
        errors.fail("delivery", "outbox.directory", "missing; name the Maildir outbox folder");
      return;
    case delivery_target::kSmtpRelay:
      validate_smtp_relay(errors, delivery.smtp_relay());
      return;
    case delivery_target::TARGET_NOT_SET:
      errors.fail("delivery", "", "missing; set delivery { outbox { directory: \"...\" } } or "
                                  "delivery { smtp_relay { host: \"...\" port: 25 } }");
  }
}

void validate_metrics_listen(const error_context& errors, const router_config& settings) {
  if (settings.metrics_listen().empty())
    return;
  std::string problem;
  if (!stats::parse_loopback_endpoint(settings.metrics_listen(), problem))
    errors.fail("", "metrics_listen", problem);
}

void validate_algorithms(const error_context& errors, const loaded_config& loaded) {
  const algorithm_settings& algorithms = loaded.settings.algorithms();

  if (!digest_algorithm_IsValid(algorithms.digest()))
    errors.fail("algorithms", "digest", unknown_enum_value(algorithms.digest(), "digest_algorithm"));
  if (!content_cipher_IsValid(algorithms.content_cipher()))
    errors.fail("algorithms", "content_cipher", unknown_enum_value(algorithms.content_cipher(), "content_cipher"));
  if (!key_transport_IsValid(algorithms.key_transport()))
    errors.fail("algorithms", "key_transport", unknown_enum_value(algorithms.key_transport(), "key_transport"));
  if (!recipient_identifier_IsValid(algorithms.recipient_identifier()))
    errors.fail("algorithms", "recipient_identifier",
                unknown_enum_value(algorithms.recipient_identifier(), "recipient_identifier"));
  if (!signature_form_IsValid(algorithms.signing().form()))
    errors.fail("algorithms", "signing.form", unknown_enum_value(algorithms.signing().form(), "signature_form"));
  if (!rsa_signature_scheme_IsValid(algorithms.signing().rsa_scheme()))
    errors.fail("algorithms", "signing.rsa_scheme",
                unknown_enum_value(algorithms.signing().rsa_scheme(), "rsa_signature_scheme"));

  const bool wants_pss = algorithms.signing().rsa_scheme() == RSASSA_PSS;
  if (wants_pss && loaded.device_key && loaded.device_key->algo_name() != "RSA")
    errors.fail("algorithms", "signing.rsa_scheme",
                "RSASSA_PSS needs an RSA device key, but " + loaded.settings.device().private_key_file() +
                    " holds an " + loaded.device_key->algo_name() +
                    " key; remove rsa_scheme or configure an RSA key and certificate");
}

void validate_capabilities(const error_context& errors, const std::string& label, const address_entry& entry) {
  std::set<int> seen;
  for (int i = 0; i < entry.capabilities_size(); ++i) {
    const std::string field = "capabilities[" + std::to_string(i) + "]";
    const int capability = entry.capabilities(i);
    if (!content_cipher_IsValid(capability))
      errors.fail(label, field, unknown_enum_value(capability, "content_cipher"));
    if (capability == CONTENT_CIPHER_UNSPECIFIED)
      errors.fail(label, field, "CONTENT_CIPHER_UNSPECIFIED is not a cipher; list AES128_CBC, AES192_CBC, "
                                "AES256_CBC, AES128_GCM or AES256_GCM");
    if (!seen.insert(capability).second)
      errors.fail(label, field, content_cipher_Name(entry.capabilities(i)) + " is listed twice; list each cipher once");
  }
}

/// Checks the per-destination algorithm fields and that every certificate that
/// may be used for encryption has a key that cms::encrypt() accepts.
void validate_destination_algorithms(const error_context& errors, const loaded_config& loaded) {
  const auto& book = loaded.settings.address_book();
  for (int i = 0; i < book.size(); ++i) {
    const address_entry& entry = book.Get(i);
    const std::string label = entry_label(i, entry);

    if (!content_cipher_IsValid(entry.content_cipher()))
      errors.fail(label, "content_cipher", unknown_enum_value(entry.content_cipher(), "content_cipher"));
    if (!key_transport_IsValid(entry.key_transport()))
      errors.fail(label, "key_transport", unknown_enum_value(entry.key_transport(), "key_transport"));
    validate_capabilities(errors, label, entry);

    const auto found = loaded.destination_certificates.find(entry.id());
    if (found == loaded.destination_certificates.end())
      continue;

    const Botan::X509_Certificate& certificate = found->second;
    if (entry.key_transport() != KEY_TRANSPORT_UNSPECIFIED && cms::uses_key_agreement(certificate))
      errors.fail(label, "key_transport",
                  "set, but " + entry.certificate_file() +
                      " has an EC key, which always uses ECDH key agreement; remove key_transport from this entry");

    const bool may_encrypt = entry.encrypt() || loaded.settings.encrypt_all();
    const std::string problem = may_encrypt ? cms::recipient_key_problem(certificate) : "";
    if (!problem.empty())
      errors.fail(label, "certificate_file", "cannot encrypt for this destination: " + problem);
  }
}

/// Makes the spool folder and TLS file paths of the reception settings absolute.
void resolve_reception_paths(smtp_reception& reception, const std::filesystem::path& base) {
  reception.set_spool_directory(resolve_path(base, reception.spool_directory()));
  if (!reception.has_tls())
    return;
  tls_identity& tls = *reception.mutable_tls();
  tls.set_certificate_file(resolve_path(base, tls.certificate_file()));
  tls.set_private_key_file(resolve_path(base, tls.private_key_file()));
  for (auto& chain_file : *tls.mutable_chain_files())
    chain_file = resolve_path(base, chain_file);
}

/// Makes every file path in the settings absolute, relative to `base`.
void resolve_paths(router_config& settings, const std::filesystem::path& base) {
  for (auto& entry : *settings.mutable_address_book())
    entry.set_certificate_file(resolve_path(base, entry.certificate_file()));

  device_identity& device = *settings.mutable_device();
  device.set_certificate_file(resolve_path(base, device.certificate_file()));
  device.set_private_key_file(resolve_path(base, device.private_key_file()));
  for (auto& chain_file : *device.mutable_chain_files())
    chain_file = resolve_path(base, chain_file);

  for (auto& anchor : *settings.mutable_trust_anchor_files())
    anchor = resolve_path(base, anchor);
  for (auto& crl : *settings.mutable_crl_files())
    crl = resolve_path(base, crl);

  if (settings.has_reception())
    resolve_reception_paths(*settings.mutable_reception(), base);

  if (settings.delivery().has_outbox()) {
    auto& outbox = *settings.mutable_delivery()->mutable_outbox();
    outbox.set_directory(resolve_path(base, outbox.directory()));
  }
  if (settings.delivery().has_smtp_relay()) {
    auto& relay = *settings.mutable_delivery()->mutable_smtp_relay();
    for (auto& anchor : *relay.mutable_tls_trust_anchor_files())
      anchor = resolve_path(base, anchor);
    relay.set_password_file(resolve_path(base, relay.password_file()));
  }
}

} // namespace

const address_entry* loaded_config::find_entry(const std::string& id) const {
  for (const auto& entry : settings.address_book()) {
    if (entry.id() == id)
      return &entry;
  }
  return nullptr;
}

loaded_config load_config_text(const std::string& text, const std::filesystem::path& file) {
  const error_context errors(file);
  loaded_config loaded;
  loaded.source_file = file;

  google::protobuf::TextFormat::Parser parser;
  parse_error_collector collector;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(text, &loaded.settings))
    errors.fail("", "", "invalid config syntax at " + collector.first_error());

  resolve_paths(loaded.settings, file.parent_path());

  if (loaded.settings.crypto_workers() > 256)
    errors.fail("", "crypto_workers", std::to_string(loaded.settings.crypto_workers()) +
                                          " is too many; use 0 (two per core) to 256");
  validate_metrics_listen(errors, loaded.settings);
  validate_address_book(errors, loaded);
  validate_functions(errors, loaded.settings);
  validate_device(errors, loaded);
  validate_trust(errors, loaded);
  validate_delivery(errors, loaded.settings);
  validate_algorithms(errors, loaded);
  validate_destination_algorithms(errors, loaded);
  detail::validate_reception(errors, loaded);
  return loaded;
}

loaded_config load_config(const std::filesystem::path& file) {
  std::error_code error;
  if (std::filesystem::exists(file, error) && !std::filesystem::is_regular_file(file, error))
    throw config_error(file.string() + ": not a regular file; name the config file itself");
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw config_error(file.string() + ": cannot open the config file; check the path and its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find_first_not_of(" \t\r\n") == std::string::npos)
    throw config_error(file.string() + ": the config file is empty; see the README for a complete example");
  return load_config_text(text.str(), std::filesystem::absolute(file));
}

std::string function_name(source_function function) {
  return source_function_Name(function);
}

std::optional<source_function> parse_function_name(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) {
    return c == '-' ? '_' : static_cast<char>(std::toupper(c));
  });
  source_function function = SOURCE_FUNCTION_UNSPECIFIED;
  if (!source_function_Parse(upper, &function) || function == SOURCE_FUNCTION_UNSPECIFIED)
    return std::nullopt;
  return function;
}

bool is_valid_address(const std::string& address) {
  const auto at = address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= address.size())
    return false;
  if (address.find('@', at + 1) != std::string::npos || address.size() > 254)
    return false;

  const bool clean = std::none_of(address.begin(), address.end(), [](unsigned char c) {
    return c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"';
  });
  if (!clean)
    return false;

  const std::string domain = address.substr(at + 1);
  return domain.find('.') != std::string::npos && domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == std::string::npos;
}

} // namespace router::config
