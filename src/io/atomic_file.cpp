#include "segtrain/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "segtrain/core/error.h"

namespace segtrain::io {
namespace fs = std::filesystem;
namespace {

void fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags);
  if (fd < 0) throw runtime_error(p.string(), std::string("cannot open for fsync: ") + std::strerror(errno));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) throw runtime_error(p.string(), std::string("fsync failed: ") + std::strerror(saved));
}

fs::path temp_name(const fs::path& target) {
  // Hidden, and distinct per process so concurrent writers never share a temp file.
  return target.parent_path() / ("." + target.filename().string() + ".tmp." + std::to_string(::getpid()));
}

}  // namespace

void write_file_atomic(const fs::path& target, const std::function<void(const fs::path&)>& writer) {
  const fs::path tmp = temp_name(target);
  try {
    writer(tmp);
    fsync_path(tmp, O_RDONLY);
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  fsync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path(), O_RDONLY | O_DIRECTORY);
}

void write_file_atomic(const fs::path& target, std::string_view bytes) {
  write_file_atomic(target, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw runtime_error(tmp.string(), "cannot write");
  });
}

}  // namespace segtrain::io
