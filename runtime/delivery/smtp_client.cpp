#include "runtime/delivery/smtp_client.hpp"

#include "runtime/delivery/smtp_file_data.hpp"

#include "runtime/log/log.hpp"
#include "runtime/smtp/connection.hpp"

#include <botan/base64.h>

#include <algorithm>
#include <filesystem>
#include <cctype>

namespace router::delivery {

namespace {

/// Returns the size of an envelope's message file; a file that cannot be read
/// fails the delivery permanently, since a retry reads the same file.
uint64_t file_size(const envelope& message) {
  std::error_code error;
  const auto size = std::filesystem::file_size(message.message_file, error);
  if (error)
    throw delivery_error("cannot read message file " + message.message_file + ": " + error.message(), false);
  return size;
}

// RFC 5321 4.5.3.1.5 allows 512 octets per reply line; some relays send more.
constexpr size_t max_reply_line = 2048;
constexpr size_t max_reply_lines = 100;
constexpr size_t reply_text_limit = 300;
constexpr std::chrono::seconds max_quit_wait{5};

std::string to_upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::string base64(const std::string& text) {
  return Botan::base64_encode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

/// Returns a problem with an envelope address, or "" when it can go into MAIL or RCPT.
std::string address_problem(const std::string& address) {
  if (address.size() > 254)
    return "is longer than 254 octets";
  const bool clean = std::none_of(address.begin(), address.end(), [](unsigned char c) {
    return c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == ' ';
  });
  return clean ? "" : "contains a space, '<', '>' or a control character";
}

} // namespace

struct smtp_client::reply {
  int code = 0;
  std::vector<std::string> lines;  // text after "NNN " or "NNN-"
  std::string text;                // whole reply, printable and capped

  bool temporary() const { return code >= 400 && code < 500; }
};

struct smtp_client::session {
  std::unique_ptr<smtp::connection> connection;
  ehlo_extensions extensions;
  std::chrono::steady_clock::time_point last_used;
  uint64_t messages = 0;  // transactions completed on this session
};

ehlo_extensions parse_ehlo_extensions(const std::vector<std::string>& lines) {
  ehlo_extensions extensions;
  // The first line is the relay's name and greeting, not an extension.
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> words;
    size_t start = 0;
    const std::string& line = lines[i];
    while (start < line.size()) {
      const size_t end = std::min(line.find(' ', start), line.size());
      if (end > start)
        words.push_back(line.substr(start, end - start));
      start = end + 1;
    }
    if (words.empty())
      continue;

    const std::string keyword = to_upper(words[0]);
    if (keyword == "STARTTLS") {
      extensions.starttls = true;
    } else if (keyword == "AUTH") {
      for (size_t w = 1; w < words.size(); ++w)
        extensions.auth_mechanisms.insert(to_upper(words[w]));
    } else if (keyword == "SIZE") {
      extensions.size = true;
      const bool numeric = words.size() > 1 && words[1].size() <= 18 &&
                           words[1].find_first_not_of("0123456789") == std::string::npos;
      extensions.size_limit = numeric ? std::stoull(words[1]) : 0;
    }
  }
  return extensions;
}

std::string dot_stuff(const std::string& message) {
  std::string stuffed;
  stuffed.reserve(message.size() + message.size() / 64 + 5);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.')
      stuffed += '.';
    stuffed += c;
    line_start = (c == '\n');
  }
  if (!stuffed.empty() && stuffed.back() != '\n')
    stuffed += "\r\n";
  stuffed += ".\r\n";
  return stuffed;
}

smtp_client::smtp_client(smtp_relay_settings settings)
    : settings_(std::move(settings)), relay_(settings_.host + ":" + std::to_string(settings_.port)) {
  if (settings_.tls_server_name.empty())
    settings_.tls_server_name = settings_.host;
  if (settings_.starttls == config::STARTTLS_MODE_UNSPECIFIED)
    settings_.starttls = config::OPPORTUNISTIC;
  if (settings_.starttls != config::NEVER && !settings_.trust)
    throw std::invalid_argument("smtp_client needs TLS trust unless starttls is NEVER");
}

smtp_client::~smtp_client() {
  message_ = nullptr;
  end_session(true);
}

