#include "segtrain/engine/hooks/checkpoint_hook.h"

#include <torch/serialize.h>

#include "segtrain/core/logging.h"
#include "segtrain/dist/checkpoint_sync.h"
#include "segtrain/models/weights.h"

namespace segtrain::engine {
namespace {

// JSON -> IValue for the checkpoint's meta dict (Python reads plain dicts, lists, str, int, float).
c10::IValue to_ivalue(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number()) return j.get<double>();
  if (j.is_array()) {
    c10::impl::GenericList list(c10::AnyType::get());
    for (const auto& item : j) list.push_back(to_ivalue(item));
    return list;
  }
  if (j.is_object()) {
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    for (const auto& [k, v] : j.items()) dict.insert(k, to_ivalue(v));
    return dict;
  }
  return c10::IValue();
}

}  // namespace

std::string serialize_checkpoint(const torch::nn::Module& model, const nlohmann::json& meta) {
  c10::Dict<std::string, torch::Tensor> state;
  for (const auto& [name, tensor] : models::state_dict(model)) state.insert(name, tensor.detach().cpu());
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("meta", to_ivalue(meta));
  root.insert("state_dict", state);
  std::vector<char> bytes = torch::pickle_save(root);
  return std::string(bytes.begin(), bytes.end());
}

CheckpointHook::CheckpointHook(int64_t interval, int max_keep, nlohmann::json meta)
    : interval_(interval), max_keep_(max_keep), meta_(std::move(meta)) {}

void CheckpointHook::after_iter(Runner& r) {
  if (!r.every(interval_)) return;
  auto& p = r.parts();
  nlohmann::json meta = meta_;
  meta["iter"] = r.iter();
  meta["time"] = static_cast<int64_t>(std::time(nullptr));
  const auto file = p.work_dir / ("iter_" + std::to_string(r.iter()) + ".pth");
  std::string bytes;
  if (p.world->is_main()) bytes = serialize_checkpoint(*p.model, meta);
  dist::save_on_main(*p.world, file, [&] { return bytes; });
  dist::save_on_main(*p.world, p.work_dir / "latest.pth", [&] { return bytes; });
  if (p.world->is_main()) {
    log::info("Saving checkpoint at " + std::to_string(r.iter()) + " iterations");
    kept_.push_back(file);
    while (max_keep_ > 0 && static_cast<int>(kept_.size()) > max_keep_) {
      std::error_code ignored;
      std::filesystem::remove(kept_.front(), ignored);
      kept_.pop_front();
    }
  }
}

}  // namespace segtrain::engine
