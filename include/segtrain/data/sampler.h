#pragma once
// Which samples each rank reads.
//  TrainSampler: an endless stream. Epoch e is a permutation of all samples drawn from
//    (seed, e), padded by wrapping around to a multiple of the world size, and rank r takes
//    positions r, r+W, r+2W, ...: ranks are disjoint within an epoch and every rank gets the
//    same number of samples. The stream position (epoch, offset) is what a checkpoint saves.
//  eval_indices: every sample exactly once across ranks (rank r takes r, r+W, ...), no padding,
//    so no duplicate ever reaches the metric; ranks may differ by one sample.
#include <cstdint>
#include <vector>

namespace segtrain::data {

class TrainSampler {
 public:
  TrainSampler(std::size_t dataset_size, int rank, int world_size, uint64_t seed, bool shuffle = true);

  std::size_t next();  // the next index of this rank's stream

  struct Position {
    int64_t epoch = 0;
    int64_t offset = 0;  // samples of this epoch already taken by this rank
  };
  Position position() const { return {epoch_, static_cast<int64_t>(offset_)}; }
  void set_position(Position p);

  // This rank's indices of `epoch` (public for tests).
  std::vector<std::size_t> epoch_indices(int64_t epoch) const;

 private:
  std::size_t size_;
  int rank_, world_;
  uint64_t seed_;
  bool shuffle_;
  std::size_t per_rank_;
  int64_t epoch_ = 0;
  std::size_t offset_ = 0;
  std::vector<std::size_t> current_;
};

// Resuming on another number of ranks (a job requeued onto fewer nodes): the position, on
// `new_world` ranks, of the stream that stood at `old` on `old_world` ranks. The epoch's
// permutation does not depend on the world, so the global order goes on where it stopped: at
// global position offset * old_world of the epoch. When that is not a multiple of new_world,
// the position is rounded up, and `skipped` samples of the epoch are not trained on.
struct ContinuedPosition {
  TrainSampler::Position position;
  int64_t global_offset = 0;  // samples of the epoch taken by all ranks together
  int64_t skipped = 0;
};
ContinuedPosition continue_on(TrainSampler::Position old, int old_world, int new_world, std::size_t dataset_size);

std::vector<std::size_t> eval_indices(std::size_t dataset_size, int rank, int world_size);

// A 64-bit seed mixed from parts (splitmix64): per-sample randomness from (seed, epoch, index).
uint64_t mix_seed(uint64_t a, uint64_t b = 0, uint64_t c = 0);

}  // namespace segtrain::data
