// gtest main for the `dist` suite: every rank runs every test in the same order (the tests
// call collectives), under `mpirun -np N`. Prefer EXPECT_* to ASSERT_*: a rank that leaves a
// test early would leave the others waiting in a collective.
#include <gtest/gtest.h>

#include <iostream>

#include "dist_test_env.h"
#include "segtrain/core/logging.h"

namespace segtrain::testing {

dist::World& world() { return dist::World::get(); }

std::shared_ptr<dist::Communicator> cpu_comm() {
  static auto comm = dist::make_communicator(world(), c10::Device(c10::kCPU));
  return comm;
}

// On ranks other than 0: only failures, each marked with the rank.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.failed())
      std::cerr << "[rank " << rank_ << "] " << (r.file_name() ? r.file_name() : "?") << ":" << r.line_number()
                << ": " << r.summary() << std::endl;
  }

 private:
  int rank_;
};

}  // namespace segtrain::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto& world = segtrain::dist::World::init();
  segtrain::log::init(world.rank());
  if (world.rank() != 0) {  // one full report is enough
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new segtrain::testing::RankFailurePrinter(world.rank()));
  }
  int failed = RUN_ALL_TESTS();
  failed = world.max(failed);  // the job fails if any rank failed
  return failed;
}
