// The router end to end through the embedding API: real actors, a fixed
// clock, delivery to a Maildir outbox or to an aiosmtpd relay on loopback, and
// openssl as the independent checker of every message.
#include "runtime/api/service.hpp"
#include "runtime/certs/pki_builder.hpp"

#include "tests/common/test_pki.hpp"
#include "tests/integration/smtp_sink.hpp"

#include <botan/auto_rng.h>
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

const std::string document_text = "CONFIDENTIAL-DOCUMENT-MARKER quarterly figures 4711\n";

class service_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new scratch_dir();
    write_test_pki(pki_->path());
  }

  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    fs::create_directories(work_ / "pki");
    for (const auto& entry : fs::directory_iterator(pki_->path() / "pki"))
      fs::copy(entry.path(), work_.path() / "pki" / entry.path().filename(),
               fs::copy_options::overwrite_existing);
  }

  /// Starts a router on a config written into the test's folder.
  std::unique_ptr<api::service> start(const std::string& config_text,
                                      std::function<std::chrono::system_clock::time_point()> clock = nullptr) {
    write_file(work_ / "router.textproto", config_text);
    api::service_options options;
    options.clock = clock ? clock : [] { return reference_time(); };
    options.crypto_workers = 2;
    options.first_retry_delay = std::chrono::milliseconds(10);
    options.health_check_interval = std::chrono::seconds(0);  // tests run the check by hand
    return api::service::start(config::load_config(work_ / "router.textproto"), options);
  }

  static messages::job_request job(config::source_function function, const std::vector<std::string>& destinations) {
    messages::job_request request;
    request.set_function(function);
    request.set_subject("Test document");
    request.set_body_text("Please find the document attached.\n");
    for (const auto& destination : destinations) {
      auto* ref = request.add_destinations();
      if (destination.find('@') != std::string::npos)
        ref->set_address(destination);
      else
        ref->set_id(destination);
    }
    auto* attachment = request.add_attachments();
    attachment->set_filename("document.txt");
    attachment->set_content_type("text/plain");
    attachment->set_data(document_text);
    return request;
  }

  std::string pki(const std::string& name) const { return (work_.path() / "pki" / name).string(); }

  std::string attime() const { return " -attime " + std::to_string(unix_seconds(reference_time())); }

  /// Verifies a signed message with openssl against the root alone (no -certfile).
  command_result verify_signed(const std::string& file) const {
    return run_command("openssl cms -verify -in " + shell_quote(file) + " -CAfile " + shell_quote(pki("root.pem")) +
                       attime());
  }

  /// Decrypts a message for an address-book id with openssl.
  command_result decrypt(const std::string& file, const std::string& id) const {
    return run_command("openssl cms -decrypt -in " + shell_quote(file) + " -inkey " + shell_quote(pki(id + ".key.pem")) +
                       " -recip " + shell_quote(pki(id + ".cert.pem")));
  }

  /// Decrypts, then verifies the signed entity inside.
  command_result decrypt_and_verify(const std::string& file, const std::string& id) const {
    return run_command("openssl cms -decrypt -in " + shell_quote(file) + " -inkey " + shell_quote(pki(id + ".key.pem")) +
                       " -recip " + shell_quote(pki(id + ".cert.pem")) + " | openssl cms -verify -CAfile " +
                       shell_quote(pki("root.pem")) + attime());
  }

  scratch_dir work_;
  static scratch_dir* pki_;
};

scratch_dir* service_test::pki_ = nullptr;

const messages::destination_result& result_for(const messages::job_result& result, const std::string& id) {
  for (const auto& destination : result.destinations()) {
    if (destination.destination_id() == id || destination.address() == id)
      return destination;
  }
  throw std::runtime_error("no result for " + id);
}

