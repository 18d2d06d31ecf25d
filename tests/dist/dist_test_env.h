#pragma once
#include <memory>

#include "segtrain/dist/communicator.h"
#include "segtrain/dist/world.h"

namespace segtrain::testing {

dist::World& world();
// One MPI communicator shared by the tests (made on first use, collectively).
std::shared_ptr<dist::Communicator> cpu_comm();

}  // namespace segtrain::testing
