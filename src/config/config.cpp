#include "segtrain/config/config.h"

#include <cmath>
#include <set>

#include "segtrain/config/emit.h"
#include "segtrain/config/inherit.h"
#include "segtrain/config/override.h"
#include "segtrain/config/tree_check.h"
#include "segtrain/core/suggest.h"

namespace segtrain::config {

ConfigNode::ConfigNode(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

std::string ConfigNode::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

Error ConfigNode::error(const std::string& message) const {
  return user_error(file_, (path_.empty() ? "" : "key '" + path_ + "': ") + message);
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && static_cast<bool>(node_[key]);
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  if (node_.IsMap())
    for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

ConfigNode ConfigNode::at(const std::string& key) const {
  if (!node_.IsMap()) throw error("expected a map with key '" + key + "', got " + describe(node_));
  if (!node_[key])
    throw user_error(file_, "missing key '" + child_path(key) + "'" + did_you_mean(key, keys()));
  return ConfigNode(node_[key], file_, child_path(key));
}

ConfigNode ConfigNode::at(std::size_t index) const {
  if (!node_.IsSequence() || index >= node_.size())
    throw error("expected a list with an element " + std::to_string(index));
  return ConfigNode(node_[index], file_, child_path(std::to_string(index)));
}

std::vector<ConfigNode> ConfigNode::items() const {
  if (!node_.IsSequence()) throw error("expected a list, got " + describe(node_));
  std::vector<ConfigNode> out;
  for (std::size_t i = 0; i < node_.size(); ++i) out.push_back(at(i));
  return out;
}

void ConfigNode::check_keys(const std::vector<std::string>& allowed) const {
  const std::set<std::string> ok(allowed.begin(), allowed.end());
  for (const auto& key : keys())
    if (!ok.count(key))
      throw user_error(file_, "unknown key '" + child_path(key) + "'" + did_you_mean(key, allowed) +
                                  "; valid keys are " + quoted_list(allowed));
}

namespace {

std::string shown(const YAML::Node& node) {
  return node.IsScalar() ? " ('" + node.Scalar() + "')" : "";
}

int64_t parse_int(const std::string& text) {
  if (text.rfind("0x", 0) == 0) return std::stoll(text.substr(2), nullptr, 16);
  if (text.rfind("0o", 0) == 0) return std::stoll(text.substr(2), nullptr, 8);
  return std::stoll(text);
}

double parse_float(const std::string& text) {
  std::string t = text;
  if (t == ".nan" || t == ".NaN" || t == ".NAN") return std::nan("");
  bool negative = !t.empty() && t[0] == '-';
  std::string rest = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? t.substr(1) : t;
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") return negative ? -INFINITY : INFINITY;
  return std::stod(t);
}

}  // namespace

template <> int64_t ConfigNode::as<int64_t>() const {
  if (!node_.IsScalar() || classify(node_) != ScalarKind::Int)
    throw error(std::string("expected an int, got ") + describe(node_) + shown(node_));
  try {
    return parse_int(node_.Scalar());
  } catch (const std::out_of_range&) {
    throw error("int out of range ('" + node_.Scalar() + "')");
  }
}

template <> int ConfigNode::as<int>() const {
  int64_t v = as<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) throw error("int out of range ('" + node_.Scalar() + "')");
  return static_cast<int>(v);
}

template <> double ConfigNode::as<double>() const {
  ScalarKind kind = node_.IsScalar() ? classify(node_) : ScalarKind::String;
  if (!node_.IsScalar() || (kind != ScalarKind::Int && kind != ScalarKind::Float))
    throw error(std::string("expected a float, got ") + describe(node_) + shown(node_));
  return kind == ScalarKind::Int ? static_cast<double>(parse_int(node_.Scalar())) : parse_float(node_.Scalar());
}

template <> bool ConfigNode::as<bool>() const {
  if (!node_.IsScalar() || classify(node_) != ScalarKind::Bool)
    throw error(std::string("expected a bool (true/false), got ") + describe(node_) + shown(node_));
  const std::string& s = node_.Scalar();
  return s == "true" || s == "True" || s == "TRUE";
}

template <> std::string ConfigNode::as<std::string>() const {
  if (!node_.IsScalar()) throw error(std::string("expected a string, got ") + describe(node_));
  return node_.Scalar();
}

#define SEGTRAIN_LIST_AS(T)                                \
  template <> std::vector<T> ConfigNode::as<std::vector<T>>() const { \
    std::vector<T> out;                                    \
    for (const auto& item : items()) out.push_back(item.as<T>()); \
    return out;                                            \
  }
SEGTRAIN_LIST_AS(int)
SEGTRAIN_LIST_AS(int64_t)
SEGTRAIN_LIST_AS(double)
SEGTRAIN_LIST_AS(bool)
SEGTRAIN_LIST_AS(std::string)
#undef SEGTRAIN_LIST_AS

Config::Config(YAML::Node root, std::filesystem::path filename)
    : ConfigNode(root, filename.string(), ""), root_(root), filename_(std::move(filename)) {}

Config Config::load(const std::filesystem::path& file) { return Config(load_tree(file), file); }

Config Config::from_string(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw user_error(name + ":" + std::to_string(e.mark.line + 1), "malformed YAML: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw user_error(name, "the top level must be a map of keys");
  check_tree(root, name);
  return Config(merge(YAML::Node(YAML::NodeType::Map), root, name), name);
}

std::vector<std::string> Config::apply_overrides(const std::vector<std::string>& assignments) {
  std::vector<std::string> warnings;
  for (const auto& a : assignments) {
    auto w = apply_override(root_, a);
    check_tree(root_, "--options " + a);  // a value nested too deep would not load back
    warnings.insert(warnings.end(), w.begin(), w.end());
  }
  return warnings;
}

std::string Config::dump() const { return emit_yaml(root_); }

}  // namespace segtrain::config
