// --options: every value type MMCV's DictAction accepts, key paths, creation policy, errors.
#include "config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/config/override.h"

using namespace segtrain;
using segtrain::config::Config;
using segtrain::config::ScalarKind;
using segtrain::config::parse_override_value;

namespace {
ScalarKind kind(const std::string& text) { return config::classify(parse_override_value(text)); }
}  // namespace

TEST(OverrideValue, Scalars) {
  EXPECT_EQ(kind("3"), ScalarKind::Int);
  EXPECT_EQ(kind("-3"), ScalarKind::Int);
  EXPECT_EQ(kind("0.01"), ScalarKind::Float);
  EXPECT_EQ(kind("1e-4"), ScalarKind::Float);
  EXPECT_EQ(kind("True"), ScalarKind::Bool);
  EXPECT_EQ(kind("false"), ScalarKind::Bool);
  EXPECT_EQ(kind("None"), ScalarKind::Null);
  EXPECT_EQ(kind("null"), ScalarKind::Null);
  EXPECT_EQ(kind("SyncBN"), ScalarKind::String);
  EXPECT_EQ(kind("'3'"), ScalarKind::String);
  EXPECT_EQ(kind("\"True\""), ScalarKind::String);
  EXPECT_EQ(parse_override_value("'a b'").Scalar(), "a b");
  EXPECT_EQ(parse_override_value("True").Scalar(), "true");
}

TEST(OverrideValue, Lists) {
  auto l = parse_override_value("[1,2]");
  ASSERT_TRUE(l.IsSequence());
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].Scalar(), "2");
  EXPECT_EQ(parse_override_value("1,2,3").size(), 3u);
  EXPECT_EQ(parse_override_value("(512, 1024)").size(), 2u);
  EXPECT_EQ(parse_override_value("[]").size(), 0u);
  EXPECT_EQ(parse_override_value("(1,)").size(), 1u);
  auto nested = parse_override_value("[(1,2),(3,4)]");
  ASSERT_EQ(nested.size(), 2u);
  ASSERT_TRUE(nested[0].IsSequence());
  EXPECT_EQ(nested[1][0].Scalar(), "3");
  auto mixed = parse_override_value("['a,b', 2.5, True]");
  ASSERT_EQ(mixed.size(), 3u);
  EXPECT_EQ(mixed[0].Scalar(), "a,b");
  EXPECT_EQ(config::classify(mixed[2]), ScalarKind::Bool);
}

TEST(OverrideValue, UnbalancedIsAnError) {
  EXPECT_SEGTRAIN_ERROR(parse_override_value("[1,2"), ErrorKind::User, "missing ']'");
  EXPECT_SEGTRAIN_ERROR(parse_override_value("1,2]"), ErrorKind::User, "unbalanced");
  EXPECT_SEGTRAIN_ERROR(parse_override_value("'abc"), ErrorKind::User, "unterminated quote");
}

TEST(Override, SetsNestedKeysWithTypes) {
  Config cfg = Config::from_string("model: {backbone: {depth: 50}}\noptimizer: {lr: 0.01}\n");
  auto warnings = cfg.apply_overrides({"model.backbone.depth=101", "optimizer.lr=1e-3",
                                       "model.backbone.with_cp=True", "data.samples_per_gpu=4"});
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(cfg.at("model").at("backbone").get<int>("depth"), 101);
  EXPECT_DOUBLE_EQ(cfg.at("optimizer").get<double>("lr"), 1e-3);
  EXPECT_TRUE(cfg.at("model").at("backbone").get<bool>("with_cp"));  // created: MMCV allows it
  EXPECT_EQ(cfg.at("data").get<int>("samples_per_gpu"), 4);          // parents created too
}

TEST(Override, ListIndexAndWholeLists) {
  Config cfg = Config::from_string("pipeline: [{type: A}, {type: B, prob: 0.5}]\nscale: [1, 2]\n");
  cfg.apply_overrides({"pipeline.1.prob=0.25", "scale=[(3,4),(5,6)]"});
  EXPECT_DOUBLE_EQ(cfg.at("pipeline").at(1).get<double>("prob"), 0.25);
  EXPECT_EQ(cfg.at("scale").at(1).as<std::vector<int>>(), (std::vector<int>{5, 6}));
  EXPECT_SEGTRAIN_ERROR(cfg.apply_overrides({"pipeline.5.prob=1"}), ErrorKind::User, "index out of range");
}

TEST(Override, NullAndQuotedStrings) {
  Config cfg = Config::from_string("work_dir: x\nname: n\n");
  cfg.apply_overrides({"work_dir=None", "name='007'"});
  EXPECT_TRUE(cfg.at("work_dir").is_null());
  EXPECT_EQ(cfg.get<std::string>("name"), "007");
  EXPECT_SEGTRAIN_ERROR(cfg.get<int>("name"), ErrorKind::User, "expected an int, got a string");
}

TEST(Override, TypoOfAnExistingKeyWarns) {
  Config cfg = Config::from_string("model: {backbone: {with_cp: false}}\n");
  auto warnings = cfg.apply_overrides({"model.backbone.with_cpp=True"});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("did you mean 'with_cp'"), std::string::npos) << warnings[0];
}

TEST(Override, Errors) {
  Config cfg = Config::from_string("a: 1\n");
  EXPECT_SEGTRAIN_ERROR(cfg.apply_overrides({"a"}), ErrorKind::User, "--options a: expected KEY=VALUE");
  EXPECT_SEGTRAIN_ERROR(cfg.apply_overrides({"a..b=1"}), ErrorKind::User, "empty part");
  EXPECT_SEGTRAIN_ERROR(cfg.apply_overrides({"a.b=1"}), ErrorKind::User, "cannot set 'a.b': 'a' is an int");
}

// Found by tests/fuzz: each of these made a config whose dump did not load back (or escaped as
// std::out_of_range instead of a one-line error).
TEST(Override, KeysThatCannotRoundTripAreErrors) {
  auto cfg = [] { return segtrain::config::Config::from_string("data: {pipeline: [{type: A}]}\n"); };
  EXPECT_SEGTRAIN_ERROR(cfg().apply_overrides({"_delete_=,2"}), segtrain::ErrorKind::User, "belongs in config files");
  EXPECT_SEGTRAIN_ERROR(cfg().apply_overrides({"data._base_=x.yaml"}), segtrain::ErrorKind::User,
                        "belongs in config files");
  EXPECT_SEGTRAIN_ERROR(cfg().apply_overrides({std::string("log\x01x=1")}), segtrain::ErrorKind::User,
                        "control character");
  EXPECT_SEGTRAIN_ERROR(cfg().apply_overrides({"data.pipeline.99999999999999999999999=1"}),
                        segtrain::ErrorKind::User, "index out of range");
  EXPECT_SEGTRAIN_ERROR(cfg().apply_overrides({"x=" + std::string(70, '[') + std::string(70, ']')}),
                        segtrain::ErrorKind::User, "nests deeper than");
}
