// TLS for SMTP connections through Botan 2: trust, server identity, and the
// channel that wraps a connection after STARTTLS.
//
// Known limits: revocation is not checked (no CRL or OCSP for relay
// certificates), sessions are not resumed, and client certificates are
// neither sent nor requested.
#include "runtime/smtp/tls_session.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/common/error.hpp"

#include <botan/certstor.h>
#include <botan/certstor_system.h>
#include <botan/pk_keys.h>
#include <botan/tls_client.h>
#include <botan/tls_exceptn.h>
#include <botan/tls_server.h>
#include <botan/x509path.h>

namespace router::smtp {

struct tls_client_trust::state {
  std::shared_ptr<Botan::Certificate_Store> store;
  std::string description;
  certificate_clock clock;
};

struct tls_server_identity::state {
  std::vector<Botan::X509_Certificate> chain;  // end-entity certificate first
  std::shared_ptr<Botan::Private_Key> key;
};

namespace {

/// TLS 1.2 with Botan's default suites; revocation is not required because
/// relays are checked without network access to CRLs or OCSP responders.
class tls12_policy : public Botan::TLS::Policy {
 public:
  bool allow_tls10() const override { return false; }
  bool allow_tls11() const override { return false; }
  bool allow_tls12() const override { return true; }
  bool allow_dtls10() const override { return false; }
  bool allow_dtls12() const override { return false; }
  bool require_cert_revocation_info() const override { return false; }
};

class client_credentials : public Botan::Credentials_Manager {
 public:
  explicit client_credentials(std::shared_ptr<Botan::Certificate_Store> store) : store_(std::move(store)) {}

  std::vector<Botan::Certificate_Store*> trusted_certificate_authorities(const std::string&,
                                                                         const std::string&) override {
    return {store_.get()};
  }

 private:
  std::shared_ptr<Botan::Certificate_Store> store_;
};

class server_credentials : public Botan::Credentials_Manager {
 public:
  explicit server_credentials(const tls_server_identity::state& identity) : identity_(identity) {}

  std::vector<Botan::X509_Certificate> cert_chain(const std::vector<std::string>& key_types, const std::string&,
                                                  const std::string&) override {
    const std::string algorithm = identity_.key->algo_name();
    if (std::find(key_types.begin(), key_types.end(), algorithm) == key_types.end())
      return {};
    return identity_.chain;
  }

  Botan::Private_Key* private_key_for(const Botan::X509_Certificate&, const std::string&,
                                      const std::string&) override {
    return identity_.key.get();
  }

