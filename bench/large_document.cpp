// large_document: peak memory of the router for one large document.
//
// Writes a document of --size octets of fixed pseudo-random data into a temp
// folder, in chunks, so the generator itself never holds it. Then it starts
// the router with the test PKI and a fixed clock (2026-06-01T00:00:00Z) and
// submits one STORE job to alice, which the test config signs and encrypts.
// Once the message is in the Maildir outbox, it prints the document size,
// the peak resident set size (VmHWM from /proc/self/status) before and after
// the job, and the job's wall time.
//
// The document goes by path (attachment.path, built as a stream) unless
// --in-memory is given, which puts it into attachment.data for comparison.
// Peak RSS only grows, so each size needs its own process; see
// bench/run-benchmarks.sh.
//
// Exit status: 0 when the message was delivered signed and encrypted, 1 when
// it was not, 2 for an invalid command line, 3 when the router cannot start.
#include "bench/common/measure.hpp"
#include "runtime/api/service.hpp"
#include "runtime/log/log.hpp"

#include "tests/common/test_pki.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

namespace {

using namespace router;

constexpr const char* usage_text = R"(usage: large_document [options]
  --help          print this help and exit
  --size SIZE     document size: bytes or a k/m suffix, e.g. 64m (default 64m)
  --in-memory     send the document as attachment data instead of by path
  --workers N     crypto workers; 0 is the router's default, two per core (default 0)
  --pki DIR       keep the test PKI in DIR, writing it only when missing (default: a fresh temp folder)
  --json          print the figures as one JSON object
)";

struct options {
  size_t size = 64 << 20;
  bool in_memory = false;
  size_t workers = 0;
  std::optional<std::filesystem::path> pki_dir;
  bool json = false;
};

options parse_options(int argc, char** argv) {
  options parsed;
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw bench::usage_error(option + " needs a value");
      return argv[++i];
    };
    if (option == "--size") {
      parsed.size = bench::parse_size(value());
    } else if (option == "--in-memory") {
      parsed.in_memory = true;
    } else if (option == "--workers") {
      parsed.workers = static_cast<size_t>(bench::parse_number(option, value()));
    } else if (option == "--pki") {
      parsed.pki_dir = value();
    } else if (option == "--json") {
      parsed.json = true;
    } else {
      throw bench::usage_error("unknown option " + option);
    }
  }
  return parsed;
}

/// Returns VmHWM, the peak resident set size, in KiB from /proc/self/status.
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stol(line.substr(6));
  }
  return bench::peak_rss_kib();
}

/// Writes `size` octets of xorshift output in 1 MiB chunks.
void write_document(const std::filesystem::path& file, size_t size) {
  std::ofstream out(file, std::ios::binary);
  std::string chunk(1 << 20, '\0');
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (size_t written = 0; written < size; written += chunk.size()) {
    for (size_t i = 0; i < chunk.size(); i += 8) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      for (size_t k = 0; k < 8; ++k)
        chunk[i + k] = static_cast<char>(state >> (8 * k));
    }
    out.write(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), size - written)));
  }
  if (!out.flush())
    throw std::runtime_error("cannot write " + file.string() + "; check the free space of the temp folder");
}

messages::job_request make_job(const std::filesystem::path& document, const options& parsed) {
  messages::job_request job;
  job.set_function(config::STORE);
  job.set_subject("Large scan");
  job.set_body_text("The scanned document is attached.");
  job.add_destinations()->set_id("alice");
  auto* attachment = job.add_attachments();
  attachment->set_filename("scan.pdf");
  attachment->set_content_type("application/pdf");
  if (!parsed.in_memory) {
    attachment->set_path(document.string());
    return job;
  }
  std::ifstream in(document, std::ios::binary);
  attachment->set_data(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  return job;
}

} // namespace

int main(int argc, char** argv) {
  options parsed;
  try {
    parsed = parse_options(argc, argv);
  } catch (const std::exception& e) {
    const bool help = argc > 1 && std::string(argv[1]) == "--help";
    (help ? std::cout : std::cerr) << (help ? "" : std::string("large_document: ") + e.what() + "\n") << usage_text;
    return help ? 0 : 2;
  }
  log::logger()->set_level(spdlog::level::warn);

  const testing::scratch_dir work;
  std::unique_ptr<api::service> service;
  try {
    const std::filesystem::path pki_dir = parsed.pki_dir.value_or(work.path());
    if (!std::filesystem::exists(pki_dir / "pki" / "device.cert.pem"))
      testing::write_test_pki(pki_dir);
    write_document(work / "scan.pdf", parsed.size);

    const std::string text = testing::replace_once(testing::test_config_text(), "directory: \"outbox\"",
                                                   "directory: \"" + (work / "outbox").string() + "\"");
    api::service_options service_options;
    service_options.clock = [] { return testing::reference_time(); };
    service_options.crypto_workers = parsed.workers;
    service_options.health_check_interval = std::chrono::seconds(0);
    service = api::service::start(config::load_config_text(text, pki_dir / "large-document.textproto"),
                                  service_options);
  } catch (const std::exception& e) {
    std::cerr << "large_document: cannot start the router: " << e.what() << "\n";
    return 3;
  }

  const long before_kib = peak_rss_kib();
  const auto started = bench::steady_clock::now();
  const auto result = service->submit(make_job(work / "scan.pdf", parsed));
  const double wall_seconds = bench::elapsed_ms(started, bench::steady_clock::now()) / 1000;
  const long peak_kib = peak_rss_kib();
  service->stop();

  const bool delivered = result.destinations_size() == 1 &&
                         result.destinations(0).outcome() == messages::SENT_ENCRYPTED_SIGNED;
  const uint64_t message_size =
      delivered ? std::filesystem::file_size(result.destinations(0).outbox_file()) : uint64_t{0};
  const double document_mib = static_cast<double>(parsed.size) / (1 << 20);
  if (parsed.json) {
    std::cout << "{\"tool\":\"large_document\",\"mode\":\"" << (parsed.in_memory ? "in-memory" : "path")
              << "\",\"document_bytes\":" << parsed.size << ",\"message_bytes\":" << message_size
              << ",\"peak_rss_before_kib\":" << before_kib << ",\"peak_rss_kib\":" << peak_kib
              << ",\"wall_seconds\":" << wall_seconds << ",\"delivered\":" << (delivered ? "true" : "false") << "}\n";
  } else {
    std::cout << "mode                 " << (parsed.in_memory ? "in-memory (attachment.data)" : "path (streamed)")
              << "\ndocument             " << document_mib << " MiB"
              << "\nmessage              " << static_cast<double>(message_size) / (1 << 20) << " MiB"
              << "\npeak RSS before job  " << before_kib / 1024.0 << " MiB"
              << "\npeak RSS             " << peak_kib / 1024.0 << " MiB"
              << "\nwall time            " << wall_seconds << " s"
              << "\ndelivered            " << (delivered ? "yes, signed and encrypted" : "no") << "\n";
  }
  if (!delivered && result.destinations_size() > 0)
    std::cerr << "large_document: not delivered: " << result.destinations(0).detail() << "\n";
  return delivered ? 0 : 1;
}
