#pragma once
// The command line of `segtrain`, MMSegmentation's tools/train.py flags:
//   segtrain CONFIG [--work-dir DIR] [--load-from FILE | --resume-from FILE] [--auto-resume]
//            [--no-validate] [--seed N] [--deterministic] [--options KEY=VALUE ...]
//            [--print-config] [--help] [--version]
// `--cfg-options` is an alias of `--options`; both take one or more KEY=VALUE words, as
// MMSeg's nargs='+' does, and may be repeated.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segtrain::tools {

struct TrainOptions {
  std::string config;
  std::optional<std::string> work_dir;
  std::optional<std::string> load_from;
  std::optional<std::string> resume_from;
  bool auto_resume = false;
  bool no_validate = false;
  std::optional<uint64_t> seed;
  bool deterministic = false;
  std::vector<std::string> options;
  bool print_config = false;
  bool help = false;
  bool version = false;
};

// Throws a user error naming the offending flag (unknown flag, missing value, conflicts).
TrainOptions parse_train_options(int argc, const char* const argv[]);

std::string train_help();

}  // namespace segtrain::tools
