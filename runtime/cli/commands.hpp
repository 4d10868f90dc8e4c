// Subcommands of the smime-router program. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace router::cli {

/// Exit codes of smime-router, documented in the README.
enum exit_code : int {
  exit_ok = 0,               // command done; for send: every destination sent
  exit_not_all_sent = 1,     // send/demo: at least one destination rejected or failed;
                             // verify: bad signature; decrypt: message cannot be decrypted
  exit_usage = 2,            // invalid command line
  exit_config_invalid = 3,   // config file invalid or unreadable
  exit_internal = 4,         // unexpected failure (delivery target unusable, ...)
};

using arguments = std::vector<std::string>;

int run_send(const arguments& args);
int run_check_config(const arguments& args);
int run_demo(const arguments& args);
int run_verify(const arguments& args);
int run_decrypt(const arguments& args);
int run_serve(const arguments& args);
int run_stats(const arguments& args);

/// Returns the value after `--name`, removing both from args; empty when absent.
std::string take_option(arguments& args, const std::string& name);

/// Returns every value of a repeatable `--name`, removing them from args.
std::vector<std::string> take_all(arguments& args, const std::string& name);

/// Returns true and removes `--name` when the flag is present.
bool take_flag(arguments& args, const std::string& name);

/// Parses a whole decimal number within [low, high] for an option; throws
/// std::invalid_argument naming the option otherwise.
long long parse_number(const std::string& text, const std::string& option, long long low, long long high);

} // namespace router::cli
