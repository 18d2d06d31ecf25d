#include "segtrain/io/work_dir.h"

#include "segtrain/config/config.h"
#include "segtrain/io/atomic_file.h"

namespace segtrain::io {
namespace fs = std::filesystem;

fs::path resolve_work_dir(const std::optional<std::string>& cli_work_dir, const config::Config& cfg) {
  if (cli_work_dir && !cli_work_dir->empty()) return *cli_work_dir;
  if (auto from_cfg = cfg.get_optional<std::string>("work_dir"); from_cfg && !from_cfg->empty())
    return *from_cfg;
  return fs::path("work_dirs") / cfg.filename().stem();
}

void make_work_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw user_error(dir.string(), "cannot create the work_dir: " + (ec ? ec.message() : "not a directory"));
}

fs::path dump_config(const fs::path& dir, const config::Config& cfg) {
  fs::path target = dir / (cfg.filename().stem().string() + ".yaml");
  std::error_code ec;
  if (fs::equivalent(target, cfg.filename(), ec))
    throw user_error(target.string(), "the config dump would overwrite the config file itself; "
                                      "choose another --work-dir");
  write_file_atomic(target, cfg.dump());
  return target;
}

}  // namespace segtrain::io
