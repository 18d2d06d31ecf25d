#pragma once
// Versions of segtrain and of the libraries it was built with and runs on.
#include <string>
#include <utility>
#include <vector>

namespace segtrain::engine {

// (name, version) pairs: segtrain, torch, MPI, HDF5 and, in CUDA builds, CUDA runtime and NCCL.
// Needs no MPI initialization.
std::vector<std::pair<std::string, std::string>> versions();

}  // namespace segtrain::engine
