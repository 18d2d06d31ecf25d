#include "segtrain/tools/command_line.h"

#include <algorithm>

#include "segtrain/core/error.h"
#include "segtrain/core/suggest.h"

namespace segtrain::tools {

std::vector<std::string> expand_multi_value(const std::vector<std::string>& args,
                                            const std::map<std::string, std::string>& multi,
                                            bool (*takes)(const std::string& word), const std::string& expected) {
  std::vector<std::string> out{args.empty() ? "segtrain" : args[0]};
  const std::size_t argc = args.size();
  for (std::size_t i = 1; i < argc; ++i) {
    const std::string& a = args[i];
    const std::string flag = a.substr(0, a.find('='));
    const auto it = multi.find(flag);
    if (it == multi.end()) {
      out.push_back(a);
    } else if (flag.size() < a.size()) {  // --flag=value
      out.push_back(it->second + a.substr(flag.size()));
    } else {
      bool any = false;
      while (i + 1 < argc && args[i + 1].rfind("--", 0) != 0 && takes(args[i + 1])) {
        out.push_back(it->second + "=" + args[++i]);
        any = true;
      }
      if (!any) throw user_error(a, "expects " + expected);
    }
  }
  return out;
}

cxxopts::ParseResult parse_args(cxxopts::Options& parser, const std::vector<std::string>& args) {
  std::vector<const char*> words;
  for (const auto& a : args) words.push_back(a.c_str());
  try {
    return parser.parse(static_cast<int>(words.size()), words.data());
  } catch (const cxxopts::exceptions::exception& e) {
    throw user_error("command line", e.what());
  }
}

void check_known_flags(const std::vector<std::string>& args, const std::vector<std::string>& known,
                       const std::string& program) {
  for (const auto& a : args) {
    if (a.rfind("--", 0) != 0) continue;
    const std::string flag = a.substr(0, a.find('='));
    if (std::find(known.begin(), known.end(), flag) == known.end())
      throw user_error(flag, "unknown flag" + did_you_mean(flag, known) + "; see " + program + " --help");
  }
}

}  // namespace segtrain::tools
