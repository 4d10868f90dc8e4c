// libFuzzer target for the SMTP reception session: arbitrary client bytes are
// cut into lines exactly as connection::read_line cuts them and fed to a
// server_session with a fake handler. Besides crashes and sanitizer reports,
// it traps when a reply is malformed or when the handler is given a message
// that breaks the session's promises (size limit, CRLF only, line length,
// recipient limit).
//
// Input: the first byte selects options, the rest is what the client sends.
//   bit 0: STARTTLS is available; a start_tls action is followed by a
//          successful handshake.
//   bit 1: the client never sends ahead of a reply (no input_waiting), so
//          pipelining refusals do not end every multi-command input early.
//   bit 2: the session ends with a timeout instead of the end of the input.
//   bit 3: the client spoke before the greeting.
//   bits 4-7: the handler's choice of replies.
#include "runtime/smtp/server_session.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace router::smtp;

constexpr uint64_t fuzz_size_limit = 4096;
constexpr uint32_t fuzz_max_recipients = 4;

void require(bool condition) {
  if (!condition)
    __builtin_trap();
}

class fuzz_handler : public reception_handler {
 public:
  explicit fuzz_handler(uint8_t choice) : choice_(choice) {}

  reply check_recipient(const received_envelope& envelope, const std::string& address) override {
    require(!address.empty());
    require(envelope.recipients.size() < fuzz_max_recipients);
    switch ((choice_ + address.size()) % 5) {
      case 0:
        return {550, "5.1.1", "unknown"};
      case 1:
        return {451, "4.3.0", "later"};
      case 2:
        throw std::runtime_error("lookup failed");
      case 3:
        return {250, "", "no status\r\nsecond line"};
      default:
        return {250, "2.1.5", "OK"};
    }
  }

  reply accept_message(const received_envelope& envelope, std::string message) override {
    require(!envelope.recipients.empty() && envelope.recipients.size() <= fuzz_max_recipients);
    require(message.size() <= fuzz_size_limit);
    require(message.empty() || (message.size() >= 2 && message.compare(message.size() - 2, 2, "\r\n") == 0));
    size_t line_start = 0;
    for (size_t i = 0; i < message.size(); ++i) {
      if (message[i] == '\r') {
        require(i + 1 < message.size() && message[i + 1] == '\n');
      } else if (message[i] == '\n') {
        require(i > 0 && message[i - 1] == '\r');
        require(i - 1 - line_start <= max_data_line);
        line_start = i + 1;
      }
    }
    switch ((choice_ >> 2) % 4) {
      case 0:
        return {554, "5.7.1", "refused"};
      case 1:
        throw std::runtime_error("spool failed");
      case 2:
        return {700, "x", ""};
      default:
        return {250, "2.0.0", "queued"};
    }
  }

 private:
  uint8_t choice_;
};

void check_output(const session_output& output) {
  if (!output.has_reply())
    return;
  require(output.code >= 200 && output.code <= 599);
  require(!output.text.empty());
  if (!output.status.empty())
    require(output.status[0] - '0' == output.code / 100);
  const std::string wire = output.wire();
  size_t start = 0;
  while (start < wire.size()) {
    const auto end = wire.find("\r\n", start);
    require(end != std::string::npos);
    const std::string_view line(wire.data() + start, end - start);
    require(line.size() <= 510 && line.size() >= 4);
    require(line.substr(0, 3) == std::to_string(output.code));
    for (char c : line)
      require(c != '\r' && c != '\n');
    start = end + 2;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t options = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  fuzz_handler handler(static_cast<uint8_t>(options >> 4));
  session_settings settings;
  settings.session_id = "r-000001";
  settings.peer = "192.0.2.1:25000";
  settings.host_name = "fuzz.test";
  settings.max_message_size = fuzz_size_limit;
  settings.max_recipients = fuzz_max_recipients;
  settings.tls_available = (options & 1) != 0;
  server_session session(settings, handler);

  const bool never_ahead = (options & 2) != 0;
  check_output(session.start((options & 8) != 0));

  while (!session.closed()) {
    const auto end = input.find('\n');
    if (end == std::string_view::npos)
      break;
    // As connection::read_line: CRLF or bare LF ends a line; a longer line is
    // cut at the limit.
    input_line line;
    line.bare_lf = !(end > 0 && input[end - 1] == '\r');
    const size_t text_end = line.bare_lf ? end : end - 1;
    line.too_long = text_end > session.line_limit();
    line.text = std::string(input.substr(0, std::min(text_end, session.line_limit())));
    input.remove_prefix(end + 1);

    const bool waiting = !never_ahead && !session.reading_data() && !input.empty();
    const auto output = session.on_line(line, waiting);
    check_output(output);
    require(session.line_limit() == (session.reading_data() ? max_data_line : max_command_line));
    require(session.envelope().recipients.size() <= fuzz_max_recipients);
    if (output.action == session_action::start_tls) {
      require(settings.tls_available && !session.tls_active());
      session.tls_started();
      require(session.envelope().recipients.empty() && session.envelope().helo.empty());
    }
  }
  if ((options & 4) != 0 && !session.closed()) {
    const auto output = session.timed_out();
    check_output(output);
    require(output.code == 421 && session.closed());
  }
  return 0;
}
