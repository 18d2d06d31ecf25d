#pragma once
// Files that must never be seen half-written (checkpoints, latest.pth, the config dump): the
// bytes go to a temporary name in the same folder, are fsynced, then renamed over the target,
// and the folder is fsynced so the rename survives a crash. A reader sees the old file or the
// new one, never a torn one.
#include <filesystem>
#include <functional>
#include <string_view>

namespace segtrain::io {

// Writes `bytes` to `target` atomically. Throws a runtime error naming the file on failure;
// the target is then left as it was.
void write_file_atomic(const std::filesystem::path& target, std::string_view bytes);

// Same, for a writer that produces the file itself at the path it is given (e.g. torch::save).
void write_file_atomic(const std::filesystem::path& target,
                       const std::function<void(const std::filesystem::path& tmp)>& writer);

}  // namespace segtrain::io
