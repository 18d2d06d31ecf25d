// Typed access and its errors: file, key path, expected type, did-you-mean.
#include "config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/config/schema.h"

using namespace segtrain;
using segtrain::config::Config;

TEST(ConfigAccess, TypedValues) {
  Config cfg = Config::from_string(
      "i: 3\nf: 1e-3\ng: 0.5\nb: True\ns: hello\nq: '12'\nn: null\nl: [1, 2]\nfl: [0.5, 1]\nhx: 0x10\n", "t.yaml");
  EXPECT_EQ(cfg.get<int>("i"), 3);
  EXPECT_DOUBLE_EQ(cfg.get<double>("f"), 1e-3);
  EXPECT_DOUBLE_EQ(cfg.get<double>("i"), 3.0);  // an int is a valid float
  EXPECT_TRUE(cfg.get<bool>("b"));
  EXPECT_EQ(cfg.get<std::string>("s"), "hello");
  EXPECT_EQ(cfg.get<std::string>("q"), "12");
  EXPECT_TRUE(cfg.at("n").is_null());
  EXPECT_EQ(cfg.get_optional<int>("n"), std::nullopt);
  EXPECT_EQ(cfg.get<int>("missing_but_defaulted", 7), 7);
  EXPECT_EQ(cfg.get<std::vector<int>>("l"), (std::vector<int>{1, 2}));
  EXPECT_EQ(cfg.get<std::vector<double>>("fl"), (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(cfg.get<int>("hx"), 16);
}

TEST(ConfigAccess, WrongTypeNamesFileKeyAndType) {
  Config cfg = Config::from_string("optimizer: {lr: abc, momentum: [1]}\nq: '12'\nb: 1\n", "t.yaml");
  EXPECT_SEGTRAIN_ERROR(cfg.at("optimizer").get<double>("lr"), ErrorKind::User,
                        "t.yaml: key 'optimizer.lr': expected a float, got a string ('abc')");
  EXPECT_SEGTRAIN_ERROR(cfg.at("optimizer").get<double>("momentum"), ErrorKind::User,
                        "key 'optimizer.momentum': expected a float, got a list");
  EXPECT_SEGTRAIN_ERROR(cfg.get<int>("q"), ErrorKind::User, "key 'q': expected an int, got a string");
  EXPECT_SEGTRAIN_ERROR(cfg.get<bool>("b"), ErrorKind::User, "key 'b': expected a bool");
  EXPECT_SEGTRAIN_ERROR(cfg.get<int>("optimizer"), ErrorKind::User, "expected an int, got a map");
}

TEST(ConfigAccess, MissingKeySuggestsASibling) {
  Config cfg = Config::from_string("runner: {type: IterBasedRunner, max_iters: 10}\n", "t.yaml");
  EXPECT_SEGTRAIN_ERROR(cfg.at("runner").get<int>("max_iter"), ErrorKind::User,
                        "t.yaml: missing key 'runner.max_iter' (did you mean 'max_iters'?)");
}

TEST(ConfigAccess, IntOutOfRange) {
  Config cfg = Config::from_string("big: 99999999999\n", "t.yaml");
  EXPECT_EQ(cfg.get<int64_t>("big"), 99999999999LL);
  EXPECT_SEGTRAIN_ERROR(cfg.get<int>("big"), ErrorKind::User, "out of range");
}

TEST(ConfigSchema, UnknownTopLevelKeySuggests) {
  Config cfg = Config::from_string("lr_confg: {policy: poly}\n", "t.yaml");
  EXPECT_SEGTRAIN_ERROR(config::validate_train_config(cfg), ErrorKind::User,
                        "unknown key 'lr_confg' (did you mean 'lr_config'?)");
}

TEST(ConfigSchema, UnknownSectionKeySuggests) {
  Config cfg = Config::from_string("runner: {type: IterBasedRunner, max_itrs: 10}\n", "t.yaml");
  EXPECT_SEGTRAIN_ERROR(config::validate_train_config(cfg), ErrorKind::User,
                        "unknown key 'runner.max_itrs' (did you mean 'max_iters'?)");
}

TEST(ConfigSchema, OnlyTheIterationBasedRunner) {
  EXPECT_NO_THROW(config::validate_train_config(Config::from_string("runner: {type: IterBasedRunner, max_iters: 5}\n")));
  EXPECT_SEGTRAIN_ERROR(
      config::validate_train_config(Config::from_string("runner: {type: EpochBasedRunner, max_epochs: 5}\n", "t.yaml")),
      ErrorKind::User, "key 'runner.type': is 'EpochBasedRunner'; valid types are 'IterBasedRunner'");
}

TEST(ConfigSchema, UnderscoreKeysAreFreeAndTypesChecked) {
  EXPECT_NO_THROW(config::validate_train_config(Config::from_string("_anchors: {a: 1}\nseed: 3\n")));
  EXPECT_SEGTRAIN_ERROR(config::validate_train_config(Config::from_string("runner: {max_iters: -5}\n", "t.yaml")),
                        ErrorKind::User, "key 'runner.max_iters': expected a positive int");
  EXPECT_SEGTRAIN_ERROR(config::validate_train_config(Config::from_string("optimizer: {lr: fast}\n", "t.yaml")),
                        ErrorKind::User, "key 'optimizer.lr': expected a float");
  EXPECT_SEGTRAIN_ERROR(config::validate_train_config(Config::from_string("seed: [1]\n", "t.yaml")),
                        ErrorKind::User, "key 'seed': expected an int");
}
