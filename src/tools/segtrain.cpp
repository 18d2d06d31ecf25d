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
#include "segtrain/data/data_config.h"
#include "segtrain/data/shard_dataset.h"
#include "segtrain/dist/device.h"
#include "segtrain/models/registry.h"
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
  require_file(opts.load_from, "--load-from");
  require_file(opts.resume_from, "--resume-from");
  // The data: pipelines built, shards opened and checked (every rank reads its own part later).
  const auto data_cfg = data::parse_data_config(cfg.at("data"));
  if (!data_cfg.train) throw cfg.at("data").error("missing key 'data.train'");
  auto train_set = std::make_shared<data::ShardDataset>(data_cfg.train->dir);
  std::shared_ptr<data::ShardDataset> val_set;
  if (data_cfg.val && !opts.no_validate) val_set = std::make_shared<data::ShardDataset>(data_cfg.val->dir);
  // The model, built from its config section (SyncBN layers get the communicator at training).
  auto model = models::build_segmentor(cfg.at("model"));
  int64_t num_params = 0;
  for (const auto& p : model->parameters()) num_params += p.numel();
  const fs::path work_dir = io::resolve_work_dir(opts.work_dir, cfg);
  const uint64_t seed = resolve_seed(opts, cfg, world);
  const c10::Device device = dist::select_device(world);

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
  if (world.is_main()) log::warn("this build has no training loop yet: the config is validated and the work_dir laid out");
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
    rank = world.rank();
    log::init(rank);
    return train(opts, world);
  } catch (const Error& e) {
    // Every rank sees the same flags and config, so rank 0 speaks for all of them.
    if (rank == 0 || e.kind() == ErrorKind::Runtime)
      std::cerr << (rank == 0 ? "" : "[rank " + std::to_string(rank) + "] ") << "segtrain: error: " << e.what()
                << std::endl;
    return e.exit_code();
  } catch (const dist::PeerFailed& e) {
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "[rank " << rank << "] segtrain: error: " << e.what() << std::endl;
    return 1;
  }
}