std::string smtp_client::describe() const {
  return "SMTP relay " + relay_;
}

void smtp_client::log_event(spdlog::level::level_enum level, const std::string& text) const {
  if (message_ != nullptr)
    log::logger()->log(level, "smtp: job {} destination {}: relay {}: {}", message_->job_id, message_->index, relay_,
                       text);
  else
    log::logger()->log(level, "smtp: relay {}: {}", relay_, text);
}

receipt smtp_client::deliver(const envelope& message) {
  struct current_message_guard {
    const envelope*& current;
    ~current_message_guard() { current = nullptr; }
  } guard{message_};
  message_ = &message;

  const std::string from_problem = address_problem(message.mail_from);
  if (!from_problem.empty())
    fail("the sender address '" + smtp::printable(message.mail_from) + "' " + from_problem +
             "; it cannot be sent in MAIL FROM",
         false);
  if (message.recipients.empty())
    fail("the message has no recipient", false);
  for (const auto& recipient : message.recipients) {
    const std::string problem = recipient.empty() ? "is empty" : address_problem(recipient);
    if (!problem.empty())
      fail("the recipient address '" + smtp::printable(recipient) + "' " + problem + "; it cannot be sent in RCPT TO",
           false);
  }

  ready_session();
  auto result = send_transaction(session_->messages > 0);
  if (!result) {
    // The relay dropped the reused session before accepting anything, so
    // trying once more on a fresh session does not risk a duplicate.
    log_event(spdlog::level::info, "the reused session was closed by the relay; reconnecting once");
    end_session(false);
    ready_session();
    result = send_transaction(false);
  }
  return *result;
}

smtp_client::session& smtp_client::ready_session() {
  if (session_) {
    const auto idle = settings_.clock() - session_->last_used;
    if (idle > settings_.idle_timeout) {
      log_event(spdlog::level::info,
                "session idle for " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle).count()) +
                    " s; ending it with QUIT and reconnecting");
      end_session(true);
    } else if (session_->connection->has_pending_input()) {
      // An idle relay has nothing to say unless it is closing (e.g. 421 on timeout).
      log_event(spdlog::level::info, "the relay closed the idle session; reconnecting");
      end_session(false);
    }
  }
  if (!session_)
    open_session();
  return *session_;
}

void smtp_client::open_session() {
  session_ = std::make_unique<session>();
  try {
    session_->connection = smtp::connection::connect(settings_.host, settings_.port, settings_.timeout);
  } catch (const smtp::connection_error& e) {
    session_.reset();
    fail(std::string(e.what()) + "; the relay is unreachable", true);
  }
  log_event(spdlog::level::info, "connected to " + session_->connection->peer());

  try {
    expect(read_reply("the greeting"), 220, "the connection (greeting)");
    hello();
    negotiate_tls();
    if (!settings_.username.empty())
      authenticate();
  } catch (const delivery_error&) {
    // A session that failed to open is never reused.
    end_session(true);
    throw;
  }
  session_->last_used = settings_.clock();
}

void smtp_client::hello() {
  const reply ehlo = command("EHLO " + settings_.helo_name, "EHLO");
  if (ehlo.code == 250) {
    session_->extensions = parse_ehlo_extensions(ehlo.lines);
    return;
  }
  if (ehlo.code < 500 || ehlo.code > 504 || session_->connection->tls_active()) {
    expect(ehlo, 250, "EHLO");
    return;
  }

  // A relay that does not know EHLO offers no extensions.
  log_event(spdlog::level::info, "EHLO rejected (" + ehlo.text + "); trying HELO");
  expect(command("HELO " + settings_.helo_name, "HELO"), 250, "HELO");
  session_->extensions = ehlo_extensions{};
}

