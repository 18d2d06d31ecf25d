#include "segtrain/io/json_log.h"

#include "segtrain/core/error.h"

namespace segtrain::io {

JsonLog::JsonLog(const std::filesystem::path& file) : path_(file), out_(file, std::ios::app) {
  if (!out_) throw runtime_error(file.string(), "cannot open the JSON log for writing");
}

void JsonLog::write(const nlohmann::json& line) {
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw runtime_error(path_.string(), "cannot write the JSON log");
}

}  // namespace segtrain::io
