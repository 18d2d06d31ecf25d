#pragma once
// The command line of `segtest`, MMSegmentation's tools/test.py flags:
//   segtest CONFIG CHECKPOINT [--eval mIoU] [--show-dir DIR] [--opacity F] [--aug-test]
//           [--work-dir DIR] [--options KEY=VALUE ...] [--help]
// `--cfg-options` is an alias of `--options`; --eval and --options take several words.
#include <optional>
#include <string>
#include <vector>

namespace segtrain::tools {

struct TestOptions {
  std::string config;
  std::string checkpoint;
  std::vector<std::string> eval;         // metrics; only mIoU (its table holds mIoU, mAcc, aAcc)
  std::optional<std::string> show_dir;   // colourised predictions as PNG files
  double opacity = 0.5;                  // of the palette over the image in show_dir
  bool aug_test = false;                 // MMSeg's multi-scale + flip test
  std::optional<std::string> work_dir;   // where eval_<timestamp>.json goes
  std::vector<std::string> options;
  bool help = false;
};

// Throws a user error naming the offending flag.
TestOptions parse_test_options(int argc, const char* const argv[]);

std::string test_help();

}  // namespace segtrain::tools
