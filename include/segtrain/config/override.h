#pragma once
// Command-line overrides, `--options a.b.c=VALUE`, typed as MMCV's DictAction types them:
//   int (3), float (1e-3), bool (True/False/true/false), None/null, strings quoted ('x', "x")
//   or bare (x), lists ([1,2], (1,2), 1,2) nested at will ([(1,2),(3,4)]); tuples become lists.
// A path part that is a number indexes a list (data.train.pipeline.2.prob=0.3).
// An override may create keys that do not exist yet (MMCV does, and `with_cp` is set this way);
// a new key that looks like a typo of an existing sibling is reported back as a warning, and
// the consumers of each section reject unknown keys, so a typo cannot pass silently.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace segtrain::config {

// The typed YAML value of an override's right-hand side.
YAML::Node parse_override_value(const std::string& text);

// Applies "a.b.c=VALUE" to `root`. Returns warnings (e.g. "did you mean"); throws a user error
// naming the override when it cannot apply (no '=', empty key, descending into a scalar, bad index).
std::vector<std::string> apply_override(YAML::Node& root, const std::string& assignment);

}  // namespace segtrain::config
