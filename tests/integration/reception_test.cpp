// SMTP reception end to end: swaks and Python's smtplib send to the router's
// own SMTP server on 127.0.0.1, the router routes what it accepts to an
// aiosmtpd relay, and openssl checks what arrives there.
#include "runtime/api/service.hpp"
#include "runtime/mime/received_message.hpp"
#include "runtime/reception/spool.hpp"

#include "tests/common/test_pki.hpp"
#include "tests/integration/smtp_sink.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

const std::string body_marker = "RECEIVED-DOCUMENT-MARKER 8812";

class reception_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new scratch_dir();
    write_test_pki(pki_->path());
    // The server's TLS certificate, for localhost and 127.0.0.1. Clients check
    // it against the real clock, so it is made valid for a century.
    const auto dir = pki_->path() / "pki";
    const auto certificate = run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        shell_quote((dir / "smtp.key.pem").string()) + " -out " + shell_quote((dir / "smtp.cert.pem").string()));
    if (certificate.exit_code != 0)
      throw std::runtime_error("openssl cannot make the TLS certificate: " + certificate.output);
  }

  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    fs::create_directories(work_ / "pki");
    for (const auto& entry : fs::directory_iterator(pki_->path() / "pki"))
      fs::copy(entry.path(), work_.path() / "pki" / entry.path().filename(), fs::copy_options::overwrite_existing);
    relay_ = std::make_unique<smtp_sink>(work_.path());
  }

  /// Starts a router that receives on 127.0.0.1 (port 0, STARTTLS offered)
  /// and delivers to the aiosmtpd relay, or to `relay_port` when it is set.
  /// `reception_extra` is added to the reception settings.
  void start_router(int relay_port = 0, const std::string& reception_extra = "", int delivery_attempts = 3) {
    std::string text =
        replace_once(test_config_text(), "delivery { outbox { directory: \"outbox\" } }",
                     "delivery { smtp_relay { host: \"127.0.0.1\" port: " +
                         std::to_string(relay_port != 0 ? relay_port : relay_->port()) +
                         " timeout_seconds: 10 starttls: NEVER } }");
    text += "reception {\n" + reception_extra + R"(
  listen: "127.0.0.1:0"
  host_name: "mfp.example"
  spool_directory: "spool"
  tls { certificate_file: "pki/smtp.cert.pem" private_key_file: "pki/smtp.key.pem" }
  routes { address: "forward@mfp.example" function: FORWARDING destinations: "alice" }
  routes { address: "box@mfp.example" function: PERSONAL_BOX destinations: "bob" }
  routes { address: "relay@mfp.example" function: SMTP_RECEPTION destinations: "dave" }
  routes { address: "rejected@mfp.example" function: SMTP_RECEPTION destinations: "reject@example.com" }
}
)";
    write_file(work_ / "router.textproto", text);
    api::service_options options;
    options.clock = [] { return reference_time(); };
    options.crypto_workers = 2;
    options.first_retry_delay = std::chrono::milliseconds(10);
    options.delivery_attempts = delivery_attempts;
    options.health_check_interval = std::chrono::seconds(0);
    router_ = api::service::start(config::load_config(work_ / "router.textproto"), options);
    ASSERT_NE(router_->reception_port(), 0);
  }

  /// Sends a message file with swaks over STARTTLS; returns swaks' status and
  /// transcript. swaks sends the DATA part as given, so the test makes the line
  /// ends CRLF, dot-stuffs it and adds the final "." itself.
  command_result swaks(const std::string& to, const fs::path& message, const std::string& extra = "--tls") const {
    // Mail clients end every line with CRLF; openssl's output is mixed.
    std::string text;
    for (char c : read_file(message)) {
      if (c == '\r')
        continue;
      if (c == '\n')
        text += '\r';
      text += c;
    }
    std::string data;
    bool line_start = true;
    for (char c : text) {
      if (line_start && c == '.')
        data += '.';
      data += c;
      line_start = c == '\n';
    }
    if (!line_start)
      data += "\r\n";
    data += ".\r\n";
    const auto data_file = work_ / (message.filename().string() + ".data");
    write_file(data_file, data);
    return run_command("swaks --server 127.0.0.1:" + std::to_string(router_->reception_port()) +
                       " --from sender@example.org --to " + shell_quote(to) + " --helo client.example " + extra +
                       " --timeout 30 --no-data-fixup --data @" + shell_quote(data_file.string()) + " 2>&1");
  }

  /// Writes a message with CRLF line ends into the test folder.
  fs::path write_message(const std::string& name, const std::string& text) const {
    std::string crlf;
    for (char c : text) {
      if (c == '\n')
        crlf += '\r';
      crlf += c;
    }
    const auto path = work_ / name;
    write_file(path, crlf);
    return path;
  }

  std::string pki(const std::string& name) const { return (work_.path() / "pki" / name).string(); }
  std::string attime() const { return " -attime " + std::to_string(unix_seconds(reference_time())); }

  scratch_dir work_;
  std::unique_ptr<smtp_sink> relay_;
  std::unique_ptr<api::service> router_;
  static scratch_dir* pki_;
};

