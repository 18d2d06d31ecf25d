#pragma once
// The command line of `segtrain`, MMSegmentation's tools/train.py flags:
//   segtrain CONFIG [--work-dir DIR] [--load-from FILE | --resume-from FILE] [--auto-resume]
//            [--no-validate] [--seed N] [--deterministic] [--options KEY=VALUE ...]
//            [--print-config] [--help] [--version]
// `--cfg-options` is an alias of `--options`; both take one or more KEY=VALUE words, as
// MMSeg's nargs='+' does, and may be repeated.
#include <string>

#include "segtrain/engine/run_options.h"

namespace segtrain::tools {

// Throws a user error naming the offending flag (unknown flag, missing value, conflicts).
engine::TrainOptions parse_train_options(int argc, const char* const argv[]);

std::string train_help();

}  // namespace segtrain::tools
