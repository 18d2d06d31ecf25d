#include "segtrain/tools/cpu_memory_probe.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace segtrain::tools {

struct CpuMemoryProbe::Impl : public c10::Allocator, std::enable_shared_from_this<CpuMemoryProbe::Impl> {
  c10::Allocator* inner = nullptr;
  std::atomic<int64_t> current{0}, peak{0};

  // LibTorch expects CPU data pointers whose context is the data itself, so what a block needs
  // at free time is looked up by address. Each entry holds the probe: tensors may outlive it.
  struct Block {
    std::shared_ptr<Impl> probe;
    c10::DataPtr inner;
    std::size_t bytes;
  };
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::unordered_map<void*, Block>& blocks() {
    static std::unordered_map<void*, Block> b;
    return b;
  }

  // The allocator's raw deleter before any probe (some callers, oneDNN's, look the deleter up at
  // free time, so memory allocated before the probe may come back here).
  static c10::DeleterFnPtr& fallback() {
    static c10::DeleterFnPtr f = nullptr;
    return f;
  }

  static void free(void* data) {
    Block block;
    {
      std::lock_guard<std::mutex> lock(mutex());
      auto it = blocks().find(data);
      if (it == blocks().end()) {
        if (fallback()) fallback()(data);
        return;
      }
      block = std::move(it->second);
      blocks().erase(it);
    }
    block.probe->current -= static_cast<int64_t>(block.bytes);
  }  // block.inner frees the memory here

  c10::DataPtr allocate(std::size_t n) override {
    c10::DataPtr data = inner->allocate(n);
    void* raw = data.get();
    {
      std::lock_guard<std::mutex> lock(mutex());
      blocks()[raw] = Block{shared_from_this(), std::move(data), n};
    }
    const int64_t now = current += static_cast<int64_t>(n);
    int64_t seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    return {raw, raw, &Impl::free, c10::Device(c10::kCPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Impl::free; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
};

CpuMemoryProbe::CpuMemoryProbe() : impl_(std::make_shared<Impl>()) {
  impl_->inner = c10::GetCPUAllocator();
  if (!Impl::fallback()) Impl::fallback() = impl_->inner->raw_deleter();
  c10::SetCPUAllocator(impl_.get(), /*priority=*/100);
}

CpuMemoryProbe::~CpuMemoryProbe() { c10::SetCPUAllocator(impl_->inner, /*priority=*/100); }

int64_t CpuMemoryProbe::peak_bytes() const { return impl_->peak.load(); }

}  // namespace segtrain::tools
