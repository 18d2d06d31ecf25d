#include "segtrain/io/event_file.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "segtrain/core/error.h"

namespace segtrain::io {
namespace {

constexpr std::array<uint32_t, 256> crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // the reflected Castagnoli polynomial
    table[i] = c;
  }
  return table;
}

// TFRecord stores CRCs rotated and offset, so a CRC of data holding CRCs stays well-behaved.
uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// Protobuf wire format: a field's key, varints, and little-endian fixed-width values.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void key(std::string& out, int field, int wire_type) { varint(out, static_cast<uint64_t>(field << 3 | wire_type)); }
template <typename T> void fixed(std::string& out, T v) {  // x86 and ARM Linux are little-endian, as the format
  char bytes[sizeof v];
  std::memcpy(bytes, &v, sizeof v);
  out.append(bytes, sizeof v);
}
void bytes_field(std::string& out, int field, const std::string& bytes) {
  key(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}

// tensorflow.Event: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5.
std::string event(int64_t step) {
  std::string e;
  key(e, 1, 1);
  fixed(e, std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  key(e, 2, 0);
  varint(e, static_cast<uint64_t>(step));
  return e;
}

std::string hostname() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? name : "localhost";
}

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  static constexpr auto table = crc32c_table();
  uint32_t crc = 0xffffffffu;
  for (unsigned char b : bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

EventFile::EventFile(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw runtime_error(dir.string(), "cannot make the TensorBoard log folder: " + ec.message());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  path_ = dir / ("events.out.tfevents." + std::to_string(seconds) + "." + hostname() + "." +
                 std::to_string(getpid()) + ".0");
  out_.open(path_, std::ios::binary | std::ios::app);
  if (!out_) throw runtime_error(path_.string(), "cannot write the TensorBoard event file");
  std::string first = event(0);
  bytes_field(first, 3, "brain.Event:2");
  write_record(first);
}

void EventFile::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string summary_value;  // Summary.Value: tag = 1, simple_value = 2 (float)
  bytes_field(summary_value, 1, tag);
  key(summary_value, 2, 5);
  fixed(summary_value, static_cast<float>(value));
  std::string summary;  // Summary: repeated Value value = 1
  bytes_field(summary, 1, summary_value);
  std::string e = event(step);
  bytes_field(e, 5, summary);
  write_record(e);
}

void EventFile::write_record(const std::string& data) {
  std::string header;
  fixed(header, static_cast<uint64_t>(data.size()));
  std::string frame = header;
  fixed(frame, masked(crc32c(header)));
  frame += data;
  fixed(frame, masked(crc32c(data)));
  out_.write(frame.data(), static_cast<std::streamsize>(frame.size()));
  out_.flush();
  if (!out_) throw runtime_error(path_.string(), "cannot write the TensorBoard event file (disk full?)");
}

}  // namespace segtrain::io
