// The dump (work_dir/<stem>.yaml, --print-config) reads back to the same tree.
#include "config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/config/emit.h"

using namespace segtrain;
using segtrain::config::Config;

TEST(Emit, RoundTripKeepsKinds) {
  Config cfg = Config::from_string(
      "a: {b: [1, 2.5, true, null, x], c: '123', d: 'true', e: '', f: 'null'}\n"
      "g: [{type: A, scale: [[1, 2], [3, 4]]}]\nh: 1e-3\ni: 'a: b'\nj: ~\n");
  cfg.apply_overrides({"k='1.5'", "l=[(1,2)]", "m=None"});
  Config back = Config::from_string(cfg.dump());
  EXPECT_TRUE(config::same_tree(cfg.yaml(), back.yaml())) << cfg.dump();
  EXPECT_EQ(back.get<std::string>("k"), "1.5");
  EXPECT_EQ(back.at("a").get<std::string>("d"), "true");
  EXPECT_SEGTRAIN_ERROR(back.get<double>("k"), ErrorKind::User, "expected a float, got a string");
}

TEST(Emit, SameTreeSeesDifferences) {
  auto a = Config::from_string("x: [1, 2]\ny: '1'\n");
  EXPECT_FALSE(config::same_tree(a.yaml(), Config::from_string("x: [1, 3]\ny: '1'\n").yaml()));
  EXPECT_FALSE(config::same_tree(a.yaml(), Config::from_string("x: [1, 2]\ny: 1\n").yaml()));
  EXPECT_FALSE(config::same_tree(a.yaml(), Config::from_string("x: [1, 2]\n").yaml()));
  EXPECT_TRUE(config::same_tree(a.yaml(), Config::from_string("y: \"1\"\nx: [1, 2]\n").yaml()));
}
