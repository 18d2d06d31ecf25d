#include <gtest/gtest.h>

#include "segtrain/core/suggest.h"

using namespace segtrain;

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("ploy", "poly"), 1u);  // a swap of neighbours is one typo
}

TEST(Suggest, ClosestMatchOnlyForPlausibleTypos) {
  std::vector<std::string> keys = {"max_iters", "type", "interval"};
  EXPECT_EQ(closest_match("max_iter", keys), "max_iters");
  EXPECT_EQ(closest_match("intreval", keys), "interval");
  EXPECT_EQ(closest_match("completely_other", keys), "");
  EXPECT_EQ(did_you_mean("typ", keys), " (did you mean 'type'?)");
  EXPECT_EQ(did_you_mean("zzzzzz", keys), "");
}
