// The checkpoint reader: any bytes given as --resume-from (decode_checkpoint) or as
// --load-from / segtest's checkpoint / a pretrained file (decode_weights).
#include <cstdint>

#include "fuzz_support.h"
#include "segtrain/io/checkpoint/checkpoint_file.h"

using namespace segtrain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_success_or_error([&] { io::decode_checkpoint(bytes, "fuzz.pth"); });
  fuzz::expect_success_or_error([&] { io::decode_weights(bytes, "fuzz.pth"); });
  return 0;
}
