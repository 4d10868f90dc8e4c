// Lets CAF carry the generated protobuf types in actor messages.
//
// Each type is inspected as its protobuf wire encoding, so the same messages
// can later cross CAF's middleman to crypto workers on other nodes.
#pragma once

#include "config.pb.h"
#include "messages.pb.h"

#include <caf/meta/type_name.hpp>

#include <string>

namespace router::actors {

/// Inspects a protobuf message as its serialized bytes.
template <class Inspector, class Message>
typename Inspector::result_type inspect_protobuf(Inspector& f, Message& x, const char* name) {
  std::string wire;
  if constexpr (Inspector::reads_state) {
    x.SerializeToString(&wire);
    return f(caf::meta::type_name(name), wire);
  } else {
    auto result = f(caf::meta::type_name(name), wire);
    x.ParseFromString(wire);
    return result;
  }
}

} // namespace router::actors

#define ROUTER_INSPECT_PROTOBUF(type)                                             \
  template <class Inspector>                                                      \
  typename Inspector::result_type inspect(Inspector& f, type& x) {                \
    return ::router::actors::inspect_protobuf(f, x, "router." #type);             \
  }

namespace router::messages {
ROUTER_INSPECT_PROTOBUF(job_request)
ROUTER_INSPECT_PROTOBUF(job_result)
ROUTER_INSPECT_PROTOBUF(build_request)
ROUTER_INSPECT_PROTOBUF(built_message)
ROUTER_INSPECT_PROTOBUF(destination_result)
ROUTER_INSPECT_PROTOBUF(certificate_notice_request)
ROUTER_INSPECT_PROTOBUF(delivery_failure_notice_request)
ROUTER_INSPECT_PROTOBUF(device_certificate_notice_request)
ROUTER_INSPECT_PROTOBUF(health_check_request)
ROUTER_INSPECT_PROTOBUF(health_check_result)
} // namespace router::messages
