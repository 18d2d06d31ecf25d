#include "segtrain/io/checkpoint/checkpoint_file.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "segtrain/core/error.h"
#include "ivalue_access.h"
#include "ordered_dicts.h"
#include "pickle_lengths.h"

namespace segtrain::io {
namespace {

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
    auto dict = make_dict();
    for (const auto& [k, v] : j.items()) dict.insert(k, to_ivalue(v));
    return dict;
  }
  return c10::IValue();
}

// Meta holds plain values only; anything else (a tensor someone put there) is left out.
nlohmann::json to_json(const c10::IValue& v) {
  if (v.isString()) return v.toStringRef();
  if (v.isBool()) return v.toBool();
  if (v.isInt()) return v.toInt();
  if (v.isDouble()) return v.toDouble();
  if (v.isList()) {
    auto out = nlohmann::json::array();
    for (const auto& item : v.toListRef()) out.push_back(to_json(item));
    return out;
  }
  if (v.isTuple()) {
    auto out = nlohmann::json::array();
    for (const auto& item : v.toTupleRef().elements()) out.push_back(to_json(item));
    return out;
  }
  if (v.isGenericDict()) {
    auto out = nlohmann::json::object();
    for (const auto& e : v.toGenericDict())
      if (e.key().isString()) out[e.key().toStringRef()] = to_json(e.value());
    return out;
  }
  return nullptr;
}

// torch::pickle_load reads through a VectorReader that copies past the end of a truncated
// archive (a heap overflow tests/fuzz found): this reader stops at the end of the bytes, and
// miniz then reports the archive as damaged.
class BoundedReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedReader(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

c10::IValue unpickle(const std::string& bytes, const std::string& file) {
  try {
    // What torch::pickle_load does, through the bounded reader, once the archive's and the
    // pickle's declared sizes are known to fit: torch allocates what they claim before reading.
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BoundedReader>(bytes));
    for (const auto& name : reader.getAllRecords())  // torch.save stores records uncompressed
      if (reader.getRecordSize(name) > bytes.size())
        throw user_error(file, "cannot read the checkpoint (damaged: its record '" + name + "' claims " +
                                   std::to_string(reader.getRecordSize(name)) + " bytes)");
    const auto [record, record_size] = reader.getRecord("data.pkl");
    check_pickle_lengths(static_cast<const char*>(record.get()), record_size, file);
    // What torch::jit::readArchiveAndTensors does for torch.save's layout (data.pkl, data/<key>),
    // on the pickle with Python's OrderedDicts made plain (ordered_dicts.h).
    const std::string pickle = plain_dicts(static_cast<const char*>(record.get()), record_size);
    check_pickle_lengths(pickle.data(), pickle.size(), file);  // the rewrite's output, too
    std::size_t read = 0;
    torch::jit::Unpickler unpickler(
        [&](char* buffer, std::size_t length) {
          const std::size_t n = std::min(length, pickle.size() - read);
          std::memcpy(buffer, pickle.data() + read, n);
          read += n;
          return n;
        },
        nullptr, nullptr, [&](const std::string& key) { return std::get<0>(reader.getRecord("data/" + key)); },
        std::nullopt);
    unpickler.set_version(reader.version());
    return unpickler.parse_ivalue();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    const std::string what = e.what();  // torch's first line says what it met
    throw user_error(file, "cannot read the checkpoint (damaged or not a torch.save file: " +
                               what.substr(0, what.find('\n')) + ")");
  }
}

StateDict tensors_of(const Dict& dict, const std::string& file, const std::string& key) {
  StateDict out;
  for (const auto& e : dict) {
    if (!e.key().isString()) throw user_error(file, "key '" + key + "': holds a key that is not a string");
    const std::string name = e.key().toStringRef();
    if (!e.value().isTensor()) throw user_error(file, "key '" + key + "." + name + "': expected a tensor");
    out.emplace_back(name, e.value().toTensor());
  }
  return out;
}