scratch_dir* reception_test::pki_ = nullptr;

const std::string plain_message =
    "Received: from laptop.example.org by mail.example.org; Sat, 05 Dec 2026 01:00:00 +0000\n"
    "From: Sender <sender@example.org>\n"
    "To: forward@mfp.example\n"
    "Subject: Scanned contract\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n" +
    body_marker + "\n"
    ".a line that starts with a dot\n";

TEST_F(reception_test, ForwardedMailArrivesEncryptedAndSigned) {
  start_router();
  const auto sent = swaks("forward@mfp.example", write_message("plain.eml", plain_message));
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("250 2.0.0"), std::string::npos) << sent.output;
  router_->stop();  // waits for the routed job

  const auto stored = relay_->messages();
  ASSERT_EQ(stored.size(), 1u);
  const std::string wire = read_file(stored[0]);
  EXPECT_EQ(wire.find(body_marker), std::string::npos) << "the forwarded copy must be encrypted";
  EXPECT_NE(read_file(stored[0].string() + ".rcpt").find("alice@example.com"), std::string::npos);

  // Trace: the device's Received: field, then the one the message came with.
  const auto fields = mime::split_received_message(wire).fields;
  ASSERT_GE(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "Received");
  // swaks starts TLS here, so ESMTPS (RFC 3848).
  EXPECT_NE(fields[0].value.find("by mfp.example with ESMTPS id "), std::string::npos) << fields[0].raw;
  EXPECT_NE(fields[0].value.find("for <forward@mfp.example>; "), std::string::npos) << fields[0].raw;
  EXPECT_EQ(fields[1].name, "Received");
  EXPECT_EQ(fields[1].value.rfind("from laptop.example.org by mail.example.org;", 0), 0u) << fields[1].raw;
  EXPECT_EQ(fields[2].name, "From");

  const auto opened = run_command("openssl cms -decrypt -in " + shell_quote(stored[0].string()) + " -inkey " +
                                  shell_quote(pki("alice.key.pem")) + " | openssl cms -verify -CAfile " +
                                  shell_quote(pki("root.pem")) + attime());
  ASSERT_EQ(opened.exit_code, 0) << opened.output;
  EXPECT_NE(opened.output.find(body_marker), std::string::npos) << opened.output;
  EXPECT_NE(opened.output.find(".a line that starts with a dot"), std::string::npos) << opened.output;
}

TEST_F(reception_test, SignedMailStillVerifiesAtTheRelay) {
  // A message signed by its sender (bob's certificate), as a mail client makes it.
  write_file(work_ / "content.txt", "Content-Type: text/plain\r\n\r\n" + body_marker + "\r\n");
  const auto signed_by_sender = run_command(
      "openssl cms -sign -crlfeol -in " + shell_quote((work_ / "content.txt").string()) + " -signer " +
      shell_quote(pki("bob.cert.pem")) + " -inkey " + shell_quote(pki("bob.key.pem")) +
      " -certfile " + shell_quote(pki("intermediate.pem")) + " -from sender@example.org -to relay@mfp.example -subject 'Signed scan' -out " +
      shell_quote((work_ / "signed.eml").string()));
  ASSERT_EQ(signed_by_sender.exit_code, 0) << signed_by_sender.output;

  start_router();
  const auto sent = swaks("relay@mfp.example", work_ / "signed.eml");
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  router_->stop();

  const auto stored = relay_->messages();
  ASSERT_EQ(stored.size(), 1u);
  // SMTP reception signs (and does not encrypt) for dave: the device's
  // signature verifies, and so does the sender's signature inside it.
  const auto outer = run_command("openssl cms -verify -in " + shell_quote(stored[0].string()) + " -CAfile " +
                                 shell_quote(pki("root.pem")) + attime() + " -out " +
                                 shell_quote((work_ / "inner.eml").string()));
  ASSERT_EQ(outer.exit_code, 0) << outer.output;
  const auto inner = run_command("openssl cms -verify -in " + shell_quote((work_ / "inner.eml").string()) +
                                 " -CAfile " + shell_quote(pki("root.pem")) + attime());
  ASSERT_EQ(inner.exit_code, 0) << inner.output;
  EXPECT_NE(inner.output.find(body_marker), std::string::npos) << inner.output;
}

