// TLS on smtp::connection over loopback: our server side against Python's
// ssl module, our client against our server, and handshakes that must fail.
#include "runtime/smtp/connection.hpp"

#include "runtime/common/error.hpp"
#include "tests/delivery/relay_support.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace router::testing {
namespace {

using smtp::connection;
using smtp::connection_error;
using smtp::milliseconds;

const milliseconds handshake_timeout{20000};

class tls_connection_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificates_dir_ = new scratch_dir();
    certificates_ = new relay_certificates(make_relay_certificates(certificates_dir_->path()));
  }

  static void TearDownTestSuite() {
    delete certificates_;
    delete certificates_dir_;
  }

  static smtp::tls_server_identity identity() {
    return smtp::tls_server_identity::load(certificates_->server_certificate.string(), {},
                                           certificates_->server_key.string());
  }

  static smtp::tls_client_trust trust() { return smtp::tls_client_trust::from_files({certificates_->ca.string()}); }

  /// Returns a connected pair: our client side and the accepted server side.
  static std::pair<std::unique_ptr<connection>, std::unique_ptr<connection>> connected_pair(smtp::listener& server) {
    auto client = connection::connect("127.0.0.1", server.port(), milliseconds(5000));
    auto accepted = server.accept(milliseconds(5000));
    if (!accepted)
      throw std::runtime_error("no connection accepted on 127.0.0.1");
    return {std::move(client), std::move(accepted)};
  }

  static scratch_dir* certificates_dir_;
  static relay_certificates* certificates_;
};

scratch_dir* tls_connection_test::certificates_dir_ = nullptr;
relay_certificates* tls_connection_test::certificates_ = nullptr;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(tls_connection_test, ServerTalksToPythonSslClient) {
  smtp::listener server("127.0.0.1:0");
  const std::string script =
      "import socket, ssl, sys\n"
      "context = ssl.create_default_context(cafile=sys.argv[2])\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=20) as raw:\n"
      "    with context.wrap_socket(raw, server_hostname='localhost') as tls:\n"
      "        tls.sendall(b'hello over tls\\r\\n')\n"
      "        print(tls.version(), tls.recv(100).decode().strip())\n";
  const std::string command = "/usr/bin/python3 -c " + shell_quote(script) + " " + std::to_string(server.port()) +
                              " " + shell_quote(certificates_->ca.string());
  auto python = std::async(std::launch::async, [command] { return run_command(command); });

  auto accepted = server.accept(milliseconds(20000));
  ASSERT_NE(accepted, nullptr);
  accepted->start_tls_server(identity(), handshake_timeout);
  const auto line = accepted->read_line(1000, milliseconds(20000));
  accepted->write_all("echo " + line.text + "\r\n", milliseconds(20000));
  const auto result = python.get();

  EXPECT_TRUE(accepted->tls_active());
  EXPECT_TRUE(contains(accepted->tls_description(), "TLS v1.2")) << accepted->tls_description();
  EXPECT_EQ(line.text, "hello over tls");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(contains(result.output, "TLSv1.2 echo hello over tls")) << result.output;
}

TEST_F(tls_connection_test, ClientAndServerExchangeLines) {
  smtp::listener server("127.0.0.1:0");
  auto [client, accepted] = connected_pair(server);
  auto server_side = std::async(std::launch::async, [&accepted = accepted] {
    accepted->start_tls_server(identity(), handshake_timeout);
    const auto line = accepted->read_line(1000, handshake_timeout);
    accepted->write_all("250 got " + line.text + "\r\n", handshake_timeout);
  });

  client->start_tls_client("localhost", trust(), handshake_timeout);
  client->write_all("NOOP\r\n", handshake_timeout);
  const auto reply = client->read_line(1000, handshake_timeout);
  server_side.get();

  EXPECT_EQ(reply.text, "250 got NOOP");
  EXPECT_TRUE(client->tls_active());
  EXPECT_EQ(client->tls_description(), accepted->tls_description());
}

