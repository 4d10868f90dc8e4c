// Content made of in-memory pieces and whole files, read in order without
// loading the files. An entity built around a large file (a multipart/signed
// around a document entity, say) is a content of three pieces.
#pragma once

#include "runtime/stream/files.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace router::stream {

class content {
 public:
  void add_text(std::string text);

  /// Adds a whole file whose length must stay `size` until the content is read.
  void add_file(std::filesystem::path path, uint64_t size, std::string description);

  /// Returns the total length in octets.
  uint64_t size() const { return size_; }

  /// Passes every octet to `consume` in order. Throws router_error when a file
  /// cannot be read or has changed size.
  void read(const chunk_consumer& consume) const;

  /// Returns the in-memory pieces, to check them for a boundary.
  std::vector<std::string> texts() const;

 private:
  struct piece {
    std::string text;
    std::filesystem::path file;  // empty for a text piece
    uint64_t size = 0;
    std::string description;
  };
  std::vector<piece> pieces_;
  uint64_t size_ = 0;
};

} // namespace router::stream
