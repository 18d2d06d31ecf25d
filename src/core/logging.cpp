#include "segtrain/core/logging.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "segtrain/core/error.h"

namespace segtrain::log {
namespace {

int g_rank = 0;
std::shared_ptr<spdlog::logger> g_logger;
// Rank 0's lines from before the work_dir's log file exists (the run checks everything it was
// given before it touches the work_dir): the file starts with them.
constexpr std::size_t kEarlyLines = 10000;
std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> g_early;

// spdlog reports a failed write (a full disk under the log file) to an error handler and goes
// on; the first one is kept here for the run to stop on (throw_if_a_write_failed).
std::mutex g_failure_mutex;
std::string g_failure_where, g_failure;  // the error's file and message; empty: none yet
std::string g_file;

void remember_failure(const std::string& message) {
  std::lock_guard<std::mutex> lock(g_failure_mutex);
  if (!g_failure.empty()) return;
  // spdlog's message: "Failed writing to file F: REASON" / "Failed flush to file F: REASON".
  const auto reason = message.rfind(": ");
  const bool names_file = !g_file.empty() && message.find(g_file) != std::string::npos && reason != std::string::npos;
  g_failure_where = names_file ? g_file : "log";
  g_failure = names_file ? "cannot write: " + message.substr(reason + 2) : message;
}

// %* prints the level as MMSeg (Python logging) does: INFO, WARNING, ERROR.
class UpperLevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    auto name = spdlog::level::to_string_view(msg.level);
    for (char c : name) dest.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<UpperLevelFlag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& prefix) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<UpperLevelFlag>('*').set_pattern(prefix + "%Y-%m-%d %H:%M:%S,%e - segtrain - %* - %v");
  return f;
}

}  // namespace

void init(int rank);

namespace {
spdlog::logger& logger() {
  if (!g_logger) init(g_rank);
  return *g_logger;
}
}  // namespace

void init(int rank) {
  g_rank = rank;
  std::shared_ptr<spdlog::sinks::sink> console;
  if (rank == 0) console = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  else console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  g_logger = std::make_shared<spdlog::logger>("segtrain", console);
  if (rank == 0) {
    g_early = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(kEarlyLines);
    g_logger->sinks().push_back(g_early);
  }
  g_logger->set_formatter(make_formatter(rank == 0 ? "" : "[rank " + std::to_string(rank) + "] "));
  g_logger->set_level(rank == 0 ? spdlog::level::info : spdlog::level::warn);
  g_logger->flush_on(spdlog::level::info);
  g_logger->set_error_handler(remember_failure);
}

void add_file(const std::filesystem::path& file) {
  if (g_rank != 0) return;
  {
    std::lock_guard<std::mutex> lock(g_failure_mutex);
    g_file = file.string();
  }
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string());
  sink->set_formatter(make_formatter(""));
  auto& sinks = logger().sinks();
  if (g_early) {  // the early lines first, with their own times; then the file takes over
    for (const auto& line : g_early->last_raw()) sink->log(line);
    sink->flush();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), g_early), sinks.end());
    g_early.reset();
  }
  sinks.push_back(sink);
}

void info(const std::string& message) { logger().info("{}", message); }
void warn(const std::string& message) { logger().warn("{}", message); }
void error(const std::string& message) { logger().error("{}", message); }

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

void throw_if_a_write_failed() {
  std::lock_guard<std::mutex> lock(g_failure_mutex);
  if (!g_failure.empty()) throw runtime_error(g_failure_where, g_failure);
}

}  // namespace segtrain::log
