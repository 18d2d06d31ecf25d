#pragma once
// The merged config tree with typed access. Every error names the config file, the key path
// and what was expected, e.g.
//   configs/demo/x.yaml: key 'optimizer.lr': expected a float, got a string ('abc')
// Access is read-only; apply_overrides is the one way to edit the tree.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "segtrain/config/scalar.h"
#include "segtrain/core/error.h"

namespace segtrain::config {

// A node of the tree plus where it came from, so errors can say so.
class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string file, std::string path);

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const YAML::Node& yaml() const { return node_; }

  bool is_map() const { return node_.IsMap(); }
  bool is_list() const { return node_.IsSequence(); }
  bool is_null() const { return !node_.IsDefined() || node_.IsNull(); }
  bool has(const std::string& key) const;
  std::vector<std::string> keys() const;  // in file order
  std::size_t size() const { return node_.size(); }

  // A required child; missing → error with "did you mean" among the siblings.
  ConfigNode at(const std::string& key) const;
  ConfigNode at(std::size_t index) const;
  std::vector<ConfigNode> items() const;  // the elements of a list

  // Typed value: int, int64_t, double, bool, std::string, std::vector<T>.
  template <typename T> T as() const;
  template <typename T> T get(const std::string& key) const { return at(key).as<T>(); }
  template <typename T> T get(const std::string& key, T fallback) const {
    return has(key) && !at(key).is_null() ? at(key).as<T>() : fallback;
  }
  template <typename T> std::optional<T> get_optional(const std::string& key) const {
    if (!has(key) || at(key).is_null()) return std::nullopt;
    return at(key).as<T>();
  }

  // Rejects keys outside `allowed`, naming the first unknown one with a suggestion.
  void check_keys(const std::vector<std::string>& allowed) const;

  // A user error about this node: "<file>: key '<path>': <message>".
  Error error(const std::string& message) const;

 private:
  std::string child_path(const std::string& key) const;
  YAML::Node node_;
  std::string file_;
  std::string path_;
};

class Config : public ConfigNode {
 public:
  // Loads `file` with its _base_ chain (see inherit.h).
  static Config load(const std::filesystem::path& file);
  // Builds from YAML text (tests, configs read back from checkpoints).
  static Config from_string(const std::string& text, const std::string& name = "<string>");

  // Applies `--options` assignments in order; returns warnings worth logging.
  std::vector<std::string> apply_overrides(const std::vector<std::string>& assignments);

  const std::filesystem::path& filename() const { return filename_; }
  // The whole tree as YAML text that loads back to the same tree (see emit.h).
  std::string dump() const;

 private:
  Config(YAML::Node root, std::filesystem::path filename);
  YAML::Node root_;
  std::filesystem::path filename_;
};

}  // namespace segtrain::config
