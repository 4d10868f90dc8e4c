#include "runtime/stream/content.hpp"

namespace router::stream {

void content::add_text(std::string text) {
  size_ += text.size();
  pieces_.push_back({std::move(text), {}, 0, {}});
}

void content::add_file(std::filesystem::path path, uint64_t size, std::string description) {
  size_ += size;
  pieces_.push_back({{}, std::move(path), size, std::move(description)});
}

void content::read(const chunk_consumer& consume) const {
  for (const piece& part : pieces_) {
    if (part.file.empty()) {
      if (!part.text.empty())
        consume(reinterpret_cast<const uint8_t*>(part.text.data()), part.text.size());
      continue;
    }
    read_file(part.file, part.description, part.size, consume);
  }
}

std::vector<std::string> content::texts() const {
  std::vector<std::string> texts;
  for (const piece& part : pieces_) {
    if (part.file.empty())
      texts.push_back(part.text);
  }
  return texts;
}

} // namespace router::stream
