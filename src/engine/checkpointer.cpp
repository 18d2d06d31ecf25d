#include "segtrain/engine/checkpointer.h"

#include <c10/util/StringUtil.h>

#include <ctime>

#include "segtrain/core/error.h"
#include "segtrain/core/logging.h"
#include "segtrain/dist/world.h"
#include "segtrain/engine/random_state.h"
#include "segtrain/io/checkpoint/checkpoint_file.h"
#include "segtrain/io/checkpoint/optimizer_state.h"
#include "segtrain/models/weights.h"

namespace segtrain::engine {
namespace fs = std::filesystem;

Checkpointer::Checkpointer(const dist::World& world, io::CheckpointStore store, models::EncoderDecoder model,
                           c10::Device device, Optimizer& optimizer, nlohmann::json meta, bool save_optimizer)
    : world_(world), store_(std::move(store)), model_(std::move(model)), device_(device), optimizer_(optimizer),
      meta_(std::move(meta)), save_optimizer_(save_optimizer) {}

std::string Checkpointer::encode(const IterationState& s) const {
  io::Checkpoint c;
  c.meta = meta_;
  c.meta["time"] = static_cast<int64_t>(std::time(nullptr));
  c.meta["iter"] = s.iter;
  if (!hook_msgs_.empty()) c.meta["hook_msgs"] = hook_msgs_;
  if (loss_scaler_) c.meta["fp16"] = {{"loss_scaler", loss_scaler_->state_dict()}};
  c.state_dict = models::state_dict(*model_);
  if (save_optimizer_) c.optimizer = io::optimizer_state(*optimizer_.impl, optimizer_.type, model_->named_parameters());
  c.sampler = io::SamplerState{s.position.epoch, s.position.offset, world_.size()};
  const RandomState random = capture_random_state(device_);
  c.rng = random.cpu;
  c.cuda_rng = random.cuda;
  return io::encode_checkpoint(c);
}

fs::path Checkpointer::save_iteration(const IterationState& s) {
  const auto file = store_.save_iteration(s.iter, [&] { return encode(s); });
  last_saved_iter_ = s.iter;
  return file;
}

void Checkpointer::save_best(const std::string& metric, double score, const IterationState& s) {
  std::optional<fs::path> previous;
  if (hook_msgs_.contains("best_ckpt")) previous = hook_msgs_["best_ckpt"].get<std::string>();
  const std::string name = c10::str("best_", metric, "_iter_", s.iter, ".pth");
  hook_msgs_["best_score"] = score;
  hook_msgs_["best_ckpt"] = (work_dir() / name).string();
  store_.save_as(name, [&] { return encode(s); }, previous);
}

std::optional<double> Checkpointer::best_score() const {
  if (!hook_msgs_.contains("best_score") || !hook_msgs_["best_score"].is_number()) return std::nullopt;
  return hook_msgs_["best_score"].get<double>();
}

std::optional<fs::path> Checkpointer::find_resumable() const {
  return store_.find_resumable([](const std::string& bytes) {
    try {
      io::decode_checkpoint(bytes, "");
      return true;
    } catch (const Error&) {
      return false;
    }
  });
}

// The checkpoint's optimizer state keyed by parameter name; MMCV's (torch's own layout) keys it by
// position among the saved model's parameters, which its state_dict lists in the same order.
c10::IValue Checkpointer::named_optimizer_state(const io::Checkpoint& c, const std::string& where) const {
  if (!io::is_torch_optimizer_state(c.optimizer)) return c.optimizer;
  const auto params = model_->named_parameters();
  std::vector<std::string> order;
  for (const auto& [name, _] : c.state_dict)
    if (params.contains(name)) order.push_back(name);
  return io::named_optimizer_state(c.optimizer, order, optimizer_.type, where);
}

ResumePoint Checkpointer::resume(const fs::path& file) {
  const std::string where = file.string();
  const io::Checkpoint c = io::decode_checkpoint(io::read_on_main(world_, file), where);
  // Every key must match, or the run would not continue the same model.
  const auto report = models::load_weights(*model_, c.state_dict);
  if (!report.missing.empty() || !report.unexpected.empty() || !report.mismatched.empty())
    throw user_error(where, "the checkpoint does not match the model (" +
                                (!report.missing.empty()      ? "missing " + report.missing.front()
                                 : !report.unexpected.empty() ? "unexpected " + report.unexpected.front()
                                                              : report.mismatched.front()) +
                                "); use --load-from to load weights by name");
  if (c.optimizer.isNone())
    log::warn("no optimizer state in " + where + " (saved with save_optimizer: false): the optimizer starts fresh");
  else
    io::load_optimizer_state(*optimizer_.impl, optimizer_.type, model_->named_parameters(), named_optimizer_state(c, where),
                             where);
  if (c.rng.defined()) restore_random_state({c.rng, c.cuda_rng}, device_, where);
  if (!c.sampler)  // MMCV's checkpoints: its IterBasedRunner restarts the data loader too
    log::info("no sampler or random state in " + where + " (an MMCV checkpoint): the data order starts afresh");
  // A run resumed in float16 from a float32 checkpoint starts at the configured scale.
  if (loss_scaler_ && c.meta.contains("fp16") && c.meta["fp16"].is_object() && c.meta["fp16"].contains("loss_scaler"))
    loss_scaler_->load_state_dict(c.meta["fp16"]["loss_scaler"], where);
  ResumePoint point;
  point.iter = c.meta.at("iter").get<int64_t>();
  if (c.sampler) point.position = {c.sampler->epoch, c.sampler->offset};
  point.world_size = c.sampler && c.sampler->world_size > 0 ? static_cast<int>(c.sampler->world_size) : world_.size();
  if (c.meta.contains("seed") && c.meta["seed"].is_number_integer()) point.seed = c.meta["seed"].get<uint64_t>();
  if (c.meta.contains("hook_msgs") && c.meta["hook_msgs"].is_object()) hook_msgs_ = c.meta["hook_msgs"];
  return point;
}

}  // namespace segtrain::engine