// torch.save's zip layout, as torch::pickle_save writes it, but with the lists and dicts
// untagged (no torch.jit._pickle.restore_type_tag around them), as Python's torch.save leaves
// them: torch.load's default since torch 2.6, weights_only=True, refuses that global, and MMCV's
// load_checkpoint calls torch.load with the default.
std::vector<char> torch_save_bytes(const c10::IValue& root) {
  std::vector<char> pickle;
  torch::jit::Pickler pickler([&](const char* bytes, size_t size) { pickle.insert(pickle.end(), bytes, bytes + size); },
                              nullptr, nullptr, nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(root);
  pickler.stop();
  std::vector<char> zip;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t size) {
    zip.insert(zip.end(), static_cast<const char*>(bytes), static_cast<const char*>(bytes) + size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  return zip;
}

}  // namespace

std::string encode_checkpoint(const Checkpoint& c) {
  auto root = make_dict();
  root.insert("meta", to_ivalue(c.meta));
  c10::Dict<std::string, at::Tensor> weights;
  for (const auto& [name, tensor] : c.state_dict) weights.insert(name, tensor.detach().cpu());
  root.insert("state_dict", weights);
  if (!c.optimizer.isNone()) root.insert("optimizer", c.optimizer);
  if (c.sampler) {
    auto sampler = make_dict();
    sampler.insert("epoch", c.sampler->epoch);
    sampler.insert("offset", c.sampler->offset);
    sampler.insert("world_size", c.sampler->world_size);
    root.insert("sampler", sampler);
  }
  if (c.rng.defined()) root.insert("rng", c.rng);
  if (c.cuda_rng.defined()) root.insert("cuda_rng", c.cuda_rng);
  const std::vector<char> bytes = torch_save_bytes(root);
  return std::string(bytes.begin(), bytes.end());
}

Checkpoint decode_checkpoint(const std::string& bytes, const std::string& file) {
  const IValueAccess root(unpickle(bytes, file), file, "");
  const auto dict = root.dict("not a checkpoint (expected a dict)");
  Checkpoint c;
  const auto meta = root.at("meta", "not a segtrain checkpoint for resuming");
  meta.dict();
  c.meta = to_json(meta.value());
  c.meta["iter"] = meta.at("iter").count();
  c.state_dict = tensors_of(root.at("state_dict").dict(), file, "state_dict");
  if (dict.contains("optimizer")) c.optimizer = root.at("optimizer").value();
  if (dict.contains("sampler")) {
    const auto sampler = root.at("sampler");
    c.sampler = SamplerState{sampler.at("epoch").count(), sampler.at("offset").count(),
                             sampler.has("world_size") ? sampler.at("world_size").count() : 0};
  }
  if (dict.contains("rng")) c.rng = root.at("rng").tensor();
  if (dict.contains("cuda_rng")) c.cuda_rng = root.at("cuda_rng").tensor();
  return c;
}

StateDict decode_weights(const std::string& bytes, const std::string& file) {
  c10::IValue value = unpickle(bytes, file);
  if (!value.isGenericDict()) throw user_error(file, "expected a dict of tensors");
  auto dict = value.toGenericDict();
  if (dict.contains("state_dict") && dict.at("state_dict").isGenericDict()) dict = dict.at("state_dict").toGenericDict();
  StateDict out;
  for (const auto& entry : dict) {
    if (!entry.key().isString() || !entry.value().isTensor()) continue;  // meta, optimizer, ...
    std::string name = entry.key().toStringRef();
    if (name.rfind("module.", 0) == 0) name = name.substr(7);
    out.emplace_back(name, entry.value().toTensor());
  }
  if (out.empty()) throw user_error(file, "no tensors in the state dict");
  return out;
}

StateDict read_weights(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw user_error(file.string(), "cannot read the weights file");
  return decode_weights(std::string(std::istreambuf_iterator<char>(in), {}), file.string());
}

}  // namespace segtrain::io
