#include "segtrain/engine/hooks/logger_hook.h"

#include <sys/resource.h>

#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "segtrain/core/logging.h"
#include "segtrain/io/record_sink.h"
#include "segtrain_build_config.h"
#if SEGTRAIN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace segtrain::engine {
namespace {

// The peak since the last call: on CUDA the allocator's peak, reset after reading; on the CPU
// the max RSS, which never goes down.
double peak_memory_mb(const c10::Device& device) {
#if SEGTRAIN_WITH_CUDA
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
    return stats.allocated_bytes[0].peak / (1024.0 * 1024.0);
  }
#endif
  (void)device;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

// "H:MM:SS", or "N day(s), H:MM:SS" (Python's timedelta, as MMCV prints it).
std::string eta_text(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  char buf[64];
  if (s >= 86400) std::snprintf(buf, sizeof buf, "%lld %s, %lld:%02lld:%02lld", static_cast<long long>(s / 86400),
                                s < 2 * 86400 ? "day" : "days",
                                static_cast<long long>(s % 86400 / 3600), static_cast<long long>(s % 3600 / 60),
                                static_cast<long long>(s % 60));
  else std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                     static_cast<long long>(s % 3600 / 60), static_cast<long long>(s % 60));
  return buf;
}

}  // namespace

void LoggerHook::after_iter(const IterationState& s) {
  for (const auto& [k, v] : s.outputs) sums_[k] += v;
  time_sum_ += s.iter_seconds;
  data_sum_ += s.data_seconds;
  total_time_ += s.iter_seconds;
  ++count_;
  if (!s.every(interval_)) return;

  // Collective: averages over ranks (every rank has the same keys) and the largest memory.
  auto& comm = comm_;
  std::vector<double> values;
  for (const auto& [k, v] : sums_) values.push_back(v / count_);
  values.push_back(time_sum_ / count_);
  values.push_back(data_sum_ / count_);
  // On the communicator's device: NCCL reduces GPU memory only.
  torch::Tensor avg = torch::tensor(values, torch::kDouble).to(comm.device());
  comm.allreduce(avg, dist::ReduceOp::Avg);
  const double interval_peak = peak_memory_mb(device_);
  peak_mb_ = std::max(peak_mb_, interval_peak);
  torch::Tensor memory = torch::tensor({peak_mb_, interval_peak}, torch::kDouble).to(comm.device());
  comm.allreduce(memory, dist::ReduceOp::Max);
  avg = avg.cpu();
  memory = memory.cpu();

  if (comm.rank() == 0) {
    const double time = avg[values.size() - 2].item<double>(), data_time = avg[values.size() - 1].item<double>();
    const double eta = total_time_ / static_cast<double>(s.iter - s.start_iter) * static_cast<double>(s.max_iters - s.iter);
    char head[256];
    std::snprintf(head, sizeof head, "Iter [%lld/%lld]\tlr: %.3e, eta: %s, time: %.3f, data_time: %.3f, memory: %.0f",
                  static_cast<long long>(s.iter), static_cast<long long>(s.max_iters), s.lr, eta_text(eta).c_str(),
                  time, data_time, memory[0].item<double>());
    std::string line = head;
    nlohmann::json json{{"mode", "train"}, {"epoch", 1}, {"iter", s.iter}, {"lr", s.lr}, {"memory", static_cast<int64_t>(memory[0].item<double>())},
                        {"interval_memory", static_cast<int64_t>(memory[1].item<double>())},
                        {"data_time", data_time}, {"time", time}};
    // MMSeg's order: decode.* then aux*.*, each loss before its accuracy, the total "loss" last.
    std::vector<std::pair<std::string, double>> items;
    std::size_t i = 0;
    for (const auto& [k, v] : sums_) items.emplace_back(k, avg[i++].item<double>());
    auto order = [](const std::string& k) {
      const int group = k == "loss" ? 2 : k.rfind("decode.", 0) == 0 ? 0 : 1;
      return std::make_tuple(group, k.substr(0, k.find('.')), k.find("loss") == std::string::npos, k);
    };
    std::sort(items.begin(), items.end(), [&](const auto& a, const auto& b) { return order(a.first) < order(b.first); });
    for (const auto& [k, mean] : items) {
      char item[128];
      std::snprintf(item, sizeof item, ", %s: %.4f", k.c_str(), mean);
      line += item;
      json[k] = mean;
    }
    log::info(line);
    log::throw_if_a_write_failed();
    if (records_) records_->write(json);
  }
  sums_.clear();
  time_sum_ = data_sum_ = 0;
  count_ = 0;
}

}  // namespace segtrain::engine
