#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace segtrain::testing {

// The folder tests/data/make_test_shards.py filled (tests/run_with_fixture.sh sets it).
inline std::filesystem::path test_data() {
  const char* dir = std::getenv("SEGTRAIN_TEST_DATA");
  return dir ? dir : "";
}

}  // namespace segtrain::testing
