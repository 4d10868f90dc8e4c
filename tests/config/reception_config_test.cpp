// The reception settings: a valid block loads, and every bad value stops
// loading with a message that names the file, the entry, the field and the value.
#include "runtime/config/config.hpp"

#include "tests/config/config_fixture.hpp"

#include <gtest/gtest.h>

namespace router::testing {
namespace {

const std::string valid_route =
    R"(routes { address: "Box@Device.Example.com" function: PERSONAL_BOX destinations: "alice" })";

class reception_config_test : public config_fixture {
 protected:
  static const std::filesystem::path& dir() { return pki_dir_->path(); }

  /// Returns a config whose reception block holds `fields` after listen.
  static std::string with_reception(const std::string& fields) {
    return test_config_text("reception {\n  listen: \"127.0.0.1:0\"\n" + fields + "\n}\n");
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(reception_config_test, ValidBlockLoads) {
  const auto loaded = load(with_reception("spool_directory: \"spool\"\n" + valid_route +
                                          "\nroutes { address: \"fwd@device.example.com\" function: FORWARDING "
                                          "destinations: \"bob\" destinations: \"someone@elsewhere.example\" }"));

  const auto& reception = loaded.settings.reception();
  EXPECT_EQ(reception.spool_directory(), (dir() / "spool").string());
  EXPECT_EQ(reception.routes_size(), 2);
  EXPECT_FALSE(loaded.reception_tls_certificate.has_value());
}

TEST_F(reception_config_test, EmptyListenSkipsValidation) {
  // Reception is off, so an incomplete block is not an error.
  EXPECT_NO_THROW(load(test_config_text("reception { routes { address: \"not an address\" } }\n")));
}

TEST_F(reception_config_test, DefaultsFillUnsetFields) {
  const auto loaded = load(with_reception("spool_directory: \"spool\"\n" + valid_route));
  const config::smtp_reception filled = config::reception_with_defaults(loaded.settings.reception());

  EXPECT_EQ(filled.host_name(), "localhost");
  EXPECT_EQ(filled.max_message_size(), 10u * 1024 * 1024);
  EXPECT_EQ(filled.max_recipients(), 100u);
  EXPECT_EQ(filled.max_sessions(), 16u);
  EXPECT_EQ(filled.command_timeout_seconds(), 300u);
  EXPECT_EQ(filled.data_timeout_seconds(), 180u);
}

TEST_F(reception_config_test, DefaultsKeepSetFields) {
  config::smtp_reception settings;
  settings.set_host_name("mfp.example.com");
  settings.set_max_message_size(1024);
  settings.set_max_recipients(5);
  settings.set_max_sessions(2);
  settings.set_command_timeout_seconds(10);
  settings.set_data_timeout_seconds(20);
  const config::smtp_reception filled = config::reception_with_defaults(settings);

  EXPECT_EQ(filled.host_name(), "mfp.example.com");
  EXPECT_EQ(filled.max_message_size(), 1024u);
  EXPECT_EQ(filled.max_recipients(), 5u);
  EXPECT_EQ(filled.max_sessions(), 2u);
  EXPECT_EQ(filled.command_timeout_seconds(), 10u);
  EXPECT_EQ(filled.data_timeout_seconds(), 20u);
}

TEST_F(reception_config_test, Ipv6ListenLoads) {
  const std::string text = replace_once(with_reception("spool_directory: \"spool\"\n" + valid_route),
                                        "127.0.0.1:0", "[::1]:2525");
  EXPECT_NO_THROW(load(text));
}

TEST_F(reception_config_test, BadListenIsRejected) {
  for (const std::string listen : {"localhost:2525", "127.0.0.1", "127.0.0.1:99999", "::1:2525", "[::1]2525",
                                   "256.1.1.1:25", "[127.0.0.1]:25", ":25"}) {
    SCOPED_TRACE(listen);
    const std::string message = load_error(replace_once(
        with_reception("spool_directory: \"spool\"\n" + valid_route), "127.0.0.1:0", listen));
    EXPECT_TRUE(contains(message, "router.textproto: reception: field 'listen'")) << message;
    EXPECT_TRUE(contains(message, listen)) << message;
  }
}

TEST_F(reception_config_test, BadHostNameIsRejected) {
  const std::string message =
      load_error(with_reception("host_name: \"mfp example\" spool_directory: \"spool\"\n" + valid_route));

  EXPECT_TRUE(contains(message, "field 'host_name'")) << message;
  EXPECT_TRUE(contains(message, "'mfp example'")) << message;
}

TEST_F(reception_config_test, MissingSpoolDirectoryIsRejected) {
  const std::string message = load_error(with_reception(valid_route));

  EXPECT_TRUE(contains(message, "reception: field 'spool_directory': missing")) << message;
}

TEST_F(reception_config_test, MissingRoutesAreRejected) {
  const std::string message = load_error(with_reception("spool_directory: \"spool\""));

  EXPECT_TRUE(contains(message, "reception: field 'routes': missing")) << message;
}

TEST_F(reception_config_test, MissingRouteAddressIsRejected) {
  const std::string message = load_error(
      with_reception("spool_directory: \"spool\" routes { function: FORWARDING destinations: \"alice\" }"));

  EXPECT_TRUE(contains(message, "reception.routes[0]: field 'address': missing")) << message;
}

TEST_F(reception_config_test, InvalidRouteAddressIsRejected) {
  for (const std::string address : {"box", "box@nodot", "two@@example.com", "sp ace@example.com"}) {
    SCOPED_TRACE(address);
    const std::string message = load_error(with_reception(
        "spool_directory: \"spool\" routes { address: \"" + address +
        "\" function: FORWARDING destinations: \"alice\" }"));

    EXPECT_TRUE(contains(message, "reception.routes[0] (address '" + address + "'): field 'address'")) << message;
    EXPECT_TRUE(contains(message, "not a valid e-mail address")) << message;
  }
}

TEST_F(reception_config_test, DuplicateRouteIgnoringCaseIsRejected) {
  const std::string message = load_error(with_reception(
      "spool_directory: \"spool\"\n" + valid_route +
      "\nroutes { address: \"box@device.example.COM\" function: FORWARDING destinations: \"bob\" }"));

  EXPECT_TRUE(contains(message, "reception.routes[1] (address 'box@device.example.COM'): field 'address'"))
      << message;
  EXPECT_TRUE(contains(message, "duplicate")) << message;
}

TEST_F(reception_config_test, NonRoutingFunctionIsRejected) {
  for (const std::string function : {"", "function: STANDARD_ADDRESS", "function: TRANSFER_BOX", "function: 99"}) {
    SCOPED_TRACE(function);
    const std::string message = load_error(with_reception(
        "spool_directory: \"spool\" routes { address: \"box@example.com\" " + function + " destinations: \"alice\" }"));

    EXPECT_TRUE(contains(message, "field 'function'")) << message;
    EXPECT_TRUE(contains(message, "PERSONAL_BOX, FORWARDING or SMTP_RECEPTION")) << message;
  }
}

TEST_F(reception_config_test, UnknownFunctionNumberIsNamed) {
  const std::string message = load_error(with_reception(
      "spool_directory: \"spool\" routes { address: \"box@example.com\" function: 99 destinations: \"alice\" }"));

  EXPECT_TRUE(contains(message, "99 is not a routing function")) << message;
}

TEST_F(reception_config_test, RouteWithoutDestinationsIsRejected) {
  const std::string message = load_error(
      with_reception("spool_directory: \"spool\" routes { address: \"box@example.com\" function: FORWARDING }"));

  EXPECT_TRUE(contains(message, "reception.routes[0] (address 'box@example.com'): field 'destinations': missing"))
      << message;
}

TEST_F(reception_config_test, BadDestinationIsRejected) {
  struct bad_case {
    std::string destination;
    std::string expected;
  };
  for (const bad_case& bad : {bad_case{"", "empty"}, bad_case{"nobody", "'nobody' is neither an address-book id"},
                              bad_case{"x@nodot", "'x@nodot' is not a valid e-mail address"}}) {
    SCOPED_TRACE(bad.destination);
    const std::string message = load_error(
        with_reception("spool_directory: \"spool\" routes { address: \"box@example.com\" function: FORWARDING "
                       "destinations: \"alice\" destinations: \"" + bad.destination + "\" }"));

    EXPECT_TRUE(contains(message, "field 'destinations[1]'")) << message;
    EXPECT_TRUE(contains(message, bad.expected)) << message;
  }
}

TEST_F(reception_config_test, TlsIdentityLoads) {
  const auto loaded = load(with_reception(
      "spool_directory: \"spool\"\n" + valid_route +
      "\ntls { certificate_file: \"pki/device.cert.pem\" private_key_file: \"pki/device.key.pem\" "
      "chain_files: \"pki/intermediate.pem\" }"));

  ASSERT_TRUE(loaded.reception_tls_certificate.has_value());
  EXPECT_NE(loaded.reception_tls_key, nullptr);
  EXPECT_EQ(loaded.reception_tls_chain.size(), 1u);
  EXPECT_EQ(loaded.settings.reception().tls().certificate_file(), (dir() / "pki/device.cert.pem").string());
}

TEST_F(reception_config_test, BadTlsIdentityIsRejected) {
  write_file(dir() / "garbage.pem", "not a certificate\n");
  const std::string traditional_key = (dir() / "traditional.key.pem").string();
  const auto generated = run_command("openssl genrsa -traditional -out " + shell_quote(traditional_key) + " 2048");
  ASSERT_EQ(generated.exit_code, 0) << generated.output;

  struct bad_case {
    std::string tls;
    std::string field;
    std::string expected;  // part of the message, besides the field
  };
  const std::vector<bad_case> cases = {
      {"private_key_file: \"pki/device.key.pem\"", "tls.certificate_file", "missing"},
      {"certificate_file: \"pki/device.cert.pem\"", "tls.private_key_file", "missing"},
      {"certificate_file: \"pki/absent.pem\" private_key_file: \"pki/device.key.pem\"", "tls.certificate_file",
       "absent.pem"},
      {"certificate_file: \"garbage.pem\" private_key_file: \"pki/device.key.pem\"", "tls.certificate_file",
       "garbage.pem"},
      {"certificate_file: \"pki/device.cert.pem\" private_key_file: \"pki/absent.key.pem\"", "tls.private_key_file",
       "absent.key.pem"},
      {"certificate_file: \"pki/device.cert.pem\" private_key_file: \"traditional.key.pem\"", "tls.private_key_file",
       "traditional.key.pem"},
      {"certificate_file: \"pki/device.cert.pem\" private_key_file: \"pki/alice.key.pem\"", "tls.private_key_file",
       "does not belong to the certificate"},
      {"certificate_file: \"pki/device.cert.pem\" private_key_file: \"pki/device.key.pem\" chain_files: "
       "\"garbage.pem\"",
       "tls.chain_files[0]", "garbage.pem"},
  };
  for (const bad_case& bad : cases) {
    SCOPED_TRACE(bad.tls);
    const std::string message =
        load_error(with_reception("spool_directory: \"spool\"\n" + valid_route + "\ntls { " + bad.tls + " }"));

    EXPECT_TRUE(contains(message, "reception: field '" + bad.field + "'")) << message;
    EXPECT_TRUE(contains(message, bad.expected)) << message;
  }
}

} // namespace
} // namespace router::testing
