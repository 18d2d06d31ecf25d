#include "segtrain/core/env_vars.h"

#include <cstdlib>
#include <string>

namespace segtrain::env {

int launcher_rank() {
  for (const char* name : {kOmpiRank, kPmixRank, kSlurmRank})
    if (const char* v = std::getenv(name)) {
      try {
        return std::stoi(v);
      } catch (...) {
      }
    }
  return 0;
}

}  // namespace segtrain::env
