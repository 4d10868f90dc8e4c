// smime-router: command-line front end of the secure send router.
#include "runtime/cli/commands.hpp"

#include "runtime/log/log.hpp"

#include <iostream>

namespace {

constexpr const char* usage_text =
    "usage: smime-router COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  demo --out DIR              make a throwaway PKI and config in DIR, send a job from every\n"
    "                              source function into DIR/outbox, print results and checks\n"
    "  send --config FILE ...      send one job and print one JSON line per destination\n"
    "                              (run 'smime-router send --help' for its options)\n"
    "  check-config --config FILE  validate a config file and every file it names\n"
    "  verify FILE [--ca FILE ...] [--at UNIX_TIME]\n"
    "                              check the S/MIME signature of a stored message\n"
    "  decrypt FILE --key KEY.pem --cert CERT.pem [--out FILE]\n"
    "                              decrypt a stored S/MIME message and write the inner entity\n"
    "  serve --config FILE [--jobs DIR]\n"
    "                              run the router until SIGINT/SIGTERM, serving GET /metrics when\n"
    "                              configured and sending job files dropped into DIR\n"
    "  stats (--metrics URL | --config FILE)\n"
    "                              print the per-actor figures of a running router\n"
    "\n"
    "common options:\n"
    "  --log-level LEVEL           trace, debug, info, warn (default; info for serve), error or off;\n"
    "                              logs go to stderr\n"
    "\n"
    "exit codes: 0 done, 1 some destination not sent (verify: bad signature; decrypt: cannot decrypt;\n"
    "            stats: router not reachable),\n"
    "            2 usage error, 3 invalid config, 4 internal error\n";

} // namespace

int main(int argc, char** argv) {
  using namespace router::cli;
  arguments args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage_text;
    return args.empty() ? exit_usage : exit_ok;
  }

  const std::string command = args[0];
  args.erase(args.begin());
  std::string level = take_option(args, "--log-level");
  // A daemon logs its start, stop and every job unless --log-level sets another level.
  if (level.empty() && command == "serve")
    level = "info";
  if (!level.empty() && !router::log::set_level(level)) {
    std::cerr << "smime-router: invalid --log-level '" << level << "'; use trace, debug, info, warn, error or off\n";
    return exit_usage;
  }

  try {
    if (command == "send")
      return run_send(args);
    if (command == "check-config")
      return run_check_config(args);
    if (command == "demo")
      return run_demo(args);
    if (command == "verify")
      return run_verify(args);
    if (command == "decrypt")
      return run_decrypt(args);
    if (command == "serve")
      return run_serve(args);
    if (command == "stats")
      return run_stats(args);
  } catch (const std::exception& e) {
    std::cerr << "smime-router " << command << ": " << e.what() << "\n";
    return exit_internal;
  }

  std::cerr << "smime-router: unknown command '" << command << "'\n\n" << usage_text;
  return exit_usage;
}
