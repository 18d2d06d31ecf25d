#include "segtrain/io/checkpoint/checkpoint_store.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "segtrain/core/error.h"
#include "segtrain/core/logging.h"
#include "segtrain/dist/communicator.h"
#include "segtrain/dist/world.h"
#include "segtrain/io/atomic_file.h"

namespace segtrain::io {
namespace fs = std::filesystem;
namespace {

// The iter_N.pth files of `dir`, oldest first.
std::vector<std::pair<int64_t, fs::path>> iteration_files(const fs::path& dir) {
  static const std::regex pattern(R"(iter_(\d+)\.pth)");
  std::vector<std::pair<int64_t, fs::path>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, pattern)) out.emplace_back(std::stoll(m[1]), e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw user_error(file.string(), "cannot read the checkpoint");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CheckpointStore::CheckpointStore(const dist::World& world, fs::path work_dir, int max_keep_ckpts)
    : world_(world), work_dir_(std::move(work_dir)), max_keep_(max_keep_ckpts) {}

fs::path CheckpointStore::save_iteration(int64_t iter, const std::function<std::string()>& encode) {
  const fs::path file = work_dir_ / ("iter_" + std::to_string(iter) + ".pth");
  world_.run_on_main([&] {
    const std::string bytes = encode();
    write_file_atomic(file, bytes);
    write_file_atomic(work_dir_ / "latest.pth", bytes);
    remove_old_iterations(iter);
  });
  return file;
}

void CheckpointStore::remove_old_iterations(int64_t newest) const {
  if (max_keep_ <= 0) return;
  auto files = iteration_files(work_dir_);
  // Files beyond `newest` belong to a run this one replaced; they are left alone.
  std::erase_if(files, [&](const auto& f) { return f.first > newest; });
  for (std::size_t i = 0; i + max_keep_ < files.size(); ++i) {
    std::error_code ignored;
    fs::remove(files[i].second, ignored);
  }
}

fs::path CheckpointStore::save_as(const std::string& name, const std::function<std::string()>& encode,
                                  const std::optional<fs::path>& replaced) {
  const fs::path file = work_dir_ / name;
  world_.run_on_main([&] {
    write_file_atomic(file, encode());
    std::error_code ec;
    if (replaced && !fs::equivalent(*replaced, file, ec)) fs::remove(*replaced, ec);
  });
  return file;
}

std::optional<fs::path> CheckpointStore::find_resumable(const std::function<bool(const std::string&)>& resumable) const {
  std::string found;
  world_.run_on_main([&] {
    std::vector<fs::path> candidates;
    if (fs::exists(work_dir_ / "latest.pth")) candidates.push_back(work_dir_ / "latest.pth");
    auto iters = iteration_files(work_dir_);
    for (auto it = iters.rbegin(); it != iters.rend(); ++it) candidates.push_back(it->second);
    for (const auto& c : candidates) {
      std::string bytes;
      try {
        bytes = read_file(c);
      } catch (const Error&) {
      }
      if (!bytes.empty() && resumable(bytes)) {
        found = c.string();
        return;
      }
      log::warn("auto-resume: " + c.string() + " is damaged or incomplete; trying an older checkpoint");
    }
  });
  found = dist::broadcast_bytes(world_, found);
  if (found.empty()) return std::nullopt;
  return fs::path(found);
}

std::string read_on_main(const dist::World& world, const fs::path& file) {
  std::string bytes;
  world.run_on_main([&] { bytes = read_file(file); });
  return dist::broadcast_bytes(world, std::move(bytes));
}

}  // namespace segtrain::io