 private:
  const tls_server_identity::state& identity_;
};

} // namespace

// ---- trust and identity ----

tls_client_trust::tls_client_trust(std::shared_ptr<state> loaded) : state_(std::move(loaded)) {}

tls_client_trust tls_client_trust::from_files(const std::vector<std::string>& files) {
  if (files.empty())
    throw router_error("no trust anchor file given; name at least one CA certificate file or use the system store");

  auto store = std::make_shared<Botan::Certificate_Store_In_Memory>();
  std::string names;
  for (const auto& file : files) {
    // load_certificates() names the file and the problem in its message.
    for (const auto& certificate : certs::load_certificates(file))
      store->add_certificate(certificate);
    names += (names.empty() ? "" : ", ") + file;
  }
  return tls_client_trust(std::make_shared<state>(state{store, "trust anchors in " + names, {}}));
}

tls_client_trust tls_client_trust::system_store() {
  try {
    auto store = std::make_shared<Botan::System_Certificate_Store>();
    return tls_client_trust(std::make_shared<state>(state{store, "the system trust store", {}}));
  } catch (const std::exception& e) {
    throw router_error(std::string("cannot open the system trust store: ") + e.what() +
                       "; install ca-certificates or name trust anchor files");
  }
}

void tls_client_trust::set_clock(certificate_clock clock) {
  // Copies share the loaded store; the clock belongs to this copy alone.
  auto changed = std::make_shared<state>(*state_);
  changed->clock = std::move(clock);
  state_ = std::move(changed);
}

std::string tls_client_trust::describe() const {
  return state_->description;
}

tls_server_identity::tls_server_identity(std::shared_ptr<state> loaded) : state_(std::move(loaded)) {}

tls_server_identity tls_server_identity::load(const std::string& certificate_file,
                                              const std::vector<std::string>& chain_files,
                                              const std::string& private_key_file) {
  auto loaded = std::make_shared<state>();
  loaded->chain.push_back(certs::load_certificate(certificate_file));
  for (const auto& file : chain_files) {
    for (auto& certificate : certs::load_certificates(file))
      loaded->chain.push_back(std::move(certificate));
  }
  loaded->key = certs::load_private_key(private_key_file);
  if (!certs::key_matches_certificate(*loaded->key, loaded->chain.front()))
    throw router_error("the key in " + private_key_file + " does not belong to the certificate in " +
                       certificate_file + "; configure the matching pair");
  return tls_server_identity(std::move(loaded));
}

// ---- the TLS channel ----

tls_session::tls_session(connection& owner, const std::string& server_name, const tls_client_trust& trust,
                         milliseconds timeout)
    : owner_(owner), send_timeout_(timeout), trust_(trust), peer_name_(server_name + " (" + owner.peer() + ")") {
  credentials_ = std::make_unique<client_credentials>(trust.get().store);
  policy_ = std::make_unique<tls12_policy>();
  // The constructor sends the ClientHello through tls_emit_data().
  try {
    channel_ = std::make_unique<Botan::TLS::Client>(*this, sessions_, *credentials_, *policy_, rng_,
                                                    Botan::TLS::Server_Information(server_name, "smtp", 0),
                                                    Botan::TLS::Protocol_Version::TLS_V12);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  rethrow_send_error();
}

tls_session::tls_session(connection& owner, const tls_server_identity& identity)
    : owner_(owner), identity_(identity), peer_name_(owner.peer()) {
  credentials_ = std::make_unique<server_credentials>(identity_->get());
  policy_ = std::make_unique<tls12_policy>();
  channel_ = std::make_unique<Botan::TLS::Server>(*this, sessions_, *credentials_, *policy_, rng_);
}

tls_session::~tls_session() = default;

bool tls_session::active() const {
  return channel_ && channel_->is_active();
}

bool tls_session::closed() const {
  return !channel_ || channel_->is_closed();
}

void tls_session::fail(const std::string& cause, bool timed_out) const {
  if (active())
    throw connection_error("TLS error on the connection with " + peer_name_ + ": " + cause, timed_out);
  if (certificate_problem_)
    throw tls_certificate_error("TLS handshake with " + peer_name_ + " failed: the server certificate was rejected (" +
                                *certificate_problem_ + ") when checked against " + trust_->describe() +
                                "; check the trust anchors and the expected server name");
  throw connection_error("TLS handshake with " + peer_name_ + " failed: " + cause, timed_out);
}

void tls_session::rethrow_send_error() {
  if (!send_error_)
    return;
  const connection_error error = *send_error_;
  send_error_.reset();
  fail(error.what(), error.timed_out());
}

void tls_session::receive(const char* data, size_t size, milliseconds timeout) {
  send_timeout_ = timeout;
  const bool was_active = active();
  try {
    channel_->received_data(reinterpret_cast<const uint8_t*>(data), size);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  rethrow_send_error();

  if (!was_active && !active() && closed())
    fail(fatal_alert_ ? "the peer sent the alert " + *fatal_alert_ : "the peer closed the TLS channel");
}

void tls_session::send(std::string_view data, milliseconds timeout) {
  if (!active())
    fail("the TLS channel is not open");
  send_timeout_ = timeout;
  try {
    channel_->send(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  } catch (const std::exception& e) {
    fail(e.what());
  }
  rethrow_send_error();
}

void tls_session::close_quietly() noexcept {
  quiet_ = true;
  try {
    if (active())
      channel_->close();
  } catch (...) {
    // The connection is being torn down; a lost close_notify changes nothing for us.
  }
}

void tls_session::tls_emit_data(const uint8_t data[], size_t size) {
  // Throwing through Botan would make it try to send an alert on the same
  // broken socket, so the error is held and rethrown once Botan returns.
  if (send_error_)
    return;
  try {
    owner_.send_raw(std::string_view(reinterpret_cast<const char*>(data), size),
                    quiet_ ? milliseconds(0) : send_timeout_);
  } catch (const connection_error& e) {
    if (!quiet_)
      send_error_ = e;
  }
}

void tls_session::tls_record_received(uint64_t, const uint8_t data[], size_t size) {
  owner_.buffer_.append(reinterpret_cast<const char*>(data), size);
}

void tls_session::tls_alert(Botan::TLS::Alert alert) {
  if (alert.is_fatal())
    fatal_alert_ = alert.type_string();
}

bool tls_session::tls_session_established(const Botan::TLS::Session& session) {
  description_ = session.version().to_string() + " " + session.ciphersuite().to_string();
  return false;  // nothing is cached: sessions are not resumed
}

void tls_session::tls_verify_cert_chain(
    const std::vector<Botan::X509_Certificate>& chain,
    const std::vector<std::shared_ptr<const Botan::OCSP::Response>>& ocsp_responses,
    const std::vector<Botan::Certificate_Store*>& trusted_roots, Botan::Usage_Type usage,
    const std::string& hostname, const Botan::TLS::Policy& policy) {
  if (!trust_) {
    certificate_problem_ = "client certificates are not accepted";
    throw Botan::TLS::TLS_Exception(Botan::TLS::Alert::UNSUPPORTED_CERTIFICATE, *certificate_problem_);
  }
  if (chain.empty()) {
    certificate_problem_ = "the server sent no certificate";
    throw Botan::TLS::TLS_Exception(Botan::TLS::Alert::NO_CERTIFICATE, *certificate_problem_);
  }

  const auto& clock = trust_->get().clock;
  const auto now = clock ? clock() : std::chrono::system_clock::now();
  const Botan::Path_Validation_Restrictions restrictions(false, policy.minimum_signature_strength());
  const Botan::Path_Validation_Result result = Botan::x509_path_validate(
      chain, restrictions, trusted_roots, hostname, usage, now, milliseconds(0), ocsp_responses);
  if (!result.successful_validation()) {
    certificate_problem_ = result.result_string();
    if (!hostname.empty())
      *certificate_problem_ += "; expected name '" + hostname + "'";
    throw Botan::TLS::TLS_Exception(Botan::TLS::Alert::BAD_CERTIFICATE, *certificate_problem_);
  }
}

// ---- connection members that use TLS ----

void connection::start_tls_client(const std::string& server_name, const tls_client_trust& trust,
                                  milliseconds timeout) {
  if (server_name.empty())
    throw std::invalid_argument("start_tls_client needs the server name the certificate must carry");
  if (tls_)
    throw connection_error("TLS is already active on the connection with " + peer_, false);

  // Plaintext that arrived before the handshake could have been injected by
  // an attacker, so it must not be read as if it came through TLS.
  buffer_.clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  tls_ = std::make_unique<tls_session>(*this, server_name, trust, timeout);
  complete_handshake(remaining_until(deadline), server_name + " (" + peer_ + ")");
}

void connection::start_tls_server(const tls_server_identity& identity, milliseconds timeout) {
  if (tls_)
    throw connection_error("TLS is already active on the connection with " + peer_, false);

  buffer_.clear();
  tls_ = std::make_unique<tls_session>(*this, identity);
  complete_handshake(timeout, peer_);
}

void connection::complete_handshake(milliseconds timeout, const std::string& peer_name) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!tls_->active()) {
    char chunk[16 * 1024];
    size_t count = 0;
    try {
      count = receive_raw(chunk, sizeof chunk, remaining_until(deadline));
    } catch (const connection_error& e) {
      throw connection_error("TLS handshake with " + peer_name + " failed: " + e.what(), e.timed_out());
    }
    if (count == 0)
      throw connection_error("TLS handshake with " + peer_name + " failed: the peer closed the connection", false);
    tls_->receive(chunk, count, remaining_until(deadline));
  }
}

bool connection::tls_active() const {
  return tls_ && tls_->active();
}

std::string connection::tls_description() const {
  return tls_active() ? tls_->description() : std::string();
}

} // namespace router::smtp
