#pragma once
// MMCV's ProgressBar, shown on rank 0 during evaluation:
//   [>>>>>>>>>>>>>>              ] 250/500, 41.7 task/s, elapsed: 6s, ETA:     6s
// On a terminal the bar redraws in place; into a file or pipe (CI, Slurm output) only the
// finished bar is written, so logs do not fill with hundreds of partial bars.
#include <chrono>
#include <cstdio>

namespace segtrain {

class ProgressBar {
 public:
  // `enabled` false makes every call a no-op (ranks other than 0).
  ProgressBar(long total, bool enabled, std::FILE* out = stderr);
  void update(long done_now);  // adds to the count
  void finish();               // prints the final bar and a newline (once)

 private:
  void draw() const;
  long total_, done_ = 0;
  bool enabled_, interactive_, finished_ = false;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace segtrain
