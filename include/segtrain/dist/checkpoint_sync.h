#pragma once
// Checkpoint files in a multi-rank job. Both calls are collective.
//  save: rank 0 writes (atomically: temp file, fsync, rename) while the others wait, so when
//        the call returns on any rank the file is complete; a failure on rank 0 fails every rank.
//  load: rank 0 reads the file once and broadcasts its bytes. One read of shared storage
//        instead of one per rank, and every rank gets the very same bytes even if a concurrent
//        save replaces the file meanwhile: all ranks end with identical state.
#include <filesystem>
#include <functional>
#include <string>

namespace segtrain::dist {

class World;

void save_on_main(const World& world, const std::filesystem::path& target,
                  const std::function<std::string()>& serialize);

std::string read_on_main(const World& world, const std::filesystem::path& file);

}  // namespace segtrain::dist
