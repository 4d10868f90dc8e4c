// `smime-router demo`: a self-contained run of every source function.
//
// Makes a throwaway PKI with Botan, writes it and the config it uses under the
// output folder, sends one job from every source function into a Maildir
// outbox, and prints the per-destination results, the openssl commands that
// check a message, and the per-actor counts.
#include "runtime/cli/commands.hpp"

#include "runtime/api/service.hpp"
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cli/demo_documents.hpp"
#include "runtime/cli/result_format.hpp"
#include "runtime/config/config.hpp"
#include "runtime/reports/reports.hpp"

#include <botan/auto_rng.h>

#include <fstream>
#include <iostream>
#include <map>

namespace router::cli {

namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using clock_type = std::chrono::system_clock;

constexpr hours day{24};

/// One address-book entry of the demo, with the certificate it gets.
struct demo_entry {
  std::string id;
  std::string name;
  std::string address;
  bool internet_fax;
  bool encrypt;
  bool sign;
  enum { none, valid, expired } certificate;
};

const std::vector<demo_entry> demo_address_book = {
    {"alice", "Alice Archer", "alice@example.com", false, true, true, demo_entry::valid},
    {"bob", "Bob Baker", "bob@example.com", false, true, false, demo_entry::valid},
    {"carol", "Carol Cooper", "carol@example.com", false, true, false, demo_entry::expired},
    {"dave", "Dave Dalton", "dave@example.com", false, false, false, demo_entry::none},
    {"fax-osaka", "Osaka office fax", "fax-osaka@ifax.example.com", true, true, false, demo_entry::valid},
};

constexpr const char* demo_functions = R"(functions { function: STANDARD_ADDRESS encrypt: false sign: false }
functions { function: EMAIL_TX_RESULTS encrypt: true sign: true }
functions { function: FOLDER_TRANSFER_RESULT_REPORT encrypt: false sign: true }
functions { function: STORE encrypt: true sign: false }
functions { function: PERSONAL_BOX encrypt: true sign: true }
functions { function: TRANSFER_BOX encrypt: true sign: true }
functions { function: FORWARDING encrypt: true sign: true }
functions { function: SMTP_RECEPTION encrypt: false sign: true }
)";

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out)
    throw std::runtime_error("cannot write " + path.string() + "; check that the folder is writable");
}

constexpr const char* demo_marker = ".smime-router-demo";

/// Prepares the output folder: creates it, or clears what an earlier demo wrote
/// there. A folder without the demo's marker file is never touched.
void prepare_output(const fs::path& out) {
  if (fs::exists(out) && !fs::is_empty(out)) {
    if (!fs::exists(out / demo_marker))
      throw std::runtime_error(out.string() + " exists and was not made by an earlier demo run; name an empty or "
                                              "new folder");
    fs::remove_all(out / "pki");
    fs::remove_all(out / "outbox");
    fs::remove(out / "router.textproto");
  }
  fs::create_directories(out / "pki");
  write_text(out / demo_marker, "Made by 'smime-router demo'; a later demo run replaces pki/, outbox/ and "
                                "router.textproto here.\n");
}

