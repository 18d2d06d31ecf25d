// segtest: MMSegmentation's tools/test.py, native and MPI-aware. Every rank runs this same main;
// the run itself is engine/tester.h's.
#include <iostream>

#include "segtrain/core/logging.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/tester.h"
#include "segtrain/tools/run_main.h"
#include "segtrain/tools/test_options.h"

using namespace segtrain;

int main(int argc, char** argv) {
  return tools::run_main("segtest", [&] {
    const auto options = tools::parse_test_options(argc, argv);
    if (options.help) {
      std::cout << tools::test_help();
      return 0;
    }
    auto& world = dist::World::init();
    log::init(world.rank());
    engine::test(options, world);
    return 0;
  });
}
