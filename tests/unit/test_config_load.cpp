// _base_ inheritance: merge order, _delete_, nested folders, errors naming the chain.
#include <sstream>

#include "config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/config/inherit.h"

using namespace segtrain;
using segtrain::config::Config;

class ConfigLoad : public segtrain::testing::TempDirTest {};

TEST_F(ConfigLoad, ChildOverridesBaseAndMapsMergeDeeply) {
  write("_base_/model.yaml", "model:\n  type: EncoderDecoder\n  backbone: {type: ResNetV1c, depth: 50}\n");
  auto f = write("child.yaml", "_base_: _base_/model.yaml\nmodel:\n  backbone: {depth: 18}\n");
  Config cfg = Config::load(f);
  EXPECT_EQ(cfg.at("model").get<std::string>("type"), "EncoderDecoder");
  EXPECT_EQ(cfg.at("model").at("backbone").get<std::string>("type"), "ResNetV1c");
  EXPECT_EQ(cfg.at("model").at("backbone").get<int>("depth"), 18);
  EXPECT_FALSE(cfg.has("_base_"));
}

TEST_F(ConfigLoad, BasesMergeInOrderTheChildLast) {
  write("a.yaml", "x: 1\ny: 1\nz: 1\n");
  write("b.yaml", "y: 2\nz: 2\n");
  auto f = write("c.yaml", "_base_: [a.yaml, b.yaml]\nz: 3\n");
  Config cfg = Config::load(f);
  EXPECT_EQ(cfg.get<int>("x"), 1);
  EXPECT_EQ(cfg.get<int>("y"), 2);
  EXPECT_EQ(cfg.get<int>("z"), 3);
}

TEST_F(ConfigLoad, ListsAreReplacedWhole) {
  write("a.yaml", "scales: [1, 2, 3]\n");
  auto f = write("b.yaml", "_base_: a.yaml\nscales: [4]\n");
  EXPECT_EQ(Config::load(f).get<std::vector<int>>("scales"), std::vector<int>{4});
}

TEST_F(ConfigLoad, DeleteReplacesTheInheritedMap) {
  write("a.yaml", "optimizer: {type: SGD, lr: 0.01, momentum: 0.9}\n");
  auto f = write("b.yaml", "_base_: a.yaml\noptimizer: {_delete_: true, type: AdamW, lr: 0.0001}\n");
  Config cfg = Config::load(f);
  EXPECT_EQ(cfg.at("optimizer").keys(), (std::vector<std::string>{"type", "lr"}));
  EXPECT_EQ(cfg.at("optimizer").get<std::string>("type"), "AdamW");
}

