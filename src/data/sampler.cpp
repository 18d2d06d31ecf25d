#include "segtrain/data/sampler.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "segtrain/core/error.h"

namespace segtrain::data {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) { return splitmix64(splitmix64(splitmix64(a) ^ b) ^ c); }

TrainSampler::TrainSampler(std::size_t dataset_size, int rank, int world_size, uint64_t seed, bool shuffle)
    : size_(dataset_size), rank_(rank), world_(world_size), seed_(seed), shuffle_(shuffle) {
  if (size_ == 0) throw user_error("data", "the training set is empty");
  per_rank_ = (size_ + world_ - 1) / world_;
  current_ = epoch_indices(0);
}

std::vector<std::size_t> TrainSampler::epoch_indices(int64_t epoch) const {
  std::vector<std::size_t> order(size_);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle_) {
    // Fisher-Yates with our own draws: the same permutation on every rank and platform.
    std::mt19937_64 rng(mix_seed(seed_, static_cast<uint64_t>(epoch)));
    for (std::size_t i = size_; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  }
  std::vector<std::size_t> mine;
  for (std::size_t k = 0; k < per_rank_; ++k) mine.push_back(order[(k * world_ + rank_) % size_]);
  return mine;
}

std::size_t TrainSampler::next() {
  if (offset_ == per_rank_) {
    ++epoch_;
    offset_ = 0;
    current_ = epoch_indices(epoch_);
  }
  return current_[offset_++];
}

void TrainSampler::set_position(Position p) {
  if (p.epoch < 0 || p.offset < 0 || static_cast<std::size_t>(p.offset) > per_rank_)
    throw user_error("sampler", "invalid stream position (epoch " + std::to_string(p.epoch) + ", offset " +
                                    std::to_string(p.offset) + ")");
  epoch_ = p.epoch;
  offset_ = static_cast<std::size_t>(p.offset);
  current_ = epoch_indices(epoch_);
}

ContinuedPosition continue_on(TrainSampler::Position old, int old_world, int new_world, std::size_t dataset_size) {
  const int64_t new_per_rank = (static_cast<int64_t>(dataset_size) + new_world - 1) / new_world;
  ContinuedPosition c;
  c.global_offset = old.offset * old_world;
  const int64_t offset = (c.global_offset + new_world - 1) / new_world;
  c.skipped = offset * new_world - c.global_offset;
  c.position = {old.epoch, std::min(offset, new_per_rank)};
  return c;
}

std::vector<std::size_t> eval_indices(std::size_t dataset_size, int rank, int world_size) {
  std::vector<std::size_t> mine;
  for (std::size_t i = rank; i < dataset_size; i += world_size) mine.push_back(i);
  return mine;
}

}  // namespace segtrain::data