TEST_F(service_test, StandardAddressAppliesPerDestinationRules) {
  auto router = start(test_config_text());
  auto request = job(config::STANDARD_ADDRESS, {"alice", "bob", "dave", "fax"});
  request.set_request_encrypt(true);
  const auto result = router->submit(request);

  ASSERT_EQ(result.destinations_size(), 4);
  // alice: encrypt flag and certificate, address-book sign default on.
  EXPECT_EQ(result_for(result, "alice").outcome(), messages::SENT_ENCRYPTED_SIGNED);
  // bob: encrypt flag and certificate, sign default off.
  EXPECT_EQ(result_for(result, "bob").outcome(), messages::SENT_ENCRYPTED);
  // dave: no encryption configured, so sent in clear although encryption was asked.
  EXPECT_EQ(result_for(result, "dave").outcome(), messages::SENT_PLAIN);
  // fax: standard transmission to Internet fax is never encrypted or signed.
  EXPECT_EQ(result_for(result, "fax").outcome(), messages::SENT_PLAIN);

  EXPECT_EQ(result_for(result, "alice").algorithms(),
            "signed with RSA sha-256, then encrypted with AES-256-CBC and RSA PKCS#1 v1.5");
  EXPECT_EQ(result_for(result, "alice").completed_unix(), unix_seconds(reference_time()));
  EXPECT_EQ(result_for(result, "alice").certificate_fingerprint().size(), 64u);
  EXPECT_EQ(result_for(result, "dave").algorithms(), "");

  const auto alice_file = result_for(result, "alice").outbox_file();
  const auto alice_check = decrypt_and_verify(alice_file, "alice");
  EXPECT_EQ(alice_check.exit_code, 0) << alice_check.output;
  EXPECT_NE(alice_check.output.find("Verification successful"), std::string::npos) << alice_check.output;

  const auto bob_check = decrypt(result_for(result, "bob").outbox_file(), "bob");
  EXPECT_EQ(bob_check.exit_code, 0) << bob_check.output;
  EXPECT_NE(bob_check.output.find("Please find the document attached."), std::string::npos);

  const std::string plain = read_file(result_for(result, "dave").outbox_file());
  EXPECT_EQ(plain.find("pkcs7"), std::string::npos);
}

TEST_F(service_test, EveryFunctionDeliversCheckableMessage) {
  auto router = start(test_config_text());
  const std::vector<config::source_function> functions = {
      config::STANDARD_ADDRESS, config::EMAIL_TX_RESULTS, config::FOLDER_TRANSFER_RESULT_REPORT,
      config::STORE,            config::PERSONAL_BOX,     config::TRANSFER_BOX,
      config::FORWARDING,       config::SMTP_RECEPTION};

  for (const auto function : functions) {
    SCOPED_TRACE(config::function_name(function));
    const auto result = router->submit(job(function, {"alice"}));
    ASSERT_EQ(result.destinations_size(), 1);
    const auto& alice = result.destinations(0);
    ASSERT_FALSE(alice.outbox_file().empty()) << alice.detail();

    switch (alice.outcome()) {
      case messages::SENT_ENCRYPTED_SIGNED: {
        const auto check = decrypt_and_verify(alice.outbox_file(), "alice");
        EXPECT_EQ(check.exit_code, 0) << check.output;
        break;
      }
      case messages::SENT_SIGNED: {
        const auto check = verify_signed(alice.outbox_file());
        EXPECT_EQ(check.exit_code, 0) << check.output;
        break;
      }
      default:
        break;
    }
    // Standard address signs by the destination's default; the others by their settings.
    const auto expected = function == config::SMTP_RECEPTION ? messages::SENT_SIGNED
                          : function == config::STANDARD_ADDRESS ? messages::SENT_SIGNED
                                                                 : messages::SENT_ENCRYPTED_SIGNED;
    EXPECT_EQ(alice.outcome(), expected);
  }

  const auto figures = router->stats();
  EXPECT_EQ(figures.actors.at("source.reports").messages_handled, 2u);
  EXPECT_EQ(figures.actors.at("source.forwarding").messages_handled, 1u);
  EXPECT_EQ(figures.actors.at("delivery").messages_handled, 8u);
}

