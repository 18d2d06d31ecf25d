// segtrain: MMSegmentation's tools/train.py, native and MPI-aware. Every rank runs this same
// main; the run itself is engine/trainer.h's.
#include <iostream>

#include "segtrain/core/logging.h"
#include "segtrain/core/stop_signal.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/environment.h"
#include "segtrain/engine/trainer.h"
#include "segtrain/tools/run_main.h"
#include "segtrain/tools/train_options.h"

using namespace segtrain;

int main(int argc, char** argv) {
  return tools::run_main("segtrain", [&] {
    const auto options = tools::parse_train_options(argc, argv);
    if (options.help) {
      std::cout << tools::train_help();
      return 0;
    }
    if (options.version) {
      for (const auto& [name, version] : engine::versions()) std::cout << name << " " << version << "\n";
      return 0;
    }
    auto& world = dist::World::init();
    install_stop_signal_handlers();  // after MPI's own; a notice during setup still ends in a checkpoint
    log::init(world.rank());
    if (options.print_config) {
      engine::print_config(options, world);
      return 0;
    }
    engine::Trainer(options, world).train();
    return 0;
  });
}
