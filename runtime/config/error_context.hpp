// Error messages of the config loader, of the form "FILE: ENTRY: field 'F': PROBLEM".
#pragma once

#include "runtime/config/config.hpp"

#include <filesystem>
#include <string>

namespace router::config::detail {

/// Builds error messages of the form "FILE: ENTRY: field 'F': PROBLEM".
class error_context {
 public:
  explicit error_context(std::filesystem::path file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& entry, const std::string& field, const std::string& problem) const {
    std::string message = file_.string() + ": ";
    if (!entry.empty())
      message += entry + ": ";
    if (!field.empty())
      message += "field '" + field + "': ";
    throw config_error(message + problem);
  }

 private:
  std::filesystem::path file_;
};

/// Checks the SMTP reception settings and loads its TLS identity; does nothing
/// when reception.listen is empty.
void validate_reception(const error_context& errors, loaded_config& loaded);

} // namespace router::config::detail
