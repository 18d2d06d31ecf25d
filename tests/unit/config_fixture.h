#pragma once
// A scratch folder for tests that need config files on disk.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "segtrain/core/error.h"

namespace segtrain::testing {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Writes `text` to dir/relative (creating folders) and returns the full path.
  std::filesystem::path write(const std::string& relative, const std::string& text) const;
  std::filesystem::path dir;
};

}  // namespace segtrain::testing

// EXPECT that `statement` throws segtrain::Error of `kind` whose message contains `needle`.
#define EXPECT_SEGTRAIN_ERROR(statement, expected_kind, needle)                                   \
  do {                                                                                   \
    try {                                                                                \
      statement;                                                                         \
      ADD_FAILURE() << "expected an error containing: " << (needle);                    \
    } catch (const segtrain::Error& e) {                                                 \
      EXPECT_EQ(e.kind(), expected_kind) << e.what();                                         \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();     \
    }                                                                                    \
  } while (0)
