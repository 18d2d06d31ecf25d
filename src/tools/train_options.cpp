#include "segtrain/tools/train_options.h"

#include <charconv>

#include "segtrain/core/error.h"
#include "segtrain/tools/command_line.h"

namespace segtrain::tools {
namespace {

const std::vector<std::string> kFlags = {"--work-dir", "--load-from", "--resume-from", "--auto-resume",
                                         "--no-validate", "--seed", "--deterministic", "--options",
                                         "--cfg-options", "--print-config", "--help", "--version"};

cxxopts::Options make_parser() {
  cxxopts::Options o("segtrain", "Train a semantic segmentation model (MMSegmentation configs, MPI-native)");
  o.custom_help("CONFIG [options]");
  o.positional_help("");
  o.add_options()
      ("config", "the config file (YAML)", cxxopts::value<std::string>())
      ("work-dir", "the folder for logs and checkpoints (default: config work_dir, else work_dirs/<config stem>)",
       cxxopts::value<std::string>(), "DIR")
      ("load-from", "load weights only, start from iteration 0", cxxopts::value<std::string>(), "FILE")
      ("resume-from", "resume weights, optimizer, iteration and sampler from a checkpoint",
       cxxopts::value<std::string>(), "FILE")
      ("auto-resume", "resume from the newest intact checkpoint in the work_dir, if any")
      ("no-validate", "do not evaluate during training")
      ("seed", "random seed (default: drawn on rank 0 and logged)", cxxopts::value<std::string>(), "N")
      ("deterministic",
       "deterministic algorithms on the CPU (bitwise-repeatable runs), cuDNN's deterministic mode on a GPU")
      ("options", "override config keys, e.g. model.backbone.with_cp=True (alias --cfg-options)",
       cxxopts::value<std::vector<std::string>>(), "KEY=VALUE ...")
      ("print-config", "print the merged config (after overrides) as YAML and exit")
      ("h,help", "show this help and exit")
      ("version", "print segtrain, torch, MPI, HDF5, CUDA and NCCL versions and exit");
  o.parse_positional({"config"});
  return o;
}

bool is_key_value(const std::string& word) { return word.find('=') != std::string::npos; }

// Read here, not by cxxopts, so that a bad value's error names the flag.
uint64_t parse_seed(const std::string& text) {
  uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw user_error("--seed", "expects a non-negative integer, got '" + text + "'");
  return seed;
}

template <typename T> std::optional<T> optional_value(const cxxopts::ParseResult& r, const char* key) {
  if (!r.count(key)) return std::nullopt;
  return r[key].as<T>();
}

}  // namespace

engine::TrainOptions parse_train_options(int argc, const char* const argv[]) {
  const auto args = expand_multi_value({argv, argv + argc}, {{"--options", "--options"}, {"--cfg-options", "--options"}},
                                       is_key_value, "one or more KEY=VALUE");
  check_known_flags(args, kFlags, "segtrain");
  auto parser = make_parser();
  const auto r = parse_args(parser, args);
  engine::TrainOptions o;
  o.help = r.count("help") > 0;
  o.version = r.count("version") > 0;
  if (o.help || o.version) return o;
  if (!r.unmatched().empty())
    throw user_error(r.unmatched().front(), "unexpected argument (only one CONFIG is taken)");
  if (!r.count("config")) throw user_error("command line", "missing CONFIG; see segtrain --help");
  o.config = r["config"].as<std::string>();
  o.work_dir = optional_value<std::string>(r, "work-dir");
  o.load_from = optional_value<std::string>(r, "load-from");
  o.resume_from = optional_value<std::string>(r, "resume-from");
  o.auto_resume = r.count("auto-resume") > 0;
  o.no_validate = r.count("no-validate") > 0;
  if (r.count("seed")) o.seed = parse_seed(r["seed"].as<std::string>());
  o.deterministic = r.count("deterministic") > 0;
  o.print_config = r.count("print-config") > 0;
  if (r.count("options")) o.options = r["options"].as<std::vector<std::string>>();
  if (o.load_from && o.resume_from)
    throw user_error("--load-from", "cannot be used together with --resume-from (choose one)");
  for (const auto* flag : {"work-dir", "load-from", "resume-from"})
    if (r.count(flag) && r[flag].as<std::string>().empty())
      throw user_error(std::string("--") + flag, "expects a non-empty value");
  return o;
}

std::string train_help() { return make_parser().help(); }

}  // namespace segtrain::tools