TEST_F(service_test, ForwardingToExpiredCertificateNotifiesOriginator) {
  auto router = start(test_config_text());
  auto request = job(config::FORWARDING, {"alice", "carol"});
  request.set_originator("sender@remote.example.net");
  const auto result = router->submit(request);

  EXPECT_EQ(result_for(result, "alice").outcome(), messages::SENT_ENCRYPTED_SIGNED);
  EXPECT_EQ(result_for(result, "carol").outcome(), messages::FAILED);
  EXPECT_EQ(result_for(result, "carol").reason(), messages::CERTIFICATE_EXPIRED);
  EXPECT_TRUE(result_for(result, "carol").outbox_file().empty());
  EXPECT_TRUE(result.notification_sent());

  // The outbox contains alice's message and the notice, nothing for carol.
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new"))
    files.push_back(entry.path());
  ASSERT_EQ(files.size(), 2u);
  std::string notice;
  for (const auto& file : files) {
    const std::string text = read_file(file);
    if (text.find("To: sender@remote.example.net") != std::string::npos)
      notice = text;
    EXPECT_EQ(text.find("To: carol@example.com"), std::string::npos);
  }
  ASSERT_FALSE(notice.empty());
  EXPECT_NE(notice.find("carol@example.com"), std::string::npos);
  EXPECT_NE(notice.find("CERTIFICATE_EXPIRED"), std::string::npos);
  // The notice never contains the document, nor its text part.
  EXPECT_EQ(notice.find("CONFIDENTIAL-DOCUMENT-MARKER"), std::string::npos);
  EXPECT_EQ(notice.find("Q09ORklERU5USUFM"), std::string::npos);  // base64 of the document's start
  EXPECT_EQ(notice.find("document.txt"), std::string::npos);
  EXPECT_EQ(notice.find("Please find the document attached."), std::string::npos);
}

TEST_F(service_test, NoticeIsDeliveryStatusReport) {
  auto router = start(test_config_text(
      "address_book { id: \"alias\" address: \"alice@other.example\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/alice.cert.pem\" }\n"));
  auto request = job(config::FORWARDING, {"carol", "alice", "alias"});
  request.set_originator("sender@remote.example.net");
  const auto result = router->submit(request);
  ASSERT_TRUE(result.notification_sent());

  std::string notice_file;
  for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new")) {
    if (read_file(entry.path()).find("To: sender@remote.example.net") != std::string::npos)
      notice_file = entry.path().string();
  }
  ASSERT_FALSE(notice_file.empty());

  // Forwarding signs in this config, so the notice is signed too.
  const auto verified = verify_signed(notice_file);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  // Python's email package is the independent reader of the report.
  const std::string script =
      "import email, sys\n"
      "message = email.message_from_binary_file(open(sys.argv[1], 'rb'))\n"
      "reports = [p for p in message.walk() if p.get_content_type() == 'multipart/report']\n"
      "print('reports', len(reports))\n"
      "print('report-type', reports[0].get_param('report-type'))\n"
      "status = [p for p in reports[0].walk() if p.get_content_type() == 'message/delivery-status'][0]\n"
      "blocks = status.get_payload()\n"
      "for block in blocks[1:]:\n"
      "    print('recipient', block['Final-Recipient'], block['Action'], block['Status'])\n"
      "print('parts', len(reports[0].get_payload()))\n";
  write_file(work_ / "read_report.py", script);
  const auto parsed = run_command("/usr/bin/python3 " + shell_quote((work_ / "read_report.py").string()) + " " +
                                  shell_quote(notice_file));

  ASSERT_EQ(parsed.exit_code, 0) << parsed.output;
  EXPECT_NE(parsed.output.find("reports 1"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("report-type delivery-status"), std::string::npos) << parsed.output;
  EXPECT_NE(parsed.output.find("recipient rfc822; carol@example.com failed 5.7.5"), std::string::npos)
      << parsed.output;
  EXPECT_NE(parsed.output.find("recipient rfc822; alice@other.example failed 5.7.5"), std::string::npos)
      << parsed.output;
  EXPECT_EQ(parsed.output.find("recipient rfc822; alice@example.com"), std::string::npos) << parsed.output;
  // Two parts only: the readable text and the status; no returned content.
  EXPECT_NE(parsed.output.find("parts 2"), std::string::npos) << parsed.output;

  const std::string notice = read_file(notice_file);
  EXPECT_EQ(notice.find("CONFIDENTIAL-DOCUMENT-MARKER"), std::string::npos);
  EXPECT_EQ(notice.find("document.txt"), std::string::npos);
}

