#include <fstream>
#include <sstream>

#include "config_fixture.h"
#include "segtrain/io/atomic_file.h"

using namespace segtrain;
namespace fs = std::filesystem;

class AtomicFile : public segtrain::testing::TempDirTest {
 protected:
  std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(AtomicFile, WritesAndReplaces) {
  io::write_file_atomic(dir / "f", std::string("one"));
  EXPECT_EQ(read(dir / "f"), "one");
  io::write_file_atomic(dir / "f", std::string("two"));
  EXPECT_EQ(read(dir / "f"), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST_F(AtomicFile, AFailedWriterLeavesTheOldFileAndNoTemp) {
  io::write_file_atomic(dir / "f", std::string("good"));
  EXPECT_THROW(io::write_file_atomic(dir / "f",
                                     [](const fs::path& tmp) {
                                       std::ofstream(tmp) << "half";
                                       throw std::runtime_error("writer died");
                                     }),
               std::runtime_error);
  EXPECT_EQ(read(dir / "f"), "good");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST_F(AtomicFile, MissingFolderIsAnError) {
  EXPECT_THROW(io::write_file_atomic(dir / "no" / "f", std::string("x")), std::exception);
}
