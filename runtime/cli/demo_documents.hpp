// Demo documents compiled into the program, so `smime-router demo` needs no
// files besides itself. The sources live in demo/documents/.
#pragma once

#include <cstddef>
#include <string>

namespace router::cli {

struct embedded_document {
  const char* filename;
  const char* content_type;
  const char* data;
  size_t size;
};

/// Returns the first embedded document whose name ends with `extension`;
/// throws std::runtime_error when there is none.
const embedded_document& find_demo_document(const std::string& extension);

} // namespace router::cli
