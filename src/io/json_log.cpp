#include "segtrain/io/json_log.h"

#include <cerrno>
#include <cstring>

#include "segtrain/core/error.h"

namespace segtrain::io {

JsonLog::JsonLog(const std::filesystem::path& file) : path_(file), out_(file, std::ios::app) {
  if (!out_) throw runtime_error(file.string(), "cannot open the JSON log for writing");
}

void JsonLog::write(const nlohmann::json& line) {
  out_ << line.dump() << '\n';
  errno = 0;
  out_.flush();
  if (!out_) throw runtime_error(path_.string(), std::string("cannot write: ") + (errno ? std::strerror(errno) : "I/O error"));
}

}  // namespace segtrain::io
