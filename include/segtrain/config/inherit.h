#pragma once
// Config files inherit from others as MMCV configs do:
//   _base_: path | [path, ...]   relative to the file, merged in order, the file itself last;
//   maps merge key by key, recursively; anything else (lists, scalars) is replaced whole;
//   `_delete_: true` inside a map replaces the inherited map instead of merging into it.
// YAML merge keys (`<<: *anchor`) are expanded within a file before inheritance.
#include <filesystem>

#include <yaml-cpp/yaml.h>

namespace segtrain::config {

// Reads `file` and its whole _base_ chain into one tree (no `_base_` or `_delete_` keys left).
// Errors (user): missing file, malformed YAML, a cycle — each naming the chain of files.
YAML::Node load_tree(const std::filesystem::path& file);

// `child` merged into a copy of `base` by the rules above; neither argument is modified.
YAML::Node merge(const YAML::Node& base, const YAML::Node& child, const std::string& where = "");

}  // namespace segtrain::config
