#pragma once
// Writes a tree as YAML that reads back to the same tree, kinds included: strings that would
// read back as numbers, bools or null are quoted; short lists of scalars stay on one line.
#include <string>

#include <yaml-cpp/yaml.h>

namespace segtrain::config {

std::string emit_yaml(const YAML::Node& root);

// Same structure, same scalar texts and kinds (quoting differences ignored).
bool same_tree(const YAML::Node& a, const YAML::Node& b);

}  // namespace segtrain::config
