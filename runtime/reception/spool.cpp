#include "runtime/reception/spool.hpp"

#include "runtime/common/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace router::reception {

namespace {

constexpr const char* job_suffix = ".job";

std::string errno_text() {
  return std::strerror(errno);
}

void write_file_synced(const std::filesystem::path& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw router_error("cannot create " + path.string() + ": " + errno_text());

  size_t written = 0;
  while (written < data.size()) {
    const ssize_t count = ::write(fd, data.data() + written, data.size() - written);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      const std::string reason = errno_text();
      ::close(fd);
      throw router_error("cannot write " + path.string() + ": " + reason);
    }
    written += static_cast<size_t>(count);
  }
  if (::fsync(fd) != 0) {
    const std::string reason = errno_text();
    ::close(fd);
    throw router_error("cannot sync " + path.string() + ": " + reason);
  }
  if (::close(fd) != 0)
    throw router_error("cannot close " + path.string() + ": " + errno_text());
}

void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw router_error("cannot open folder " + directory.string() + " to sync it: " + errno_text());
  const int status = ::fsync(fd);
  const std::string reason = errno_text();
  ::close(fd);
  if (status != 0)
    throw router_error("cannot sync folder " + directory.string() + ": " + reason);
}

std::string serialize(const messages::spooled_job& entry) {
  std::string data;
  if (!entry.SerializeToString(&data))
    throw router_error("cannot serialize job " + entry.job().job_id());
  return data;
}

/// Checks that a job id can be a file name: letters, digits, '-', '_' and '.'.
bool is_safe_file_stem(const std::string& id) {
  return !id.empty() && id.size() <= 128 && id.front() != '.' && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
}

} // namespace

job_spool::job_spool(std::filesystem::path directory) : directory_(std::move(directory)) {
  for (const auto& folder : {directory_, directory_ / "tmp", directory_ / "failed"}) {
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error)
      throw router_error("cannot create the reception spool folder " + folder.string() + ": " + error.message() +
                         "; check reception.spool_directory and its permissions");
  }
}

std::filesystem::path job_spool::file_for(const std::string& job_id) const {
  return directory_ / (job_id + job_suffix);
}

void job_spool::write_all(const std::vector<messages::spooled_job>& jobs) const {
  std::vector<std::filesystem::path> temporary;
  std::vector<std::filesystem::path> written;
  auto remove_written = [&] {
    for (const auto& path : temporary)
      ::unlink(path.c_str());
    for (const auto& path : written)
      ::unlink(path.c_str());
  };

  try {
    for (const auto& entry : jobs) {
      const std::filesystem::path staged = staged_path(entry.job().job_id());
      temporary.push_back(staged);
      write_file_synced(staged, serialize(entry));
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      const std::filesystem::path final_path = file_for(jobs[i].job().job_id());
      if (::rename(temporary[i].c_str(), final_path.c_str()) != 0)
        throw router_error("cannot move " + temporary[i].string() + " into " + directory_.string() + ": " +
                           errno_text());
      written.push_back(final_path);
    }
    sync_directory(directory_);
  } catch (const router_error&) {
    remove_written();
    try {
      sync_directory(directory_);
    } catch (const router_error&) {
      // The write already failed; the original error is the one to report.
    }
    throw;
  }
}

void job_spool::rewrite(const messages::spooled_job& job) const {
  const std::string& job_id = job.job().job_id();
  const std::filesystem::path staged = staged_path(job_id);
  const std::filesystem::path final_path = file_for(job_id);
  try {
    write_file_synced(staged, serialize(job));
    if (::rename(staged.c_str(), final_path.c_str()) != 0)
      throw router_error("cannot move " + staged.string() + " over " + final_path.string() + ": " + errno_text());
  } catch (const router_error&) {
    ::unlink(staged.c_str());
    throw;
  }
  sync_directory(directory_);
}

std::filesystem::path job_spool::staged_path(const std::string& job_id) const {
  if (!is_safe_file_stem(job_id))
    throw router_error("job id '" + job_id + "' cannot name a spool file");
  return directory_ / "tmp" / (job_id + job_suffix);
}

bool job_spool::remove(const std::string& job_id, std::string& problem) const {
  const std::filesystem::path path = file_for(job_id);
  if (::unlink(path.c_str()) != 0) {
    problem = "cannot remove " + path.string() + ": " + errno_text();
    return false;
  }
  return true;
}

std::vector<std::filesystem::path> job_spool::list() const {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& item : std::filesystem::directory_iterator(directory_, error)) {
    if (item.is_regular_file(error) && item.path().extension() == job_suffix)
      files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<messages::spooled_job> job_spool::read(const std::filesystem::path& file, std::string& problem) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problem = "cannot open: " + errno_text();
    return std::nullopt;
  }
  std::ostringstream data;
  data << in.rdbuf();

  const std::string stem = file.stem().string();
  messages::spooled_job entry;
  if (!entry.ParseFromString(data.str()) || entry.job().job_id() != stem) {
    // A file from before the spool kept a spooled_job contains a bare job_request.
    messages::job_request legacy;
    if (!legacy.ParseFromString(data.str())) {
      problem = "not a serialized spooled_job";
      return std::nullopt;
    }
    if (legacy.job_id() != stem) {
      problem = "holds job id '" + legacy.job_id() + "', which does not match the file name";
      return std::nullopt;
    }
    std::error_code error;
    const auto modified = std::filesystem::last_write_time(file, error);
    const auto accepted = error ? std::chrono::system_clock::now()
                                : std::chrono::system_clock::now() +
                                      std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                          modified - std::filesystem::file_time_type::clock::now());
    entry.Clear();
    entry.set_reverse_path(legacy.originator());
    entry.set_accepted_unix(std::chrono::duration_cast<std::chrono::seconds>(accepted.time_since_epoch()).count());
    *entry.mutable_job() = std::move(legacy);  // next_attempt_unix 0: due at once
  }

  const messages::job_request& job = entry.job();
  if (job.received_message().empty() || job.function() == config::SOURCE_FUNCTION_UNSPECIFIED ||
      (job.destinations_size() == 0 && entry.undeliverable_size() == 0)) {
    problem = "incomplete job: the received message, the destinations or the function is missing";
    return std::nullopt;
  }
  return entry;
}

std::filesystem::path job_spool::move_aside(const std::filesystem::path& file, std::string& problem) const {
  const std::filesystem::path target = directory_ / "failed" / file.filename();
  if (::rename(file.c_str(), target.c_str()) != 0) {
    problem = "cannot move " + file.string() + " to " + target.string() + ": " + errno_text();
    return {};
  }
  return target;
}

std::vector<std::string> job_spool::remove_incomplete() const {
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& item : std::filesystem::directory_iterator(directory_ / "tmp", error)) {
    if (!item.is_regular_file(error))
      continue;
    if (std::filesystem::remove(item.path(), error))
      removed.push_back(item.path().filename().string());
  }
  return removed;
}

} // namespace router::reception
