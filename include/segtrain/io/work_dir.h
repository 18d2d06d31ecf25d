#pragma once
// The work_dir: where a run leaves everything (config dump, logs, checkpoints).
// Resolution order, as MMSegmentation's tools/train.py: --work-dir, then the config's
// `work_dir`, then ./work_dirs/<config file stem>.
#include <filesystem>
#include <optional>
#include <string>

namespace segtrain::config { class Config; }

namespace segtrain::io {

std::filesystem::path resolve_work_dir(const std::optional<std::string>& cli_work_dir,
                                       const config::Config& cfg);

// Creates the folder (and parents). Throws a user error naming it when that is impossible.
void make_work_dir(const std::filesystem::path& dir);

// Writes the merged config to <dir>/<config stem>.yaml atomically; returns that path.
std::filesystem::path dump_config(const std::filesystem::path& dir, const config::Config& cfg);

}  // namespace segtrain::io
