#include "runtime/smtp/server_session.hpp"

#include <exception>
#include <limits>
#include <utility>

namespace router::smtp {

namespace {

/// Maximum length of reply text taken from the handler; a reply line may have 512
/// octets with its code and CRLF (RFC 5321 4.5.3.1.5).
constexpr size_t max_handler_text = 400;

/// Maximum length of a piece of peer text (a host name, an address) in a log event.
constexpr size_t max_event_text = 100;

session_output make_reply(int code, std::string status, std::string text) {
  session_output output;
  output.code = code;
  output.status = std::move(status);
  output.text.push_back(std::move(text));
  return output;
}

session_output closing(session_output output) {
  output.action = session_action::close;
  return output;
}

session_output warn(session_output output, std::string failure, std::string event) {
  output.warning = true;
  output.failure = std::move(failure);
  output.event = std::move(event);
  return output;
}

/// Cuts peer text for a log event; the server makes the whole event printable.
std::string clip(const std::string& text) {
  if (text.size() <= max_event_text)
    return text;
  return text.substr(0, max_event_text) + "...";
}

std::string reply_text(const session_output& output) {
  std::string text = std::to_string(output.code);
  if (!output.status.empty())
    text += " " + output.status;
  if (!output.text.empty())
    text += " " + output.text.front();
  return text;
}

bool valid_status(const std::string& status, int code) {
  // class.subject.detail, e.g. "5.1.1", with the class matching the code.
  if (status.size() < 5 || status[0] - '0' != code / 100 || status[1] != '.')
    return false;
  size_t dots = 0;
  size_t digits = 0;
  for (size_t i = 2; i < status.size(); ++i) {
    if (status[i] == '.') {
      if (digits == 0)
        return false;
      ++dots;
      digits = 0;
    } else if (status[i] >= '0' && status[i] <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return dots == 1 && digits > 0;
}

/// Makes a handler's reply safe to send: a 2xx, 4xx or 5xx code, a matching
/// enhanced status code and one line of printable text.
session_output from_handler(const reply& answer, const char* fallback_text) {
  const int code = answer.code;
  if (code < 200 || code > 599 || (code >= 300 && code < 400))
    return make_reply(451, "4.3.0", "Local error in processing; try again later");
  std::string status = answer.status;
  if (!valid_status(status, code))
    status = std::to_string(code / 100) + ".0.0";
  std::string text;
  for (unsigned char c : answer.text) {
    if (text.size() >= max_handler_text)
      break;
    text += (c < 0x20 || c >= 0x7f) ? ' ' : static_cast<char>(c);
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  if (text.empty())
    text = fallback_text;
  return make_reply(code, std::move(status), std::move(text));
}

bool synchronising(verb name) {
  // The client must wait for the replies to these: EHLO, DATA and QUIT by
  // RFC 2920, STARTTLS by RFC 3207, HELO because PIPELINING needs EHLO.
  // RFC 2920 names NOOP, VRFY and EXPN too; their replies change nothing
  // here, so they may be pipelined.
  return name == verb::ehlo || name == verb::helo || name == verb::data || name == verb::starttls ||
         name == verb::quit;
}

} // namespace

std::string session_output::wire() const {
  std::string wire;
  const std::string code_text = std::to_string(code);
  const std::string prefix = status.empty() ? std::string() : status + " ";
  if (text.empty())
    return code_text + (status.empty() ? "" : " " + status) + "\r\n";
  for (size_t i = 0; i < text.size(); ++i)
    wire += code_text + (i + 1 < text.size() ? "-" : " ") + prefix + text[i] + "\r\n";
  return wire;
}

server_session::server_session(session_settings settings, reception_handler& handler)
    : settings_(std::move(settings)), handler_(handler) {
  if (settings_.host_name.empty())
    settings_.host_name = "localhost";
  envelope_.session_id = settings_.session_id;
  envelope_.peer = settings_.peer;
}

session_output server_session::start(bool input_waiting) {
  if (input_waiting) {
    closed_ = true;
    return warn(closing(make_reply(554, "5.5.0", "Improper pipelining: input sent before the greeting")),
                "PIPELINING", "improper pipelining: input before the greeting; closing");
  }
  // RFC 2034: the greeting carries no enhanced status code.
  return make_reply(220, "", settings_.host_name + " ESMTP ready");
}

session_output server_session::on_line(const input_line& line, bool input_waiting) {
  if (closed_)
    return closing(session_output{});
  if (in_data_)
    return data_line(line);
  return command_line(line, input_waiting);
}

session_output server_session::timed_out() {
  const bool during_data = in_data_;
  in_data_ = false;
  std::string().swap(message_);
  reset_transaction();
  closed_ = true;
  return warn(closing(make_reply(421, "4.4.2", settings_.host_name + " timeout, closing connection")), "TIMEOUT",
              during_data ? "timed out in the middle of message data; message dropped, closing"
                          : "timed out waiting for a command; closing");
}

void server_session::tls_started() {
  greeting_ = greeting_kind::none;
  envelope_.helo.clear();
  envelope_.extended = false;
  envelope_.tls = true;
  reset_transaction();
}

void server_session::reset_transaction() {
  in_transaction_ = false;
  envelope_.mail_from.clear();
  envelope_.recipients.clear();
}

session_output server_session::protocol_error(session_output output) {
  if (++errors_ > settings_.max_errors) {
    closed_ = true;
    return warn(closing(make_reply(421, "4.7.0", "Too many errors, closing connection")), "TOO_MANY_ERRORS",
                "more than " + std::to_string(settings_.max_errors) + " protocol errors; closing");
  }
  return output;
}

session_output server_session::command_line(const input_line& line, bool input_waiting) {
  const verb name = verb_of(line.text);
  if (input_waiting && (greeting_ != greeting_kind::ehlo || synchronising(name))) {
    closed_ = true;
    const std::string what = greeting_ != greeting_kind::ehlo && !synchronising(name)
                                 ? "PIPELINING is offered after EHLO only"
                                 : std::string("commands sent before the reply to ") + verb_name(name);
    return warn(closing(make_reply(554, "5.5.0", "Improper pipelining: " + what)), "PIPELINING",
                "improper pipelining: " + what + "; closing");
  }
  if (line.too_long)
    return protocol_error(warn(make_reply(500, "5.5.2",
                                          "Line too long: a command line may have at most " +
                                              std::to_string(max_command_line) + " octets; line dropped"),
                               "LINE_TOO_LONG", "command line longer than " + std::to_string(max_command_line) +
                                                    " octets dropped"));
  if (line.bare_lf)
    return protocol_error(warn(make_reply(500, "5.5.2", "Bare LF: end command lines with CRLF; line dropped"),
                               "BARE_LINE_END", "command line ending in a bare LF dropped"));

  const command parsed = parse_command(line.text);
  if (parsed.error) {
    session_output output = make_reply(parsed.error->code, parsed.error->status, parsed.error->text);
    if (parsed.name == verb::mail || parsed.name == verb::rcpt)
      output.event = std::string(verb_name(parsed.name)) + " refused: " + reply_text(output);
    return protocol_error(std::move(output));
  }

  switch (parsed.name) {
    case verb::ehlo:
      return on_ehlo(parsed, true);
    case verb::helo:
      return on_ehlo(parsed, false);
    case verb::mail:
      return on_mail(parsed);
    case verb::rcpt:
      return on_rcpt(parsed);
    case verb::data:
      return on_data();
    case verb::rset:
      reset_transaction();
      return make_reply(250, "2.0.0", "Reset OK");
    case verb::noop:
      return make_reply(250, "2.0.0", "OK");
    case verb::quit:
      closed_ = true;
      reset_transaction();
      return closing(make_reply(221, "2.0.0", settings_.host_name + " closing connection"));
    case verb::vrfy:
      return make_reply(252, "2.0.0", "Cannot VRFY; send RCPT to try delivery");
    case verb::expn:
      return protocol_error(make_reply(502, "5.5.1", "EXPN is not supported"));
    case verb::help:
      return make_reply(214, "2.0.0",
                        std::string("Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY") +
                            (settings_.tls_available && !envelope_.tls ? " STARTTLS" : ""));
    case verb::starttls:
      return on_starttls();
    case verb::unknown:
      break;
  }
  return protocol_error(make_reply(500, "5.5.1", "Command not recognized"));
}

session_output server_session::on_ehlo(const command& parsed, bool extended) {
  // RFC 5321 4.1.4: EHLO and HELO end any mail transaction, like RSET.
  reset_transaction();
  greeting_ = extended ? greeting_kind::ehlo : greeting_kind::helo;
  envelope_.helo = parsed.argument;
  envelope_.extended = extended;
  // RFC 2034: replies to EHLO and HELO carry no enhanced status code.
  session_output output = make_reply(250, "", settings_.host_name);
  if (extended) {
    output.text.push_back("PIPELINING");
    output.text.push_back("SIZE " + std::to_string(settings_.max_message_size));
    output.text.push_back("8BITMIME");
    if (settings_.tls_available && !envelope_.tls)
      output.text.push_back("STARTTLS");
    output.text.push_back("ENHANCEDSTATUSCODES");
  }
  output.event = std::string(verb_name(parsed.name)) + " " + clip(parsed.argument);
  return output;
}

session_output server_session::on_mail(const command& parsed) {
  const std::string what = "MAIL FROM:<" + clip(parsed.address) + ">" +
                           (parsed.size ? " SIZE=" + std::to_string(*parsed.size) : "") +
                           (parsed.body == body_type::eight_bit_mime ? " BODY=8BITMIME"
                            : parsed.body == body_type::seven_bit    ? " BODY=7BIT"
                                                                     : "");
  session_output output;
  if (greeting_ == greeting_kind::none) {
    output = protocol_error(make_reply(503, "5.5.1", "Send EHLO or HELO first"));
  } else if (in_transaction_) {
    output = protocol_error(make_reply(503, "5.5.1", "Nested MAIL command; send RSET first"));
  } else if (parsed.has_parameters && greeting_ != greeting_kind::ehlo) {
    output = protocol_error(make_reply(555, "5.5.4", "MAIL parameters need EHLO, not HELO"));
  } else if (parsed.size && *parsed.size > settings_.max_message_size) {
    output = warn(make_reply(552, "5.3.4",
                             "Message size exceeds the limit of " + std::to_string(settings_.max_message_size) +
                                 " octets"),
                  "MESSAGE_TOO_BIG", "");
  } else {
    in_transaction_ = true;
    envelope_.mail_from = parsed.address;
    envelope_.recipients.clear();
    output = make_reply(250, "2.1.0", "Sender OK");
  }
  if (!output.has_reply() || output.action == session_action::close)
    return output;
  output.event = what + ": " + reply_text(output);
  return output;
}

session_output server_session::on_rcpt(const command& parsed) {
  const std::string what = "RCPT TO:<" + clip(parsed.address) + ">";
  session_output output;
  if (!in_transaction_) {
    output = protocol_error(make_reply(503, "5.5.1", "Send MAIL first"));
  } else if (envelope_.recipients.size() >= settings_.max_recipients) {
    output = warn(make_reply(452, "4.5.3",
                             "Too many recipients: at most " + std::to_string(settings_.max_recipients) +
                                 " per message; send the rest in another message"),
                  "TOO_MANY_RECIPIENTS", "");
  } else {
    try {
      output = from_handler(handler_.check_recipient(envelope_, parsed.address), "Recipient OK");
    } catch (const std::exception& error) {
      output = warn(make_reply(451, "4.3.0", "Local error in processing; try again later"), "HANDLER_ERROR",
                    "");
      output.event = what + ": handler failed: " + clip(error.what());
    } catch (...) {
      output = warn(make_reply(451, "4.3.0", "Local error in processing; try again later"), "HANDLER_ERROR",
                    what + ": handler failed");
    }
    // A refusal by the handler is its decision, which it counts itself.
    if (output.positive()) {
      bool known = false;
      for (const auto& recipient : envelope_.recipients)
        known = known || recipient == parsed.address;
      if (!known)
        envelope_.recipients.push_back(parsed.address);
    }
  }
  if (output.action == session_action::close)
    return output;
  if (output.event.empty())
    output.event = what + ": " + reply_text(output);
  return output;
}

session_output server_session::on_data() {
  if (!in_transaction_)
    return protocol_error(make_reply(503, "5.5.1", "Send MAIL and RCPT first"));
  if (envelope_.recipients.empty())
    return protocol_error(make_reply(554, "5.5.1", "No valid recipients"));
  in_data_ = true;
  message_.clear();
  data_size_ = 0;
  data_too_big_ = false;
  data_line_too_long_ = false;
  data_bare_line_end_ = false;
  previous_line_crlf_ = true;
  // RFC 2034 defines enhanced status codes for 2xx, 4xx and 5xx replies only.
  return make_reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

session_output server_session::on_starttls() {
  if (!settings_.tls_available)
    return protocol_error(make_reply(502, "5.5.1", "STARTTLS is not offered"));
  if (envelope_.tls)
    return protocol_error(make_reply(503, "5.5.1", "TLS is already active"));
  if (greeting_ != greeting_kind::ehlo)
    return protocol_error(make_reply(503, "5.5.1", "Send EHLO first"));
  if (in_transaction_)
    return protocol_error(make_reply(503, "5.5.1", "A mail transaction is in progress; send RSET first"));
  session_output output = make_reply(220, "2.0.0", "Ready to start TLS");
  output.action = session_action::start_tls;
  return output;
}

session_output server_session::data_line(const input_line& line) {
  // Only CRLF "." CRLF ends the data: a "." after or before a bare LF does not,
  // so a message cannot end where another server would see its end (SMTP
  // smuggling), and what follows stays part of the refused message.
  if (line.text == "." && !line.bare_lf && !line.too_long && previous_line_crlf_)
    return end_of_data();

  std::string_view text = line.text;
  if (!text.empty() && text.front() == '.')
    text.remove_prefix(1);  // dot-unstuffing, RFC 5321 4.5.2
  data_line_too_long_ = data_line_too_long_ || line.too_long;
  data_bare_line_end_ = data_bare_line_end_ || line.bare_lf || text.find('\r') != std::string_view::npos;
  previous_line_crlf_ = !line.bare_lf;

  const uint64_t line_size = text.size() + 2;
  data_size_ = data_size_ > std::numeric_limits<uint64_t>::max() - line_size
                   ? std::numeric_limits<uint64_t>::max()
                   : data_size_ + line_size;
  data_too_big_ = data_too_big_ || data_size_ > settings_.max_message_size;

  if (data_too_big_ || data_line_too_long_ || data_bare_line_end_) {
    // The message will be refused: stop keeping it.
    if (!message_.empty())
      std::string().swap(message_);
  } else {
    message_.append(text.data(), text.size());
    message_ += "\r\n";
  }
  return session_output{};
}

session_output server_session::end_of_data() {
  in_data_ = false;
  const size_t recipients = envelope_.recipients.size();
  const std::string size_text = " (" + std::to_string(data_size_) + " octets, " + std::to_string(recipients) +
                                (recipients == 1 ? " recipient)" : " recipients)");
  session_output output;
  if (data_too_big_) {
    output = warn(make_reply(552, "5.3.4",
                             "Message exceeds the size limit of " + std::to_string(settings_.max_message_size) +
                                 " octets; not accepted"),
                  "MESSAGE_TOO_BIG", "");
  } else if (data_bare_line_end_) {
    output = warn(make_reply(550, "5.6.0",
                             "Message refused: it has bare LF or CR line ends; end every line with CRLF"),
                  "BARE_LINE_END", "");
  } else if (data_line_too_long_) {
    output = warn(make_reply(550, "5.6.0",
                             "Message refused: a line is longer than " + std::to_string(max_data_line) +
                                 " octets (1000 with CRLF, RFC 5321 4.5.3.1.6)"),
                  "LINE_TOO_LONG", "");
  } else {
    try {
      output = from_handler(handler_.accept_message(envelope_, std::move(message_)), "Message accepted");
    } catch (const std::exception& error) {
      output = warn(make_reply(451, "4.3.0", "Local error in processing; try again later"), "HANDLER_ERROR",
                    "");
      output.event = "message not taken: handler failed: " + clip(error.what()) + "; replied " +
                     reply_text(output) + size_text;
    } catch (...) {
      output = warn(make_reply(451, "4.3.0", "Local error in processing; try again later"), "HANDLER_ERROR",
                    "message not taken: handler failed; replied 451 4.3.0" + size_text);
    }
    // The handler counts and logs its own refusals. A 5xx refusal is its
    // decision about normal traffic, but a 4xx means the message could not be
    // taken now, which an operator should see.
    if (output.code >= 400 && output.code < 500)
      output.warning = true;
  }
  std::string().swap(message_);
  if (output.event.empty())
    output.event = std::string(output.positive() ? "message accepted: " : "message refused: ") +
                   reply_text(output) + size_text;
  output.message_ended = true;
  reset_transaction();
  return output;
}

} // namespace router::smtp