TEST_F(service_test, ForwardingWithoutOriginatorNotifiesEndReceiver) {
  auto router = start(test_config_text());
  auto request = job(config::FORWARDING, {"carol"});
  request.set_end_receiver("box-owner@device.example.com");
  const auto result = router->submit(request);

  EXPECT_TRUE(result.notification_sent());
  bool found = false;
  for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new"))
    found = found || read_file(entry.path()).find("To: box-owner@device.example.com") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST_F(service_test, ForwardingWithoutAnyoneToNotifyCountsIt) {
  auto router = start(test_config_text());
  const auto result = router->submit(job(config::FORWARDING, {"carol"}));

  EXPECT_EQ(result.destinations(0).reason(), messages::CERTIFICATE_EXPIRED);
  EXPECT_FALSE(result.notification_sent());
  EXPECT_EQ(router->stats().actors.at("notification").failures_by_reason.at("NO_NOTICE_TARGET"), 1u);
}

TEST_F(service_test, TransferBoxExpiredCertificateHasNoNotice) {
  auto router = start(test_config_text());
  auto request = job(config::TRANSFER_BOX, {"carol", "fax"});
  request.set_originator("sender@remote.example.net");
  const auto result = router->submit(request);

  EXPECT_EQ(result_for(result, "carol").outcome(), messages::FAILED);
  EXPECT_EQ(result_for(result, "carol").reason(), messages::CERTIFICATE_EXPIRED);
  EXPECT_FALSE(result.notification_sent());
  // Transferring may encrypt for an Internet-fax destination, but never signs it.
  EXPECT_EQ(result_for(result, "fax").outcome(), messages::SENT_ENCRYPTED);
  const auto check = decrypt(result_for(result, "fax").outbox_file(), "fax");
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(service_test, CertificateExpiringWhileQueuedIsCaught) {
  // The plan is made at 00:00, when erin's certificate is still valid; the
  // message is built after 12:00, when it has expired.
  std::atomic<int> calls{0};
  auto clock = [&calls] {
    return calls++ == 0 ? reference_time() : reference_time() + std::chrono::hours(13);
  };
  auto router = start(test_config_text(), clock);
  const auto result = router->submit(job(config::STORE, {"erin"}));

  EXPECT_EQ(result.destinations(0).outcome(), messages::FAILED);
  EXPECT_EQ(result.destinations(0).reason(), messages::CERTIFICATE_EXPIRED);
  EXPECT_FALSE(fs::exists(work_ / "outbox" / "new") && !fs::is_empty(work_ / "outbox" / "new"));
}

TEST_F(service_test, DestinationsAreSentInJobOrder) {
  auto router = start(test_config_text());
  std::vector<std::string> destinations;
  for (int i = 0; i < 6; ++i) {
    destinations.push_back("alice");
    destinations.push_back("dave");
    destinations.push_back("bob");
  }
  const auto result = router->submit(job(config::STORE, destinations));

  // Maildir names carry a per-process sequence number ("Q<n>"); it grows with the index.
  int last_sequence = -1;
  const std::regex sequence_pattern("Q([0-9]+)\\.");
  for (const auto& destination : result.destinations()) {
    std::smatch match;
    const std::string name = fs::path(destination.outbox_file()).filename().string();
    ASSERT_TRUE(std::regex_search(name, match, sequence_pattern)) << name;
    const int sequence = std::stoi(match[1]);
    EXPECT_GT(sequence, last_sequence) << "destination " << destination.index() << " was sent out of order";
    last_sequence = sequence;
  }
}

TEST_F(service_test, DoNotUseRejectsJobAskingForSignature) {
  std::string text = replace_once(test_config_text(), "signature_mode: SET_INDIVIDUALLY", "signature_mode: DO_NOT_USE");
  auto router = start(text);
  auto request = job(config::STANDARD_ADDRESS, {"alice", "dave"});
  request.set_request_sign(messages::SIGN_REQUEST_ON);
  const auto result = router->submit(request);

  for (const auto& destination : result.destinations()) {
    EXPECT_EQ(destination.outcome(), messages::REJECTED);
    EXPECT_EQ(destination.reason(), messages::SIGNATURE_NOT_AVAILABLE);
  }
  EXPECT_FALSE(fs::exists(work_ / "outbox" / "new") && !fs::is_empty(work_ / "outbox" / "new"));
}

TEST_F(service_test, EncryptAllFailsDestinationWithoutCertificate) {
  auto router = start(test_config_text("encrypt_all: true\n"));
  const auto result = router->submit(job(config::STORE, {"dave", "bob"}));

  EXPECT_EQ(result_for(result, "dave").outcome(), messages::FAILED);
  EXPECT_EQ(result_for(result, "dave").reason(), messages::NO_CERTIFICATE);
  EXPECT_EQ(result_for(result, "bob").outcome(), messages::SENT_ENCRYPTED_SIGNED);
}

TEST_F(service_test, CertificateForOtherAddressFails) {
  auto router = start(test_config_text(
      "address_book { id: \"alias\" address: \"alice@other.example\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/alice.cert.pem\" }\n"));
  auto request = job(config::FORWARDING, {"alias"});
  request.set_originator("sender@remote.example.net");
  const auto result = router->submit(request);

  EXPECT_EQ(result.destinations(0).outcome(), messages::FAILED);
  EXPECT_EQ(result.destinations(0).reason(), messages::CERTIFICATE_ADDRESS_MISMATCH);
  EXPECT_NE(result.destinations(0).detail().find("alice@example.com"), std::string::npos)
      << result.destinations(0).detail();
  EXPECT_TRUE(result.notification_sent());
}

TEST_F(service_test, ExpiredDeviceCertificateFailsSignedSends) {
  auto router = start(test_config_text(), [] { return utc("2036-01-01T00:00:00Z"); });
  const auto result = router->submit(job(config::SMTP_RECEPTION, {"dave"}));

  EXPECT_EQ(result.destinations(0).outcome(), messages::FAILED);
  EXPECT_EQ(result.destinations(0).reason(), messages::DEVICE_CERTIFICATE_UNUSABLE);
}

TEST_F(service_test, DeviceProblemNotifiesAdministratorOnce) {
  auto router = start(test_config_text(), [] { return utc("2036-01-01T00:00:00Z"); });
  const auto first = router->submit(job(config::SMTP_RECEPTION, {"dave", "bob"}));
  const auto second = router->submit(job(config::SMTP_RECEPTION, {"dave"}));

  EXPECT_TRUE(first.administrator_notified());
  EXPECT_FALSE(second.administrator_notified());

  std::vector<std::string> admin_notices;
  for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new")) {
    const std::string text = read_file(entry.path());
    if (text.find("To: admin@device.example.com") != std::string::npos)
      admin_notices.push_back(text);
    EXPECT_EQ(text.find("To: dave@example.com"), std::string::npos) << "a message that needed a signature was sent";
  }
  ASSERT_EQ(admin_notices.size(), 1u);
  EXPECT_NE(admin_notices[0].find("expired"), std::string::npos);
  EXPECT_EQ(admin_notices[0].find("CONFIDENTIAL-DOCUMENT-MARKER"), std::string::npos);
}

TEST_F(service_test, HealthCheckWarnsAdministratorOncePerDay) {
  std::atomic<int64_t> offset_hours{0};
  auto router = start(test_config_text(), [&offset_hours] {
    return reference_time() + std::chrono::hours(offset_hours.load());
  });

  // At 00:00 carol has expired and erin expires at 12:00 the same day.
  const auto first = router->check_certificates();
  EXPECT_EQ(first.unusable(), 1u);
  EXPECT_EQ(first.expiring(), 1u);
  EXPECT_TRUE(first.administrator_warned());

  offset_hours = 6;
  const auto later_same_day = router->check_certificates();
  EXPECT_FALSE(later_same_day.administrator_warned());

  offset_hours = 24;
  const auto next_day = router->check_certificates();
  EXPECT_EQ(next_day.unusable(), 2u);
  EXPECT_TRUE(next_day.administrator_warned());

  std::vector<std::string> warnings;
  for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new")) {
    const std::string text = read_file(entry.path());
    if (text.find("Subject: Certificate health warning") != std::string::npos)
      warnings.push_back(text);
  }
  ASSERT_EQ(warnings.size(), 2u);
  for (const auto& warning : warnings) {
    EXPECT_NE(warning.find("To: admin@device.example.com"), std::string::npos);
    EXPECT_NE(warning.find("address_book 'carol'"), std::string::npos);
  }
}

