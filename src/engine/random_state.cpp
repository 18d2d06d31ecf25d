#include "segtrain/engine/random_state.h"

#include <ATen/CPUGeneratorImpl.h>

#include "segtrain/core/error.h"
#include "segtrain_build_config.h"
#if SEGTRAIN_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

namespace segtrain::engine {

RandomState capture_random_state(c10::Device device) {
  RandomState s;
  s.cpu = at::detail::getDefaultCPUGenerator().get_state();
#if SEGTRAIN_WITH_CUDA
  if (device.is_cuda()) s.cuda = at::cuda::detail::getDefaultCUDAGenerator(device.index()).get_state();
#endif
  (void)device;
  return s;
}

void restore_random_state(const RandomState& state, c10::Device device, const std::string& where) {
  try {
    at::Generator cpu = at::detail::getDefaultCPUGenerator();  // a handle to the global one
    cpu.set_state(state.cpu);
  } catch (const std::exception&) {
    throw user_error(where, "key 'rng': not a state of torch's CPU generator");
  }
#if SEGTRAIN_WITH_CUDA
  if (!device.is_cuda() || !state.cuda.defined()) return;  // a GPU run resumed on the CPU, or the reverse
  try {
    at::Generator cuda = at::cuda::detail::getDefaultCUDAGenerator(device.index());
    cuda.set_state(state.cuda);
  } catch (const std::exception&) {
    throw user_error(where, "key 'cuda_rng': not a state of torch's CUDA generator");
  }
#else
  (void)device;
#endif
}

}  // namespace segtrain::engine
