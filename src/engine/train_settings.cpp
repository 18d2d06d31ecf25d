#include "segtrain/engine/train_settings.h"

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"
#include "segtrain/io/work_dir.h"

namespace segtrain::engine {
namespace fs = std::filesystem;
namespace {

// The flag's value, else the config key's; a user error when the file is not there.
std::optional<fs::path> checkpoint_file(const std::optional<std::string>& flag_value, const config::Config& cfg,
                                        const char* key, const char* flag) {
  const auto value = flag_value ? flag_value : cfg.get_optional<std::string>(key);
  if (!value) return std::nullopt;
  if (!fs::is_regular_file(*value))
    throw user_error(*value, std::string(flag_value ? flag : key) + ": no such checkpoint file");
  return fs::path(*value);
}

// log_config.hooks as MMCV builds them: TextLoggerHook (the log segtrain always writes) and
// TensorboardLoggerHook (log_dir, default <work_dir>/tf_logs). Each logs at log_config.interval.
void read_logger_hooks(const config::ConfigNode& log_config, TrainSettings& s) {
  if (!log_config.has("hooks") || log_config.at("hooks").is_null()) return;
  for (const auto& hook : log_config.at("hooks").items()) {
    const std::string type = hook.get<std::string>("type");
    if (type == "TextLoggerHook") {
      hook.check_keys({"type", "by_epoch", "interval", "ignore_last", "reset_flag", "interval_exp_name"});
    } else if (type == "TensorboardLoggerHook") {
      hook.check_keys({"type", "log_dir", "by_epoch", "interval", "ignore_last", "reset_flag"});
      s.tensorboard_dir = hook.has("log_dir") && !hook.at("log_dir").is_null()
                              ? fs::path(hook.get<std::string>("log_dir"))
                              : s.work_dir / "tf_logs";
    } else {
      throw hook.at("type").error("unknown logger hook '" + type +
                                  "'; valid types are 'TextLoggerHook', 'TensorboardLoggerHook'");
    }
    if (hook.has("by_epoch") && hook.get<bool>("by_epoch"))
      throw hook.at("by_epoch").error("segtrain's runs are iteration-based; expected false");
    if (hook.has("interval") && hook.get<int64_t>("interval") != s.log_interval)
      throw hook.at("interval").error("a logger hook of its own interval is not supported; set log_config.interval");
  }
}

}  // namespace

TrainSettings read_train_settings(const config::Config& cfg, const TrainOptions& options) {
  TrainSettings s;
  s.work_dir = io::resolve_work_dir(options.work_dir, cfg);
  s.max_iters = cfg.at("runner").get<int64_t>("max_iters");
  s.schedule = LrSchedule::parse(cfg.has("lr_config") ? cfg.at("lr_config") : config::Config::from_string("{}"),
                                 s.max_iters);
  if (cfg.has("log_config") && !cfg.at("log_config").is_null()) {
    s.log_interval = cfg.at("log_config").get<int64_t>("interval", s.log_interval);
    read_logger_hooks(cfg.at("log_config"), s);
  }
  if (cfg.has("optimizer_config") && cfg.at("optimizer_config").has("grad_clip") &&
      !cfg.at("optimizer_config").at("grad_clip").is_null())
    s.grad_clip_max_norm = cfg.at("optimizer_config").at("grad_clip").get<double>("max_norm");

  const auto ckpt = cfg.has("checkpoint_config") ? cfg.at("checkpoint_config") : cfg.at("runner");
  s.checkpoint_interval = ckpt.get<int64_t>("interval", s.max_iters);
  s.max_keep_ckpts = ckpt.get<int>("max_keep_ckpts", -1);
  s.save_optimizer = ckpt.get<bool>("save_optimizer", true);

  s.validate = !options.no_validate;
  s.eval_interval = s.max_iters;
  if (cfg.has("evaluation")) {
    const auto eval = cfg.at("evaluation");
    s.eval_interval = eval.get<int64_t>("interval", s.max_iters);
    s.save_best = eval.get_optional<std::string>("save_best");
    if (s.save_best == "auto") s.save_best = "mIoU";
    if (s.save_best && *s.save_best != "mIoU" && *s.save_best != "mAcc" && *s.save_best != "aAcc")
      throw eval.at("save_best").error("is '" + *s.save_best + "'; expected mIoU, mAcc, aAcc or auto");
  }

  s.deterministic = options.deterministic;
  // MMSeg's default_runtime sets cudnn_benchmark: True; --deterministic turns it off.
  s.cudnn_benchmark = cfg.get<bool>("cudnn_benchmark", false) && !options.deterministic;
  s.find_unused_parameters = cfg.get<bool>("find_unused_parameters", false);
  // DDP's name and default: the gradient buckets' size in MiB (the first bucket stays at 1 MiB).
  s.bucket_cap_mb = cfg.get<double>("bucket_cap_mb", 25.0);
  if (!(s.bucket_cap_mb > 0 && s.bucket_cap_mb <= 4096))
    throw cfg.at("bucket_cap_mb").error("must be a size in MiB above 0 and at most 4096");
  // DDP's communication hooks that send gradients in 16 bits (register_comm_hook's
  // fp16_compress_hook and bf16_compress_hook), by name.
  if (cfg.has("comm_hook") && !cfg.at("comm_hook").is_null()) {
    s.comm_hook = cfg.get<std::string>("comm_hook");
    if (s.comm_hook != "fp16_compress" && s.comm_hook != "bf16_compress")
      throw cfg.at("comm_hook").error("is '" + s.comm_hook + "'; expected fp16_compress or bf16_compress (DDP's hooks), or null");
  }
  s.seed = options.seed;
  if (!s.seed)
    if (auto seed = cfg.get_optional<int64_t>("seed")) s.seed = static_cast<uint64_t>(*seed);
  s.load_from = checkpoint_file(options.load_from, cfg, "load_from", "--load-from");
  s.resume_from = checkpoint_file(options.resume_from, cfg, "resume_from", "--resume-from");
  s.auto_resume = options.auto_resume;
  return s;
}

}  // namespace segtrain::engine
