#pragma once
// What kind of value a YAML scalar holds, by the YAML 1.2 core schema; quoted scalars and
// `!!str` are strings whatever they look like, so `"1"` stays the string "1".
#include <string>

#include <yaml-cpp/yaml.h>

namespace segtrain::config {

enum class ScalarKind { Null, Bool, Int, Float, String };

// The kind a plain (unquoted) scalar with this text would have.
ScalarKind classify_plain(const std::string& text);
// The kind of a loaded or built node (must be a scalar or null).
ScalarKind classify(const YAML::Node& node);
const char* kind_name(ScalarKind kind);
// "a float", "a list", ... of any node, for error messages.
std::string describe(const YAML::Node& node);

// A scalar node that is a string whatever its text looks like.
YAML::Node string_node(const std::string& text);

}  // namespace segtrain::config
