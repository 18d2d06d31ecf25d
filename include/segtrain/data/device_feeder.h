#pragma once
// The training loop's batches on its device. On CUDA the next batch is already crossing while
// the current one is trained on: its (pinned) bytes are copied and normalized on a side stream,
// and the compute stream waits for that stream's event, not the host. On the CPU the batch is
// converted when asked for: there is no copy to hide.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Event.h>
#include <c10/core/Stream.h>

#include <optional>

#include "segtrain/data/device_batch.h"
#include "segtrain/data/loader.h"

namespace segtrain::data {

struct DeviceBatch {
  at::Tensor images, labels;  // as the model takes them (data/device_batch.h)
  Batch host;                 // the loader's batch: names, indices, sampler position
};

class DeviceFeeder {
 public:
  // `loader` outlives the feeder; images come out in `format`.
  DeviceFeeder(Loader& loader, c10::Device device, at::MemoryFormat format);
  // The next batch; nullopt when the loader is done. A loader's error surfaces here, possibly
  // one batch early (when the batch after this one is fetched).
  std::optional<DeviceBatch> next();

 private:
  struct InFlight {
    DeviceBatch batch;
    std::optional<c10::Event> ready;  // recorded on the side stream after the batch's work
  };
  std::optional<InFlight> send();

  Loader& loader_;
  c10::Device device_;
  at::MemoryFormat format_;
  ModelInput input_;
  std::optional<c10::Stream> side_;                 // CUDA only
  std::optional<std::optional<InFlight>> ahead_;    // the batch already sent (nullopt inside: loader done)
};

}  // namespace segtrain::data