TEST_F(ConfigLoad, DeleteFalseMergesAndIsDropped) {
  write("a.yaml", "o: {a: 1}\n");
  auto f = write("b.yaml", "_base_: a.yaml\no: {_delete_: false, b: 2}\n");
  EXPECT_EQ(Config::load(f).at("o").keys(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(ConfigLoad, BasesResolveRelativeToTheirOwnFile) {
  write("configs/_base_/models/m.yaml", "_base_: ../common/c.yaml\nmodel: {depth: 50}\n");
  write("configs/_base_/common/c.yaml", "common: yes_it_is\n");
  auto f = write("configs/pspnet/p.yaml", "_base_: [../_base_/models/m.yaml]\n");
  Config cfg = Config::load(f);
  EXPECT_EQ(cfg.get<std::string>("common"), "yes_it_is");
  EXPECT_EQ(cfg.at("model").get<int>("depth"), 50);
}

TEST_F(ConfigLoad, YamlMergeKeysAreExpanded) {
  auto f = write("a.yaml", "_norm: &norm {type: SyncBN, requires_grad: true}\nhead: {norm_cfg: {<<: *norm, type: BN}}\n");
  Config cfg = Config::load(f);
  EXPECT_EQ(cfg.at("head").at("norm_cfg").get<std::string>("type"), "BN");
  EXPECT_TRUE(cfg.at("head").at("norm_cfg").get<bool>("requires_grad"));
}

TEST_F(ConfigLoad, MissingBaseNamesTheChain) {
  write("a.yaml", "_base_: nothere.yaml\n");
  auto f = write("b.yaml", "_base_: a.yaml\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "nothere.yaml: config file not found (a _base_ of");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "b.yaml -> ");
}

TEST_F(ConfigLoad, MissingFile) {
  EXPECT_SEGTRAIN_ERROR(Config::load(dir / "none.yaml"), ErrorKind::User, "none.yaml: config file not found");
}

TEST_F(ConfigLoad, CycleIsAnError) {
  write("a.yaml", "_base_: b.yaml\n");
  write("b.yaml", "_base_: a.yaml\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(dir / "a.yaml"), ErrorKind::User, "_base_ cycle");
  EXPECT_SEGTRAIN_ERROR(Config::load(dir / "a.yaml"), ErrorKind::User, "a.yaml -> ");
  auto self = write("self.yaml", "_base_: self.yaml\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(self), ErrorKind::User, "_base_ cycle");
}

TEST_F(ConfigLoad, MalformedYamlNamesFileAndLine) {
  auto f = write("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "bad.yaml:");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "malformed YAML");
}

TEST_F(ConfigLoad, TopLevelMustBeAMap) {
  auto f = write("list.yaml", "- 1\n- 2\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "the top level must be a map");
}

TEST_F(ConfigLoad, BadBaseValue) {
  auto f = write("x.yaml", "_base_: {a: 1}\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "key '_base_'");
}

TEST_F(ConfigLoad, BadDeleteValue) {
  write("a.yaml", "o: {a: 1}\n");
  auto f = write("b.yaml", "_base_: a.yaml\no: {_delete_: maybe}\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "key '_delete_': expected a bool");
}

// Found by tests/fuzz: an alias inside the map it names made every walk of the tree recurse
// until the stack overflowed.
TEST_F(ConfigLoad, AnAliasInsideItsOwnAnchorIsAnError) {
  auto f = write("self.yaml", "model: &m {backbone: *m}\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "nests deeper than");
  EXPECT_SEGTRAIN_ERROR(Config::from_string("a: &x [1, *x]\n"), ErrorKind::User, "nests deeper than");
}

// "Billion laughs": ten lists of ten aliases of the previous list expand to 10^10 values.
TEST_F(ConfigLoad, AliasesThatExpandExponentiallyAreAnError) {
  std::ostringstream text;
  text << "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    text << "l" << i << ": &l" << i << " [";
    for (int k = 0; k < 10; ++k) text << (k ? ", " : "") << "*l" << i - 1;
    text << "]\n";
  }
  EXPECT_SEGTRAIN_ERROR(Config::from_string(text.str()), ErrorKind::User, "more than 1000000 values");
}

TEST_F(ConfigLoad, AKeyWithAControlCharacterIsAnError) {
  auto f = write("ctl.yaml", "log_config: {\"hook\\x01s\": 1}\n");
  EXPECT_SEGTRAIN_ERROR(Config::load(f), ErrorKind::User, "control character");
}

TEST_F(ConfigLoad, KeysMustBeShortNames) {
  EXPECT_SEGTRAIN_ERROR(Config::from_string(std::string(300, 'k') + ": 1\n"), ErrorKind::User, "a key of 300 characters");
  EXPECT_SEGTRAIN_ERROR(Config::from_string("model: {[a, b]: 1}\n"), ErrorKind::User, "keys are names");
}

// Found by tests/fuzz: bytes that are not UTF-8 came back from the dump as other characters.
TEST_F(ConfigLoad, TextMustBeUtf8AndKeysAscii) {
  EXPECT_SEGTRAIN_ERROR(Config::from_string("a: \"x\xff\"\n"), ErrorKind::User, "not UTF-8");
  EXPECT_SEGTRAIN_ERROR(Config::from_string("\"k\xc3\xa9\": 1\n"), ErrorKind::User, "outside ASCII");
  EXPECT_EQ(Config::from_string("classes: [caf\xc3\xa9]\n").get<std::vector<std::string>>("classes")[0], "caf\xc3\xa9");
}
