#pragma once
// The command line of `segtest`, MMSegmentation's tools/test.py flags:
//   segtest CONFIG CHECKPOINT [--eval mIoU] [--show-dir DIR] [--opacity F] [--aug-test]
//           [--work-dir DIR] [--options KEY=VALUE ...] [--help]
// `--cfg-options` is an alias of `--options`; --eval and --options take several words.
#include <string>

#include "segtrain/engine/run_options.h"

namespace segtrain::tools {

// Throws a user error naming the offending flag.
engine::TestOptions parse_test_options(int argc, const char* const argv[]);

std::string test_help();

}  // namespace segtrain::tools
