// segtrain's command line.
#include "config_fixture.h"
#include "segtrain/tools/train_options.h"

using namespace segtrain;
using segtrain::tools::parse_train_options;
using segtrain::engine::TrainOptions;

namespace {
TrainOptions parse(std::vector<const char*> args) {
  args.insert(args.begin(), "segtrain");
  return parse_train_options(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST(TrainOptions, AllFlags) {
  auto o = parse({"cfg.yaml", "--work-dir", "wd", "--resume-from", "r.pth", "--auto-resume", "--no-validate",
                  "--seed", "42", "--deterministic", "--options", "a.b=1", "c=[1,2]", "--print-config"});
  EXPECT_EQ(o.config, "cfg.yaml");
  EXPECT_EQ(o.work_dir, "wd");
  EXPECT_EQ(o.resume_from, "r.pth");
  EXPECT_FALSE(o.load_from);
  EXPECT_TRUE(o.auto_resume);
  EXPECT_TRUE(o.no_validate);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_TRUE(o.deterministic);
  EXPECT_TRUE(o.print_config);
  EXPECT_EQ(o.options, (std::vector<std::string>{"a.b=1", "c=[1,2]"}));
}

TEST(TrainOptions, Defaults) {
  auto o = parse({"cfg.yaml"});
  EXPECT_FALSE(o.work_dir);
  EXPECT_FALSE(o.seed);
  EXPECT_FALSE(o.auto_resume || o.no_validate || o.deterministic || o.print_config);
  EXPECT_TRUE(o.options.empty());
}

TEST(TrainOptions, CfgOptionsIsAnAliasAndRepeats) {
  auto o = parse({"--cfg-options", "a=1", "b=2", "cfg.yaml", "--options", "c=3", "--cfg-options=d=(1,2)"});
  EXPECT_EQ(o.config, "cfg.yaml");
  EXPECT_EQ(o.options, (std::vector<std::string>{"a=1", "b=2", "c=3", "d=(1,2)"}));
}

TEST(TrainOptions, EqualsForm) {
  auto o = parse({"cfg.yaml", "--work-dir=wd", "--load-from=w.pth", "--seed=7"});
  EXPECT_EQ(o.work_dir, "wd");
  EXPECT_EQ(o.load_from, "w.pth");
  EXPECT_EQ(o.seed, 7u);
}

TEST(TrainOptions, HelpAndVersionNeedNoConfig) {
  EXPECT_TRUE(parse({"--help"}).help);
  EXPECT_TRUE(parse({"-h"}).help);
  EXPECT_TRUE(parse({"--version"}).version);
}

TEST(TrainOptions, Errors) {
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--load-from", "a", "--resume-from", "b"}), ErrorKind::User,
                        "--load-from: cannot be used together with --resume-from");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--no-valdate"}), ErrorKind::User,
                        "--no-valdate: unknown flag (did you mean '--no-validate'?)");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--bogus"}), ErrorKind::User, "--bogus: unknown flag");
  EXPECT_SEGTRAIN_ERROR(parse({}), ErrorKind::User, "missing CONFIG");
  EXPECT_SEGTRAIN_ERROR(parse({"a.yaml", "b.yaml"}), ErrorKind::User, "b.yaml: unexpected argument");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--seed", "abc"}), ErrorKind::User,
                        "--seed: expects a non-negative integer, got 'abc'");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--seed=-5"}), ErrorKind::User, "--seed: expects a non-negative integer, got '-5'");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--seed", "99999999999999999999"}), ErrorKind::User, "--seed: expects");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--seed", "7x"}), ErrorKind::User, "--seed: expects");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--options"}), ErrorKind::User, "--options: expects one or more");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--work-dir"}), ErrorKind::User, "command line");
  EXPECT_SEGTRAIN_ERROR(parse({"cfg.yaml", "--work-dir="}), ErrorKind::User, "--work-dir: expects a non-empty");
}

TEST(TrainOptions, HelpListsEveryFlag) {
  const std::string help = tools::train_help();
  for (const char* flag : {"--work-dir", "--load-from", "--resume-from", "--auto-resume", "--no-validate", "--seed",
                           "--deterministic", "--options", "--cfg-options", "--print-config", "--help", "--version"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
}
