#include "config_fixture.h"

#include <fstream>
#include <random>

namespace segtrain::testing {
namespace fs = std::filesystem;

void TempDirTest::SetUp() {
  dir = fs::temp_directory_path() / ("segtrain_test_" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
}

void TempDirTest::TearDown() { fs::remove_all(dir); }

fs::path TempDirTest::write(const std::string& relative, const std::string& text) const {
  fs::path p = dir / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  return p;
}

}  // namespace segtrain::testing
