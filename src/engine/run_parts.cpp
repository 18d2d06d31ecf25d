#include "segtrain/engine/run_parts.h"

#include <c10/util/StringUtil.h>

#include "segtrain/config/schema.h"
#include "segtrain/core/error.h"
#include "segtrain/core/logging.h"
#include "segtrain/dist/collective_watchdog.h"
#include "segtrain/dist/device.h"
#include "segtrain/io/checkpoint/checkpoint_file.h"
#include "segtrain/io/checkpoint/checkpoint_store.h"
#include "segtrain/models/memory_format.h"
#include "segtrain/models/pretrained.h"
#include "segtrain/models/registry.h"
#include "segtrain/models/weights.h"

namespace segtrain::engine {

LoadedConfig load_config(const std::string& file, const std::vector<std::string>& options, bool validate) {
  LoadedConfig loaded{config::Config::load(file), {}};
  loaded.warnings = loaded.cfg.apply_overrides(options);
  if (validate) config::validate_train_config(loaded.cfg);
  return loaded;
}

namespace {

// MMCV's load_checkpoint(strict=False) says what it left out; so do we.
void warn_of_what_did_not_load(const std::string& where, const models::LoadReport& report) {
  if (!report.missing.empty()) log::warn(c10::str("missing keys in ", where, ": ", c10::Join(", ", report.missing)));
  if (!report.mismatched.empty()) log::warn(c10::str("size mismatch (skipped): ", c10::Join("; ", report.mismatched)));
  if (!report.unexpected.empty())
    log::warn(c10::str("unexpected keys in ", where, " (ignored): ", c10::Join(", ", report.unexpected)));
}

// dist_params.timeout, in seconds (torch's init_process_group(timeout=...), default 30 min), and
// dist_params.collectives_on_one_rank (a test switch: SyncBN and the reducer communicate alone).
dist::CommunicatorOptions communicator_options(const config::Config& cfg) {
  dist::CommunicatorOptions options;
  if (!cfg.has("dist_params")) return options;
  const auto node = cfg.at("dist_params");
  if (node.has("timeout")) {
    const int64_t seconds = node.get<int64_t>("timeout");
    if (seconds <= 0) throw node.at("timeout").error("must be a number of seconds > 0");
    options.timeout = std::chrono::seconds(seconds);
  }
  options.collectives_on_one_rank = node.get<bool>("collectives_on_one_rank", false);
  return options;
}

}  // namespace

ModelOnDevice build_model(const config::Config& cfg, const dist::World& world, const data::ShardDataset& dataset,
                          const std::filesystem::path& dataset_dir) {
  ModelOnDevice m;
  m.device = dist::select_device(world);
  const dist::CommunicatorOptions options = communicator_options(cfg);
  dist::watch_collectives(world, options.timeout);
  m.comm = dist::make_communicator(world, m.device, options);  // collective
  m.model = models::build_segmentor(cfg.at("model"), m.comm);
  models::check_num_classes(cfg.at("model"), m.model, dataset.info().classes.size(), dataset_dir.string());
  m.model->to(m.device);
  m.channels_last = cfg.get<bool>("channels_last", false);
  if (m.channels_last) models::to_channels_last(*m.model);
  return m;
}

void load_weights_from(models::EncoderDecoder& model, const dist::World& world, const std::filesystem::path& file,
                       bool strict) {
  const std::string where = file.string();
  const auto report = models::load_weights(*model, io::decode_weights(io::read_on_main(world, file), where));
  if (strict && (!report.missing.empty() || !report.mismatched.empty()))
    // A test of a partly loaded model would report a meaningless score.
    throw user_error(where, "does not fit the config's model (" +
                                (report.missing.empty() ? report.mismatched.front() : "missing " + report.missing.front()) +
                                ")");
  if (!strict && report.loaded == 0)  // training "from" it would silently train from scratch
    throw user_error(where, "none of its tensors fits the model by name and shape (e.g. " +
                                (report.mismatched.empty() ? "unexpected " + report.unexpected.front()
                                                           : report.mismatched.front()) +
                                "); nothing to load");
  if (!strict) log::info(c10::str("load_from ", where, ": ", report.loaded, " tensors loaded"));
  warn_of_what_did_not_load(where, report);  // strict: only unexpected keys are left to tell
}

void load_pretrained_backbone(const config::Config& cfg, models::EncoderDecoder& model, const dist::World& world) {
  const auto spec = models::pretrained_of(cfg.at("model"));
  if (!spec) return;
  world.run_on_main([&] {
    const auto file = models::resolve_pretrained(*spec);
    const std::string where = file.string();
    const auto report = models::load_pretrained(*model->backbone, io::read_weights(file), where);
    log::info(c10::str("backbone from ", spec->checkpoint, " (", where, "): ", report.loaded, " tensors loaded"));
    warn_of_what_did_not_load(where, report);
  });
}

eval::EvalData eval_data(std::shared_ptr<data::ShardDataset> dataset, const data::SplitConfig& split,
                         const data::DataConfig& data_cfg, const c10::Device& device, int batch_size, uint64_t seed) {
  return {std::move(dataset), split.pipeline,
          {.batch_size = batch_size, .workers = std::max(1, data_cfg.workers_per_gpu), .prefetch = 2, .seed = seed,
           .pin_memory = device.is_cuda()}};
}

}  // namespace segtrain::engine