/// Writes a private key readable by its owner only.
void write_key(const fs::path& path, const std::string& pem) {
  write_text(path, pem);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

/// Makes the PKI, writes it as PEM under out/pki and returns the config text.
std::string write_pki_and_config(const fs::path& out, Botan::RandomNumberGenerator& rng) {
  const auto now = clock_type::now();
  const certs::validity_window long_window{now - day, now + 3650 * day};
  const certs::validity_window expired_window{now - 400 * day, now - 35 * day};

  certs::pki_builder pki(rng, "Demo Secure Send Root CA", long_window);
  const auto intermediate = pki.issue_intermediate("Demo S/MIME Issuing CA", long_window);
  const auto device = pki.issue_email(intermediate, "Device MFP-0042", "router@device.example.com",
                                      {now - day, now + 730 * day});

  const fs::path pki_dir = out / "pki";
  write_text(pki_dir / "root.pem", certs::to_pem(pki.root().certificate));
  write_text(pki_dir / "intermediate.pem", certs::to_pem(intermediate.certificate));
  write_text(pki_dir / "device.cert.pem", certs::to_pem(device.certificate));
  write_key(pki_dir / "device.key.pem", certs::to_pem(*device.private_key));

  std::string config = "# Written by 'smime-router demo'. Paths are relative to this file.\n";
  config += "signature_mode: SET_INDIVIDUALLY\nencrypt_all: false\n";
  for (const auto& entry : demo_address_book) {
    config += "address_book {\n  id: \"" + entry.id + "\"\n  name: \"" + entry.name + "\"\n  address: \"" +
              entry.address + "\"\n  kind: " + (entry.internet_fax ? "INTERNET_FAX" : "EMAIL") + "\n  encrypt: " +
              (entry.encrypt ? "true" : "false") + "\n  sign: " + (entry.sign ? "true" : "false") + "\n";
    if (entry.certificate != demo_entry::none) {
      const auto window = entry.certificate == demo_entry::expired ? expired_window : long_window;
      const auto identity = pki.issue_email(intermediate, entry.name, entry.address, window);
      write_text(pki_dir / (entry.id + ".cert.pem"), certs::to_pem(identity.certificate));
      write_key(pki_dir / (entry.id + ".key.pem"), certs::to_pem(*identity.private_key));
      config += "  certificate_file: \"pki/" + entry.id + ".cert.pem\"\n";
    }
    config += "}\n";
  }
  config += demo_functions;
  config += "device {\n  certificate_file: \"pki/device.cert.pem\"\n  private_key_file: \"pki/device.key.pem\"\n"
            "  chain_files: \"pki/intermediate.pem\"\n  sender_address: \"router@device.example.com\"\n"
            "  admin_address: \"admin@device.example.com\"\n}\n";
  config += "trust_anchor_files: \"pki/root.pem\"\n";
  config += "algorithms { digest: SHA256 content_cipher: AES256_CBC key_transport: RSA_PKCS1V15 }\n";
  config += "delivery { outbox { directory: \"outbox\" } }\n";
  return config;
}

messages::attachment document_attachment(const embedded_document& document) {
  messages::attachment attachment;
  attachment.set_filename(document.filename);
  attachment.set_content_type(document.content_type);
  attachment.set_data(std::string(document.data, document.size));
  return attachment;
}

messages::job_request make_job(config::source_function function, const std::string& subject,
                               const std::vector<std::string>& destinations) {
  messages::job_request job;
  job.set_function(function);
  job.set_subject(subject);
  for (const auto& spec : destinations) {
    auto* ref = job.add_destinations();
    if (spec.find('@') != std::string::npos)
      ref->set_address(spec);
    else
      ref->set_id(spec);
  }
  return job;
}

/// Makes the demo's jobs, one per source function except the two reports, which run_demo adds.
std::vector<messages::job_request> make_jobs(const embedded_document& pdf, const embedded_document& tiff) {
  std::vector<messages::job_request> jobs;

  auto scan = make_job(config::STANDARD_ADDRESS, "Scanned document: maintenance report",
                       {"alice", "bob", "dave", "fax-osaka"});
  scan.mutable_destinations(1)->set_sign(messages::SIGN_REQUEST_ON);
  scan.set_request_encrypt(true);
  scan.set_body_text("Scanned on MFP-0042. The document is attached as PDF.\n");
  *scan.add_attachments() = document_attachment(pdf);
  jobs.push_back(scan);

  auto store = make_job(config::STORE, "Stored document", {"bob"});
  store.set_body_text("Document from the document store.\n");
  *store.add_attachments() = document_attachment(pdf);
  jobs.push_back(store);

  auto personal = make_job(config::PERSONAL_BOX, "Fax received into personal box 7", {"alice"});
  personal.set_originator("fax-sender@remote.example.net");
  personal.set_body_text("A fax was received for personal box 7.\n");
  *personal.add_attachments() = document_attachment(tiff);
  jobs.push_back(personal);

  auto transfer = make_job(config::TRANSFER_BOX, "Relayed fax from transfer box 2", {"fax-osaka", "carol", "bob"});
  transfer.set_originator("fax-sender@remote.example.net");
  transfer.set_body_text("Fax relayed by transfer box 2.\n");
  *transfer.add_attachments() = document_attachment(tiff);
  jobs.push_back(transfer);

  auto forwarding = make_job(config::FORWARDING, "Forwarded fax", {"alice", "carol"});
  forwarding.set_originator("fax-sender@remote.example.net");
  forwarding.set_body_text("A received fax, forwarded.\n");
  *forwarding.add_attachments() = document_attachment(tiff);
  jobs.push_back(forwarding);

  auto reception = make_job(config::SMTP_RECEPTION, "Routed: order confirmation", {"dave", "bob"});
  reception.set_originator("orders@supplier.example.org");
  reception.set_body_text("Mail received by the device's SMTP server and routed on.\n");
  *reception.add_attachments() = document_attachment(pdf);
  jobs.push_back(reception);
  return jobs;
}

void print_result_line(const std::string& function, const messages::destination_result& result,
                       const fs::path& out) {
  std::string where = result.outbox_file();
  if (!where.empty())
    where = fs::relative(where, out).string();
  else
    where = result.detail();
  std::printf("%-8s %-30s %-31s %-22s %s\n", result.job_id().c_str(), function.c_str(), result.address().c_str(),
              outcome_name(result.outcome()).c_str(), where.c_str());
}

void print_checks(const fs::path& out, const std::vector<std::pair<std::string, messages::destination_result>>& sent) {
  std::cout << "\nCheck the messages with OpenSSL (from " << out.string() << "):\n";
  bool shown_signed = false;
  bool shown_encrypted = false;
  bool shown_both = false;
  for (const auto& [function, result] : sent) {
    const std::string file = fs::relative(result.outbox_file(), out).string();
    const std::string key = "pki/" + result.destination_id() + ".key.pem";
    const std::string cert = "pki/" + result.destination_id() + ".cert.pem";
    if (result.outcome() == messages::SENT_SIGNED && !shown_signed) {
      std::cout << "  # signed, verified against the root alone:\n  openssl cms -verify -in " << file
                << " -CAfile pki/root.pem -out /dev/null\n";
      shown_signed = true;
    } else if (result.outcome() == messages::SENT_ENCRYPTED && !shown_encrypted) {
      std::cout << "  # encrypted for " << result.destination_id() << ":\n  openssl cms -decrypt -in " << file
                << " -inkey " << key << " -recip " << cert << "\n";
      shown_encrypted = true;
    } else if (result.outcome() == messages::SENT_ENCRYPTED_SIGNED && !shown_both) {
      std::cout << "  # signed, then encrypted for " << result.destination_id() << ":\n  openssl cms -decrypt -in "
                << file << " -inkey " << key << " -recip " << cert
                << " | openssl cms -verify -CAfile pki/root.pem -out /dev/null\n";
      shown_both = true;
    }
  }
}

} // namespace

