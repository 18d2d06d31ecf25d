// segtrain: MMSegmentation's tools/train.py, native and MPI-aware.
// Every rank runs this same main; collective steps are marked (collective).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>

#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include "segtrain/config/config.h"
#include "segtrain/config/schema.h"
#include "segtrain/core/env_vars.h"
#include "segtrain/core/error.h"
#include "segtrain/core/logging.h"
#include "segtrain/core/stop_signal.h"
#include "segtrain/data/data_config.h"
#include "segtrain/data/shard_dataset.h"
#include "segtrain/dist/device.h"
#include "segtrain/engine/hooks/checkpoint_hook.h"
#include "segtrain/engine/hooks/eval_hook.h"
#include "segtrain/engine/hooks/logger_hook.h"
#include "segtrain/engine/hooks/preemption_hook.h"
#include "segtrain/engine/runner.h"
#include "segtrain/engine/training_state.h"
#include "segtrain/dist/checkpoint_sync.h"
#include "segtrain/models/registry.h"
#include "segtrain/models/weights.h"
#include "segtrain_build_config.h"
#include <torch/version.h>
#include "segtrain/dist/world.h"
#include "segtrain/io/json_log.h"
#include "segtrain/io/work_dir.h"
#include "segtrain/tools/train_options.h"
#include "segtrain/tools/versions.h"

namespace fs = std::filesystem;
using namespace segtrain;

