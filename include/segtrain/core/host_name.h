#pragma once
#include <string>

namespace segtrain {

// This machine's hostname (the node's name in the ranks' error lines and the placement log),
// or "?" when the system does not say.
std::string host_name();

}  // namespace segtrain
