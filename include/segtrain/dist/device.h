#pragma once
// The device of this rank: cuda:<local rank> among the visible GPUs, else the CPU.
#include <c10/core/Device.h>

#include "segtrain/dist/world.h"

namespace segtrain::dist {

// A user error when this node runs more ranks than it has visible GPUs.
c10::Device select_device(const World& world);

}  // namespace segtrain::dist
