#include "segtrain/tools/test_options.h"

#include "segtrain/core/error.h"
#include "segtrain/tools/command_line.h"

namespace segtrain::tools {
namespace {

const std::vector<std::string> kFlags = {"--eval", "--show-dir", "--opacity", "--aug-test", "--work-dir",
                                         "--options", "--cfg-options", "--help"};

cxxopts::Options make_parser() {
  cxxopts::Options o("segtest", "Evaluate a checkpoint and write colourised predictions (MPI-native)");
  o.custom_help("CONFIG CHECKPOINT [options]");
  o.positional_help("");
  o.add_options()
      ("config", "the config file (YAML)", cxxopts::value<std::string>())
      ("checkpoint", "the checkpoint file (.pth)", cxxopts::value<std::string>())
      ("eval", "metrics to evaluate: mIoU (logs mIoU, mAcc, aAcc and the per-class table)",
       cxxopts::value<std::vector<std::string>>(), "METRIC ...")
      ("show-dir", "write each prediction, in the dataset's palette over the image, as DIR/<name>.png",
       cxxopts::value<std::string>(), "DIR")
      ("opacity", "opacity of the palette over the image in --show-dir, in (0, 1]",
       cxxopts::value<double>()->default_value("0.5"), "F")
      ("aug-test", "multi-scale (0.5-1.75) and flip test")
      ("work-dir", "write the metrics as DIR/eval_<timestamp>.json", cxxopts::value<std::string>(), "DIR")
      ("options", "override config keys (alias --cfg-options)", cxxopts::value<std::vector<std::string>>(),
       "KEY=VALUE ...")
      ("h,help", "show this help and exit");
  o.parse_positional({"config", "checkpoint"});
  return o;
}

bool is_key_value(const std::string& word) { return word.find('=') != std::string::npos; }
bool is_metric(const std::string& word) { return word.find('=') == std::string::npos; }

}  // namespace

engine::TestOptions parse_test_options(int argc, const char* const argv[]) {
  auto args = expand_multi_value({argv, argv + argc}, {{"--options", "--options"}, {"--cfg-options", "--options"}},
                                 is_key_value, "one or more KEY=VALUE");
  args = expand_multi_value(args, {{"--eval", "--eval"}}, is_metric, "one or more metrics (mIoU)");
  check_known_flags(args, kFlags, "segtest");
  auto parser = make_parser();
  const auto r = parse_args(parser, args);
  engine::TestOptions o;
  o.help = r.count("help") > 0;
  if (o.help) return o;
  if (!r.unmatched().empty()) throw user_error(r.unmatched().front(), "unexpected argument");
  if (!r.count("config") || !r.count("checkpoint"))
    throw user_error("command line", "missing CONFIG and CHECKPOINT; see segtest --help");
  o.config = r["config"].as<std::string>();
  o.checkpoint = r["checkpoint"].as<std::string>();
  if (r.count("eval")) o.eval = r["eval"].as<std::vector<std::string>>();
  for (const auto& metric : o.eval)
    if (metric != "mIoU") throw user_error("--eval", "unsupported metric '" + metric + "' (supported: mIoU)");
  if (r.count("show-dir")) o.show_dir = r["show-dir"].as<std::string>();
  o.opacity = r["opacity"].as<double>();
  if (!(o.opacity > 0 && o.opacity <= 1)) throw user_error("--opacity", "must be in (0, 1]");
  o.aug_test = r.count("aug-test") > 0;
  if (r.count("work-dir")) o.work_dir = r["work-dir"].as<std::string>();
  if (r.count("options")) o.options = r["options"].as<std::vector<std::string>>();
  if (o.eval.empty() && !o.show_dir)
    throw user_error("command line", "nothing to do: give --eval mIoU and/or --show-dir DIR (as MMSeg's test.py asks)");
  for (const auto* flag : {"show-dir", "work-dir"})
    if (r.count(flag) && r[flag].as<std::string>().empty())
      throw user_error(std::string("--") + flag, "expects a non-empty value");
  return o;
}

std::string test_help() { return make_parser().help(); }

}  // namespace segtrain::tools
