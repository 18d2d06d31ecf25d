#pragma once
// The device of this rank: a GPU of its own when it sees any (and CUDA is built), else the CPU.
#include <c10/core/Device.h>

#include <string>
#include <vector>

#include "segtrain/dist/world.h"

namespace segtrain::dist {

// Collective over the ranks of this node. Picks this rank's GPU, makes it the current CUDA device
// (before any other CUDA call, so no context lands on GPU 0 of every rank), and checks that no
// two ranks of the node took the same GPU: a user error names them.
c10::Device select_device(const World& world);

// Which of its `visible` GPUs a rank takes: its local rank when every rank sees at least one GPU
// per rank of the node (mpirun's plain case), else its first (a launcher that gave each rank its
// own GPUs: `srun --gpus-per-task=1`, CUDA_VISIBLE_DEVICES=$LOCAL_RANK wrappers).
int gpu_index_for(int local_rank, int local_size, int visible);

// A user error unless the ranks of a node took different GPUs. `gpu_ids`: the UUID of each local
// rank's GPU, in local-rank order; `visible`: how many GPUs this rank sees, for the message.
void check_one_rank_per_gpu(const std::vector<std::string>& gpu_ids, int visible);

}  // namespace segtrain::dist
