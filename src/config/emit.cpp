#include "segtrain/config/emit.h"

#include "segtrain/config/scalar.h"

namespace segtrain::config {
namespace {

bool all_scalars(const YAML::Node& seq) {
  for (const auto& item : seq)
    if (item.IsMap() || item.IsSequence()) return false;
  return true;
}

void emit(YAML::Emitter& out, const YAML::Node& node) {
  if (node.IsMap()) {
    out << YAML::BeginMap;
    for (const auto& kv : node) {
      out << YAML::Key;
      emit(out, kv.first);
      out << YAML::Value;
      emit(out, kv.second);
    }
    out << YAML::EndMap;
  } else if (node.IsSequence()) {
    out << (all_scalars(node) ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
    for (const auto& item : node) emit(out, item);
    out << YAML::EndSeq;
  } else if (!node.IsDefined() || node.IsNull()) {
    out << YAML::Null;
  } else if (classify(node) == ScalarKind::String && classify_plain(node.Scalar()) != ScalarKind::String) {
    out << YAML::DoubleQuoted << node.Scalar();
  } else {
    out << node.Scalar();
  }
}

}  // namespace

std::string emit_yaml(const YAML::Node& root) {
  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);
  emit(out, root);
  return std::string(out.c_str()) + "\n";
}

bool same_tree(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) {
    const bool a_null = !a.IsDefined() || a.IsNull(), b_null = !b.IsDefined() || b.IsNull();
    return a_null && b_null;
  }
  if (a.IsMap()) {
    if (a.size() != b.size()) return false;
    for (const auto& kv : a) {
      const YAML::Node other = b[kv.first.Scalar()];
      if (!other || !same_tree(kv.second, other)) return false;
    }
    return true;
  }
  if (a.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_tree(a[i], b[i])) return false;
    return true;
  }
  if (a.IsScalar()) return classify(a) == classify(b) && a.Scalar() == b.Scalar();
  return true;
}

}  // namespace segtrain::config
