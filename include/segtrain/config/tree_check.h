#pragma once
// What a parsed YAML document must be before any walk of it. Aliases can make a document that
// contains itself (`a: &x [*x]`) or one that grows exponentially as it is expanded (lists of
// aliases of lists of aliases): every recursive walk of the config (merge keys, inheritance,
// overrides, the dump) would then overflow the stack or exhaust memory. Keys are names that
// users type: a control character or a byte outside ASCII in one, or a key of pages (YAML allows
// 1024 characters in an implicit key), is a damaged file, and so is text that is not UTF-8: the
// dump would not read back as the same config.
#include <cstddef>
#include <string>

#include <yaml-cpp/yaml.h>

namespace segtrain::config {

inline constexpr int kMaxConfigDepth = 64;
inline constexpr long kMaxConfigValues = 1'000'000;
inline constexpr std::size_t kMaxKeyLength = 256;

// Keys are printable ASCII (0x20-0x7e): names such as MMSeg's.
bool is_key_text(const std::string& key);

// A user error naming `where` when `root` nests deeper than kMaxConfigDepth, holds more than
// kMaxConfigValues values once its aliases are expanded, a key that is not is_key_text or is
// longer than kMaxKeyLength, or a value that is not UTF-8.
void check_tree(const YAML::Node& root, const std::string& where);

}  // namespace segtrain::config
