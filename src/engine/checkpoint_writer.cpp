#include "segtrain/engine/checkpoint_writer.h"

#include <ctime>

#include "segtrain/dist/checkpoint_sync.h"
#include "segtrain/engine/training_state.h"

namespace segtrain::engine {

CheckpointWriter::CheckpointWriter(nlohmann::json meta, bool save_optimizer)
    : meta_(std::move(meta)), save_optimizer_(save_optimizer) {}

std::string CheckpointWriter::serialize(Runner& r) const {
  auto& p = r.parts();
  if (!p.world->is_main()) return {};
  nlohmann::json meta = meta_;
  meta["time"] = static_cast<int64_t>(std::time(nullptr));
  if (!hook_msgs_.empty()) meta["hook_msgs"] = hook_msgs_;
  TrainingState state;
  state.iter = r.iter();
  state.sampler = r.sampler_position();
  return serialize_checkpoint(*p.model, meta, save_optimizer_ ? &p.optimizer : nullptr, state);
}

std::filesystem::path CheckpointWriter::save_iteration(Runner& r) {
  auto& p = r.parts();
  const std::string bytes = serialize(r);
  const auto file = p.work_dir / ("iter_" + std::to_string(r.iter()) + ".pth");
  dist::save_on_main(*p.world, file, [&] { return bytes; });
  dist::save_on_main(*p.world, p.work_dir / "latest.pth", [&] { return bytes; });
  last_saved_iter_ = r.iter();
  return file;
}

std::filesystem::path CheckpointWriter::save_as(Runner& r, const std::string& name) {
  auto& p = r.parts();
  const std::string bytes = serialize(r);
  const auto file = p.work_dir / name;
  dist::save_on_main(*p.world, file, [&] { return bytes; });
  return file;
}

}  // namespace segtrain::engine