TEST_F(reception_test, EncryptedMailIsRejectedUnrouted) {
  write_file(work_ / "content.txt", "Content-Type: text/plain\r\n\r\n" + body_marker + "\r\n");
  const auto encrypted = run_command(
      "openssl cms -encrypt -crlfeol -aes256 -in " + shell_quote((work_ / "content.txt").string()) +
      " -from sender@example.org -to forward@mfp.example -subject 'Encrypted scan' -out " +
      shell_quote((work_ / "encrypted.eml").string()) + " " + shell_quote(pki("device.cert.pem")));
  ASSERT_EQ(encrypted.exit_code, 0) << encrypted.output;

  start_router();
  const auto sent = swaks("forward@mfp.example", work_ / "encrypted.eml");
  EXPECT_NE(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("554 5.7.1"), std::string::npos) << sent.output;
  EXPECT_NE(sent.output.find("cannot receive S/MIME-encrypted mail"), std::string::npos) << sent.output;
  const auto figures = router_->stats();
  router_->stop();

  EXPECT_TRUE(relay_->messages().empty());
  EXPECT_EQ(figures.actors.at("reception").failures_by_reason.at("ENCRYPTED_MAIL_REFUSED"), 1u);
  EXPECT_TRUE(fs::is_empty(work_ / "spool" / "tmp"));
}

TEST_F(reception_test, UnknownRecipientIsRejected) {
  start_router();
  const auto sent = swaks("nobody@mfp.example", write_message("plain.eml", plain_message), "");
  EXPECT_NE(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("550 5.1.1"), std::string::npos) << sent.output;
  router_->stop();
  EXPECT_TRUE(relay_->messages().empty());
}

TEST_F(reception_test, StatisticsCountEachAttemptOnce) {
  write_file(work_ / "content.txt", "Content-Type: text/plain\r\n\r\n" + body_marker + "\r\n");
  const auto encrypted = run_command(
      "openssl cms -encrypt -crlfeol -aes256 -in " + shell_quote((work_ / "content.txt").string()) +
      " -from sender@example.org -to forward@mfp.example -subject 'Encrypted scan' -out " +
      shell_quote((work_ / "encrypted.eml").string()) + " " + shell_quote(pki("device.cert.pem")));
  ASSERT_EQ(encrypted.exit_code, 0) << encrypted.output;

  start_router();
  const auto accepted = swaks("forward@mfp.example", write_message("plain.eml", plain_message));
  EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
  const auto refused = swaks("forward@mfp.example", work_ / "encrypted.eml");
  EXPECT_NE(refused.output.find("554 5.7.1"), std::string::npos) << refused.output;
  const auto unknown = swaks("nobody@mfp.example", work_ / "plain.eml", "");
  EXPECT_NE(unknown.output.find("550 5.1.1"), std::string::npos) << unknown.output;

  // A session is counted as handled once the server has closed it, which may
  // be a moment after the client has gone: wait at most 10 s.
  stats::snapshot figures = router_->stats();
  for (int i = 0; i < 200 && figures.actors["smtp_server"].messages_handled < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    figures = router_->stats();
  }
  router_->stop();

  stats::actor_figures server = figures.actors["smtp_server"];
  EXPECT_EQ(server.messages_received, 3u);
  EXPECT_EQ(server.messages_handled, 3u);
  EXPECT_TRUE(server.failures_by_reason.empty()) << server.failures_by_reason.begin()->first;

  stats::actor_figures reception = figures.actors["reception"];
  EXPECT_EQ(reception.messages_received, 2u);
  EXPECT_EQ(reception.messages_handled, 2u);
  EXPECT_EQ(reception.failures_by_reason.size(), 2u);
  EXPECT_EQ(reception.failures_by_reason["ENCRYPTED_MAIL_REFUSED"], 1u);
  EXPECT_EQ(reception.failures_by_reason["UNKNOWN_RECIPIENT"], 1u);
  EXPECT_EQ(relay_->messages().size(), 1u);
}

