#include "segtrain/dist/device.h"

#include <torch/cuda.h>

#include "segtrain/core/error.h"

namespace segtrain::dist {

c10::Device select_device(const World& world) {
  if (!torch::cuda::is_available()) return c10::Device(c10::kCPU);
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  if (world.local_size() > gpus)
    throw user_error("rank " + std::to_string(world.rank()),
                     std::to_string(world.local_size()) + " ranks on this node but only " + std::to_string(gpus) +
                         " visible GPU(s); start at most one rank per GPU (check CUDA_VISIBLE_DEVICES)");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank()));
}

}  // namespace segtrain::dist