TEST_F(tls_connection_test, GarbageInsteadOfClientHelloFails) {
  smtp::listener server("127.0.0.1:0");
  auto [client, accepted] = connected_pair(server);
  client->write_all("EHLO this is not a TLS record\r\n", milliseconds(5000));

  try {
    accepted->start_tls_server(identity(), handshake_timeout);
    FAIL() << "the handshake accepted plain text";
  } catch (const connection_error& e) {
    EXPECT_TRUE(contains(e.what(), "TLS handshake with 127.0.0.1:")) << e.what();
    EXPECT_FALSE(e.timed_out());
  }
  EXPECT_FALSE(accepted->tls_active());
  EXPECT_THROW(accepted->write_all("220 ready\r\n", milliseconds(1000)), connection_error);
}

TEST_F(tls_connection_test, PeerClosingDuringHandshakeFails) {
  smtp::listener server("127.0.0.1:0");
  auto [client, accepted] = connected_pair(server);
  client.reset();

  try {
    accepted->start_tls_server(identity(), handshake_timeout);
    FAIL() << "the handshake succeeded without a peer";
  } catch (const connection_error& e) {
    EXPECT_TRUE(contains(e.what(), "closed the connection")) << e.what();
  }
}

TEST_F(tls_connection_test, SilentPeerTimesOut) {
  smtp::listener server("127.0.0.1:0");
  auto [client, accepted] = connected_pair(server);

  try {
    accepted->start_tls_server(identity(), milliseconds(200));
    FAIL() << "the handshake succeeded without a ClientHello";
  } catch (const connection_error& e) {
    EXPECT_TRUE(e.timed_out()) << e.what();
  }
}

TEST_F(tls_connection_test, ClientRejectsUntrustedServer) {
  smtp::listener server("127.0.0.1:0");
  auto [client, accepted] = connected_pair(server);
  auto server_side = std::async(std::launch::async, [&accepted = accepted] {
    try {
      accepted->start_tls_server(identity(), handshake_timeout);
    } catch (const connection_error&) {
      // Expected: the client aborts the handshake with an alert.
    }
  });

  try {
    client->start_tls_client("localhost",
                             smtp::tls_client_trust::from_files({certificates_->other_ca.string()}),
                             handshake_timeout);
    FAIL() << "the client trusted a server its anchors did not issue";
  } catch (const smtp::tls_certificate_error& e) {
    EXPECT_TRUE(contains(e.what(), "localhost")) << e.what();
    EXPECT_TRUE(contains(e.what(), "other-ca.pem")) << e.what();
  }
  server_side.get();
  EXPECT_FALSE(client->tls_active());
}

TEST_F(tls_connection_test, MissingTrustFileIsNamed) {
  const std::string missing = (certificates_dir_->path() / "absent-ca.pem").string();

  try {
    smtp::tls_client_trust::from_files({missing});
    FAIL() << "a missing trust anchor file loaded";
  } catch (const router_error& e) {
    EXPECT_TRUE(contains(e.what(), missing)) << e.what();
  }
}

TEST_F(tls_connection_test, ServerKeyOfAnotherCertificateIsRejected) {
  const std::string other_key = (certificates_dir_->path() / "ca.key").string();

  try {
    smtp::tls_server_identity::load(certificates_->server_certificate.string(), {}, other_key);
    FAIL() << "a mismatched key loaded";
  } catch (const router_error& e) {
    EXPECT_TRUE(contains(e.what(), other_key)) << e.what();
    EXPECT_TRUE(contains(e.what(), "does not belong")) << e.what();
  }
}

TEST_F(tls_connection_test, MissingServerCertificateIsNamed) {
  const std::string missing = (certificates_dir_->path() / "absent.pem").string();

  try {
    smtp::tls_server_identity::load(missing, {}, certificates_->server_key.string());
    FAIL() << "a missing certificate file loaded";
  } catch (const router_error& e) {
    EXPECT_TRUE(contains(e.what(), missing)) << e.what();
  }
}

TEST(tls_trust_test, SystemStoreOpens) {
  const auto trust = smtp::tls_client_trust::system_store();

  EXPECT_EQ(trust.describe(), "the system trust store");
}

} // namespace
} // namespace router::testing
