// segtest: MMSegmentation's tools/test.py, native and MPI-aware. Alone or under mpirun/srun:
// every rank predicts its share of the test split (data.test, else data.val), the metrics are
// reduced over ranks, rank 0 logs them; --show-dir writes each prediction in the dataset's
// palette over the image (--opacity), one PNG per sample, by the rank that predicted it.
#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

#include "segtrain/config/config.h"
#include "segtrain/config/schema.h"
#include "segtrain/core/error.h"
#include "segtrain/core/env_vars.h"
#include "segtrain/core/logging.h"
#include "segtrain/data/data_config.h"
#include "segtrain/dist/device.h"
#include "segtrain/dist/world.h"
#include "segtrain/eval/evaluator.h"
#include "segtrain/eval/metrics_report.h"
#include "segtrain/io/atomic_file.h"
#include "segtrain/io/png_file.h"
#include "segtrain/models/registry.h"
#include "segtrain/models/weights.h"
#include "segtrain/tools/test_options.h"

namespace fs = std::filesystem;
using namespace segtrain;

namespace {

// The prediction's palette colours blended over the image (MMSeg's show_result).
void write_overlay(const fs::path& file, const data::RawSample& raw, const at::Tensor& prediction,
                   const std::vector<std::array<uint8_t, 3>>& palette, double opacity) {
  const at::Tensor image = raw.image.contiguous();
  const int64_t h = prediction.size(0), w = prediction.size(1);
  if (image.size(0) != h || image.size(1) != w)
    throw runtime_error(file.string(), "image and prediction sizes differ");
  const uint8_t* pixels = image.data_ptr<uint8_t>();
  const uint8_t* classes = prediction.contiguous().data_ptr<uint8_t>();
  std::vector<uint8_t> out(static_cast<std::size_t>(h * w * 3));
  for (int64_t i = 0; i < h * w; ++i) {
    const auto& colour = palette.at(classes[i] < palette.size() ? classes[i] : 0);
    for (int c = 0; c < 3; ++c)
      out[i * 3 + c] = static_cast<uint8_t>(std::lround(pixels[i * 3 + c] * (1 - opacity) + colour[c] * opacity));
  }
  fs::create_directories(file.parent_path());
  io::write_png_rgb(file, out.data(), static_cast<int>(w), static_cast<int>(h));
}

int test(const tools::TestOptions& opts, dist::World& world) {
  // Everything the user gave is checked before anything runs.
  auto cfg = config::Config::load(opts.config);
  const auto warnings = cfg.apply_overrides(opts.options);
  config::validate_train_config(cfg);
  if (!fs::is_regular_file(opts.checkpoint)) throw user_error(opts.checkpoint, "no such checkpoint file");
  const auto data_cfg = data::parse_data_config(cfg.at("data"));
  const auto& split = data_cfg.test ? data_cfg.test : data_cfg.val;
  if (!split) throw cfg.at("data").error("missing key 'data.test' (or 'data.val')");
  auto dataset = std::make_shared<data::ShardDataset>(split->dir);
  const auto& info = dataset->info();
  const c10::Device device = dist::select_device(world);
  auto comm = dist::make_communicator(world, device);  // collective
  auto model = models::build_segmentor(cfg.at("model"), comm);
  models::check_num_classes(cfg.at("model"), model, info.classes.size(), split->dir.string());
  // A test of a partly loaded model would report a meaningless score: every weight must load.
  const auto report = models::load_weights(*model, models::read_state_dict(opts.checkpoint));
  if (!report.missing.empty() || !report.mismatched.empty())
    throw user_error(opts.checkpoint, "does not fit the config's model (" +
                                          (report.missing.empty() ? report.mismatched.front()
                                                                  : "missing " + report.missing.front()) + ")");
  for (const auto& w : warnings) log::warn(w);
  if (!report.unexpected.empty())
    log::warn(c10::str("unexpected keys in ", opts.checkpoint, " (ignored): ", c10::Join(", ", report.unexpected)));
  model->to(device);
  if (opts.show_dir) world.run_on_main([&] { fs::create_directories(*opts.show_dir); });
  log::info(c10::str("testing ", opts.checkpoint, " on ", dataset->size(), " samples of ", split->dir.string(),
                     " with ", world.size(), " rank(s)", opts.aug_test ? ", multi-scale + flip" : ""));

  eval::EvalData data{dataset, split->pipeline,
                      {.batch_size = opts.aug_test ? 1 : data_cfg.eval_samples_per_gpu,
                       .workers = std::max(1, data_cfg.workers_per_gpu), .prefetch = 2,
                       .pin_memory = device.is_cuda()}};
  eval::PredictionSink sink;
  if (opts.show_dir)
    sink = [&](std::size_t index, const at::Tensor& prediction) {
      write_overlay(fs::path(*opts.show_dir) / (dataset->name(index) + ".png"), dataset->read(index), prediction,
                    info.palette, opts.opacity);
    };
  const auto aug = opts.aug_test ? std::optional<eval::AugTest>(eval::AugTest{}) : std::nullopt;
  const auto metrics = eval::evaluate(model, data, world, *comm, device, aug, sink);  // collective
  if (opts.show_dir) log::info("predictions written to " + fs::absolute(*opts.show_dir).string());
  if (opts.eval.empty() || !world.is_main()) return 0;
  log::info(eval::metrics_table(info.classes, metrics));
  if (opts.work_dir) {
    nlohmann::json out{{"config", opts.config}, {"checkpoint", opts.checkpoint},
                       {"metric", eval::metrics_json(info.classes, metrics)}};
    const fs::path file = fs::path(*opts.work_dir) / ("eval_" + log::timestamp() + ".json");
    fs::create_directories(*opts.work_dir);
    io::write_file_atomic(file, out.dump(2) + "\n");
    log::info("metrics written to " + file.string());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int rank = env::launcher_rank();
  try {
    auto opts = tools::parse_test_options(argc, argv);
    if (opts.help) {
      std::cout << tools::test_help();
      return 0;
    }
    auto& world = dist::World::init();
    rank = world.rank();
    log::init(rank);
    return test(opts, world);
  } catch (const Error& e) {
    if (rank == 0 || e.kind() == ErrorKind::Runtime)
      std::cerr << (rank == 0 ? "" : "[rank " + std::to_string(rank) + "] ") << "segtest: error: " << e.what()
                << std::endl;
    return e.exit_code();
  } catch (const dist::PeerFailed& e) {
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "[rank " << rank << "] segtest: error: " << e.what() << std::endl;
    return 1;
  }
}
