#include "segtrain/dist/rank_placement.h"

#include <c10/util/StringUtil.h>

#include <algorithm>
#include <vector>

#include "segtrain/core/error.h"
#include "segtrain/core/host_name.h"
#include "segtrain/dist/collective_watchdog.h"
#include "world_comm.h"

namespace segtrain::dist {
namespace {

// One rank's record in the gather: hostname, local rank, device, NUL-separated in a fixed width.
constexpr int kRecord = 192;

struct Placement {
  std::string host, local_rank, device;
};

Placement parse(const char* record) {
  Placement p;
  p.host = record;
  p.local_rank = record + p.host.size() + 1;
  p.device = record + p.host.size() + p.local_rank.size() + 2;
  return p;
}

}  // namespace

std::string describe_rank_placement(const World& world, const c10::Device& device) {
  // Fields cut to fit, the record padded with NULs to its fixed width.
  std::string mine = host_name().substr(0, 120) + '\0' + std::to_string(world.local_rank()) + '\0' + device.str();
  mine.resize(kRecord - 1);
  mine.push_back('\0');
  std::vector<char> all(world.is_main() ? static_cast<size_t>(kRecord) * world.size() : 0);
  {
    CollectiveWait wait("MPI_Gather");
    if (MPI_Gather(mine.data(), kRecord, MPI_CHAR, all.data(), kRecord, MPI_CHAR, 0, mpi_comm(world)) != MPI_SUCCESS)
      throw runtime_error("MPI", "MPI_Gather of the ranks' placement failed");
  }
  if (!world.is_main()) return {};

  // Nodes in the order of their first rank; each with its ranks in rank order.
  std::vector<std::pair<std::string, std::string>> nodes;
  for (int r = 0; r < world.size(); ++r) {
    const Placement p = parse(all.data() + static_cast<size_t>(r) * kRecord);
    auto node = std::find_if(nodes.begin(), nodes.end(), [&](const auto& n) { return n.first == p.host; });
    if (node == nodes.end()) node = nodes.insert(nodes.end(), {p.host, ""});
    node->second += (node->second.empty() ? "" : ", ") + c10::str("rank ", r, " (local ", p.local_rank, ", ", p.device, ")");
  }
  std::string out;
  for (const auto& [host, ranks] : nodes) out += (out.empty() ? "" : "\n") + host + ": " + ranks;
  return out;
}

}  // namespace segtrain::dist
