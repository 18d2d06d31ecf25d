#pragma once
// A TensorBoard event file, <dir>/events.out.tfevents.<seconds>.<host>.<pid>.0 as torch's
// SummaryWriter names it: TFRecord framing (uint64 length, masked CRC-32C of the length, the
// bytes, masked CRC-32C of the bytes) around tensorflow.Event protobufs. The Event and Summary
// messages segtrain needs are four fields, so they are encoded here rather than by a protobuf
// dependency; tests/python/test_tensorboard.py reads the files back with TensorBoard's own reader.
// Each event is flushed: a crashed run keeps what it logged.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace segtrain::io {

// CRC-32C (Castagnoli), as TFRecord frames use it.
uint32_t crc32c(std::string_view bytes);

class EventFile {
 public:
  // Makes `dir` if needed and writes the file's first event (its version).
  explicit EventFile(const std::filesystem::path& dir);
  void add_scalar(const std::string& tag, double value, int64_t step);
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& event);
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace segtrain::io
