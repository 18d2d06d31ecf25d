#include "segtrain/config/override.h"

#include "segtrain/config/scalar.h"
#include "segtrain/config/tree_check.h"
#include "segtrain/core/error.h"
#include "segtrain/core/suggest.h"

namespace segtrain::config {
namespace {

std::string trim(const std::string& s) {
  const char* ws = " \t";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool is_quoted(const std::string& s) {
  return s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front();
}

// Splits at commas outside brackets and quotes; "where" names the override for errors.
std::vector<std::string> split_top_level(const std::string& s, const std::string& where) {
  std::vector<std::string> parts;
  std::string current;
  std::vector<char> closers;
  char quote = 0;
  for (char c : s) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '(') {
      closers.push_back(c == '[' ? ']' : ')');
    } else if (c == ']' || c == ')') {
      if (closers.empty() || closers.back() != c)
        throw user_error(where, std::string("unbalanced '") + c + "'");
      closers.pop_back();
    } else if (c == ',' && closers.empty()) {
      parts.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  if (quote) throw user_error(where, "unterminated quote");
  if (!closers.empty()) throw user_error(where, std::string("missing '") + closers.back() + "'");
  parts.push_back(trim(current));
  return parts;
}

// True when s is "[...]" or "(...)" with its first bracket closed by its last character.
bool is_bracketed(const std::string& s) {
  if (s.size() < 2 || !((s.front() == '[' && s.back() == ']') || (s.front() == '(' && s.back() == ')')))
    return false;
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) { if (c == quote) quote = 0; continue; }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '[' || c == '(') ++depth;
    else if ((c == ']' || c == ')') && --depth == 0 && i + 1 != s.size()) return false;
  }
  return true;
}

YAML::Node parse_scalar(const std::string& s) {
  if (is_quoted(s)) return string_node(s.substr(1, s.size() - 2));
  if (s == "None" || s == "null") return YAML::Node(YAML::NodeType::Null);
  if (s == "True" || s == "true") return YAML::Node(true);
  if (s == "False" || s == "false") return YAML::Node(false);
  ScalarKind kind = classify_plain(s);
  if (kind == ScalarKind::Int || kind == ScalarKind::Float) return YAML::Node(s);
  return string_node(s);
}

YAML::Node parse_value(const std::string& raw, const std::string& where) {
  std::string s = trim(raw);
  if (is_bracketed(s)) {
    YAML::Node list(YAML::NodeType::Sequence);
    std::string inner = trim(s.substr(1, s.size() - 2));
    if (inner.empty()) return list;
    for (const auto& part : split_top_level(inner, where)) {
      if (part.empty()) continue;  // "(1,)" is a one-element tuple
      list.push_back(parse_value(part, where));
    }
    return list;
  }
  auto parts = split_top_level(s, where);
  if (parts.size() == 1) return parse_scalar(s);
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& part : parts)
    if (!part.empty()) list.push_back(parse_value(part, where));
  return list;
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// Up to 9 digits: a list index, and std::stoul cannot overflow on it.
bool is_index(const std::string& s) {
  return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
}

std::vector<std::string> map_keys(const YAML::Node& map) {
  std::vector<std::string> keys;
  for (const auto& kv : map) keys.push_back(kv.first.Scalar());
  return keys;
}

}  // namespace

YAML::Node parse_override_value(const std::string& text) {
  return parse_value(text, "--options value '" + text + "'");
}

std::vector<std::string> apply_override(YAML::Node& root, const std::string& assignment) {
  const std::string where = "--options " + assignment;
  auto eq = assignment.find('=');
  if (eq == std::string::npos) throw user_error(where, "expected KEY=VALUE");
  const std::string key = trim(assignment.substr(0, eq));
  const auto parts = split_key(key);
  for (const auto& p : parts) {
    if (p.empty()) throw user_error(where, "empty part in key '" + key + "'");
    // Inheritance is over once overrides apply: these keys would only end up in the dump.
    if (p == "_base_" || p == "_delete_")
      throw user_error(where, "'" + p + "' belongs in config files; an override replaces the value itself");
    if (!is_key_text(p)) throw user_error(where, "the key holds a control character or a byte outside ASCII");
  }
  YAML::Node value = parse_value(assignment.substr(eq + 1), where);

  std::vector<std::string> warnings;
  YAML::Node node = root;  // yaml-cpp nodes are handles: assigning through them edits `root`
  std::string path;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    path += (path.empty() ? "" : ".") + part;
    if (node.IsSequence()) {
      if (!is_index(part) || std::stoul(part) >= node.size())
        throw user_error(where, "'" + path + "': index out of range for a list of " +
                                    std::to_string(node.size()));
      if (last) { node[std::stoul(part)] = value; break; }
      node.reset(node[std::stoul(part)]);
      continue;
    }
    if (!node.IsMap() && !node.IsNull())
      throw user_error(where, "cannot set '" + path + "': '" +
                                  path.substr(0, path.size() - part.size() - 1) + "' is " + describe(node));
    if (!node[part]) {
      std::string hint = did_you_mean(part, map_keys(node));
      if (!hint.empty()) warnings.push_back(where + ": creates new key '" + path + "'" + hint);
      node[part] = last ? value : YAML::Node(YAML::NodeType::Map);
      if (last) break;
    } else if (last) {
      node[part] = value;
      break;
    }
    node.reset(node[part]);
  }
  return warnings;
}

}  // namespace segtrain::config
