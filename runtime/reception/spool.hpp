// The reception spool: received jobs kept on disk from the moment their
// message is acknowledged with 250 until every destination is delivered or
// reported to the sender.
//
// Layout: DIR/<job id>.job contains one serialized spooled_job: the job with
// the destinations still to try, when the message was accepted, and the
// failures still to report. Files are written under DIR/tmp, synced, renamed
// into DIR (replacing an older version) and the folder is synced, so a file in
// DIR is always complete. A file that cannot be read back is moved to
// DIR/failed, never deleted, for an operator to inspect. Files written before
// the spool kept a spooled_job, which contain a bare job_request, are still read.
#pragma once

#include "messages.pb.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace router::reception {

class job_spool {
 public:
  /// Creates DIR, DIR/tmp and DIR/failed when missing; throws router_error
  /// naming the folder when it cannot.
  explicit job_spool(std::filesystem::path directory);

  /// Writes every job durably, or none: on failure the files already written
  /// are removed and router_error names the file and the cause.
  void write_all(const std::vector<messages::spooled_job>& jobs) const;

  /// Replaces a job's file durably with a new version. On failure the old
  /// version stays and router_error names the file and the cause.
  void rewrite(const messages::spooled_job& job) const;

  /// Removes a job's file; returns false with `problem` set when it cannot.
  bool remove(const std::string& job_id, std::string& problem) const;

  /// Lists the job files in name order.
  std::vector<std::filesystem::path> list() const;

  /// Reads a job file. Returns nothing, with `problem` set, when the file cannot
  /// be read or is not a complete job whose id matches the file name. A file
  /// with a bare job_request comes back with the file's modification time as
  /// the accept time and the originator as the reverse path.
  std::optional<messages::spooled_job> read(const std::filesystem::path& file, std::string& problem) const;

  /// Moves a file into DIR/failed; returns the new path, or "" with `problem` set.
  std::filesystem::path move_aside(const std::filesystem::path& file, std::string& problem) const;

  /// Removes files left in DIR/tmp by a write that never completed; returns their names.
  std::vector<std::string> remove_incomplete() const;

  /// Returns the path of a job's file.
  std::filesystem::path file_for(const std::string& job_id) const;

  const std::filesystem::path& directory() const { return directory_; }

 private:
  /// Returns DIR/tmp/<job id>.job; throws router_error when the id cannot name a file.
  std::filesystem::path staged_path(const std::string& job_id) const;

  std::filesystem::path directory_;
};

} // namespace router::reception
