#pragma once
// The checkpoint files of a run's work_dir: iter_N.pth, latest.pth and best_<metric>_iter_N.pth.
// Every call is collective. Rank 0 does the file work while the others wait; a failure there
// fails every rank (dist::World::run_on_main). Writes are atomic (atomic_file.h): a reader
// sees the old file or the new one, never a torn one, and latest.pth changes only once the
// new iter_N.pth is complete.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace segtrain::dist { class World; }

namespace segtrain::io {

class CheckpointStore {
 public:
  // max_keep_ckpts > 0: keep only that many iter_N.pth (checkpoint_config.max_keep_ckpts).
  CheckpointStore(const dist::World& world, std::filesystem::path work_dir, int max_keep_ckpts = -1);

  const std::filesystem::path& work_dir() const { return work_dir_; }

  // iter_N.pth, then latest.pth with the same bytes; then, with max_keep_ckpts, the oldest
  // iter_M.pth (M < N) of the work_dir beyond that many are removed: what is on disk counts,
  // so the files of the run before a resume go too. `encode` runs on rank 0 only.
  std::filesystem::path save_iteration(int64_t iter, const std::function<std::string()>& encode);

  // <work_dir>/<name>; then `replaced` (the previous best) is removed unless it is the same file.
  std::filesystem::path save_as(const std::string& name, const std::function<std::string()>& encode,
                                const std::optional<std::filesystem::path>& replaced = {});

  // --auto-resume: latest.pth if `resumable` accepts its bytes, else the newest iter_N.pth that
  // it accepts; the ones it rejects are logged as damaged and skipped. The same answer on every
  // rank.
  std::optional<std::filesystem::path> find_resumable(const std::function<bool(const std::string&)>& resumable) const;

 private:
  void remove_old_iterations(int64_t newest) const;
  const dist::World& world_;
  std::filesystem::path work_dir_;
  int max_keep_;
};

// Rank 0 reads `file` once and every rank gets its bytes: one read of shared storage instead of
// one per rank, and the very same bytes everywhere even if a save replaces the file meanwhile.
// Collective. A user error naming the file when it cannot be read.
std::string read_on_main(const dist::World& world, const std::filesystem::path& file);

}  // namespace segtrain::io
