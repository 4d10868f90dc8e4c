// openssl_peer: the peer baseline for the router's benchmarks, on OpenSSL.
//
// Does the router's per-destination work with OpenSSL instead. It builds a
// multipart/mixed entity with a text part and a base64 document. It then signs
// it (multipart/signed, detached, SHA-256, RSA PKCS#1 v1.5, intermediate
// included), encrypts it (AES-256-CBC, RSA PKCS#1 v1.5 key transport), or
// signs and then encrypts it. Each message goes into a Maildir outbox the way
// the router writes one (write, fsync, rename into new/, fsync of new/).
// Keys and certificates are the test PKI that router_load writes with --pki.
//
// Two modes:
//   library  OpenSSL's CMS API in this process, on --threads threads;
//   command  one `openssl cms` process per step of every message, fed through
//            /bin/sh as a content filter that shells out does (sign then
//            encrypt is a pipe of two processes), on --threads threads.
//
// It only measures: nothing it writes is used by the router or its tests.
// Limits: certificates are not judged before use (the router checks validity,
// chain and usage at build time), and latency is per message, from the start
// of its work to its rename into new/.
#include "bench/common/measure.hpp"

#include <fcntl.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace {

using namespace router;
using bench::steady_clock;

constexpr const char* usage_text = R"(usage: openssl_peer --pki DIR [options]
  --help           print this help and exit
  --pki DIR        folder holding pki/ as router_load --pki writes it (required)
  --mode MODE      library (OpenSSL CMS API in process) or command (openssl cms per message) (default library)
  --work WORK      sign, encrypt or sign+encrypt (default sign+encrypt)
  --threads N      worker threads (default: one per core)
  --messages N     stop after N messages (default 100)
  --seconds T      stop starting messages after T seconds (default 30)
  --sizes LIST     document sizes cycled per message: bytes or a k/m suffix (default 4k)
  --keep-outbox    keep the written messages and print the outbox folder
  --label TEXT     workload name printed with the figures
  --json           print the figures as one JSON object
)";

constexpr const char* sender = "router@device.example.com";
constexpr const char* receiver = "alice@example.com";
constexpr const char* subject = "peer message";

enum class peer_mode { library, command };

struct peer_options {
  std::filesystem::path pki_dir;
  peer_mode mode = peer_mode::library;
  bool sign = true;
  bool encrypt = true;
  size_t threads = 0;
  uint64_t messages = 100;
  double seconds = 30;
  std::vector<size_t> sizes{4 << 10};
  bool keep_outbox = false;
  std::string label;
  bool json = false;
};

using bench::parse_number;
using bench::usage_error;

peer_options parse_options(int argc, char** argv) {
  peer_options options;
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw usage_error(option + " needs a value");
      return argv[++i];
    };

    if (option == "--pki") {
      options.pki_dir = value();
    } else if (option == "--mode") {
      const std::string mode = value();
      if (mode != "library" && mode != "command")
        throw usage_error("invalid --mode '" + mode + "': use library or command");
      options.mode = mode == "library" ? peer_mode::library : peer_mode::command;
    } else if (option == "--work") {
      const std::string work = value();
      if (work != "sign" && work != "encrypt" && work != "sign+encrypt")
        throw usage_error("invalid --work '" + work + "': use sign, encrypt or sign+encrypt");
      options.sign = work != "encrypt";
      options.encrypt = work != "sign";
    } else if (option == "--threads") {
      options.threads = static_cast<size_t>(parse_number(option, value()));
    } else if (option == "--messages") {
      options.messages = static_cast<uint64_t>(parse_number(option, value()));
    } else if (option == "--seconds") {
      options.seconds = parse_number(option, value());
    } else if (option == "--sizes") {
      options.sizes.clear();
      for (const auto& size : bench::split_list(value()))
        options.sizes.push_back(bench::parse_size(size));
    } else if (option == "--keep-outbox") {
      options.keep_outbox = true;
    } else if (option == "--label") {
      options.label = value();
    } else if (option == "--json") {
      options.json = true;
    } else {
      throw usage_error("unknown option '" + option + "'");
    }
  }
  if (options.pki_dir.empty())
    throw usage_error("--pki is required");
  return options;
}

/// Returns the oldest queued OpenSSL error as text, for messages.
std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0)
    return "no OpenSSL error queued";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

