// One `--options KEY=VALUE` (MMCV's DictAction typing: numbers, bools, None, quoted strings,
// nested lists and tuples) applied to a config shaped like the shipped ones; the result must
// dump and load back to the same dump.
#include <cstdint>

#include "fuzz_support.h"
#include "segtrain/config/config.h"

using namespace segtrain;

namespace {
const char* kConfig = R"(model:
  type: EncoderDecoder
  backbone: {type: ResNetV1c, depth: 50, out_indices: [0, 1, 2, 3], norm_cfg: {type: SyncBN, requires_grad: true}}
  decode_head: {type: FCNHead, in_channels: 2048, num_classes: 19, loss_decode: {type: CrossEntropyLoss, loss_weight: 1.0}}
data:
  samples_per_gpu: 2
  train:
    pipeline:
      - {type: LoadImageFromFile}
      - {type: RandomFlip, prob: 0.5}
optimizer: {type: SGD, lr: 0.01, momentum: 0.9, weight_decay: 0.0005}
)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string assignment(reinterpret_cast<const char*>(data), size);
  std::string dumped;
  fuzz::expect_success_or_error([&] {
    config::Config config = config::Config::from_string(kConfig, "base.yaml");
    config.apply_overrides({assignment});
    dumped = config.dump();
  });
  if (!dumped.empty()) fuzz::expect_dump_loads_back(dumped);
  return 0;
}
