#pragma once
// Several nodes write one work_dir: rank 0 writes the logs and checkpoints, and every rank reads
// the checkpoint it resumes from there, so the folder must be on a filesystem that every node
// shares (NFS, Lustre, GPFS...). A job whose nodes each see a folder of their own would split its
// run silently; this check stops it at the start instead.
#include <filesystem>

#include "segtrain/dist/world.h"

namespace segtrain::dist {

// Collective. Rank 0 leaves a marker file in `dir` (which it has made), and one rank of every
// other node looks for it (for up to 5 s). Where a node does not see it, rank 0 throws a user error naming `dir`
// and a node that cannot see it, the others PeerFailed. Nothing to do on a job of one node. The
// marker is removed again.
void check_shared_by_all_nodes(const World& world, const std::filesystem::path& dir);

}  // namespace segtrain::dist