TEST_F(service_test, ScheduledHealthCheckRunsAtStart) {
  write_file(work_ / "router.textproto", test_config_text());
  api::service_options options;
  options.clock = [] { return reference_time(); };
  options.health_check_interval = std::chrono::hours(24);
  auto router = api::service::start(config::load_config(work_ / "router.textproto"), options);

  // The first scheduled check runs when the router starts; wait for its warning (at most 10 s).
  bool warned = false;
  for (int i = 0; i < 200 && !warned; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(work_ / "outbox" / "new"))
      continue;
    for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new"))
      warned = warned || read_file(entry.path()).find("Subject: Certificate health warning") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  // The day's warning has gone out, so a check by hand sends none.
  EXPECT_FALSE(router->check_certificates().administrator_warned());
}

TEST_F(service_test, HealthyCertificatesSendNoWarning) {
  std::string text = test_config_text();
  for (const std::string id : {"carol", "erin"}) {
    const auto start_of_entry = text.find("address_book { id: \"" + id + "\"");
    text.erase(start_of_entry, text.find('\n', start_of_entry) - start_of_entry + 1);
  }
  auto router = start(text);
  const auto result = router->check_certificates();

  EXPECT_EQ(result.unusable(), 0u);
  EXPECT_EQ(result.expiring(), 0u);
  EXPECT_FALSE(result.administrator_warned());
  EXPECT_FALSE(fs::exists(work_ / "outbox" / "new") && !fs::is_empty(work_ / "outbox" / "new"));
}

