#pragma once
// Where the ranks of a job run: each rank's node (hostname), local rank and device, gathered on
// rank 0 for the log, so a multi-node job shows at its start that every node got the ranks and
// GPUs it was meant to.
#include <c10/core/Device.h>

#include <string>

#include "segtrain/dist/world.h"

namespace segtrain::dist {

// Collective. On rank 0: one line per node (nodes in the order of their first rank), e.g.
// "node1: rank 0 (local 0, cuda:0), rank 1 (local 1, cuda:1)"; on the other ranks: empty.
std::string describe_rank_placement(const World& world, const c10::Device& device);

}  // namespace segtrain::dist
