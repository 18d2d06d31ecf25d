#include "segtrain/config/inherit.h"

#include <algorithm>
#include <vector>

#include "segtrain/config/scalar.h"
#include "segtrain/config/tree_check.h"
#include "segtrain/core/error.h"

namespace segtrain::config {
namespace fs = std::filesystem;
namespace {

const char* kBaseKey = "_base_";
const char* kDeleteKey = "_delete_";
const char* kMergeKey = "<<";

std::string chain_text(const std::vector<fs::path>& chain) {
  std::string out;
  for (const auto& f : chain) out += (out.empty() ? "" : " -> ") + f.string();
  return out;
}

// Replaces `<<: *a` / `<<: [*a, *b]` with the keys of those maps; explicit keys win, earlier
// maps in the list win over later ones (the YAML merge-key rules).
YAML::Node expand_merge_keys(const YAML::Node& node, const std::string& where) {
  if (node.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : node) out.push_back(expand_merge_keys(item, where));
    return out;
  }
  if (!node.IsMap()) return YAML::Clone(node);
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : node)
    if (kv.first.Scalar() != kMergeKey) out[kv.first.Scalar()] = expand_merge_keys(kv.second, where);
  if (node[kMergeKey]) {
    YAML::Node sources = node[kMergeKey];
    std::vector<YAML::Node> maps;
    if (sources.IsMap()) maps.push_back(sources);
    else if (sources.IsSequence()) for (const auto& s : sources) maps.push_back(s);
    for (const auto& m : maps) {
      if (!m.IsMap()) throw user_error(where, "'<<' must name a map or a list of maps");
      YAML::Node expanded = expand_merge_keys(m, where);
      for (const auto& kv : expanded)
        if (!out[kv.first.Scalar()]) out[kv.first.Scalar()] = kv.second;
    }
  }
  return out;
}

YAML::Node read_yaml(const fs::path& file, const std::vector<fs::path>& chain) {
  if (!fs::is_regular_file(file)) {
    std::string msg = "config file not found";
    if (!chain.empty()) msg += " (a _base_ of " + chain_text(chain) + ")";
    throw user_error(file.string(), msg);
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw user_error(file.string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1),
                     "malformed YAML: " + e.msg);
  }
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw user_error(file.string(), "the top level must be a map of keys");
  check_tree(root, file.string());
  return expand_merge_keys(root, file.string());
}

std::vector<fs::path> base_paths(const YAML::Node& root, const fs::path& file) {
  std::vector<fs::path> out;
  YAML::Node bases = root[kBaseKey];
  if (!bases) return out;
  auto add = [&](const YAML::Node& b) {
    if (!b.IsScalar() || classify(b) != ScalarKind::String)
      throw user_error(file.string(), "key '_base_': expected a path or a list of paths");
    out.push_back((file.parent_path() / b.Scalar()).lexically_normal());
  };
  if (bases.IsSequence()) for (const auto& b : bases) add(b);
  else add(bases);
  return out;
}

YAML::Node load_chain(const fs::path& file, std::vector<fs::path>& chain) {
  fs::path canonical = fs::weakly_canonical(file);
  for (const auto& seen : chain) {
    if (fs::weakly_canonical(seen) == canonical) {
      auto cycle = chain;
      cycle.push_back(file);
      throw user_error(chain.front().string(), "_base_ cycle: " + chain_text(cycle));
    }
  }
  YAML::Node root = read_yaml(file, chain);
  chain.push_back(file);
  YAML::Node merged(YAML::NodeType::Map);
  for (const auto& base : base_paths(root, file)) merged = merge(merged, load_chain(base, chain), base.string());
  chain.pop_back();
  root.remove(kBaseKey);
  return merge(merged, root, file.string());
}

bool wants_delete(const YAML::Node& map, const std::string& where) {
  YAML::Node flag = map[kDeleteKey];
  if (!flag) return false;
  if (classify(flag) != ScalarKind::Bool)
    throw user_error(where, "key '_delete_': expected a bool, got " + describe(flag));
  return flag.as<bool>();
}

YAML::Node without_delete_keys(const YAML::Node& node, const std::string& where) {
  if (node.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : node) out.push_back(without_delete_keys(item, where));
    return out;
  }
  if (!node.IsMap()) return YAML::Clone(node);
  wants_delete(node, where);  // validates the flag's type even where nothing is inherited
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : node)
    if (kv.first.Scalar() != kDeleteKey) out[kv.first.Scalar()] = without_delete_keys(kv.second, where);
  return out;
}

}  // namespace

YAML::Node merge(const YAML::Node& base, const YAML::Node& child, const std::string& where) {
  if (!base.IsMap() || !child.IsMap() || wants_delete(child, where)) return without_delete_keys(child, where);
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : child) {
    const std::string key = kv.first.Scalar();
    if (key == kDeleteKey) continue;
    out[key] = out[key] ? merge(out[key], kv.second, where) : without_delete_keys(kv.second, where);
  }
  return out;
}

YAML::Node load_tree(const fs::path& file) {
  std::vector<fs::path> chain;
  return load_chain(file, chain);
}

}  // namespace segtrain::config