namespace {

void require_file(const std::optional<std::string>& path, const char* flag) {
  if (path && !fs::is_regular_file(*path)) throw user_error(*path, std::string(flag) + ": no such checkpoint file");
}

// --seed, else the config's `seed`, else drawn on rank 0; the same on every rank (collective).
uint64_t resolve_seed(const tools::TrainOptions& opts, const config::Config& cfg, const dist::World& world) {
  if (opts.seed) return *opts.seed;
  if (auto s = cfg.get_optional<int64_t>("seed")) return static_cast<uint64_t>(*s);
  uint64_t drawn = std::random_device{}() & 0x7fffffff;  // MMSeg draws within 2**31
  return world.broadcast(drawn);
}

int train(const tools::TrainOptions& opts, dist::World& world) {
  // Everything the user gave is checked before any file is touched.
  auto cfg = config::Config::load(opts.config);
  auto warnings = cfg.apply_overrides(opts.options);
  if (opts.print_config) {  // like MMSeg's tools/print_config.py: the tree as merged, unvalidated
    if (world.is_main()) std::cout << cfg.dump() << std::flush;
    return 0;
  }
  config::validate_train_config(cfg);
  std::optional<std::string> save_best_metric;  // evaluation.save_best, `auto` meaning mIoU
  if (cfg.has("evaluation")) save_best_metric = cfg.at("evaluation").get_optional<std::string>("save_best");
  if (save_best_metric && *save_best_metric == "auto") save_best_metric = "mIoU";
  if (save_best_metric && *save_best_metric != "mIoU" && *save_best_metric != "mAcc" && *save_best_metric != "aAcc")
    throw cfg.at("evaluation").at("save_best").error("is '" + *save_best_metric + "'; expected mIoU, mAcc, aAcc or auto");
  // --load-from, else the config's load_from (as MMSeg's train.py).
  std::optional<std::string> load_from = opts.load_from ? opts.load_from : cfg.get_optional<std::string>("load_from");
  require_file(load_from, "--load-from");
  // --resume-from, else the config's resume_from; --auto-resume looks in the work_dir later.
  std::optional<std::string> resume_from =
      opts.resume_from ? opts.resume_from : cfg.get_optional<std::string>("resume_from");
  require_file(resume_from, "--resume-from");
  // The data: pipelines built, shards opened and checked (every rank reads its own part later).
  const auto data_cfg = data::parse_data_config(cfg.at("data"));
  if (!data_cfg.train) throw cfg.at("data").error("missing key 'data.train'");
  auto train_set = std::make_shared<data::ShardDataset>(data_cfg.train->dir);
  std::shared_ptr<data::ShardDataset> val_set;
  if (data_cfg.val && !opts.no_validate) val_set = std::make_shared<data::ShardDataset>(data_cfg.val->dir);
  const int64_t max_iters = cfg.at("runner").get<int64_t>("max_iters");
  // Seeded before the model is made: its initial weights (rank 0's, broadcast) follow the seed.
  uint64_t seed = resolve_seed(opts, cfg, world);
  torch::manual_seed(seed);
  // The model and its communicator (collective: every rank makes it). SyncBN layers use it.
  const c10::Device device = dist::select_device(world);
  auto comm = dist::make_communicator(world, device);
  auto model = models::build_segmentor(cfg.at("model"), comm);
  int64_t num_params = 0;
  for (const auto& p : model->parameters()) num_params += p.numel();
  models::check_num_classes(cfg.at("model"), model, train_set->info().classes.size(), data_cfg.train->dir.string());
  auto optimizer = engine::build_optimizer(cfg.at("optimizer"), *model);
  const auto schedule = engine::LrSchedule::parse(cfg.has("lr_config") ? cfg.at("lr_config")
                                                                          : config::Config::from_string("{}"), max_iters);
  const fs::path work_dir = io::resolve_work_dir(opts.work_dir, cfg);

  // Rank 0 lays out the work_dir; the others wait until it exists (collective).
  std::optional<io::JsonLog> json_log;
  world.run_on_main([&] {
    io::make_work_dir(work_dir);
    io::dump_config(work_dir, cfg);
    const std::string stamp = log::timestamp();
    log::add_file(work_dir / (stamp + ".log"));
    json_log.emplace(work_dir / (stamp + ".log.json"));
  });

  nlohmann::json meta{{"exp_name", cfg.filename().filename().string()},
                      {"config", cfg.dump()},
                      {"seed", seed},
                      {"world_size", world.size()},
                      {"num_nodes", world.num_nodes()},
                      {"deterministic", opts.deterministic}};
  std::string env_info;
  for (const auto& [name, version] : tools::versions()) {
    std::string key = name + "_version";  // "CUDA runtime" -> "cuda_runtime_version"
    std::transform(key.begin(), key.end(), key.begin(), [](char c) { return c == ' ' ? '_' : std::tolower(c); });
    meta[key] = version;
    env_info += "\n" + name + ": " + version;
  }
  if (json_log) json_log->write(meta);
  log::info("Environment info:" + env_info);
  log::info(c10::str("Distributed training: ", world.size(), " ranks on ", world.num_nodes(),
                     " node(s), device of rank 0: ", device));
  log::info("Config:\n" + cfg.dump());
  for (const auto& w : warnings) log::warn(w);
  log::info(c10::str("Set random seed to ", seed, ", deterministic: ", opts.deterministic ? "True" : "False"));
  log::info("work_dir: " + fs::absolute(work_dir).string());
  log::info(c10::str("train set: ", train_set->size(), " samples, ", train_set->info().classes.size(),
                     " classes, from ", data_cfg.train->dir.string(), "; pipeline: ",
                     c10::Join(" -> ", data_cfg.train->pipeline.names())));
  if (val_set) log::info(c10::str("val set: ", val_set->size(), " samples, from ", data_cfg.val->dir.string()));
  log::info(c10::str("model: ", cfg.at("model").get<std::string>("type"), " with ",
                     cfg.at("model").at("decode_head").get<std::string>("type"), ", ", num_params, " parameters"));

  // Training: rank 0's weights everywhere, gradients averaged while backward runs.
  if (opts.deterministic) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  // MMSeg's default_runtime sets cudnn_benchmark: True; --deterministic turns it off, as MMCV does.
  at::globalContext().setBenchmarkCuDNN(cfg.get<bool>("cudnn_benchmark", false) && !opts.deterministic);
  model->to(device);
  if (load_from) {
    auto report = models::load_weights(*model, models::read_state_dict(*load_from));
    log::info(c10::str("load_from ", *load_from, ": ", report.loaded, " tensors loaded"));
    if (!report.missing.empty()) log::warn(c10::str("missing keys in ", *load_from, ": ", c10::Join(", ", report.missing)));
    if (!report.unexpected.empty()) log::warn(c10::str("unexpected keys in ", *load_from, ": ", c10::Join(", ", report.unexpected)));
    if (!report.mismatched.empty()) log::warn(c10::str("size mismatch (skipped): ", c10::Join("; ", report.mismatched)));
  }
  // Resuming: rank 0 reads the checkpoint once, every rank restores the same bytes.
  engine::TrainingState resumed;
  if (opts.auto_resume && !resume_from) {
    std::string found;
    world.run_on_main([&] {
      auto f = engine::find_resume_checkpoint(work_dir, [](const std::string& w) { log::warn(w); });
      if (f) found = f->string();
    });
    found = dist::broadcast_bytes(world, found);
    if (!found.empty()) resume_from = found;
    log::info(found.empty() ? "auto-resume: no checkpoint in the work_dir, starting from iteration 0"
                            : "auto-resume: " + found);
  }
  if (resume_from) {
    resumed = engine::restore_checkpoint(dist::read_on_main(world, *resume_from), *resume_from, *model, optimizer);
    log::info(c10::str("resumed from ", *resume_from, " at iteration ", resumed.iter));
    // The data order and augmentations derive from the seed: keep the run's own unless one is given.
    if (resumed.seed && !opts.seed && !cfg.get_optional<int64_t>("seed") && *resumed.seed != seed) {
      seed = *resumed.seed;
      log::info(c10::str("using the resumed run's seed ", seed));
    }
  }
  dist::broadcast_module_state(*model, *comm);

  engine::RunnerParts parts;
  parts.world = &world;
  parts.comm = comm;
  parts.model = model;
  // One rank has nothing to average: no reducer, no copies of every gradient into buckets.
  if (comm->size() > 1) {
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (const auto& item : model->named_parameters()) named.emplace_back(item.key(), item.value());
    parts.reducer = std::make_unique<dist::Reducer>(named, comm, dist::ReducerOptions{
        .find_unused_parameters = cfg.get<bool>("find_unused_parameters", false)});
  }
  parts.optimizer = std::move(optimizer);
  parts.schedule = schedule;
  parts.device = device;
  parts.max_iters = max_iters;
  if (cfg.has("optimizer_config") && cfg.at("optimizer_config").has("grad_clip") &&
      !cfg.at("optimizer_config").at("grad_clip").is_null())
    parts.grad_clip_max_norm = cfg.at("optimizer_config").at("grad_clip").get<double>("max_norm");
  parts.work_dir = work_dir;
  parts.start_iter = resumed.iter;
  parts.start_position = resumed.sampler;
  parts.json_log = json_log ? &*json_log : nullptr;
  data::LoaderOptions train_opts{.batch_size = data_cfg.samples_per_gpu, .workers = std::max(1, data_cfg.workers_per_gpu),
                                 .prefetch = 2 * std::max(1, data_cfg.workers_per_gpu), .seed = seed,
                                 .pin_memory = device.is_cuda()};
  data::TrainSampler sampler(train_set->size(), world.rank(), world.size(), seed);
  sampler.set_position(resumed.sampler);
  parts.loader = data::Loader::train(train_set, data_cfg.train->pipeline, std::move(sampler), train_opts);

  engine::Runner runner(std::move(parts));
  runner.add_hook(std::make_unique<engine::LrHook>());
  runner.add_hook(std::make_unique<engine::LoggerHook>(cfg.has("log_config") ? cfg.at("log_config").get<int64_t>("interval", 50) : 50));
  nlohmann::json ckpt_meta{{"config", cfg.dump()}, {"seed", seed}, {"CLASSES", train_set->info().classes},
                           {"segtrain_version", SEGTRAIN_VERSION}, {"torch_version", TORCH_VERSION}};
  nlohmann::json palette = nlohmann::json::array();
  for (const auto& c : train_set->info().palette) palette.push_back({c[0], c[1], c[2]});
  ckpt_meta["PALETTE"] = palette;
  const auto ckpt_cfg = cfg.has("checkpoint_config") ? cfg.at("checkpoint_config") : cfg.at("runner");
  auto writer = std::make_shared<engine::CheckpointWriter>(ckpt_meta, ckpt_cfg.get<bool>("save_optimizer", true));
  writer->hook_msgs() = resumed.hook_msgs;
  runner.add_hook(std::make_unique<engine::CheckpointHook>(ckpt_cfg.get<int64_t>("interval", max_iters),
                                                           ckpt_cfg.get<int>("max_keep_ckpts", -1), writer));
  engine::EvalHook* eval_hook = nullptr;
  if (val_set) {
    const auto eval_cfg = cfg.has("evaluation") ? cfg.at("evaluation") : config::Config::from_string("{}");
    eval::EvalData eval_data{val_set, data_cfg.val->pipeline,
                             {.batch_size = data_cfg.eval_samples_per_gpu,
                              .workers = std::max(1, data_cfg.workers_per_gpu), .prefetch = 2, .seed = seed,
                              .pin_memory = device.is_cuda()}};
    std::optional<engine::SaveBest> save_best;
    if (save_best_metric) save_best = engine::SaveBest{*save_best_metric, writer};
    auto hook = std::make_unique<engine::EvalHook>(eval_cfg.get<int64_t>("interval", max_iters), std::move(eval_data),
                                                   std::move(save_best));
    eval_hook = hook.get();
    runner.add_hook(std::move(hook));
  }
  runner.add_hook(std::make_unique<engine::PreemptionHook>(writer));  // last: after any save or eval due
  log::info(c10::str("Start running, work_dir: ", fs::absolute(work_dir).string(), ", max iters: ", max_iters));
  runner.run();
  if (eval_hook) log::info(c10::str("final mIoU: ", eval_hook->last_miou()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int rank = env::launcher_rank();
  try {
    auto opts = tools::parse_train_options(argc, argv);
    if (opts.help) {
      std::cout << tools::train_help();
      return 0;
    }
    if (opts.version) {
      for (const auto& [name, version] : tools::versions()) std::cout << name << " " << version << "\n";
      return 0;
    }
    auto& world = dist::World::init();
    install_stop_signal_handlers();  // after MPI's own; a notice during setup still ends in a checkpoint
    rank = world.rank();
    log::init(rank);
    return train(opts, world);
  } catch (const Error& e) {
    // Every rank sees the same flags and config, so rank 0 speaks for all of them.
    if (rank == 0 || e.kind() == ErrorKind::Runtime)
      std::cerr << (rank == 0 ? "" : "[rank " + std::to_string(rank) + "] ") << "segtrain: error: " << e.what()
                << std::endl;
    return e.exit_code();
  } catch (const engine::Preempted&) {
    return engine::kPreemptedExitCode;  // the hook has logged where the checkpoint is
  } catch (const dist::PeerFailed& e) {
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "[rank " << rank << "] segtrain: error: " << e.what() << std::endl;
    return 1;
  }
}
