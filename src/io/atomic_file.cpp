#include "segtrain/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "segtrain/core/error.h"

namespace segtrain::io {
namespace fs = std::filesystem;
namespace {

// Named after the target (the temp name means nothing to the user), with the system's reason:
// "No space left on device", "Disk quota exceeded", ...
Error write_failed(const fs::path& target, int error_number) {
  return runtime_error(target.string(), std::string("cannot write: ") + std::strerror(error_number) +
                                            " (the previous file, if any, is unchanged)");
}

void fsync_path(const fs::path& p, int flags, const fs::path& target) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw write_failed(target, errno);
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) throw write_failed(target, saved);
}

fs::path temp_name(const fs::path& target) {
  // Hidden, and distinct per process so concurrent writers never share a temp file.
  std::string name = ".";  // appended, not "." + ...: GCC 12 warns falsely (-Wrestrict) on that form
  name += target.filename().string();
  name += ".tmp." + std::to_string(::getpid());
  return target.parent_path() / name;
}

// Every byte, then fsync and close: each can be where a full disk shows (tmpfs fails the write,
// NFS may fail only the close).
void write_bytes(const fs::path& tmp, const fs::path& target, std::string_view bytes) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw write_failed(target, errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      throw write_failed(target, saved);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    throw write_failed(target, saved);
  }
  if (::close(fd) != 0) throw write_failed(target, errno);
}

// `write` fills the temp file; then it replaces the target, and the folder is synced.
void replace_atomically(const fs::path& target, const std::function<void(const fs::path& tmp)>& write) {
  const fs::path tmp = temp_name(target);
  try {
    write(tmp);
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  fsync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path(), O_RDONLY | O_DIRECTORY, target);
}

}  // namespace

void write_file_atomic(const fs::path& target, const std::function<void(const fs::path&)>& writer) {
  replace_atomically(target, [&](const fs::path& tmp) {
    writer(tmp);
    fsync_path(tmp, O_RDONLY, target);
  });
}

void write_file_atomic(const fs::path& target, std::string_view bytes) {
  replace_atomically(target, [&](const fs::path& tmp) { write_bytes(tmp, target, bytes); });
}

}  // namespace segtrain::io
