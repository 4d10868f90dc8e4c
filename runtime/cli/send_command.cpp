// `smime-router send` and `smime-router check-config`, plus argument helpers.
#include "runtime/cli/commands.hpp"

#include "runtime/api/service.hpp"
#include "runtime/config/health.hpp"
#include "runtime/cli/result_format.hpp"
#include "runtime/config/config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace router::cli {

namespace {

constexpr const char* send_usage =
    "usage: smime-router send --config FILE --function NAME --to DEST [--to DEST ...] [options]\n"
    "\n"
    "  --config FILE        router config (protobuf text format)\n"
    "  --function NAME      source function: standard_address, email_tx_results,\n"
    "                       folder_transfer_result_report, store, personal_box, transfer_box,\n"
    "                       forwarding, smtp_reception\n"
    "  --to DEST            destination, in send order: an address-book id or an e-mail address;\n"
    "                       append :sign or :nosign to set its signature (standard_address only)\n"
    "  --attach FILE[=TYPE] attach a file; TYPE defaults from the extension (.pdf, .tif/.tiff, .txt).\n"
    "                       Files over 1 MiB are read in chunks while each message is built,\n"
    "                       so they must stay unchanged until the command ends\n"
    "  --subject TEXT       Subject header\n"
    "  --body TEXT          text part of the message\n"
    "  --encrypt            ask for encryption (destinations with a certificate and encrypt on)\n"
    "  --sign | --no-sign   ask for or against a signature for the whole job (standard_address only)\n"
    "  --originator ADDR    sender of a received document (gets certificate-failure notices)\n"
    "  --end-receiver ADDR  receiver of a routed document (notice target without an originator)\n"
    "  --job-id ID          job id; assigned when absent\n";

std::string guess_content_type(const std::string& file) {
  std::string extension = file.substr(file.find_last_of('.') == std::string::npos ? file.size()
                                                                                 : file.find_last_of('.'));
  std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
  if (extension == ".pdf")
    return "application/pdf";
  if (extension == ".tif" || extension == ".tiff")
    return "image/tiff";
  if (extension == ".txt")
    return "text/plain";
  return "application/octet-stream";
}

/// Attachment files larger than this go into the job by path, so the router
/// streams them instead of holding them in memory.
constexpr std::uintmax_t max_in_memory_attachment = 1024 * 1024;

messages::attachment read_attachment(const std::string& spec) {
  const auto equals = spec.find('=');
  const std::string path = spec.substr(0, equals);
  messages::attachment attachment;
  attachment.set_filename(path.substr(path.find_last_of('/') + 1));
  attachment.set_content_type(equals == std::string::npos ? guess_content_type(path) : spec.substr(equals + 1));

  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (!error && size > max_in_memory_attachment) {
    attachment.set_path(std::filesystem::absolute(path).string());
    return attachment;
  }

  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::invalid_argument("cannot read attachment '" + path + "'; check the path");
  std::ostringstream data;
  data << in.rdbuf();
  attachment.set_data(data.str());
  return attachment;
}

messages::destination_ref parse_destination(const std::string& spec) {
  messages::destination_ref ref;
  std::string target = spec;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos) {
    const std::string choice = spec.substr(colon + 1);
    if (choice == "sign")
      ref.set_sign(messages::SIGN_REQUEST_ON);
    else if (choice == "nosign")
      ref.set_sign(messages::SIGN_REQUEST_OFF);
    else
      throw std::invalid_argument("invalid --to '" + spec + "': the suffix after ':' must be sign or nosign");
    target = spec.substr(0, colon);
  }
  if (target.find('@') != std::string::npos)
    ref.set_address(target);
  else
    ref.set_id(target);
  return ref;
}

messages::job_request parse_job(arguments& args) {
  messages::job_request job;
  const std::string function_text = take_option(args, "--function");
  const auto function = config::parse_function_name(function_text);
  if (!function)
    throw std::invalid_argument(function_text.empty() ? "missing --function"
                                                      : "unknown function '" + function_text + "'");
  job.set_function(*function);

  const auto destinations = take_all(args, "--to");
  if (destinations.empty())
    throw std::invalid_argument("missing --to; name at least one destination");
  for (const auto& spec : destinations)
    *job.add_destinations() = parse_destination(spec);
  for (const auto& spec : take_all(args, "--attach"))
    *job.add_attachments() = read_attachment(spec);

  job.set_subject(take_option(args, "--subject"));
  job.set_body_text(take_option(args, "--body"));
  job.set_originator(take_option(args, "--originator"));
  job.set_end_receiver(take_option(args, "--end-receiver"));
  job.set_job_id(take_option(args, "--job-id"));
  job.set_request_encrypt(take_flag(args, "--encrypt"));
  const bool sign = take_flag(args, "--sign");
  const bool no_sign = take_flag(args, "--no-sign");
  if (sign && no_sign)
    throw std::invalid_argument("--sign and --no-sign exclude each other");
  job.set_request_sign(sign ? messages::SIGN_REQUEST_ON : no_sign ? messages::SIGN_REQUEST_OFF
                                                                  : messages::SIGN_REQUEST_UNSPECIFIED);

  // Only standby-screen sends choose their signature; every other function
  // signs by its own setting, so a choice there would be silently ignored.
  const bool chooses = sign || no_sign || std::any_of(job.destinations().begin(), job.destinations().end(),
                                                      [](const auto& ref) { return ref.sign() != 0; });
  if (chooses && job.function() != config::STANDARD_ADDRESS)
    throw std::invalid_argument("--sign, --no-sign and :sign/:nosign apply to standard_address only; " +
                                function_text + " signs by its own config setting");
  return job;
}

} // namespace

