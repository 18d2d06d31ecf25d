#include "segtrain/dist/device.h"

#include <torch/cuda.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "segtrain/core/error.h"
#include "segtrain_build_config.h"
#include "world_comm.h"
#if SEGTRAIN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace segtrain::dist {
namespace {

#if SEGTRAIN_WITH_CUDA
std::string uuid_of(int index) {
  const cudaDeviceProp* props = at::cuda::getDeviceProperties(index);
  static const char* hex = "0123456789abcdef";
  std::string out = "GPU-";
  for (const char byte : props->uuid.bytes) {
    const auto b = static_cast<unsigned char>(byte);
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}
#endif

// Every rank of this node's string, in local-rank order (strings of at most 63 bytes).
std::vector<std::string> gather_on_node(const World& world, const std::string& mine) {
  MPI_Comm node;
  if (MPI_Comm_split_type(mpi_comm(world), MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL, &node) != MPI_SUCCESS)
    throw runtime_error("MPI", "MPI_Comm_split_type failed");
  constexpr int kWidth = 64;
  char padded[kWidth] = {};
  std::strncpy(padded, mine.c_str(), kWidth - 1);
  std::vector<char> all(static_cast<size_t>(kWidth) * world.local_size());
  const int rc = MPI_Allgather(padded, kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, node);
  MPI_Comm_free(&node);
  if (rc != MPI_SUCCESS) throw runtime_error("MPI", "MPI_Allgather of the ranks' GPUs failed");
  std::vector<std::string> out;
  for (int r = 0; r < world.local_size(); ++r) out.emplace_back(all.data() + static_cast<size_t>(r) * kWidth);
  return out;
}

}  // namespace

int gpu_index_for(int local_rank, int local_size, int visible) { return visible >= local_size ? local_rank : 0; }

void check_one_rank_per_gpu(const std::vector<std::string>& gpu_ids, int visible) {
  std::map<std::string, int> first_rank;
  for (int r = 0; r < static_cast<int>(gpu_ids.size()); ++r) {
    const auto [it, fresh] = first_rank.emplace(gpu_ids[r], r);
    if (!fresh)
      throw user_error("CUDA_VISIBLE_DEVICES", "local ranks " + std::to_string(it->second) + " and " +
                                                   std::to_string(r) + " would share GPU " + gpu_ids[r] + " (" +
                                                   std::to_string(gpu_ids.size()) + " ranks on this node, " +
                                                   std::to_string(visible) +
                                                   " visible GPU(s)); start at most one rank per GPU");
  }
}

c10::Device select_device(const World& world) {
#if SEGTRAIN_WITH_CUDA
  // Every rank of the node takes part in the exchange, also one that sees no GPU.
  const int visible = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  const int index = gpu_index_for(world.local_rank(), world.local_size(), visible);
  if (visible > 0) c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
  const auto ids = gather_on_node(world, visible > 0 ? uuid_of(index) : std::string());
  const bool any_gpu = std::any_of(ids.begin(), ids.end(), [](const std::string& id) { return !id.empty(); });
  if (!any_gpu) return c10::Device(c10::kCPU);
  // Every rank of the node decides from the same ids, so all of them stop or none does.
  const auto blind = std::find(ids.begin(), ids.end(), std::string());
  if (blind != ids.end())
    throw user_error("CUDA_VISIBLE_DEVICES", "local rank " + std::to_string(blind - ids.begin()) +
                                                 " sees no GPU while other ranks of its node do");
  check_one_rank_per_gpu(ids, visible);
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
#else
  (void)world;
  return c10::Device(c10::kCPU);  // a build without CUDA trains on the CPU even where GPUs are
#endif
}

}  // namespace segtrain::dist
