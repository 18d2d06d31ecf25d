#include "segtrain/config/tree_check.h"

#include <algorithm>

#include "segtrain/config/scalar.h"
#include "segtrain/core/error.h"

namespace segtrain::config {
namespace {

// YAML text is UTF-8 (the spec says so): other bytes would come back from the dump as different
// characters (yaml-cpp escapes a byte 0xFF as "\xFF", which reads back as U+00FF).
bool is_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (extra < 0 || i + extra >= text.size()) return false;
    for (int k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    i += extra + 1;
  }
  return true;
}

// Depth first, so a self-containing alias fails at the depth limit after kMaxConfigDepth steps,
// and the count stops an exponential expansion before it is walked.
void walk(const YAML::Node& node, int depth, long& values, const std::string& where) {
  if (depth > kMaxConfigDepth)
    throw user_error(where, "the YAML nests deeper than " + std::to_string(kMaxConfigDepth) +
                                " levels (is an alias inside the node it names?)");
  if (++values > kMaxConfigValues)
    throw user_error(where, "the YAML expands to more than " + std::to_string(kMaxConfigValues) +
                                " values through its aliases");
  if (node.IsScalar() && !is_utf8(node.Scalar()))
    throw user_error(where, "a value that is not UTF-8 text");
  if (node.IsSequence()) {
    for (const auto& item : node) walk(item, depth + 1, values, where);
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) throw user_error(where, "a key that is " + describe(kv.first) + " (keys are names)");
      if (!is_key_text(kv.first.Scalar()))
        throw user_error(where, "a key holds a control character or a byte outside ASCII (keys are names)");
      if (kv.first.Scalar().size() > kMaxKeyLength)
        throw user_error(where, "a key of " + std::to_string(kv.first.Scalar().size()) + " characters (keys are names, of " +
                                    std::to_string(kMaxKeyLength) + " at most)");
      walk(kv.first, depth + 1, values, where);
      walk(kv.second, depth + 1, values, where);
    }
  }
}

}  // namespace

bool is_key_text(const std::string& key) {
  return std::all_of(key.begin(), key.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

void check_tree(const YAML::Node& root, const std::string& where) {
  long values = 0;
  walk(root, 0, values, where);
}

}  // namespace segtrain::config
