#pragma once
// Counts the bytes LibTorch's CPU allocator hands out, to measure peak tensor memory on CPU
// (CUDA has its own statistics). While a probe lives, every CPU allocation goes through it.
#include <cstdint>
#include <memory>

namespace segtrain::tools {

class CpuMemoryProbe {
 public:
  CpuMemoryProbe();
  ~CpuMemoryProbe();
  CpuMemoryProbe(const CpuMemoryProbe&) = delete;
  CpuMemoryProbe& operator=(const CpuMemoryProbe&) = delete;

  int64_t peak_bytes() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace segtrain::tools