TEST_F(reception_test, SmtplibClientOverVerifiedTls) {
  start_router();
  write_message("plain.eml", replace_once(plain_message, "To: forward@mfp.example", "To: box@mfp.example"));
  const std::string script =
      "import smtplib, ssl, sys\n"
      "context = ssl.create_default_context(cafile=sys.argv[2])\n"
      "with smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30) as client:\n"
      "    client.ehlo('client.example')\n"
      "    client.starttls(context=context)\n"
      "    client.ehlo('client.example')\n"
      "    data = open(sys.argv[3], 'rb').read()\n"
      "    refused = client.sendmail('sender@example.org', ['box@mfp.example'], data)\n"
      "    print('refused', refused)\n";
  write_file(work_ / "send.py", script);
  const auto sent = run_command("/usr/bin/python3 " + shell_quote((work_ / "send.py").string()) + " " +
                                std::to_string(router_->reception_port()) + " " + shell_quote(pki("smtp.cert.pem")) +
                                " " + shell_quote((work_ / "plain.eml").string()) + " 2>&1");
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("refused {}"), std::string::npos) << sent.output;
  router_->stop();

  // Personal Box: encrypted and signed for the box's receiver, bob.
  const auto stored = relay_->messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_NE(read_file(stored[0].string() + ".rcpt").find("bob@example.com"), std::string::npos);
  const auto opened = run_command("openssl cms -decrypt -in " + shell_quote(stored[0].string()) + " -inkey " +
                                  shell_quote(pki("bob.key.pem")) + " | openssl cms -verify -CAfile " +
                                  shell_quote(pki("root.pem")) + attime());
  ASSERT_EQ(opened.exit_code, 0) << opened.output;
  EXPECT_NE(opened.output.find(body_marker), std::string::npos) << opened.output;
}

TEST_F(reception_test, TlsGarbageEndsOneSession) {
  start_router();
  const std::string script =
      "import socket, sys\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30) as peer:\n"
      "    reader = peer.makefile('rb')\n"
      "    print(reader.readline().decode().strip())\n"
      "    peer.sendall(b'EHLO client.example\\r\\n')\n"
      "    line = reader.readline()\n"
      "    while line[3:4] == b'-':\n"
      "        line = reader.readline()\n"
      "    peer.sendall(b'STARTTLS\\r\\n')\n"
      "    print(reader.readline().decode().strip())\n"
      "    peer.sendall(b'this is not a TLS client hello\\r\\n' * 4)\n"
      "    rest = reader.read()\n"
      "    print('closed after', len(rest), 'octets')\n";
  write_file(work_ / "garbage.py", script);
  const auto garbage = run_command("/usr/bin/python3 " + shell_quote((work_ / "garbage.py").string()) + " " +
                                   std::to_string(router_->reception_port()) + " 2>&1");
  ASSERT_EQ(garbage.exit_code, 0) << garbage.output;
  EXPECT_NE(garbage.output.find("220 2.0.0"), std::string::npos) << garbage.output;
  EXPECT_NE(garbage.output.find("closed after"), std::string::npos) << garbage.output;

  // The server goes on serving other sessions.
  const auto sent = swaks("forward@mfp.example", write_message("plain.eml", plain_message));
  EXPECT_EQ(sent.exit_code, 0) << sent.output;
  router_->stop();
  EXPECT_EQ(relay_->messages().size(), 1u);
}

TEST_F(reception_test, SpooledJobIsSentAfterRestart) {
  // A job that a previous run acknowledged but did not finish, as its spool file contains it.
  messages::job_request job;
  job.set_job_id("rcv-earlier-run-000001");
  job.set_function(config::SMTP_RECEPTION);
  job.set_originator("sender@example.org");
  job.set_subject("Left in the spool");
  job.add_destinations()->set_id("dave");
  job.set_received_message("From: sender@example.org\r\nSubject: Left in the spool\r\n"
                           "Content-Type: text/plain\r\n\r\n" + body_marker + "\r\n");
  messages::spooled_job entry;
  *entry.mutable_job() = job;
  entry.set_reverse_path("sender@example.org");
  entry.set_accepted_unix(unix_seconds(reference_time()));
  entry.set_next_attempt_unix(entry.accepted_unix());
  reception::job_spool(work_ / "spool").write_all({entry});

  start_router();
  router_->stop();

  const auto stored = relay_->messages();
  ASSERT_EQ(stored.size(), 1u);
  const auto checked = run_command("openssl cms -verify -in " + shell_quote(stored[0].string()) + " -CAfile " +
                                   shell_quote(pki("root.pem")) + attime());
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find(body_marker), std::string::npos) << checked.output;
  EXPECT_FALSE(fs::exists(work_ / "spool" / "rcv-earlier-run-000001.job"));
}

/// Returns a loopback port that nothing listens on at the moment.
int unused_port() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (probe < 0 || ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot find a free loopback port");
  ::close(probe);
  return ntohs(address.sin_port);
}