void smtp_client::negotiate_tls() {
  if (settings_.starttls == config::NEVER)
    return;
  if (!session_->extensions.starttls) {
    if (settings_.starttls == config::REQUIRED)
      fail("the relay does not offer STARTTLS, but starttls is REQUIRED; nothing was sent. Enable STARTTLS on the "
           "relay or change the starttls setting",
           false);
    log_event(spdlog::level::info, "the relay does not offer STARTTLS; continuing without TLS (starttls OPPORTUNISTIC)");
    return;
  }

  expect(command("STARTTLS", "STARTTLS"), 220, "STARTTLS");
  try {
    session_->connection->start_tls_client(settings_.tls_server_name, *settings_.trust, settings_.timeout);
  } catch (const smtp::tls_certificate_error& e) {
    end_session(false);
    fail(e.what(), false);
  } catch (const smtp::connection_error& e) {
    end_session(false);
    fail(e.what(), true);
  }
  log_event(spdlog::level::info, "TLS established: " + session_->connection->tls_description());

  // RFC 3207 4.2: everything learnt before TLS is discarded.
  hello();
}

void smtp_client::authenticate() {
  const std::string& username = settings_.username;
  if (!session_->connection->tls_active())
    fail("username '" + username +
             "' is set, but the session is not encrypted because the relay does not offer STARTTLS; the password is "
             "only sent over TLS, so AUTH was not tried",
         false);

  const auto& mechanisms = session_->extensions.auth_mechanisms;
  reply outcome;
  std::string mechanism;
  if (mechanisms.count("PLAIN") != 0) {
    mechanism = "PLAIN";
    const std::string credentials = std::string(1, '\0') + username + std::string(1, '\0') + settings_.password;
    outcome = command("AUTH PLAIN " + base64(credentials), "AUTH PLAIN");
  } else if (mechanisms.count("LOGIN") != 0) {
    mechanism = "LOGIN";
    expect(command("AUTH LOGIN", "AUTH LOGIN"), 334, "AUTH LOGIN");
    expect(command(base64(username), "AUTH LOGIN (username)"), 334, "AUTH LOGIN (username)");
    outcome = command(base64(settings_.password), "AUTH LOGIN (password)");
  } else {
    std::string offered;
    for (const auto& name : mechanisms)
      offered += " " + name;
    fail(mechanisms.empty()
             ? "username '" + username + "' is set, but the relay does not offer AUTH; remove the username or "
                                         "enable AUTH on the relay"
             : "the relay offers AUTH" + offered + ", but this client supports only PLAIN and LOGIN",
         false);
  }

  if (outcome.code == 235) {
    log_event(spdlog::level::info, "AUTH " + mechanism + " as '" + username + "' accepted");
    return;
  }
  log_event(spdlog::level::warn, "AUTH " + mechanism + " as '" + username + "' failed: " + outcome.text);
  if (outcome.code == 535)
    fail("the relay rejected the credentials of username '" + username + "': " + outcome.text +
             "; check the username and the password file",
         false);
  expect(outcome, 235, "AUTH " + mechanism + " as '" + username + "'");
}

std::optional<receipt> smtp_client::send_transaction(bool reused) {
  const envelope& message = *message_;
  const ehlo_extensions& extensions = session_->extensions;
  const uint64_t message_size = message.message_file.empty() ? message.message.size() : file_size(message);
  if (extensions.size && extensions.size_limit > 0 && message_size > extensions.size_limit)
    fail("the message is " + std::to_string(message_size) + " octets, over the relay's SIZE limit of " +
             std::to_string(extensions.size_limit) + " octets; nothing was sent",
         false);

  std::string mail = "MAIL FROM:<" + message.mail_from + ">";
  if (extensions.size)
    mail += " SIZE=" + std::to_string(message_size);

  reply mail_reply;
  try {
    session_->connection->write_all(mail + "\r\n", settings_.timeout);
    mail_reply = receive_reply("MAIL FROM");
  } catch (const smtp::connection_error& e) {
    if (reused)
      return std::nullopt;
    connection_failed("MAIL FROM", e);
  }
  if (reused && mail_reply.code == 421)
    return std::nullopt;

  try {
    expect(mail_reply, 250, "MAIL FROM:<" + message.mail_from + ">");
    for (const auto& recipient : message.recipients) {
      const std::string step = "RCPT TO:<" + recipient + ">";
      const reply rcpt = command(step, step);
      if (rcpt.code != 251)
        expect(rcpt, 250, step);
    }
    expect(command("DATA", "DATA"), 354, "DATA");
  } catch (const delivery_error&) {
    reset_transaction();
    throw;
  }

  try {
    if (message.message_file.empty()) {
      session_->connection->write_all(dot_stuff(message.message), settings_.timeout);
    } else {
      send_message_file(message.message_file,
                        [this](std::string_view chunk) { session_->connection->write_all(chunk, settings_.timeout); });
    }
  } catch (const smtp::connection_error& e) {
    connection_failed("the message data", e);
  }
  const reply accepted = read_reply("the end of the message data");
  try {
    expect(accepted, 250, "the message");
  } catch (const delivery_error&) {
    reset_transaction();
    throw;
  }

  ++session_->messages;
  session_->last_used = settings_.clock();
  return receipt{"", accepted.text};
}

