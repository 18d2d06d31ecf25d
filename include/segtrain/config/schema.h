#pragma once
// What a training config may contain at the top level and in the sections the runner reads
// directly. Sections consumed by a builder (model, data) are checked by that builder.
// Top-level keys that start with '_' are free: use them for YAML anchors and shared values.
#include "segtrain/config/config.h"

namespace segtrain::config {

// Throws a user error naming the file, the key and a suggestion for the first problem found.
void validate_train_config(const Config& cfg);

}  // namespace segtrain::config
