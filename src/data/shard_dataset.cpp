#include "segtrain/data/shard_dataset.h"

#include <ATen/ATen.h>
#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <regex>

#include "segtrain/core/error.h"
#include "segtrain/data/chunk_codec.h"

namespace segtrain::data {
namespace fs = std::filesystem;
namespace {

constexpr int kFormatVersion = 1;

std::mutex& hdf5_lock() {
  static std::mutex m;
  return m;
}

// Our errors say what failed; HDF5's own stack dump would only add noise on stderr.
void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

// Closes an HDF5 id on scope exit.
struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Id() {
    if (id >= 0) close(id);
  }
};

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

int64_t read_int_attr(hid_t obj, const char* name, const std::string& where) {
  if (!has_attr(obj, name)) throw user_error(where, std::string("missing attribute '") + name + "'");
  Id a{H5Aopen(obj, name, H5P_DEFAULT), H5Aclose};
  int64_t v = 0;
  if (H5Aread(a.id, H5T_NATIVE_INT64, &v) < 0) throw user_error(where, std::string("cannot read attribute ") + name);
  return v;
}

std::vector<std::string> read_strings(hid_t obj, bool is_attr, const char* name, const std::string& where) {
  Id h{is_attr ? H5Aopen(obj, name, H5P_DEFAULT) : H5Dopen2(obj, name, H5P_DEFAULT), is_attr ? H5Aclose : H5Dclose};
  if (h.id < 0) throw user_error(where, std::string("missing ") + (is_attr ? "attribute '" : "dataset '") + name + "'");
  Id space{is_attr ? H5Aget_space(h.id) : H5Dget_space(h.id), H5Sclose};
  const hssize_t n = H5Sget_simple_extent_npoints(space.id);
  Id type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, H5T_VARIABLE);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  std::vector<char*> raw(std::max<hssize_t>(n, 1), nullptr);
  herr_t rc = is_attr ? H5Aread(h.id, type.id, raw.data()) : H5Dread(h.id, type.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
  if (rc < 0) throw user_error(where, std::string("cannot read strings '") + name + "'");
  std::vector<std::string> out;
  for (hssize_t i = 0; i < n; ++i) out.emplace_back(raw[i] ? raw[i] : "");
  H5Dvlen_reclaim(type.id, space.id, H5P_DEFAULT, raw.data());
  return out;
}

std::string read_string_attr(hid_t obj, const char* name, const std::string& where) {
  auto v = read_strings(obj, true, name, where);
  return v.empty() ? "" : v.front();
}

struct Shard {
  fs::path path;
  hid_t file = -1;
  int64_t first_index = 0, count = 0;
};

}  // namespace

struct ShardDataset::Impl {
  fs::path dir;
  DatasetInfo info;
  std::vector<Shard> shards;
  std::vector<std::string> names;
  std::vector<std::array<int64_t, 2>> shapes;
  std::vector<int> shard_of;

  void open_all() {
    if (!fs::is_directory(dir)) throw user_error(dir.string(), "dataset split folder not found (convert it with scripts/convert_dataset.py)");
    static const std::regex pattern(R"((.+)-(\d{5})-of-(\d{5})\.h5)");
    std::map<int, fs::path> found;
    int declared = -1;
    std::string stem;  // "train" of train-00000-of-00004.h5
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::smatch m;
      const std::string file = entry.path().filename().string();
      if (!std::regex_match(file, m, pattern)) continue;
      const int count = std::stoi(m[3]);
      if (declared >= 0 && count != declared)
        throw user_error(entry.path().string(), "shard counts disagree (" + std::to_string(count) + " vs " + std::to_string(declared) + ")");
      declared = count;
      stem = m[1];
      found[std::stoi(m[2])] = entry.path();
    }
    if (found.empty()) throw user_error(dir.string(), "no shard files (<split>-00000-of-000NN.h5) in this folder");
    for (int i = 0; i < declared; ++i) {
      if (!found.count(i)) {
        char want[64];
        std::snprintf(want, sizeof want, "-%05d-of-%05d.h5", i, declared);
        throw user_error((dir / (stem + want)).string(), "shard " + std::to_string(i) + " of " + std::to_string(declared) + " is missing");
      }
    }
    for (const auto& [index, path] : found) open_shard(index, path, declared);
  }

  void open_shard(int index, const fs::path& path, int declared) {
    const std::string where = path.string();
    Shard s;
    s.path = path;
    s.file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s.file < 0) throw user_error(where, "cannot open the shard (truncated, or not an HDF5 file)");
    shards.push_back(s);  // closed by ~Impl from here on
    if (read_string_attr(s.file, "format", where) != "segtrain-shards")
      throw user_error(where, "not a segtrain shard (attribute 'format')");
    const int64_t version = read_int_attr(s.file, "format_version", where);
    if (version != kFormatVersion)
      throw user_error(where, "shard format version " + std::to_string(version) + " is not supported (this segtrain reads " + std::to_string(kFormatVersion) + ")");
    if (read_int_attr(s.file, "shard_index", where) != index || read_int_attr(s.file, "num_shards", where) != declared)
      throw user_error(where, "shard index/count attributes disagree with the file name");
    shards.back().first_index = read_int_attr(s.file, "first_index", where);
    shards.back().count = read_int_attr(s.file, "num_samples", where);
    if (shards.back().first_index != static_cast<int64_t>(names.size()))
      throw user_error(where, "sample numbering does not follow the previous shard");
    auto shard_names = read_strings(s.file, false, "index/names", where);
    Id shapes_ds{H5Dopen2(s.file, "index/shapes", H5P_DEFAULT), H5Dclose};
    std::vector<int32_t> hw(2 * shard_names.size());
    if (shapes_ds.id < 0 || static_cast<int64_t>(shard_names.size()) != shards.back().count ||
        H5Dread(shapes_ds.id, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, hw.data()) < 0)
      throw user_error(where, "damaged sample index (index/names, index/shapes)");
    for (std::size_t i = 0; i < shard_names.size(); ++i) {
      names.push_back(shard_names[i]);
      shapes.push_back({hw[2 * i], hw[2 * i + 1]});
      shard_of.push_back(index);
    }
    if (index == 0) read_info(s.file, where);
  }

  void read_info(hid_t file, const std::string& where) {
    info.classes = read_strings(file, true, "classes", where);
    info.source_layout = read_string_attr(file, "source_layout", where);
    info.compression = read_string_attr(file, "compression", where);
    info.reduce_zero_label = read_int_attr(file, "reduce_zero_label", where) != 0;
    Id a{H5Aopen(file, "palette", H5P_DEFAULT), H5Aclose};
    std::vector<uint8_t> flat(3 * info.classes.size());
    if (a.id < 0 || H5Aread(a.id, H5T_NATIVE_UINT8, flat.data()) < 0) throw user_error(where, "missing attribute 'palette'");
    for (std::size_t c = 0; c < info.classes.size(); ++c) info.palette.push_back({flat[3 * c], flat[3 * c + 1], flat[3 * c + 2]});
  }

  ~Impl() {
    for (auto& s : shards)
      if (s.file >= 0) H5Fclose(s.file);
  }
};

