// Result reports: the text of Email TX Results and Folder Transfer Result
// Report messages, built from a finished job's per-destination results.
//
// Each destination gets its address, completion time, outcome, whether it was
// encrypted and/or signed, the algorithms, the recipient certificate's
// fingerprint and the reason of any failure. The report is then sent as a job
// of its own function, under that function's settings. Pure: no I/O.
#pragma once

#include "messages.pb.h"

#include <string>

namespace router::reports {

/// Formats a result report; `title` is e.g. "Email TX Results".
std::string format_result_report(const std::string& title, const messages::job_result& result);

/// Returns the readable outcome, e.g. "sent, encrypted and signed".
std::string describe_outcome(messages::outcome outcome);

} // namespace router::reports
