// work_dir resolution (--work-dir > config work_dir > work_dirs/<stem>) and the config dump.
#include <fstream>
#include <sstream>

#include "config_fixture.h"
#include "segtrain/config/config.h"
#include "segtrain/config/emit.h"
#include "segtrain/io/work_dir.h"

using namespace segtrain;
using segtrain::config::Config;
namespace fs = std::filesystem;

class WorkDir : public segtrain::testing::TempDirTest {};

TEST_F(WorkDir, ResolutionOrder) {
  auto with = Config::load(write("configs/psp_r50.yaml", "work_dir: from_cfg\n"));
  auto without = Config::load(write("configs/psp_r50.yaml.d/fcn_r18.yaml", "a: 1\n"));
  EXPECT_EQ(io::resolve_work_dir(std::string("cli"), with), fs::path("cli"));
  EXPECT_EQ(io::resolve_work_dir(std::nullopt, with), fs::path("from_cfg"));
  EXPECT_EQ(io::resolve_work_dir(std::nullopt, without), fs::path("work_dirs/fcn_r18"));
  auto null_dir = Config::load(write("n.yaml", "work_dir: null\n"));
  EXPECT_EQ(io::resolve_work_dir(std::nullopt, null_dir), fs::path("work_dirs/n"));
}

TEST_F(WorkDir, DumpIsTheMergedConfigAndReloads) {
  write("base.yaml", "model: {depth: 50}\n");
  auto cfg = Config::load(write("run.yaml", "_base_: base.yaml\nx: 1\n"));
  cfg.apply_overrides({"model.depth=18"});
  io::make_work_dir(dir / "wd" / "nested");
  auto dumped = io::dump_config(dir / "wd" / "nested", cfg);
  EXPECT_EQ(dumped, dir / "wd" / "nested" / "run.yaml");
  auto back = Config::load(dumped);
  EXPECT_TRUE(config::same_tree(cfg.yaml(), back.yaml()));
  EXPECT_EQ(back.at("model").get<int>("depth"), 18);
  // Nothing but the dump is left behind (no temp files).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "wd" / "nested"), fs::directory_iterator{}), 1);
}

TEST_F(WorkDir, DumpNeverOverwritesTheConfigItself) {
  auto f = write("run.yaml", "x: 1\n");
  auto cfg = Config::load(f);
  EXPECT_SEGTRAIN_ERROR(io::dump_config(dir, cfg), ErrorKind::User, "would overwrite the config file");
  std::ifstream in(f);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "x: 1\n");
}

TEST_F(WorkDir, UncreatableWorkDirIsAUserError) {
  write("file", "not a folder");
  EXPECT_SEGTRAIN_ERROR(io::make_work_dir(dir / "file" / "sub"), ErrorKind::User, "cannot create the work_dir");
}
