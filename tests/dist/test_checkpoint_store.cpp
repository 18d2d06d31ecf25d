// The work_dir's checkpoint files under several ranks: rank 0 writes, every rank sees the same
// answer; retention counts the files on disk (also those of the run before a resume).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dist_test_env.h"
#include "segtrain/io/checkpoint/checkpoint_store.h"

using namespace segtrain;
using segtrain::testing::world;
namespace fs = std::filesystem;

namespace {

// A folder of its own (named after rank 0's pid: other jobs' tests may run at the same time).
class StoreDir {
 public:
  explicit StoreDir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("segtrain_" + name + "_" + std::to_string(world().broadcast(static_cast<uint64_t>(::getpid()))))) {
    if (world().rank() == 0) fs::create_directories(path);
    world().barrier();
  }
  ~StoreDir() {
    world().barrier();
    if (world().rank() == 0) fs::remove_all(path);
  }
  void put(const std::string& name, const std::string& bytes) const {
    if (world().rank() == 0) std::ofstream(path / name, std::ios::binary) << bytes;
    world().barrier();
  }
  fs::path path;
};

std::string read(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(CheckpointStore, IterationThenLatestAndEveryRankReadsTheSameBytes) {
  StoreDir dir("ckpt_store");
  io::CheckpointStore store(world(), dir.path);
  const std::string blob = "weights-" + std::string(1000, 'w');
  const auto file = store.save_iteration(6, [&] { return blob; });
  EXPECT_EQ(file, dir.path / "iter_6.pth");
  EXPECT_EQ(read(file), blob);  // complete on return, on every rank
  EXPECT_EQ(read(dir.path / "latest.pth"), blob);
  EXPECT_EQ(io::read_on_main(world(), file), blob);
  // A missing file fails on every rank: rank 0 with the error, the others with PeerFailed.
  EXPECT_ANY_THROW(io::read_on_main(world(), dir.path / "missing.pth"));
}

TEST(CheckpointStore, RetentionCountsTheFilesOfTheRunBeforeAResume) {
  StoreDir dir("ckpt_keep");
  // iter_2 and iter_4 from before a resume; iter_20 from a longer run this one replaces.
  for (const char* name : {"iter_2.pth", "iter_4.pth", "iter_20.pth"}) dir.put(name, "old");
  io::CheckpointStore store(world(), dir.path, /*max_keep_ckpts=*/2);
  store.save_iteration(6, [] { return std::string("new"); });
  EXPECT_FALSE(fs::exists(dir.path / "iter_2.pth"));
  EXPECT_TRUE(fs::exists(dir.path / "iter_4.pth"));
  EXPECT_TRUE(fs::exists(dir.path / "iter_6.pth"));
  EXPECT_TRUE(fs::exists(dir.path / "iter_20.pth"));
  world().barrier();  // every rank has looked before rank 0 saves (and removes) again
  store.save_iteration(8, [] { return std::string("newer"); });
  EXPECT_FALSE(fs::exists(dir.path / "iter_4.pth"));
  EXPECT_TRUE(fs::exists(dir.path / "iter_6.pth") && fs::exists(dir.path / "iter_8.pth"));
}

TEST(CheckpointStore, SaveAsReplacesThePreviousBest) {
  StoreDir dir("ckpt_best");
  io::CheckpointStore store(world(), dir.path);
  const auto first = store.save_as("best_mIoU_iter_2.pth", [] { return std::string("a"); });
  const auto second = store.save_as("best_mIoU_iter_4.pth", [] { return std::string("b"); }, first);
  EXPECT_FALSE(fs::exists(first));
  EXPECT_EQ(read(second), "b");
  world().barrier();  // every rank has read "b" before rank 0 rewrites the file
  store.save_as("best_mIoU_iter_4.pth", [] { return std::string("c"); }, second);  // same name: kept
  EXPECT_EQ(read(second), "c");
}

TEST(CheckpointStore, FindResumableSkipsDamagedFiles) {
  StoreDir dir("ckpt_find");
  io::CheckpointStore store(world(), dir.path);
  auto good = [](const std::string& bytes) { return bytes.rfind("good", 0) == 0; };
  EXPECT_FALSE(store.find_resumable(good).has_value());
  dir.put("iter_4.pth", "good-4");
  dir.put("iter_12.pth", "good-12");
  dir.put("iter_16.pth", "torn");
  dir.put("latest.pth", "torn");
  EXPECT_EQ(store.find_resumable(good), dir.path / "iter_12.pth");
  dir.put("latest.pth", "good-16");
  EXPECT_EQ(store.find_resumable(good), dir.path / "latest.pth");
}
