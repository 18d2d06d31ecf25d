#pragma once
// What the command line asks of a run, as MMSegmentation's tools/train.py and tools/test.py take
// it (tools/*_options.h parse it; the engine gives it meaning).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segtrain::engine {

struct TrainOptions {
  std::string config;
  std::optional<std::string> work_dir;
  std::optional<std::string> load_from;
  std::optional<std::string> resume_from;
  bool auto_resume = false;
  bool no_validate = false;
  std::optional<uint64_t> seed;
  bool deterministic = false;
  std::vector<std::string> options;  // --options KEY=VALUE
  bool print_config = false;
  bool help = false;
  bool version = false;
};

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

}  // namespace segtrain::engine
