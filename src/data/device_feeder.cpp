#include "segtrain/data/device_feeder.h"

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include "segtrain/data/device_batch.h"

namespace segtrain::data {

DeviceFeeder::DeviceFeeder(Loader& loader, c10::Device device, at::MemoryFormat format)
    : loader_(loader), device_(device), format_(format), input_(device) {
  if (device_.is_cuda()) side_ = c10::impl::VirtualGuardImpl(device_.type()).getStreamFromGlobalPool(device_);
}

// The next loader batch, on its way to the device (on the side stream when there is one).
std::optional<DeviceFeeder::InFlight> DeviceFeeder::send() {
  std::optional<Batch> host = loader_.next();
  if (!host) return std::nullopt;
  InFlight f;
  std::optional<c10::StreamGuard> on_side;
  if (side_) on_side.emplace(*side_);
  f.batch.images = input_.images(*host, host->images.to(device_, /*non_blocking=*/true), format_);
  f.batch.labels = ModelInput::labels(host->labels.to(device_, /*non_blocking=*/true));
  if (side_) {
    f.ready.emplace(device_.type());
    f.ready->record(*side_);
  }
  f.batch.host = std::move(*host);
  return f;
}

std::optional<DeviceBatch> DeviceFeeder::next() {
  std::optional<InFlight> now = ahead_ ? std::move(*ahead_) : send();
  ahead_.reset();
  if (!now) return std::nullopt;
  if (side_) {
    const c10::Stream compute = c10::impl::VirtualGuardImpl(device_.type()).getStream(device_);
    now->ready->block(compute);
    // Made on the side stream, used and freed on the compute stream: the caching allocator must
    // not hand their memory back to the side stream before the compute stream is done with it.
    now->batch.images.record_stream(compute);
    now->batch.labels.record_stream(compute);
    ahead_ = send();  // crosses while this batch is trained on
  }
  return std::move(now->batch);
}

}  // namespace segtrain::data
