#pragma once
// The random generators a resumed run continues from where the saved run stopped: torch's CPU
// generator and, on a GPU, that device's CUDA generator (dropout on the device draws from it).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>

namespace segtrain::engine {

struct RandomState {
  at::Tensor cpu;   // torch's CPU generator (uint8)
  at::Tensor cuda;  // the CUDA generator of the run's device; undefined for a CPU run
};

RandomState capture_random_state(c10::Device device);

// Puts `state` back. A CUDA state is used on a CUDA device and left aside on the CPU; a state
// that is not one of torch's generators is a user error naming `where` and the key.
void restore_random_state(const RandomState& state, c10::Device device, const std::string& where);

}  // namespace segtrain::engine
