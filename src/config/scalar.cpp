#include "segtrain/config/scalar.h"

#include <regex>

namespace segtrain::config {
namespace {
const std::string kStrTag = "tag:yaml.org,2002:str";
}

ScalarKind classify_plain(const std::string& text) {
  static const std::regex null_re(R"(~|null|Null|NULL|)");
  static const std::regex bool_re(R"(true|True|TRUE|false|False|FALSE)");
  static const std::regex int_re(R"([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)");
  static const std::regex float_re(
      R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  if (std::regex_match(text, null_re)) return ScalarKind::Null;
  if (std::regex_match(text, bool_re)) return ScalarKind::Bool;
  if (std::regex_match(text, int_re)) return ScalarKind::Int;
  if (std::regex_match(text, float_re)) return ScalarKind::Float;
  return ScalarKind::String;
}

ScalarKind classify(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return ScalarKind::Null;
  // yaml-cpp tags quoted scalars "!" (non-specific); plain ones "?".
  if (node.Tag() == "!" || node.Tag() == kStrTag || node.Tag() == "!!str") return ScalarKind::String;
  return classify_plain(node.Scalar());
}

const char* kind_name(ScalarKind kind) {
  switch (kind) {
    case ScalarKind::Null: return "null";
    case ScalarKind::Bool: return "a bool";
    case ScalarKind::Int: return "an int";
    case ScalarKind::Float: return "a float";
    case ScalarKind::String: return "a string";
  }
  return "?";
}

std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return kind_name(classify(node));
}

YAML::Node string_node(const std::string& text) {
  YAML::Node node(text);
  node.SetTag("!");
  return node;
}

}  // namespace segtrain::config