void smtp_client::reset_transaction() {
  if (!session_)
    return;
  try {
    session_->connection->write_all("RSET\r\n", settings_.timeout);
    const auto line = session_->connection->read_line(max_reply_line, settings_.timeout);
    if (line.text.rfind("250", 0) == 0 && (line.text.size() == 3 || line.text[3] == ' '))
      return;
    log_event(spdlog::level::warn, "RSET rejected (" + smtp::printable(line.text) + "); closing the session");
  } catch (const smtp::connection_error& e) {
    log_event(spdlog::level::warn, std::string("RSET failed: ") + e.what() + "; closing the session");
  }
  end_session(false);
}

smtp_client::reply smtp_client::receive_reply(const std::string& step) {
  reply answer;
  std::string joined;
  while (true) {
    const auto line = session_->connection->read_line(max_reply_line, settings_.timeout);
    const std::string& text = line.text;
    const bool well_formed = text.size() >= 3 &&
                             std::all_of(text.begin(), text.begin() + 3, [](unsigned char c) { return std::isdigit(c); }) &&
                             (text.size() == 3 || text[3] == ' ' || text[3] == '-');
    const int code = well_formed ? std::stoi(text.substr(0, 3)) : 0;
    if (!well_formed || code < 200 || code > 599 || (answer.code != 0 && code != answer.code) ||
        answer.lines.size() >= max_reply_lines) {
      end_session(false);
      fail("the relay sent an invalid reply to " + step + ": " + smtp::printable(text, reply_text_limit), true);
    }

    answer.code = code;
    answer.lines.push_back(text.size() > 4 ? text.substr(4) : std::string());
    joined += (joined.empty() ? "" : " ") + text;
    if (text.size() == 3 || text[3] == ' ')
      break;
  }
  answer.text = smtp::printable(joined, reply_text_limit);
  return answer;
}

smtp_client::reply smtp_client::read_reply(const std::string& step) {
  try {
    return receive_reply(step);
  } catch (const smtp::connection_error& e) {
    connection_failed(step, e);
  }
}

smtp_client::reply smtp_client::command(const std::string& line, const std::string& step) {
  try {
    session_->connection->write_all(line + "\r\n", settings_.timeout);
  } catch (const smtp::connection_error& e) {
    connection_failed(step, e);
  }
  return read_reply(step);
}

void smtp_client::expect(const reply& answer, int code, const std::string& step) {
  if (answer.code == code)
    return;
  // 421: the relay is closing the session.
  if (answer.code == 421)
    end_session(false);
  fail("the relay rejected " + step + ": " + answer.text, answer.temporary());
}

void smtp_client::connection_failed(const std::string& step, const std::exception& error) {
  end_session(false);
  fail(std::string("the connection failed during ") + step + ": " + error.what(), true);
}

void smtp_client::fail(const std::string& problem, bool temporary) {
  log_event(spdlog::level::warn, problem + (temporary ? " (temporary failure)" : " (permanent failure)"));
  throw delivery_error("relay " + relay_ + ": " + problem, temporary);
}

void smtp_client::end_session(bool send_quit) noexcept {
  if (!session_)
    return;
  if (send_quit && session_->connection) {
    try {
      const auto wait = std::chrono::duration_cast<smtp::milliseconds>(std::min(settings_.timeout, max_quit_wait));
      session_->connection->write_all("QUIT\r\n", wait);
      session_->connection->read_line(max_reply_line, wait);
    } catch (const std::exception& e) {
      // The session ends either way; the relay may have closed it already.
      log_event(spdlog::level::debug, std::string("no reply to QUIT: ") + e.what());
    }
  }
  session_.reset();
}

} // namespace router::delivery
