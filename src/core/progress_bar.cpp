#include "segtrain/core/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <string>

namespace segtrain {

ProgressBar::ProgressBar(long total, bool enabled, std::FILE* out)
    : total_(std::max(total, 0L)), enabled_(enabled), interactive_(isatty(fileno(out)) != 0), out_(out),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(long done_now) {
  if (!enabled_) return;
  done_ = std::min(total_, done_ + done_now);
  if (interactive_) draw();
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw();
  std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::draw() const {
  constexpr int kWidth = 30;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = done_ > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  const int filled = static_cast<int>(fraction * kWidth);
  const std::string bar = std::string(filled, '>') + std::string(kWidth - filled, ' ');
  std::fprintf(out_, "\r[%s] %ld/%ld, %.1f task/s, elapsed: %.0fs, ETA: %5.0fs", bar.c_str(), done_, total_, rate,
               elapsed, eta);
  std::fflush(out_);
}

}  // namespace segtrain
