// PNG tree -> shards (Python) -> ShardDataset (C++) gives the same pixels, with every
// compression; damaged inputs give clear errors naming the file.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "../unit/config_fixture.h"
#include "data_test_env.h"
#include "segtrain/data/shard_dataset.h"

using namespace segtrain;
using segtrain::testing::test_data;

class Shards : public ::testing::TestWithParam<std::string> {};

TEST_P(Shards, RoundTripGivesThePngPixels) {
  ASSERT_FALSE(test_data().empty()) << "run through tests/run_with_fixture.sh";
  data::ShardDataset ds(test_data() / GetParam() / "train");
  ASSERT_EQ(ds.size(), 9u);
  EXPECT_EQ(ds.info().classes.size(), 8u);
  EXPECT_EQ(ds.info().compression, GetParam());
  EXPECT_EQ(ds.info().source_layout, "cityscapes");
  for (std::size_t i = 0; i < ds.size(); ++i) {
    auto s = ds.read(i);
    std::ifstream in(test_data() / "expected" / (s.name + ".raw"), std::ios::binary);
    ASSERT_TRUE(in) << s.name;
    std::vector<uint8_t> want((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto [h, w] = ds.shape(i);
    ASSERT_EQ(want.size(), static_cast<std::size_t>(h * w * 4));
    EXPECT_EQ(s.image.sizes(), (std::vector<int64_t>{h, w, 3}));
    EXPECT_TRUE(at::equal(s.image, at::from_blob(want.data(), {h, w, 3}, at::kByte))) << s.name;
    EXPECT_TRUE(at::equal(s.label, at::from_blob(want.data() + h * w * 3, {h, w}, at::kByte))) << s.name;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryCompression, Shards, ::testing::Values("none", "gzip", "lz4", "zstd"));

TEST(ShardErrors, MissingShardIsNamed) {
  EXPECT_SEGTRAIN_ERROR(data::ShardDataset(test_data() / "missing" / "train"), ErrorKind::User,
                        "/train/train-00001-of-00003.h5: shard 1 of 3 is missing");
}

TEST(ShardErrors, TruncatedShardIsNamed) {
  EXPECT_SEGTRAIN_ERROR(data::ShardDataset(test_data() / "truncated" / "train"), ErrorKind::User,
                        "train-00001-of-00003.h5: cannot open the shard (truncated");
}

TEST(ShardErrors, UnsupportedFilterIsAClearError) {
  data::ShardDataset ds(test_data() / "bzip2" / "train");
  EXPECT_SEGTRAIN_ERROR(ds.read(0), ErrorKind::User, "HDF5 filter 307");
  EXPECT_SEGTRAIN_ERROR(ds.read(0), ErrorKind::User, "is not supported");
}

TEST(ShardErrors, ALabelOutsideTheClassesNamesTheSampleAndValue) {
  data::ShardDataset ds(test_data() / "bad_label" / "train");
  EXPECT_NO_THROW(ds.read(0));  // 0, 1 and 255 (ignore) are fine
  EXPECT_SEGTRAIN_ERROR(ds.read(1), ErrorKind::User, "samples/000001 ('nine'): label 9 is not a class id (the dataset has 2 classes");
}

TEST(ShardErrors, AChunkOfTheWrongSizeIsTheShardsFault) {
  data::ShardDataset ds(test_data() / "wrong_size" / "train");
  EXPECT_SEGTRAIN_ERROR(ds.read(0), ErrorKind::User, "chunk decodes to 80 bytes, expected 160");
}

TEST(ShardErrors, NoSuchFolder) {
  EXPECT_SEGTRAIN_ERROR(data::ShardDataset(test_data() / "nothing"), ErrorKind::User, "dataset split folder not found");
  EXPECT_SEGTRAIN_ERROR(data::ShardDataset(test_data() / "png"), ErrorKind::User, "no shard files");
}
