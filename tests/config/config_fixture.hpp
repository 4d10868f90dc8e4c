// Base of the config loader tests: one test PKI per suite, and config texts
// loaded as if they were a file in that folder.
#pragma once

#include "runtime/config/config.hpp"

#include "tests/common/test_pki.hpp"

#include <gtest/gtest.h>

#include <string>

namespace router::testing {

class config_fixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new scratch_dir();
    write_test_pki(pki_dir_->path());
  }

  static void TearDownTestSuite() {
    delete pki_dir_;
    pki_dir_ = nullptr;
  }

  static config::loaded_config load(const std::string& text) {
    return config::load_config_text(text, pki_dir_->path() / "router.textproto");
  }

  /// Returns the error message of loading text; fails the test when it loads.
  static std::string load_error(const std::string& text) {
    try {
      load(text);
    } catch (const config::config_error& e) {
      return e.what();
    }
    ADD_FAILURE() << "config loaded, but an error was expected";
    return {};
  }

  static inline scratch_dir* pki_dir_ = nullptr;
};

} // namespace router::testing