struct bio_deleter {
  void operator()(BIO* bio) const { BIO_free_all(bio); }
};
struct x509_deleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct key_deleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct stack_deleter {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
struct cms_deleter {
  void operator()(CMS_ContentInfo* cms) const { CMS_ContentInfo_free(cms); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using stack_ptr = std::unique_ptr<STACK_OF(X509), stack_deleter>;
using cms_ptr = std::unique_ptr<CMS_ContentInfo, cms_deleter>;

x509_ptr read_certificate(const std::filesystem::path& file) {
  const bio_ptr in(BIO_new_file(file.c_str(), "r"));
  if (!in)
    throw std::runtime_error("cannot open " + file.string() + ": " + openssl_error());
  x509_ptr certificate(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  if (!certificate)
    throw std::runtime_error("cannot read a PEM certificate from " + file.string() + ": " + openssl_error());
  return certificate;
}

key_ptr read_key(const std::filesystem::path& file) {
  const bio_ptr in(BIO_new_file(file.c_str(), "r"));
  if (!in)
    throw std::runtime_error("cannot open " + file.string() + ": " + openssl_error());
  key_ptr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  if (!key)
    throw std::runtime_error("cannot read a PEM private key from " + file.string() + ": " + openssl_error());
  return key;
}

stack_ptr stack_of(x509_ptr certificate) {
  stack_ptr stack(sk_X509_new_null());
  sk_X509_push(stack.get(), certificate.release());
  return stack;
}

/// The device identity and the recipient, as files and as loaded objects.
struct peer_keys {
  explicit peer_keys(const std::filesystem::path& pki_dir)
      : device_certificate_file(pki_dir / "pki" / "device.cert.pem"),
        device_key_file(pki_dir / "pki" / "device.key.pem"),
        intermediate_file(pki_dir / "pki" / "intermediate.pem"),
        recipient_file(pki_dir / "pki" / "alice.cert.pem"),
        device_certificate(read_certificate(device_certificate_file)),
        device_key(read_key(device_key_file)),
        chain(stack_of(read_certificate(intermediate_file))),
        recipients(stack_of(read_certificate(recipient_file))) {}

  std::filesystem::path device_certificate_file;
  std::filesystem::path device_key_file;
  std::filesystem::path intermediate_file;
  std::filesystem::path recipient_file;
  x509_ptr device_certificate;
  key_ptr device_key;
  stack_ptr chain;
  stack_ptr recipients;
};

/// Encodes data as base64 in lines of 76 characters with CR LF ends (RFC 2045 section 6.8).
std::string base64_lines(const std::string& data) {
  constexpr size_t input_per_line = 57;
  std::string text;
  text.reserve(data.size() / input_per_line * 78 + 80);
  unsigned char line[80];
  for (size_t offset = 0; offset < data.size(); offset += input_per_line) {
    const size_t length = std::min(input_per_line, data.size() - offset);
    const int written = EVP_EncodeBlock(line, reinterpret_cast<const unsigned char*>(data.data() + offset),
                                        static_cast<int>(length));
    text.append(reinterpret_cast<const char*>(line), static_cast<size_t>(written));
    text += "\r\n";
  }
  return text;
}

/// Builds the document entity: a text part and the document as a base64 PDF part.
std::string build_entity(const std::string& document) {
  const std::string boundary = "peer-boundary-7d1c";
  return "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n--" + boundary +
         "\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
         "The scanned document is attached.\r\n--" +
         boundary +
         "\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=\"scan.pdf\"\r\n\r\n" +
         base64_lines(document) + "--" + boundary + "--\r\n";
}

bio_ptr memory_bio(const std::string& data) {
  return bio_ptr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

/// Returns the entity as a detached multipart/signed S/MIME entity. CMS_STREAM
/// defers the signature to SMIME_write_CMS, which reads the content once, as
/// `openssl cms -sign` does.
std::string sign_with_library(const peer_keys& keys, const std::string& entity) {
  const int flags = CMS_DETACHED | CMS_BINARY | CMS_STREAM;
  const bio_ptr content = memory_bio(entity);
  const cms_ptr cms(CMS_sign(keys.device_certificate.get(), keys.device_key.get(), keys.chain.get(), content.get(),
                             flags));
  if (!cms)
    throw std::runtime_error("CMS_sign failed: " + openssl_error());

  const bio_ptr out(BIO_new(BIO_s_mem()));
  if (SMIME_write_CMS(out.get(), cms.get(), content.get(), flags | CMS_CRLFEOL) != 1)
    throw std::runtime_error("SMIME_write_CMS failed for signed data: " + openssl_error());
  return bio_text(out.get());
}

/// Returns the entity as an application/pkcs7-mime enveloped-data entity,
/// streamed as `openssl cms -encrypt` does.
std::string encrypt_with_library(const peer_keys& keys, const std::string& entity) {
  const int flags = CMS_BINARY | CMS_STREAM;
  const bio_ptr content = memory_bio(entity);
  const cms_ptr cms(CMS_encrypt(keys.recipients.get(), content.get(), EVP_aes_256_cbc(), flags));
  if (!cms)
    throw std::runtime_error("CMS_encrypt failed: " + openssl_error());

  const bio_ptr out(BIO_new(BIO_s_mem()));
  if (SMIME_write_CMS(out.get(), cms.get(), content.get(), flags | CMS_CRLFEOL) != 1)
    throw std::runtime_error("SMIME_write_CMS failed for enveloped data: " + openssl_error());
  return bio_text(out.get());
}

std::string message_headers(uint64_t number) {
  return std::string("From: ") + sender + "\r\nTo: " + receiver + "\r\nSubject: " + subject +
         "\r\nMessage-ID: <peer-" + std::to_string(number) + "@device.example.com>\r\n";
}

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0)
    throw std::runtime_error("cannot flush " + path.string() + ": " + std::strerror(errno));
}

/// A Maildir outbox written as the router writes one: tmp/, fsync, rename into new/, fsync of new/.
class maildir {
 public:
  explicit maildir(std::filesystem::path root) : root_(std::move(root)) {
    for (const char* sub : {"tmp", "new", "cur"})
      std::filesystem::create_directories(root_ / sub);
  }

  std::filesystem::path temporary_path(uint64_t number) const {
    return root_ / "tmp" / (std::to_string(::getpid()) + "." + std::to_string(number) + ".peer.eml");
  }

  /// Writes a whole message through tmp/.
  std::filesystem::path deliver(uint64_t number, const std::string& message) const {
    const auto temporary = temporary_path(number);
    {
      const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
      if (fd < 0)
        throw std::runtime_error("cannot create " + temporary.string() + ": " + std::strerror(errno));
      size_t written = 0;
      while (written < message.size()) {
        const ssize_t result = ::write(fd, message.data() + written, message.size() - written);
        if (result < 0 && errno == EINTR)
          continue;
        if (result < 0) {
          ::close(fd);
          throw std::runtime_error("cannot write " + temporary.string() + ": " + std::strerror(errno));
        }
        written += static_cast<size_t>(result);
      }
      const int result = ::fsync(fd);
      ::close(fd);
      if (result != 0)
        throw std::runtime_error("cannot flush " + temporary.string() + ": " + std::strerror(errno));
    }
    return publish(temporary);
  }

  /// Moves a flushed file from tmp/ into new/ and flushes new/.
  std::filesystem::path publish(const std::filesystem::path& temporary) const {
    const auto final_path = root_ / "new" / temporary.filename();
    std::filesystem::rename(temporary, final_path);
    fsync_path(root_ / "new", O_RDONLY | O_DIRECTORY);
    return final_path;
  }

 private:
  std::filesystem::path root_;
};

/// Builds and delivers one message with the OpenSSL CMS API.
std::filesystem::path send_with_library(const peer_options& options, const peer_keys& keys, const maildir& outbox,
                                        uint64_t number, const std::string& document) {
  std::string entity = build_entity(document);
  if (options.sign)
    entity = sign_with_library(keys, entity);
  if (options.encrypt)
    entity = encrypt_with_library(keys, entity);
  return outbox.deliver(number, message_headers(number) + entity);
}

std::string quote(const std::filesystem::path& path) {
  std::string quoted = "'";
  for (const char c : path.string())
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// The shell pipeline that turns the entity on standard input into the message in `output`.
std::string openssl_pipeline(const peer_options& options, const peer_keys& keys,
                             const std::filesystem::path& output) {
  const std::string headers = std::string(" -from ") + sender + " -to " + receiver + " -subject '" + subject + "'";
  const std::string sign = "openssl cms -sign -binary -crlfeol -md sha256 -signer " +
                           quote(keys.device_certificate_file) + " -inkey " + quote(keys.device_key_file) +
                           " -certfile " + quote(keys.intermediate_file);
  const std::string encrypt = "openssl cms -encrypt -binary -crlfeol -aes256 -recip " + quote(keys.recipient_file);

  if (options.sign && options.encrypt)
    return sign + " | " + encrypt + headers + " > " + quote(output);
  if (options.sign)
    return sign + headers + " > " + quote(output);
  return encrypt + headers + " > " + quote(output);
}

/// Builds and delivers one message by running `openssl cms` through /bin/sh.
std::filesystem::path send_with_command(const peer_options& options, const peer_keys& keys, const maildir& outbox,
                                        uint64_t number, const std::string& document) {
  const std::string entity = build_entity(document);
  const auto temporary = outbox.temporary_path(number);
  const std::string command = openssl_pipeline(options, keys, temporary);

  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr)
    throw std::runtime_error("cannot start /bin/sh for openssl: " + std::string(std::strerror(errno)));
  const size_t written = std::fwrite(entity.data(), 1, entity.size(), pipe);
  const int status = ::pclose(pipe);
  if (written != entity.size() || status != 0) {
    std::filesystem::remove(temporary);
    throw std::runtime_error("openssl cms failed (status " + std::to_string(status) + "): " + command);
  }

  fsync_path(temporary, O_RDONLY);
  return outbox.publish(temporary);
}

std::filesystem::path make_outbox_folder() {
  std::string pattern = (std::filesystem::temp_directory_path() / "openssl-peer-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a temp folder from " + pattern + ": " + std::strerror(errno));
  return std::filesystem::path(pattern) / "outbox";
}

std::string work_name(const peer_options& options) {
  if (options.sign && options.encrypt)
    return "sign+encrypt";
  return options.sign ? "sign" : "encrypt";
}

std::string outcome_name(const peer_options& options) {
  if (options.sign && options.encrypt)
    return "sent_encrypted_signed";
  return options.sign ? "sent_signed" : "sent_encrypted";
}

/// Runs the worker threads until the message or time limit and returns the figures.
bench::run_summary run_peer(const peer_options& options, const peer_keys& keys, const maildir& outbox) {
  std::vector<std::string> documents;
  for (const size_t size : options.sizes)
    documents.push_back(bench::make_document(size));

  const bool with_children = options.mode == peer_mode::command;
  const size_t thread_count = options.threads > 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  std::atomic<uint64_t> next{0};
  std::atomic<int> failures_printed{0};
  std::mutex mutex;
  bench::run_summary summary;
  steady_clock::time_point last_finish;

  const double cpu_at_start = bench::cpu_seconds(with_children);
  const auto start = steady_clock::now();
  const auto deadline = start + std::chrono::duration_cast<steady_clock::duration>(
                                    std::chrono::duration<double>(options.seconds));

  const auto work = [&] {
    while (true) {
      const uint64_t number = next++;
      if (number >= options.messages || steady_clock::now() >= deadline)
        return;

      const auto begun = steady_clock::now();
      const std::string& document = documents[number % documents.size()];
      std::string outcome = outcome_name(options);
      std::filesystem::path written;
      try {
        written = options.mode == peer_mode::library ? send_with_library(options, keys, outbox, number, document)
                                                      : send_with_command(options, keys, outbox, number, document);
      } catch (const std::exception& error) {
        // The first few failures are printed; the rest are only counted.
        if (failures_printed++ < 3)
          std::cerr << "openssl_peer: message " << number << ": " << error.what() << "\n";
        outcome = "failed";
      }
      const auto finished = steady_clock::now();
      if (!written.empty() && !options.keep_outbox)
        std::filesystem::remove(written);

      const std::lock_guard<std::mutex> lock(mutex);
      ++summary.jobs_submitted;
      ++summary.jobs_by_outcome[outcome == "failed" ? "not_delivered" : "delivered"];
      ++summary.destinations_by_outcome[outcome];
      if (outcome != "failed")
        ++summary.messages_delivered;
      summary.latencies_ms.push_back(bench::elapsed_ms(begun, finished));
      last_finish = std::max(last_finish, finished);
    }
  };

  std::vector<std::thread> threads;
  for (size_t i = 0; i < thread_count; ++i)
    threads.emplace_back(work);
  for (auto& thread : threads)
    thread.join();

  summary.tool = options.mode == peer_mode::library ? "openssl-library" : "openssl-command";
  summary.label = options.label.empty() ? work_name(options) : options.label;
  summary.wall_seconds = summary.jobs_submitted == 0 ? 0 : bench::elapsed_ms(start, last_finish) / 1000;
  summary.cpu_seconds = bench::cpu_seconds(with_children) - cpu_at_start;
  summary.peak_rss_kib = bench::peak_rss_kib();
  summary.child_peak_rss_kib = with_children ? bench::child_peak_rss_kib() : 0;
  return summary;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--help") {
    std::cout << usage_text;
    return 0;
  }

  peer_options options;
  try {
    options = parse_options(argc, argv);
  } catch (const std::invalid_argument& error) {
    std::cerr << "openssl_peer: " << error.what() << "\n" << usage_text;
    return 2;
  }

  std::unique_ptr<peer_keys> keys;
  std::filesystem::path outbox_dir;
  try {
    keys = std::make_unique<peer_keys>(options.pki_dir);
    outbox_dir = make_outbox_folder();
  } catch (const std::exception& error) {
    std::cerr << "openssl_peer: " << error.what() << "\n";
    return 3;
  }

  const maildir outbox(outbox_dir);
  const bench::run_summary summary = run_peer(options, *keys, outbox);

  if (options.keep_outbox)
    std::cerr << "openssl_peer: written messages kept in " << outbox_dir.string() << "\n";
  else
    std::filesystem::remove_all(outbox_dir.parent_path());

  if (options.json)
    bench::print_json(summary, std::cout);
  else
    bench::print_text(summary, std::cout);
  return summary.messages_delivered == summary.jobs_submitted ? 0 : 1;
}