long long parse_number(const std::string& text, const std::string& option, long long low, long long high) {
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || value < low || value > high)
    throw std::invalid_argument("invalid " + option + " '" + text + "'; use a whole number from " +
                                std::to_string(low) + " to " + std::to_string(high));
  return value;
}

std::string take_option(arguments& args, const std::string& name) {
  const auto found = std::find(args.begin(), args.end(), name);
  if (found == args.end())
    return {};
  if (found + 1 == args.end())
    throw std::invalid_argument("option " + name + " needs a value");
  std::string value = *(found + 1);
  args.erase(found, found + 2);
  return value;
}

std::vector<std::string> take_all(arguments& args, const std::string& name) {
  std::vector<std::string> values;
  while (std::find(args.begin(), args.end(), name) != args.end())
    values.push_back(take_option(args, name));
  return values;
}

bool take_flag(arguments& args, const std::string& name) {
  const auto found = std::find(args.begin(), args.end(), name);
  if (found == args.end())
    return false;
  args.erase(found);
  return true;
}

int run_send(const arguments& given) {
  arguments args = given;
  if (take_flag(args, "--help")) {
    std::cout << send_usage;
    return exit_ok;
  }

  messages::job_request job;
  std::string config_file;
  try {
    config_file = take_option(args, "--config");
    if (config_file.empty())
      throw std::invalid_argument("missing --config FILE");
    job = parse_job(args);
    if (!args.empty())
      throw std::invalid_argument("unexpected argument '" + args.front() + "'");
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router send: " << e.what() << "\n\n" << send_usage;
    return exit_usage;
  }

  config::loaded_config loaded;
  try {
    loaded = config::load_config(config_file);
  } catch (const config::config_error& e) {
    std::cerr << "smime-router send: invalid config: " << e.what() << "\n";
    return exit_config_invalid;
  }

  // One job and out: the daily certificate warning belongs to long-running routers.
  api::service_options options;
  options.health_check_interval = std::chrono::seconds(0);
  auto service = api::service::start(std::move(loaded), options);
  messages::job_result result;
  try {
    result = service->submit(job);
  } catch (const api::invalid_job& e) {
    std::cerr << "smime-router send: " << e.what() << "\n";
    return exit_usage;
  }
  service->stop();

  for (const auto& destination : result.destinations())
    std::cout << format_result_json(destination) << "\n";
  for (const auto& notice : format_notice_json(result))
    std::cout << notice << "\n";
  return all_sent(result) ? exit_ok : exit_not_all_sent;
}

int run_check_config(const arguments& given) {
  constexpr const char* usage =
      "usage: smime-router check-config --config FILE [--warn-days N] [--at UNIX_TIME]\n"
      "  --warn-days N   warn for certificates expiring within N days\n"
      "                  (default: the config's expiry_warning_days, else 30)\n"
      "  --at UNIX_TIME  judge certificates at this time instead of now\n";
  arguments args = given;
  if (take_flag(args, "--help")) {
    std::cout << usage;
    return exit_ok;
  }

  std::string config_file;
  int warning_days = -1;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  try {
    config_file = take_option(args, "--config");
    const std::string days = take_option(args, "--warn-days");
    const std::string at = take_option(args, "--at");
    if (config_file.empty() || !args.empty())
      throw std::invalid_argument(config_file.empty() ? "missing --config FILE" : "unexpected argument '" + args.front() + "'");
    if (!days.empty())
      warning_days = static_cast<int>(parse_number(days, "--warn-days", 0, 3650));
    if (!at.empty())
      now = std::chrono::system_clock::time_point(std::chrono::seconds(parse_number(at, "--at", 0, 32503680000LL)));
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router check-config: " << e.what() << "\n\n" << usage;
    return exit_usage;
  }

  config::loaded_config loaded;
  try {
    loaded = config::load_config(config_file);
  } catch (const config::config_error& e) {
    std::cerr << "smime-router check-config: invalid config: " << e.what() << "\n";
    return exit_config_invalid;
  }

  if (warning_days < 0)
    warning_days = loaded.settings.expiry_warning_days() == 0 ? 30 : static_cast<int>(loaded.settings.expiry_warning_days());
  const auto rows = config::check_certificate_health(loaded, now, warning_days);
  std::cout << config_file << ": valid; " << loaded.settings.address_book_size() << " address-book entries, "
            << loaded.destination_certificates.size() << " destination certificates\n\n"
            << config::format_certificate_health(rows, warning_days);
  const bool all_usable = std::all_of(rows.begin(), rows.end(), [](const config::certificate_health& row) {
    return row.verdict.state == certs::usability::usable;
  });
  return all_usable ? exit_ok : exit_not_all_sent;
}

} // namespace router::cli
