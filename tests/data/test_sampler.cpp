#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "segtrain/data/sampler.h"

using namespace segtrain::data;

TEST(TrainSampler, RanksAreDisjointCompleteAndEqualInLength) {
  for (int world = 1; world <= 4; ++world)
    for (std::size_t n : {1u, 7u, 10u, 13u}) {
      std::multiset<std::size_t> seen;
      std::size_t length = 0;
      for (int rank = 0; rank < world; ++rank) {
        TrainSampler s(n, rank, world, 42);
        auto mine = s.epoch_indices(3);
        if (rank == 0) length = mine.size();
        EXPECT_EQ(mine.size(), length) << "same number of samples on every rank";
        seen.insert(mine.begin(), mine.end());
      }
      std::set<std::size_t> distinct(seen.begin(), seen.end());
      EXPECT_EQ(distinct.size(), n) << "every sample in every epoch (world " << world << ", n " << n << ")";
      EXPECT_EQ(seen.size(), length * world);
      EXPECT_LT(seen.size() - n, static_cast<std::size_t>(world)) << "padding only to fill the last round";
    }
}

TEST(TrainSampler, EpochsReshuffleDeterministically) {
  TrainSampler a(100, 0, 2, 7), b(100, 0, 2, 7), c(100, 0, 2, 8);
  EXPECT_EQ(a.epoch_indices(0), b.epoch_indices(0));
  EXPECT_NE(a.epoch_indices(0), a.epoch_indices(1));
  EXPECT_NE(a.epoch_indices(0), c.epoch_indices(0));
}

TEST(TrainSampler, StreamCrossesEpochsAndResumes) {
  TrainSampler s(5, 1, 2, 3);  // 3 per rank per epoch
  std::vector<std::size_t> first;
  for (int i = 0; i < 7; ++i) first.push_back(s.next());
  EXPECT_EQ(s.position().epoch, 2);
  EXPECT_EQ(s.position().offset, 1);
  auto e0 = s.epoch_indices(0), e1 = s.epoch_indices(1);
  EXPECT_EQ(std::vector<std::size_t>(first.begin(), first.begin() + 3), e0);
  EXPECT_EQ(std::vector<std::size_t>(first.begin() + 3, first.begin() + 6), e1);

  TrainSampler resumed(5, 1, 2, 3);
  TrainSampler reference(5, 1, 2, 3);
  for (int i = 0; i < 4; ++i) reference.next();
  resumed.set_position(reference.position());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(resumed.next(), reference.next());
}

TEST(EvalIndices, EverySampleExactlyOnce) {
  for (int world = 1; world <= 4; ++world) {
    std::vector<std::size_t> all;
    for (int rank = 0; rank < world; ++rank) {
      auto mine = eval_indices(11, rank, world);
      all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> want(11);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(all, want);
  }
}

// Resuming on another number of ranks: what the old ranks took of the epoch and what the new
// ranks will take cover the epoch with no sample twice, and exactly `skipped` samples left out.
TEST(TrainSampler, ContinueOnAnotherWorldNeitherRepeatsNorLosesMoreThanItSays) {
  const std::size_t n = 12;
  struct Case { int old_world, new_world; int64_t offset, want_offset, want_skipped; };
  for (const auto& c : {Case{2, 1, 3, 6, 0}, Case{1, 2, 5, 3, 1}, Case{2, 3, 2, 2, 2}, Case{4, 2, 3, 6, 0}}) {
    const auto next = continue_on({5, c.offset}, c.old_world, c.new_world, n);
    EXPECT_EQ(next.position.epoch, 5);
    EXPECT_EQ(next.position.offset, c.want_offset) << c.old_world << " -> " << c.new_world;
    EXPECT_EQ(next.skipped, c.want_skipped) << c.old_world << " -> " << c.new_world;
    std::multiset<std::size_t> taken;
    for (int r = 0; r < c.old_world; ++r) {
      const auto mine = TrainSampler(n, r, c.old_world, 9).epoch_indices(5);
      taken.insert(mine.begin(), mine.begin() + c.offset);
    }
    for (int r = 0; r < c.new_world; ++r) {
      TrainSampler s(n, r, c.new_world, 9);
      s.set_position(next.position);
      const auto mine = s.epoch_indices(5);
      taken.insert(mine.begin() + next.position.offset, mine.end());
    }
    const std::set<std::size_t> distinct(taken.begin(), taken.end());
    EXPECT_EQ(distinct.size(), taken.size()) << "a sample twice: " << c.old_world << " -> " << c.new_world;
    EXPECT_EQ(n - distinct.size(), static_cast<std::size_t>(c.want_skipped)) << c.old_world << " -> " << c.new_world;
  }
}
