#include "segtrain/engine/trainer.h"

#include <c10/util/StringUtil.h>
#include <torch/version.h>

#include <algorithm>
#include <iostream>
#include <random>

#include "segtrain/core/logging.h"
#include "segtrain/dist/rank_placement.h"
#include "segtrain/dist/shared_folder.h"
#include "segtrain/engine/environment.h"
#include "segtrain/engine/hooks/checkpoint_hook.h"
#include "segtrain/engine/hooks/logger_hook.h"
#include "segtrain/engine/hooks/lr_hook.h"
#include "segtrain/engine/hooks/preemption_hook.h"
#include "segtrain/io/work_dir.h"
#include "segtrain_build_config.h"

namespace segtrain::engine {
namespace fs = std::filesystem;
namespace {

// The settings' seed, else one drawn on rank 0 (within 2**31, as MMSeg); the same on every rank.
uint64_t resolve_seed(const std::optional<uint64_t>& seed, const dist::World& world) {
  if (seed) return *seed;
  return world.broadcast(std::random_device{}() & 0x7fffffff);
}

// What every checkpoint's meta carries (MMSeg's: config, seed, CLASSES, PALETTE, versions).
nlohmann::json checkpoint_meta(const config::Config& cfg, uint64_t seed, const data::DatasetInfo& info) {
  nlohmann::json palette = nlohmann::json::array();
  for (const auto& c : info.palette) palette.push_back({c[0], c[1], c[2]});
  return {{"config", cfg.dump()}, {"seed", seed}, {"CLASSES", info.classes}, {"PALETTE", palette},
          {"segtrain_version", SEGTRAIN_VERSION}, {"torch_version", TORCH_VERSION}};
}

}  // namespace

void print_config(const TrainOptions& options, const dist::World& world) {
  const auto loaded = load_config(options.config, options.options, /*validate=*/false);
  if (world.is_main()) std::cout << loaded.cfg.dump() << std::flush;
}

Trainer::Trainer(const TrainOptions& options, dist::World& world)
    : world_(world), loaded_(load_config(options.config, options.options)), cfg_(loaded_.cfg),
      settings_(read_train_settings(cfg_, options)), data_cfg_(data::parse_data_config(cfg_.at("data"))) {
  // The data: pipelines built, shards opened and checked (every rank reads its own part later).
  if (!data_cfg_.train) throw cfg_.at("data").error("missing key 'data.train'");
  train_set_ = std::make_shared<data::ShardDataset>(data_cfg_.train->dir);
  if (data_cfg_.val && settings_.validate) val_set_ = std::make_shared<data::ShardDataset>(data_cfg_.val->dir);
  // Seeded before the model is made: its initial weights (rank 0's, broadcast) follow the seed.
  seed_ = resolve_seed(settings_.seed, world_);
  torch::manual_seed(seed_);
  parts_ = build_model(cfg_, world_, *train_set_, data_cfg_.train->dir);  // collective
  // Before load_from and resume_from, which replace its weights, as in MMSeg.
  load_pretrained_backbone(cfg_, parts_.model, world_);  // collective
  optimizer_ = build_optimizer(cfg_.at("optimizer"), *parts_.model);
  precision_ = read_precision(cfg_, parts_.device);
  if (precision_.loss_scaler) loss_scaler_ = std::make_unique<LossScaler>(*precision_.loss_scaler, parts_.device);
  if (settings_.deterministic) {
    // MMSeg's set_random_seed(deterministic=True) sets cuDNN's deterministic mode only. torch's
    // deterministic algorithms would stop a GPU run at the first op without a deterministic CUDA
    // kernel (bilinear upsampling's backward); on the CPU they cost nothing.
    at::globalContext().setDeterministicCuDNN(true);
    if (!parts_.device.is_cuda()) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  }
  at::globalContext().setBenchmarkCuDNN(settings_.cudnn_benchmark);
  const ResumePoint resumed = load_or_resume();
  // Only now, with every file the run was given read and checked, is the work_dir touched.
  open_work_dir();
  dist::broadcast_module_state(*parts_.model, *parts_.comm);  // rank 0's weights everywhere

  // One rank has nothing to average: no reducer, no copies of every gradient into buckets
  // (unless dist_params.collectives_on_one_rank asks for them, to test that path on one GPU).
  if (parts_.comm->communicates()) {
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (const auto& item : parts_.model->named_parameters()) named.emplace_back(item.key(), item.value());
    reducer_ = std::make_unique<dist::Reducer>(named, parts_.comm, dist::ReducerOptions{
        .bucket_bytes = static_cast<int64_t>(settings_.bucket_cap_mb * (1 << 20)),
        .find_unused_parameters = settings_.find_unused_parameters,
        .compress_to = settings_.comm_hook == "fp16_compress"   ? std::optional<at::ScalarType>(at::kHalf)
                       : settings_.comm_hook == "bf16_compress" ? std::optional<at::ScalarType>(at::kBFloat16)
                                                                : std::nullopt});
    log::info(c10::str("gradients averaged over ", parts_.comm->size(), " rank(s) by ", parts_.comm->backend(),
                       " in ", reducer_->bucket_names().size(), " bucket(s)",
                       settings_.comm_hook.empty() ? "" : ", sent in 16 bits (comm_hook: " + settings_.comm_hook + ")"));
  }
  const int workers = std::max(1, data_cfg_.workers_per_gpu);
  data::TrainSampler sampler(train_set_->size(), world_.rank(), world_.size(), seed_);
  sampler.set_position(resumed.position);  // continue_on'd in load_or_resume when the world changed
  loader_ = data::Loader::train(train_set_, data_cfg_.train->pipeline, std::move(sampler),
                                {.batch_size = data_cfg_.samples_per_gpu, .workers = workers,
                                 .prefetch = 2 * workers, .seed = seed_, .pin_memory = parts_.device.is_cuda(),
                                 .normalize_on_device = true});
  runner_ = std::make_unique<Runner>(parts_.model, optimizer_, *loader_, parts_.device,
                                     RunnerOptions{.max_iters = settings_.max_iters,
                                                   .grad_clip_max_norm = settings_.grad_clip_max_norm,
                                                   .gradients_in_buckets = reducer_ != nullptr,
                                                   .precision = precision_,
                                                   .channels_last = parts_.channels_last,
                                                   .loss_scaler = loss_scaler_.get()});
  runner_->resume_at(resumed.iter, resumed.position);
  add_hooks();
}

// Rank 0 lays out the work_dir and logs the run's facts; the others wait (collective).
void Trainer::open_work_dir() {
  world_.run_on_main([&] {
    io::make_work_dir(settings_.work_dir);
    io::dump_config(settings_.work_dir, cfg_);
    const std::string stamp = log::timestamp();
    log::add_file(settings_.work_dir / (stamp + ".log"));
    json_log_.emplace(settings_.work_dir / (stamp + ".log.json"));
    records_.add(&*json_log_);
    if (settings_.tensorboard_dir) records_.add(&tensorboard_log_.emplace(*settings_.tensorboard_dir));
  });
  dist::check_shared_by_all_nodes(world_, settings_.work_dir);
  const std::string placement = dist::describe_rank_placement(world_, parts_.device);
  nlohmann::json meta{{"exp_name", cfg_.filename().filename().string()}, {"config", cfg_.dump()},
                      {"seed", seed_}, {"world_size", world_.size()}, {"num_nodes", world_.num_nodes()},
                      {"deterministic", settings_.deterministic}};
  std::string env_info;
  for (const auto& [name, version] : versions()) {
    std::string key = name + "_version";  // "CUDA runtime" -> "cuda_runtime_version"
    std::transform(key.begin(), key.end(), key.begin(), [](char c) { return c == ' ' ? '_' : std::tolower(c); });
    meta[key] = version;
    env_info += "\n" + name + ": " + version;
  }
  if (json_log_) json_log_->write(meta);
  log::info("Environment info:" + env_info);
  log::info(c10::str("Distributed training: ", world_.size(), " ranks on ", world_.num_nodes(),
                     " node(s), device of rank 0: ", parts_.device));
  if (world_.size() > 1) log::info("Ranks by node:\n" + placement);
  log::info("Config:\n" + cfg_.dump());
  for (const auto& w : loaded_.warnings) log::warn(w);
  log::info(c10::str("Set random seed to ", seed_, ", deterministic: ", settings_.deterministic ? "True" : "False"));
  log::info("work_dir: " + fs::absolute(settings_.work_dir).string());
  log::info(c10::str("train set: ", train_set_->size(), " samples, ", train_set_->info().classes.size(),
                     " classes, from ", data_cfg_.train->dir.string(), "; pipeline: ",
                     c10::Join(" -> ", data_cfg_.train->pipeline.names())));
  if (val_set_) log::info(c10::str("val set: ", val_set_->size(), " samples, from ", data_cfg_.val->dir.string()));
  int64_t num_params = 0;
  for (const auto& p : parts_.model->parameters()) num_params += p.numel();
  log::info(c10::str("model: ", cfg_.at("model").get<std::string>("type"), " with ",
                     cfg_.at("model").at("decode_head").get<std::string>("type"), ", ", num_params, " parameters"));
  log::info("precision: " + precision_.name());
}

// load_from gives weights only; resume_from (or --auto-resume's find) the whole training state.
ResumePoint Trainer::load_or_resume() {
  checkpointer_ = std::make_unique<Checkpointer>(
      world_, io::CheckpointStore(world_, settings_.work_dir, settings_.max_keep_ckpts), parts_.model, parts_.device,
      optimizer_, checkpoint_meta(cfg_, seed_, train_set_->info()), settings_.save_optimizer);
  checkpointer_->set_loss_scaler(loss_scaler_.get());
  if (settings_.load_from) load_weights_from(parts_.model, world_, *settings_.load_from, /*strict=*/false);
  auto resume_from = settings_.resume_from;
  if (settings_.auto_resume && !resume_from) {
    resume_from = checkpointer_->find_resumable();  // collective
    log::info(resume_from ? "auto-resume: " + resume_from->string()
                          : "auto-resume: no checkpoint in the work_dir, starting from iteration 0");
  }
  if (!resume_from) return {};
  ResumePoint point = checkpointer_->resume(*resume_from);
  log::info(c10::str("resumed from ", resume_from->string(), " at iteration ", point.iter));
  if (point.world_size != world_.size()) {
    const auto c = data::continue_on(point.position, point.world_size, world_.size(), train_set_->size());
    log::warn(c10::str("the checkpoint's run had ", point.world_size, " rank(s), this one has ", world_.size(),
                       ": the global batch is now ", world_.size() * data_cfg_.samples_per_gpu, " (was ",
                       point.world_size * data_cfg_.samples_per_gpu, "); the data order goes on at sample ",
                       c.global_offset, " of epoch ", point.position.epoch,
                       c.skipped == 0 ? std::string(", exactly")
                                      : c10::str(", skipping ", c.skipped, " sample(s) of that epoch")));
    point.position = c.position;
  }
  // The data order and augmentations derive from the seed: keep the run's own unless one is given.
  if (point.seed && !settings_.seed && *point.seed != seed_) {
    seed_ = *point.seed;
    checkpointer_->meta()["seed"] = seed_;
    log::info(c10::str("using the resumed run's seed ", seed_));
  }
  return point;
}

void Trainer::add_hooks() {
  runner_->add_hook(std::make_unique<LrHook>(optimizer_, settings_.schedule));
  io::RecordSink* records = records_.empty() ? nullptr : &records_;
  runner_->add_hook(std::make_unique<LoggerHook>(settings_.log_interval, *parts_.comm, parts_.device, records));
  runner_->add_hook(std::make_unique<CheckpointHook>(settings_.checkpoint_interval, *checkpointer_));
  if (val_set_) {
    auto evaluate = [this, data = eval_data(val_set_, *data_cfg_.val, data_cfg_, parts_.device,
                                            data_cfg_.eval_samples_per_gpu, seed_)] {
      return eval::evaluate(parts_.model, data, world_, *parts_.comm, parts_.device);
    };
    std::optional<SaveBest> save_best;
    if (settings_.save_best) save_best.emplace(SaveBest{*settings_.save_best, *checkpointer_});
    auto hook = std::make_unique<EvalHook>(settings_.eval_interval, evaluate, val_set_->info().classes, records,
                                           std::move(save_best));
    eval_hook_ = hook.get();
    runner_->add_hook(std::move(hook));
  }
  runner_->add_hook(std::make_unique<PreemptionHook>(world_, *checkpointer_));  // last: after any save or eval due
}

void Trainer::train() {
  log::info(c10::str("Start running, work_dir: ", fs::absolute(settings_.work_dir).string(),
                     ", max iters: ", settings_.max_iters));
  runner_->run();
  if (eval_hook_) log::info(c10::str("final mIoU: ", eval_hook_->last_miou()));
}

}  // namespace segtrain::engine
