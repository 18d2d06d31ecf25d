// LoggerHook's line: values averaged over ranks, and the ETA of a resumed run taken from the
// iterations this process ran (not from the absolute iteration number).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dist_test_env.h"
#include "segtrain/core/logging.h"
#include "segtrain/engine/hooks/logger_hook.h"

using namespace segtrain;
using segtrain::testing::cpu_comm;
using segtrain::testing::world;
namespace fs = std::filesystem;

TEST(LoggerHook, EtaAfterAResumeCountsOnlyThisProcesssIterations) {
  // Rank 0 logs to a file of its own; the hook's line is the last one.
  const fs::path file = fs::temp_directory_path() /
                        ("segtrain_logger_" + std::to_string(world().broadcast(static_cast<uint64_t>(::getpid()))) + ".log");
  log::add_file(file);
  engine::LoggerHook hook(2, *cpu_comm(), c10::Device(c10::kCPU), nullptr);
  engine::IterationState s;
  s.start_iter = 1000;  // resumed at 1000 of 2000; each iteration here took 1 s
  s.max_iters = 2000;
  s.iter_seconds = 1.0;
  s.data_seconds = 0.25;
  s.lr = 0.01;
  for (int64_t it = 1001; it <= 1002; ++it) {
    s.iter = it;
    s.outputs = {{"decode.loss_ce", static_cast<double>(world().rank() + it - 1000)}, {"loss", 1.0}};
    hook.after_iter(s);
  }
  if (world().rank() == 0) {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line)) last = line;
    // 998 iterations left at 1 s each; ranks' decode.loss_ce average (r + 1.5) over ranks.
    EXPECT_NE(last.find("Iter [1002/2000]\tlr: 1.000e-02, eta: 0:16:38, time: 1.000, data_time: 0.250"), std::string::npos)
        << last;
    char loss[64];
    std::snprintf(loss, sizeof loss, "decode.loss_ce: %.4f, loss: 1.0000", (world().size() - 1) / 2.0 + 1.5);
    EXPECT_NE(last.find(loss), std::string::npos) << last;
    fs::remove(file);
  }
}