TEST_F(service_test, HealthCheckWarnsOfReceptionTlsCertificate) {
  // A STARTTLS certificate that expires 10 days after the router's clock.
  Botan::AutoSeeded_RNG rng;
  certs::pki_builder tls_pki(rng, "Router Test TLS", {utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")});
  const auto identity =
      tls_pki.issue_tls_server(tls_pki.root(), "localhost", {utc("2025-01-01T00:00:00Z"), utc("2026-06-11T00:00:00Z")});
  write_file(work_ / "pki" / "smtp.cert.pem", certs::to_pem(identity.certificate));
  write_file(work_ / "pki" / "smtp.key.pem", certs::to_pem(*identity.private_key));

  std::string text = test_config_text(R"(
reception {
  listen: "127.0.0.1:0"
  spool_directory: "spool"
  tls { certificate_file: "pki/smtp.cert.pem" private_key_file: "pki/smtp.key.pem" }
  routes { address: "box@mfp.example" function: PERSONAL_BOX destinations: "bob" }
}
)");
  for (const std::string id : {"carol", "erin"}) {
    const auto start_of_entry = text.find("address_book { id: \"" + id + "\"");
    text.erase(start_of_entry, text.find('\n', start_of_entry) - start_of_entry + 1);
  }
  auto router = start(text);
  const auto result = router->check_certificates();

  EXPECT_EQ(result.unusable(), 0u);
  EXPECT_EQ(result.expiring(), 1u);
  EXPECT_TRUE(result.administrator_warned());
  std::string warning;
  for (const auto& entry : fs::directory_iterator(work_ / "outbox" / "new")) {
    const std::string message = read_file(entry.path());
    if (message.find("Subject: Certificate health warning") != std::string::npos)
      warning = message;
  }
  EXPECT_NE(warning.find("warning: reception.tls: expires in 10 days"), std::string::npos) << warning;
  EXPECT_NE(warning.find("TLS server"), std::string::npos) << warning;
}

TEST_F(service_test, UnsignedSendsNeedNoDeviceCertificate) {
  auto router = start(test_config_text(), [] { return utc("2036-01-01T00:00:00Z"); });
  const auto result = router->submit(job(config::STANDARD_ADDRESS, {"dave"}));

  EXPECT_EQ(result.destinations(0).outcome(), messages::SENT_PLAIN);
  EXPECT_FALSE(result.administrator_notified());
}

TEST_F(service_test, InvalidJobsAreRejectedAtSubmit) {
  auto router = start(test_config_text());
  messages::job_request no_destination;
  no_destination.set_function(config::STORE);
  EXPECT_THROW(router->submit(no_destination), api::invalid_job);

  messages::job_request no_function = job(config::STORE, {"alice"});
  no_function.set_function(config::SOURCE_FUNCTION_UNSPECIFIED);
  EXPECT_THROW(router->submit(no_function), api::invalid_job);
}

TEST_F(service_test, ReceivedMessageWithDocumentIsInvalid) {
  auto router = start(test_config_text());
  const std::string received = "From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n";

  messages::job_request with_text = job(config::SMTP_RECEPTION, {"dave"});
  with_text.clear_attachments();
  with_text.set_received_message(received);
  EXPECT_THROW(router->submit(with_text), api::invalid_job);

  messages::job_request with_attachment = job(config::SMTP_RECEPTION, {"dave"});
  with_attachment.clear_body_text();
  with_attachment.set_received_message(received);
  EXPECT_THROW(router->submit(with_attachment), api::invalid_job);
}

TEST_F(service_test, ReceivedMessageIsRoutedUnchanged) {
  auto router = start(test_config_text());
  const std::string received = "From: a@example.org\r\nSubject: x\r\nContent-Type: text/plain;\r\n"
                               "  charset=utf-8\r\n\r\nRouted body.\r\n";
  messages::job_request routed;
  routed.set_function(config::FORWARDING);
  routed.set_originator("a@example.org");
  routed.add_destinations()->set_id("dave");
  routed.set_received_message(received);

  const auto result = router->submit(routed);

  ASSERT_EQ(result.destinations_size(), 1);
  // FORWARDING signs, and dave has no certificate to encrypt for.
  EXPECT_EQ(result.destinations(0).outcome(), messages::SENT_SIGNED);
  const std::string sent = read_file(result.destinations(0).outbox_file());
  EXPECT_NE(sent.find("Content-Type: text/plain;\r\n  charset=utf-8\r\n\r\nRouted body.\r\n"), std::string::npos)
      << sent;
  const auto check = verify_signed(result.destinations(0).outbox_file());
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(service_test, UnknownDestinationIsRejected) {
  auto router = start(test_config_text());
  const auto result = router->submit(job(config::STORE, {"nobody", "alice"}));

  EXPECT_EQ(result.destinations(0).outcome(), messages::REJECTED);
  EXPECT_EQ(result.destinations(0).reason(), messages::UNKNOWN_DESTINATION);
  EXPECT_EQ(result.destinations(1).outcome(), messages::SENT_ENCRYPTED_SIGNED);
}

TEST_F(service_test, AsyncSubmitsAllComplete) {
  auto router = start(test_config_text());
  std::atomic<int> done{0};
  std::atomic<int> sent{0};
  for (int i = 0; i < 10; ++i) {
    router->submit_async(job(config::STORE, {"alice", "bob"}), [&](messages::job_result result) {
      for (const auto& destination : result.destinations())
        sent += destination.outcome() == messages::SENT_ENCRYPTED_SIGNED ? 1 : 0;
      ++done;
    });
  }
  router->stop();

  EXPECT_EQ(done.load(), 10);
  EXPECT_EQ(sent.load(), 20);
}

TEST_F(service_test, SmtpRelayReceivesVerifiableMessages) {
  smtp_sink relay(work_.path());
  const std::string text = replace_once(
      test_config_text(), "delivery { outbox { directory: \"outbox\" } }",
      "delivery { smtp_relay { host: \"127.0.0.1\" port: " + std::to_string(relay.port()) + " timeout_seconds: 10 } }");
  auto router = start(text);
  auto request = job(config::SMTP_RECEPTION, {"dave", "alice"});
  const auto result = router->submit(request);

  ASSERT_EQ(result.destinations_size(), 2);
  for (const auto& destination : result.destinations()) {
    EXPECT_EQ(destination.outcome(), messages::SENT_SIGNED) << destination.detail();
    EXPECT_NE(destination.smtp_reply().find("250"), std::string::npos) << destination.smtp_reply();
  }
  const auto stored = relay.messages();
  ASSERT_EQ(stored.size(), 2u);
  for (const auto& file : stored) {
    const auto check = verify_signed(file.string());
    EXPECT_EQ(check.exit_code, 0) << file << "\n" << check.output;
  }
  EXPECT_NE(read_file(stored[0].string() + ".rcpt").find("dave@example.com"), std::string::npos);
  EXPECT_NE(read_file(stored[1].string() + ".rcpt").find("alice@example.com"), std::string::npos);
}

TEST_F(service_test, SmtpPermanentRejectionFailsWithReply) {
  smtp_sink relay(work_.path());
  const std::string text = replace_once(
      test_config_text(), "delivery { outbox { directory: \"outbox\" } }",
      "delivery { smtp_relay { host: \"127.0.0.1\" port: " + std::to_string(relay.port()) + " timeout_seconds: 10 } }");
  auto router = start(text);
  const auto result = router->submit(job(config::SMTP_RECEPTION, {"reject@example.com", "busy@example.com"}));

  EXPECT_EQ(result.destinations(0).outcome(), messages::FAILED);
  EXPECT_EQ(result.destinations(0).reason(), messages::DELIVERY_FAILED);
  EXPECT_NE(result.destinations(0).detail().find("550"), std::string::npos) << result.destinations(0).detail();
  EXPECT_EQ(result.destinations(1).outcome(), messages::FAILED);
  EXPECT_EQ(result.destinations(1).reason(), messages::DELIVERY_DEFERRED);
  EXPECT_NE(result.destinations(1).detail().find("451"), std::string::npos) << result.destinations(1).detail();
  EXPECT_TRUE(relay.messages().empty());
  EXPECT_EQ(router->stats().actors.at("delivery").failures_by_reason.at("DELIVERY_FAILED"), 1u);
  EXPECT_EQ(router->stats().actors.at("delivery").failures_by_reason.at("DELIVERY_DEFERRED"), 1u);
}

TEST_F(service_test, UnreachableRelayIsDeferredAfterRetries) {
  // Port 1 on loopback: nothing listens there, so every connection is refused.
  const std::string text = replace_once(test_config_text(), "delivery { outbox { directory: \"outbox\" } }",
                                        "delivery { smtp_relay { host: \"127.0.0.1\" port: 1 timeout_seconds: 5 } }");
  auto router = start(text);
  const auto result = router->submit(job(config::SMTP_RECEPTION, {"dave"}));

  EXPECT_EQ(result.destinations(0).outcome(), messages::FAILED);
  EXPECT_EQ(result.destinations(0).reason(), messages::DELIVERY_DEFERRED);
  EXPECT_NE(result.destinations(0).detail().find("cannot connect"), std::string::npos)
      << result.destinations(0).detail();
}

} // namespace
} // namespace router::testing
