// The building blocks of streamed messages without certificates: the base64
// line encoder, chunked file reads, SMTP dot-stuffing of a message file and
// the Maildir move of a message file.
#include "runtime/common/error.hpp"
#include "runtime/delivery/maildir.hpp"
#include "runtime/delivery/smtp_client.hpp"
#include "runtime/delivery/smtp_file_data.hpp"
#include "runtime/mime/mime.hpp"
#include "runtime/stream/content.hpp"
#include "runtime/stream/encoders.hpp"
#include "runtime/stream/files.hpp"
#include "tests/common/test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <random>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> random_octets(size_t length, unsigned seed) {
  std::mt19937 generator(seed);
  std::vector<uint8_t> octets(length);
  for (auto& octet : octets)
    octet = static_cast<uint8_t>(generator());
  return octets;
}

std::string read_all(const stream::content& content) {
  std::string all;
  content.read([&all](const uint8_t* data, size_t length) { all.append(reinterpret_cast<const char*>(data), length); });
  return all;
}

TEST(base64_line_encoder_test, MatchesWholeEncodingForAnyPieces) {
  for (const size_t length : {0u, 1u, 56u, 57u, 58u, 114u, 1000u, 65537u}) {
    const auto octets = random_octets(length, static_cast<unsigned>(length));
    for (const size_t piece : {1u, 3u, 56u, 57u, 4096u}) {
      SCOPED_TRACE("length " + std::to_string(length) + ", pieces of " + std::to_string(piece));
      mime::base64_line_encoder encoder;
      std::string encoded;
      for (size_t start = 0; start < octets.size(); start += piece)
        encoder.update(octets.data() + start, std::min(piece, octets.size() - start), encoded);
      encoder.finish(encoded);
      EXPECT_EQ(encoded, mime::base64_lines(octets));
    }
  }
}

TEST(write_base64_file_test, MatchesInMemoryEncoding) {
  scratch_dir dir;
  // Longer than one read chunk, and not a multiple of 57, so lines cross chunk borders.
  const auto octets = random_octets(stream::chunk_size * 2 + 1001, 7);
  write_file(dir / "document.bin", octets);

  std::string encoded;
  const auto append = [&encoded](std::string_view text) { encoded += text; };
  const uint64_t length = stream::write_base64_file(dir / "document.bin", "test file", append);

  EXPECT_EQ(length, octets.size());
  EXPECT_EQ(encoded, mime::base64_lines(octets));
}

TEST(write_base64_file_test, MissingFileNamesPath) {
  scratch_dir dir;
  const fs::path missing = dir / "no-such-scan.pdf";
  try {
    stream::write_base64_file(missing, "attachment file " + missing.string(), [](std::string_view) {});
    FAIL() << "a missing file was read";
  } catch (const router_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("check the path"), std::string::npos) << e.what();
  }
}

TEST(document_entity_test, StreamedEntityMatchesInMemoryEntity) {
  scratch_dir dir;
  const auto scan = random_octets(300000, 11);
  write_file(dir / "scan.pdf", scan);
  const std::vector<uint8_t> note = {'n', 'o', 't', 'e', '\n'};

  std::vector<stream::document_attachment> streamed(2);
  streamed[0] = {"scan.pdf", "application/pdf", dir / "scan.pdf", {}};
  streamed[1] = {"note.txt", "text/plain", {}, note};
  std::string written;
  stream::write_document_entity("Two documents.\n", streamed, "=_mixed_0123",
                                [&written](std::string_view text) { written += text; });

  const std::string expected = mime::build_document_entity(
      "Two documents.\n", {{"scan.pdf", "application/pdf", scan}, {"note.txt", "text/plain", note}}, "=_mixed_0123");
  EXPECT_EQ(written, expected);
}

TEST(content_test, ReadsTextAndFilesInOrder) {
  scratch_dir dir;
  write_file(dir / "middle.txt", std::string("middle"));
  stream::content content;
  content.add_text("before-");
  content.add_file(dir / "middle.txt", 6, "middle file");
  content.add_text("-after");

  EXPECT_EQ(content.size(), 19u);
  EXPECT_EQ(read_all(content), "before-middle-after");
}

TEST(content_test, ChangedFileSizeIsRejected) {
  scratch_dir dir;
  write_file(dir / "scan.pdf", std::string(1000, 'x'));
  // The size recorded when the content was put together is 900 octets, as if
  // the file grew after that.
  stream::content grown;
  grown.add_file(dir / "scan.pdf", 900, "attachment file scan.pdf");
  stream::content shrunk;
  shrunk.add_file(dir / "scan.pdf", 1100, "attachment file scan.pdf");

  for (const auto* content : {&grown, &shrunk}) {
    try {
      read_all(*content);
      FAIL() << "a file of another size was read";
    } catch (const router_error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("attachment file scan.pdf changed size while it was read"), std::string::npos) << message;
      EXPECT_NE(message.find("send it again"), std::string::npos) << message;
    }
  }
}