int run_demo(const arguments& given) {
  arguments args = given;
  const std::string out_text = take_option(args, "--out");
  if (out_text.empty() || !args.empty()) {
    std::cerr << "usage: smime-router demo --out DIR\n";
    return exit_usage;
  }
  const fs::path out = fs::absolute(out_text);
  try {
    prepare_output(out);
  } catch (const std::exception& e) {
    std::cerr << "smime-router demo: " << e.what() << "\n";
    return exit_usage;
  }

  Botan::AutoSeeded_RNG rng;
  const fs::path config_file = out / "router.textproto";
  write_text(config_file, write_pki_and_config(out, rng));
  api::service_options options;
  options.health_check_interval = std::chrono::seconds(0);  // checked once, below, so the output is repeatable
  auto service = api::service::start(config::load_config(config_file), options);

  const embedded_document& pdf = find_demo_document(".pdf");
  const embedded_document& tiff = find_demo_document(".tif");
  std::printf("%-8s %-30s %-31s %-22s %s\n", "job", "function", "destination", "outcome", "outbox file / reason");

  std::vector<std::pair<std::string, messages::destination_result>> sent;
  int not_sent = 0;
  int notices = 0;
  int job_number = 0;
  auto run = [&](messages::job_request job) {
    job.set_job_id("demo-" + std::to_string(++job_number));
    const auto result = service->submit(job);
    const std::string function = config::function_name(job.function());
    for (const auto& destination : result.destinations()) {
      print_result_line(function, destination, out);
      if (destination.outbox_file().empty())
        ++not_sent;
      else
        sent.emplace_back(function, destination);
    }
    if (result.notification_sent()) {
      ++notices;
      std::printf("%-8s %-30s %-31s %-22s %s\n", result.job_id().c_str(), function.c_str(),
                  job.originator().empty() ? job.end_receiver().c_str() : job.originator().c_str(),
                  "notice_sent", "certificate-failure notice, without the document");
    }
    return result;
  };

  const auto jobs = make_jobs(pdf, tiff);
  const auto scan_result = run(jobs.front());
  for (size_t i = 1; i < jobs.size(); ++i)
    run(jobs[i]);

  auto tx_report = make_job(config::EMAIL_TX_RESULTS, "Email TX Results", {"alice"});
  tx_report.set_body_text(reports::format_result_report("Email TX Results", scan_result));
  run(tx_report);
  auto folder_report = make_job(config::FOLDER_TRANSFER_RESULT_REPORT, "Folder Transfer Result Report", {"bob"});
  folder_report.set_body_text("Folder Transfer Result Report\n\nScan to folder \\\\fileserver\\scans: sent, 3 pages.\n");
  run(folder_report);

  const auto health = service->check_certificates();
  if (health.administrator_warned()) {
    ++notices;
    std::printf("%-8s %-30s %-31s %-22s %s\n", "health", "certificate health check", "admin@device.example.com",
                "notice_sent", (std::to_string(health.unusable()) + " unusable, " +
                                std::to_string(health.expiring()) + " expiring certificate(s)").c_str());
  }

  print_checks(out, sent);
  std::cout << "\nPer-actor counts:\n" << stats::format_table(service->stats());
  service->stop();
  std::cout << "\n" << sent.size() + notices << " messages (" << notices << " of them notices) in "
            << (out / "outbox" / "new").string() << "; " << not_sent << " destinations not sent (reasons above)\n";
  return exit_ok;
}

} // namespace router::cli
