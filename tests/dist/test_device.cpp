// Which GPU a rank takes (dist/device.h): one per rank, whatever the launcher made visible.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "segtrain/core/error.h"
#include "segtrain/dist/device.h"
#include "segtrain_build_config.h"
#if SEGTRAIN_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

using namespace segtrain;

TEST(Device, EveryGpuVisibleTakesTheLocalRanks) {
  // mpirun with 4 ranks on a node of 8 GPUs, each rank seeing all of them.
  EXPECT_EQ(dist::gpu_index_for(0, 4, 8), 0);
  EXPECT_EQ(dist::gpu_index_for(3, 4, 8), 3);
  EXPECT_EQ(dist::gpu_index_for(3, 4, 4), 3);
}

TEST(Device, OneGpuPerRankTakesItsFirst) {
  // srun --gpus-per-task=1 or CUDA_VISIBLE_DEVICES=$LOCAL_RANK: each rank sees its own GPU only.
  EXPECT_EQ(dist::gpu_index_for(5, 8, 1), 0);
  EXPECT_EQ(dist::gpu_index_for(1, 4, 2), 0);
}

TEST(Device, DistinctGpusPass) {
  EXPECT_NO_THROW(dist::check_one_rank_per_gpu({"GPU-a", "GPU-b", "GPU-c"}, 1));
  EXPECT_NO_THROW(dist::check_one_rank_per_gpu({"GPU-a"}, 8));
}

TEST(Device, TwoRanksOnOneGpuIsAUserErrorNamingThem) {
  // Eight ranks that all see the same single GPU: each would take its first, the same one.
  try {
    dist::check_one_rank_per_gpu({"GPU-a", "GPU-b", "GPU-a"}, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("CUDA_VISIBLE_DEVICES"), std::string::npos) << what;
    EXPECT_NE(what.find("local ranks 0 and 2"), std::string::npos) << what;
    EXPECT_NE(what.find("GPU-a"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(Device, TheTakenGpuIsTheCurrentDevice) {
  // Collective (every rank calls it). With a GPU: the current CUDA device is set before anything
  // else touches CUDA; without one (or in a build without CUDA): the CPU.
  const c10::Device device = dist::select_device(dist::World::get());
#if SEGTRAIN_WITH_CUDA
  if (torch::cuda::is_available()) {
    ASSERT_TRUE(device.is_cuda());
    EXPECT_EQ(c10::cuda::current_device(), device.index());
    return;
  }
#endif
  EXPECT_TRUE(device.is_cpu());
}