TEST(temporary_file_test, RemovedUnlessReleased) {
  scratch_dir dir;
  fs::path dropped;
  fs::path kept;
  {
    stream::temporary_file first(dir.path(), "first");
    first.write("data");
    dropped = first.path();
    stream::temporary_file second(dir.path(), "second");
    second.write("data");
    kept = second.release();
    EXPECT_TRUE(fs::exists(dropped));
  }
  EXPECT_FALSE(fs::exists(dropped));
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_EQ(read_file(kept), "data");
}

TEST(temporary_file_test, MissingFolderNamesFolder) {
  scratch_dir dir;
  try {
    stream::temporary_file file(dir / "missing", "entity");
    FAIL() << "a file was created in a missing folder";
  } catch (const router_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "missing").string()), std::string::npos) << e.what();
  }
}

/// Returns what send_message_file() sends for a file, pieces joined.
std::string stuffed_file(const fs::path& file, size_t chunk_size) {
  std::string sent;
  delivery::send_message_file(file, [&sent](std::string_view text) { sent += text; }, chunk_size);
  return sent;
}

TEST(send_message_file_test, MatchesDotStuffAcrossChunkBorders) {
  scratch_dir dir;
  const std::vector<std::string> messages = {
      "",
      ".",
      "Subject: x\r\n\r\n.leading dot\r\n..two dots\r\nmiddle . dot\r\n.\r\n",
      "no final line break\r\n.last",
      std::string(70000, 'a') + "\r\n." + std::string(70000, 'b') + "\r\n",
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    const fs::path file = dir / ("message-" + std::to_string(i) + ".eml");
    write_file(file, messages[i]);
    for (const size_t chunk : {1u, 2u, 3u, 7u, 65536u}) {
      SCOPED_TRACE("message " + std::to_string(i) + ", chunks of " + std::to_string(chunk));
      EXPECT_EQ(stuffed_file(file, chunk), delivery::dot_stuff(messages[i]));
    }
  }
}

TEST(send_message_file_test, MissingFileIsTemporaryFailure) {
  scratch_dir dir;
  try {
    stuffed_file(dir / "gone.eml", 1024);
    FAIL() << "a missing file was sent";
  } catch (const delivery::delivery_error& e) {
    EXPECT_TRUE(e.temporary());
    EXPECT_NE(std::string(e.what()).find("gone.eml"), std::string::npos) << e.what();
  }
}

TEST(maildir_message_file_test, RenamesFileIntoNew) {
  scratch_dir dir;
  delivery::maildir_outbox outbox(dir / "outbox");
  const fs::path message_file = dir / "outbox" / "tmp" / "message.built";
  write_file(message_file, std::string("Subject: streamed\r\n\r\nbody\r\n"));

  delivery::envelope envelope;
  envelope.job_id = "job-1";
  envelope.message_file = message_file.string();
  const auto receipt = outbox.deliver(envelope);

  EXPECT_EQ(fs::path(receipt.outbox_file).parent_path(), dir / "outbox" / "new");
  EXPECT_EQ(read_file(receipt.outbox_file), "Subject: streamed\r\n\r\nbody\r\n");
  EXPECT_FALSE(fs::exists(message_file));
}

TEST(maildir_message_file_test, CopiesAcrossFileSystems) {
  // /dev/shm is a tmpfs on Linux, so usually another file system than the scratch folder.
  scratch_dir dir;
  struct stat shm {};
  struct stat scratch {};
  if (::stat("/dev/shm", &shm) != 0 || ::stat(dir.path().c_str(), &scratch) != 0 || shm.st_dev == scratch.st_dev)
    GTEST_SKIP() << "/dev/shm is missing or on the scratch folder's file system";

  const fs::path message_file = fs::path("/dev/shm") / ("router-test-" + std::to_string(::getpid()) + ".eml");
  const std::string message = "Subject: copied\r\n\r\n" + std::string(600000, 'c') + "\r\n";
  write_file(message_file, message);

  delivery::maildir_outbox outbox(dir / "outbox");
  delivery::envelope envelope;
  envelope.job_id = "job-2";
  envelope.message_file = message_file.string();
  const auto receipt = outbox.deliver(envelope);

  EXPECT_EQ(read_file(receipt.outbox_file), message);
  EXPECT_FALSE(fs::exists(message_file));
  EXPECT_TRUE(fs::is_empty(dir / "outbox" / "tmp"));
}

} // namespace
} // namespace router::testing
