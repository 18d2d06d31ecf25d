#include "segtrain/dist/collective_watchdog.h"

#include <unistd.h>

#include <cerrno>  // program_invocation_short_name (glibc)

#include <map>
#include <mutex>
#include <thread>

#include "segtrain/core/host_name.h"
#include "segtrain/core/stderr_line.h"
#include "segtrain/dist/world.h"

namespace segtrain::dist {
namespace {

using Clock = std::chrono::steady_clock;

struct Wait {
  const char* name;
  Clock::time_point since;
};

struct Watch {
  std::mutex mutex;
  std::map<uint64_t, Wait> waits;  // by id: several threads may wait at once
  uint64_t next_id = 0;
  std::string context = "setup";
  std::chrono::seconds timeout{0};  // 0: not watching
  const World* world = nullptr;
  bool started = false;
};

// Never destroyed: the watchdog thread may still look at it while the process exits.
Watch& watch() {
  static Watch* w = new Watch;
  return *w;
}

[[noreturn]] void end_job(const World& world, const Wait& wait, std::chrono::seconds waited, const std::string& context,
                          std::chrono::seconds timeout) {
  write_stderr_line("[rank " + std::to_string(world.rank()) + " on " + host_name() + "] " +
                    program_invocation_short_name + ": error: " + context + ": waited " +
                    std::to_string(waited.count()) + " s in " + wait.name + " (dist_params.timeout: " +
                    std::to_string(timeout.count()) +
                    " s); another rank did not arrive (stopped, hung or dead): ending the job");
  world.abort(1);
}

void run_watchdog() {
  auto& w = watch();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::lock_guard<std::mutex> lock(w.mutex);
    if (w.timeout.count() == 0) continue;
    const auto now = Clock::now();
    for (const auto& [id, wait] : w.waits) {
      const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - wait.since);
      if (waited > w.timeout) end_job(*w.world, wait, waited, w.context, w.timeout);
    }
  }
}

}  // namespace

void watch_collectives(const World& world, std::chrono::seconds timeout) {
  auto& w = watch();
  std::lock_guard<std::mutex> lock(w.mutex);
  w.world = &world;
  w.timeout = timeout;
  if (w.started || world.size() == 1) return;  // alone, no one to wait for
  w.started = true;
  std::thread(run_watchdog).detach();
}

void set_collective_context(const std::string& context) {
  auto& w = watch();
  std::lock_guard<std::mutex> lock(w.mutex);
  w.context = context;
}

CollectiveWait::CollectiveWait(const char* name) {
  auto& w = watch();
  std::lock_guard<std::mutex> lock(w.mutex);
  id_ = w.next_id++;
  w.waits.emplace(id_, Wait{name, Clock::now()});
}

CollectiveWait::~CollectiveWait() {
  auto& w = watch();
  std::lock_guard<std::mutex> lock(w.mutex);
  w.waits.erase(id_);
}

}  // namespace segtrain::dist
