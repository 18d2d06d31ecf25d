#pragma once
// The text log, MMSegmentation's format: "2026-11-28 14:00:00,123 - segtrain - INFO - message".
// Rank 0 logs to stdout and, once the work_dir exists, to <work_dir>/<timestamp>.log; other
// ranks print only warnings and errors, to stderr, prefixed with their rank.
//
// The interface takes finished strings: spdlog and its fmt stay inside logging.cpp, because TUs
// that include torch see torch's bundled fmt, which Debian's libspdlog was not built against.
#include <filesystem>
#include <string>

namespace segtrain::log {

// Sets up the console side for this rank. Safe to call again (e.g. once the rank is known).
void init(int rank);
// Rank 0: also write everything to `file`, starting with the lines logged before it (up to
// 10000). Other ranks: no-op.
void add_file(const std::filesystem::path& file);

void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

// Logging never throws (a log call may sit in a destructor); a line that could not be written
// (disk full under the log file) is remembered, and this throws it as a runtime error naming the
// file and the reason. The run calls it after each logging interval.
void throw_if_a_write_failed();

// "YYYYmmdd_HHMMSS" of now, local time: the name stem of a run's log files.
std::string timestamp();

}  // namespace segtrain::log