ShardDataset::ShardDataset(const fs::path& split_dir) : impl_(std::make_unique<Impl>()) {
  silence_hdf5();
  impl_->dir = split_dir;
  std::lock_guard<std::mutex> lock(hdf5_lock());
  try {
    impl_->open_all();
  } catch (...) {
    impl_.reset();  // closes what was opened, still under the lock
    throw;
  }
}

ShardDataset::~ShardDataset() {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  impl_.reset();
}

std::size_t ShardDataset::size() const { return impl_->names.size(); }
const DatasetInfo& ShardDataset::info() const { return impl_->info; }
const std::string& ShardDataset::name(std::size_t index) const { return impl_->names.at(index); }
std::array<int64_t, 2> ShardDataset::shape(std::size_t index) const { return impl_->shapes.at(index); }

namespace {

// A label that is neither a class id nor 255 (ignore) would reach the loss as an index out of
// range (torch's long "Target 9 is out of bounds") or skew the metrics without a word.
void check_labels(const RawSample& sample, std::size_t num_classes, const std::string& where) {
  const at::Tensor label = sample.label;
  const at::Tensor bad = label.ge(static_cast<int64_t>(num_classes)).logical_and_(label.ne(kIgnoreLabel));
  if (!bad.any().item<bool>()) return;
  const int value = label.masked_select(bad)[0].item<uint8_t>();
  throw user_error(where + " ('" + sample.name + "')",
                   "label " + std::to_string(value) + " is not a class id (the dataset has " +
                       std::to_string(num_classes) + " classes; 255 = ignore)");
}

}  // namespace

RawSample ShardDataset::read(std::size_t index) const {
  const Shard& shard = impl_->shards.at(impl_->shard_of.at(index));
  char dataset[32];
  std::snprintf(dataset, sizeof dataset, "samples/%06lld", static_cast<long long>(index - shard.first_index));
  const std::string where = shard.path.string() + ":" + dataset;
  const auto [h, w] = impl_->shapes[index];
  Bytes raw;
  std::vector<Filter> pipeline;
  uint32_t mask = 0;
  {
    std::lock_guard<std::mutex> lock(hdf5_lock());
    Id ds{H5Dopen2(shard.file, dataset, H5P_DEFAULT), H5Dclose};
    if (ds.id < 0) throw user_error(where, "sample dataset missing (damaged shard)");
    hsize_t offset[3] = {0, 0, 0};
    hsize_t nbytes = 0;
    if (H5Dget_chunk_storage_size(ds.id, offset, &nbytes) < 0 || nbytes == 0)
      throw user_error(where, "cannot locate the sample's chunk (damaged shard)");
    raw.resize(nbytes);
    if (H5Dread_chunk(ds.id, H5P_DEFAULT, offset, &mask, raw.data()) < 0)
      throw user_error(where, "cannot read the sample's chunk (truncated shard?)");
    Id plist{H5Dget_create_plist(ds.id), H5Pclose};
    const int n = H5Pget_nfilters(plist.id);
    for (int k = 0; k < n; ++k) {
      Filter f;
      unsigned flags = 0;
      std::size_t nparams = 16;
      unsigned params[16];
      char name[128] = {0};
      f.id = H5Pget_filter2(plist.id, k, &flags, &nparams, params, sizeof name, name, nullptr);
      f.name = name;
      f.params.assign(params, params + std::min<std::size_t>(nparams, 16));
      pipeline.push_back(std::move(f));
    }
  }
  auto* plain = new Bytes(
      decode_chunk(std::move(raw), pipeline, mask, static_cast<std::size_t>(h * w * 4), 1, where));
  // Image and label are views of the decoded chunk (no copy); the tensor owns the buffer.
  at::Tensor hw4 = at::from_blob(plain->data(), {h, w, 4}, [plain](void*) { delete plain; }, at::kByte);
  RawSample sample{impl_->names[index], hw4.narrow(2, 0, 3), hw4.select(2, 3)};
  check_labels(sample, impl_->info.classes.size(), where);
  return sample;
}

}  // namespace segtrain::data
