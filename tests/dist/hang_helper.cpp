// For the dead-rank test: every rank prints "ready <rank> <pid>" and then allreduces forever,
// the way a training job would, until something kills it.
#include <unistd.h>

#include <ATen/ATen.h>

#include <iostream>

#include "segtrain/dist/communicator.h"
#include "segtrain/dist/world.h"

int main() {
  auto& world = segtrain::dist::World::init();
  auto comm = segtrain::dist::make_communicator(world, c10::Device(c10::kCPU));
  at::Tensor t = at::ones({1024});
  comm->allreduce(t, segtrain::dist::ReduceOp::Sum);
  std::cout << "ready " << world.rank() << " " << ::getpid() << std::endl;
  while (true) {
    comm->allreduce(t, segtrain::dist::ReduceOp::Avg);
    ::usleep(1000);
  }
}
