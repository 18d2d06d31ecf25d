#pragma once
// <work_dir>/<timestamp>.log.json: one JSON object a line, as MMSegmentation writes it. The first
// line is the run's meta (config, seed, versions, world size); then "mode": "train"/"val" lines.
// Written by rank 0 only; each line is flushed so a crashed run keeps what it logged.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "segtrain/io/record_sink.h"

namespace segtrain::io {

class JsonLog : public RecordSink {
 public:
  explicit JsonLog(const std::filesystem::path& file);
  void write(const nlohmann::json& line) override;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace segtrain::io
