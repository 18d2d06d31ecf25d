#include "segtrain/config/schema.h"

namespace segtrain::config {
namespace {

// MMSegmentation's top-level names, including its helper variables (img_norm_cfg, crop_size,
// SegFormer's `checkpoint`, Swin's `checkpoint_file` and `backbone_norm_cfg`...).
const std::vector<std::string> kTopLevel = {
    "model", "data", "optimizer", "optimizer_config", "lr_config", "runner", "checkpoint_config",
    "evaluation", "log_config", "log_level", "work_dir", "load_from", "resume_from", "workflow",
    "cudnn_benchmark", "dist_params", "seed", "deterministic", "find_unused_parameters",
    "bucket_cap_mb", "comm_hook", "checkpoint", "checkpoint_file", "backbone_norm_cfg",
    "dataset_type", "data_root", "img_norm_cfg", "crop_size", "train_pipeline", "test_pipeline",
    "norm_cfg", "custom_hooks", "gpu_ids", "total_iters", "device", "fp16", "channels_last"};

const std::vector<std::string> kRunner = {"type", "max_iters"};
const std::vector<std::string> kEvaluation = {"interval", "metric", "save_best", "pre_eval", "by_epoch",
                                              "batch_size", "efficient_test"};
const std::vector<std::string> kCheckpoint = {"by_epoch", "interval", "max_keep_ckpts", "save_optimizer",
                                              "save_last"};
const std::vector<std::string> kLog = {"interval", "hooks"};
const std::vector<std::string> kOptimizer = {"type", "lr", "momentum", "weight_decay", "nesterov",
                                             "betas", "eps", "paramwise_cfg"};
const std::vector<std::string> kOptimizerConfig = {"type", "grad_clip", "loss_scale"};
const std::vector<std::string> kLr = {"policy", "power", "min_lr", "min_lr_ratio", "by_epoch", "warmup",
                                      "warmup_iters", "warmup_ratio", "step", "gamma"};

void check_section(const Config& cfg, const char* key, const std::vector<std::string>& allowed) {
  if (!cfg.has(key) || cfg.at(key).is_null()) return;
  ConfigNode section = cfg.at(key);
  if (!section.is_map()) throw section.error("expected a map, got " + describe(section.yaml()));
  section.check_keys(allowed);
}

void check_positive(const Config& cfg, const char* section, const char* key) {
  if (!cfg.has(section) || !cfg.at(section).has(key)) return;
  ConfigNode node = cfg.at(section).at(key);
  if (node.as<int64_t>() <= 0) throw node.error("expected a positive int, got " + node.yaml().Scalar());
}

}  // namespace

void validate_train_config(const Config& cfg) {
  std::vector<std::string> allowed = kTopLevel;
  for (const auto& key : cfg.keys())
    if (!key.empty() && key[0] == '_') allowed.push_back(key);
  cfg.check_keys(allowed);
  // MMSeg's iteration-based runner is the only one; an EpochBasedRunner config is refused, not
  // trained by iterations it does not have.
  if (cfg.has("runner") && cfg.at("runner").has("type") && cfg.at("runner").get<std::string>("type") != "IterBasedRunner")
    throw cfg.at("runner").at("type").error("is '" + cfg.at("runner").get<std::string>("type") +
                                            "'; valid types are 'IterBasedRunner'");
  check_section(cfg, "runner", kRunner);
  check_section(cfg, "evaluation", kEvaluation);
  check_section(cfg, "checkpoint_config", kCheckpoint);
  check_section(cfg, "log_config", kLog);
  check_section(cfg, "optimizer", kOptimizer);
  check_section(cfg, "optimizer_config", kOptimizerConfig);
  check_section(cfg, "lr_config", kLr);
  check_positive(cfg, "runner", "max_iters");
  check_positive(cfg, "evaluation", "interval");
  check_positive(cfg, "checkpoint_config", "interval");
  check_positive(cfg, "log_config", "interval");
  if (cfg.has("optimizer") && cfg.at("optimizer").has("lr")) cfg.at("optimizer").get<double>("lr");
  cfg.get_optional<std::string>("work_dir");
  cfg.get_optional<int64_t>("seed");
  cfg.get_optional<std::string>("load_from");
  cfg.get_optional<std::string>("resume_from");
}

}  // namespace segtrain::config
