// Error type thrown by runtime code on invalid input or failed I/O.
//
// Actors catch it at their handler boundary and turn it into a reason code,
// so it never ends an actor.
#pragma once

#include <stdexcept>
#include <string>

namespace router {

/// Failure whose message is fit to show a user: it names the value and what to do.
class router_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

} // namespace router