TEST_F(reception_test, MailAcceptedWhileRelayDownArrivesLater) {
  // NOTE: another process could take the port between the probe and the
  // relay's start; on a test machine that is unlikely, and the test then fails
  // rather than passing by mistake.
  const int port = unused_port();
  start_router(port, "  retry_first_seconds: 1\n", 1);

  const auto sent = swaks("relay@mfp.example", write_message("plain.eml", plain_message));
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("250 2.0.0"), std::string::npos) << sent.output;

  // Wait until the first round has failed and the job waits in the spool.
  auto deferred = [&] {
    const auto figures = router_->stats().actors;
    const auto reception = figures.find("reception");
    return reception != figures.end() && reception->second.failures_by_reason.count("DELIVERY_DEFERRED") > 0;
  };
  for (int i = 0; i < 400 && !deferred(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(deferred()) << "the first attempt did not fail within 20 s";
  ASSERT_EQ(reception::job_spool(work_ / "spool").list().size(), 1u) << "the accepted message must stay spooled";

  fs::create_directories(work_ / "late");
  smtp_sink late_relay(work_ / "late", port);
  for (int i = 0; i < 600 && late_relay.messages().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  router_->stop();

  const auto stored = late_relay.messages();
  ASSERT_EQ(stored.size(), 1u) << "the retry did not deliver within 30 s";
  EXPECT_NE(read_file(stored[0].string() + ".rcpt").find("dave@example.com"), std::string::npos);
  EXPECT_TRUE(reception::job_spool(work_ / "spool").list().empty());
}

TEST_F(reception_test, RelayRejectionBouncesToSender) {
  start_router();
  const std::string message =
      "From: Sender <sender@example.org>\n"
      "To: rejected@mfp.example\n"
      "Subject: Invoice 2291\n"
      "Message-ID: <invoice-2291@example.org>\n"
      "Date: Mon, 1 Jun 2026 09:00:00 +0000\n"
      "MIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n" +
      body_marker + "\n";
  const auto sent = swaks("rejected@mfp.example", write_message("invoice.eml", message));
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("250 2.0.0"), std::string::npos) << sent.output;
  router_->stop();  // waits for the job and its notice

  const auto stored = relay_->messages();
  ASSERT_EQ(stored.size(), 1u) << "only the notice reaches the relay";
  EXPECT_EQ(read_file(stored[0].string() + ".from"), "<>") << "a notice goes out with the null reverse path";
  EXPECT_EQ(read_file(stored[0].string() + ".rcpt"), "sender@example.org\n");
  EXPECT_EQ(read_file(stored[0]).find(body_marker), std::string::npos) << "the notice must not carry the document";
  EXPECT_TRUE(reception::job_spool(work_ / "spool").list().empty());

  // The route's function signs, so the notice is signed, and openssl checks it.
  const auto checked = run_command("openssl cms -verify -in " + shell_quote(stored[0].string()) + " -CAfile " +
                                   shell_quote(pki("root.pem")) + attime() + " -out /dev/null");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;

  // Python's email package is the independent reader of the report.
  const std::string script =
      "import email, sys\n"
      "message = email.message_from_binary_file(open(sys.argv[1], 'rb'))\n"
      "print('subject', message['Subject'])\n"
      "reports = [p for p in message.walk() if p.get_content_type() == 'multipart/report']\n"
      "print('reports', len(reports))\n"
      "print('report-type', reports[0].get_param('report-type'))\n"
      "status = [p for p in reports[0].walk() if p.get_content_type() == 'message/delivery-status'][0]\n"
      "for block in status.get_payload()[1:]:\n"
      "    print('recipient', block['Final-Recipient'], block['Action'], block['Status'])\n"
      "    print('diagnostic', block['Diagnostic-Code'])\n"
      "headers = [p for p in reports[0].walk() if p.get_content_type() == 'text/rfc822-headers'][0]\n"
      "print('original', headers.get_payload().replace('\\r\\n', ' | '))\n";
  write_file(work_ / "read_report.py", script);
  const auto parsed = run_command("/usr/bin/python3 " + shell_quote((work_ / "read_report.py").string()) + " " +
                                  shell_quote(stored[0].string()));
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output;
  EXPECT_NE(parsed.output.find("subject Undelivered mail: Invoice 2291"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("reports 1"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("report-type delivery-status"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("recipient rfc822; reject@example.com failed 5.1.1"), std::string::npos)
      << parsed.output;
  EXPECT_NE(parsed.output.find("diagnostic smtp; 550 5.1.1 mailbox unavailable"), std::string::npos)
      << parsed.output;
  EXPECT_NE(parsed.output.find("Subject: Invoice 2291"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("Message-ID: <invoice-2291@example.org>"), std::string::npos) << parsed.output;
}

} // namespace
} // namespace router::testing
