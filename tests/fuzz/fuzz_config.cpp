// The YAML config loader with `_base_` chains and `--options` overrides. One input holds up to
// four parts separated by a line "%%": main.yaml, b1.yaml, b2.yaml (which main.yaml and each
// other may name in `_base_`), then overrides, one per line. A config that loads must also dump
// to YAML that loads back to the same dump (what checkpoints and the work_dir's copy rely on).
#include <cstdint>

#include "fuzz_support.h"
#include "segtrain/config/config.h"

using namespace segtrain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split(std::string_view(reinterpret_cast<const char*>(data), size), "\n%%\n");
  const auto& dir = fuzz::scratch_dir();
  const char* files[] = {"main.yaml", "b1.yaml", "b2.yaml"};
  for (std::size_t i = 0; i < 3; ++i) {
    if (i < parts.size()) fuzz::write_file(dir / files[i], parts[i]);
    else std::filesystem::remove(dir / files[i]);
  }
  std::vector<std::string> overrides;
  if (parts.size() > 3)
    for (auto& line : fuzz::split(parts[3], "\n"))
      if (!line.empty()) overrides.push_back(line);

  std::string dumped;
  fuzz::expect_success_or_error([&] {
    config::Config config = config::Config::load(dir / "main.yaml");
    config.apply_overrides(overrides);
    dumped = config.dump();
  });
  if (!dumped.empty()) fuzz::expect_dump_loads_back(dumped);
  return 0;
}
