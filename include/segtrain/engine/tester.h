#pragma once
// segtest's run: MMSegmentation's tools/test.py. Alone or under mpirun/srun every rank predicts
// its share of the test split (data.test, else data.val); the metrics are reduced over ranks and
// rank 0 logs them (and writes eval_<timestamp>.json with --work-dir); --show-dir writes each
// prediction in the dataset's palette over the image, one PNG per sample, by the rank that
// predicted it. Collective.
#include "segtrain/dist/world.h"
#include "segtrain/engine/run_options.h"

namespace segtrain::engine {

void test(const TestOptions& options, dist::World& world);

}  // namespace segtrain::engine
