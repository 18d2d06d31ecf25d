#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "config_fixture.h"
#include "segtrain/core/error.h"
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

// A full disk (here: the file size limit, which fails write() as ENOSPC would): one error that
// names the target and the reason; the old file stays, no temp file is left.
TEST_F(AtomicFile, AFailedWriteNamesTheFileAndKeepsTheOldOne) {
  io::write_file_atomic(dir / "latest.pth", std::string("good"));
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // write() fails with EFBIG instead
  rlimit small = saved;
  small.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  try {
    io::write_file_atomic(dir / "latest.pth", std::string(5000, 'x'));
    ADD_FAILURE() << "the write did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find((dir / "latest.pth").string() + ": cannot write: File too large"),
              std::string::npos)
        << e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(read(dir / "latest.pth"), "good");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}
