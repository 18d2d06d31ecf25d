#pragma once
// What the fuzz targets share. The rule they check: whatever the bytes, a reader either succeeds
// or throws segtrain::Error with a one-line message (what main() prints as the user's error).
// Any other exception escaping (yaml-cpp's, torch's, the standard library's) or a multi-line
// message is a bug: report it and abort, so that libFuzzer keeps the input as a crash.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "segtrain/config/config.h"
#include "segtrain/core/error.h"

namespace segtrain::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz target: %s\n", what.c_str());
  std::abort();
}

template <typename Body> void expect_success_or_error(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos)
      fail("an error message of more than one line: " + std::string(e.what()));
  } catch (const std::exception& e) {
    fail(std::string("an exception that is not segtrain::Error escaped (") + typeid(e).name() + "): " + e.what());
  }
}

// The dump of a config that loaded must load back to the same dump: checkpoints and the
// work_dir's copy of the config rely on it.
inline void expect_dump_loads_back(const std::string& dumped) {
  try {
    const std::string again = config::Config::from_string(dumped, "dump").dump();
    if (again != dumped) fail("the dump does not load back to itself:\n" + dumped + "\n-- became --\n" + again);
  } catch (const std::exception& e) {
    fail("the dump of a loaded config does not load: " + std::string(e.what()) + "\n" + dumped);
  }
}

// "a\n%%\nb" -> {"a", "b"}: one fuzz input carries several files.
inline std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + separator.size();
  }
}

// A folder of this process's own under TMPDIR, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/segtrain-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) fail("cannot make a scratch folder under " + pattern);
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(scratch_dir(), ec); });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) fail("cannot write " + path.string());
}

}  // namespace segtrain::fuzz
