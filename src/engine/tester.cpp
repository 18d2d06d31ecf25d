#include "segtrain/engine/tester.h"

#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include "segtrain/core/error.h"
#include "segtrain/core/logging.h"
#include "segtrain/engine/run_parts.h"
#include "segtrain/eval/metrics_report.h"
#include "segtrain/eval/show_result.h"
#include "segtrain/io/atomic_file.h"

namespace segtrain::engine {
namespace fs = std::filesystem;

void test(const TestOptions& opts, dist::World& world) {
  // Everything the user gave is checked before anything runs.
  const auto [cfg, warnings] = load_config(opts.config, opts.options);
  if (!fs::is_regular_file(opts.checkpoint)) throw user_error(opts.checkpoint, "no such checkpoint file");
  const auto data_cfg = data::parse_data_config(cfg.at("data"));
  const auto& split = data_cfg.test ? data_cfg.test : data_cfg.val;
  if (!split) throw cfg.at("data").error("missing key 'data.test' (or 'data.val')");
  auto dataset = std::make_shared<data::ShardDataset>(split->dir);
  const auto& info = dataset->info();
  // Collective. channels_last: the converted weights take the batches as they come.
  [[maybe_unused]] auto [device, comm, model, channels_last] = build_model(cfg, world, *dataset, split->dir);
  load_weights_from(model, world, opts.checkpoint, /*strict=*/true);
  for (const auto& w : warnings) log::warn(w);
  if (opts.show_dir) world.run_on_main([&] { fs::create_directories(*opts.show_dir); });
  log::info(c10::str("testing ", opts.checkpoint, " on ", dataset->size(), " samples of ", split->dir.string(),
                     " with ", world.size(), " rank(s)", opts.aug_test ? ", multi-scale + flip" : ""));

  const auto data = eval_data(dataset, *split, data_cfg, device, opts.aug_test ? 1 : data_cfg.eval_samples_per_gpu);
  eval::PredictionSink sink;
  if (opts.show_dir)
    sink = [&](std::size_t index, const at::Tensor& prediction) {
      eval::write_overlay(fs::path(*opts.show_dir) / (dataset->name(index) + ".png"), dataset->read(index).image,
                          prediction, info.palette, opts.opacity);
    };
  const auto aug = opts.aug_test ? std::optional<eval::AugTest>(eval::AugTest{}) : std::nullopt;
  const auto metrics = eval::evaluate(model, data, world, *comm, device, aug, sink);  // collective
  if (opts.show_dir) log::info("predictions written to " + fs::absolute(*opts.show_dir).string());
  if (opts.eval.empty() || !world.is_main()) return;
  log::info(eval::metrics_table(info.classes, metrics));
  if (!opts.work_dir) return;
  const nlohmann::json out{{"config", opts.config}, {"checkpoint", opts.checkpoint},
                           {"metric", eval::metrics_json(info.classes, metrics)}};
  const fs::path file = fs::path(*opts.work_dir) / ("eval_" + log::timestamp() + ".json");
  fs::create_directories(*opts.work_dir);
  io::write_file_atomic(file, out.dump(2) + "\n");
  log::info("metrics written to " + file.string());
}

}  // namespace segtrain::engine
