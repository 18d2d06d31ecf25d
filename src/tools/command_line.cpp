#include "segtrain/tools/command_line.h"

#include <algorithm>

#include "segtrain/core/error.h"
#include "segtrain/core/suggest.h"

namespace segtrain::tools {

std::vector<std::string> expand_multi_value(int argc, const char* const argv[],
                                            const std::map<std::string, std::string>& multi,
                                            bool (*takes)(const std::string& word), const std::string& expected) {
  std::vector<std::string> out{argc > 0 ? argv[0] : "segtrain"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string flag = a.substr(0, a.find('='));
    const auto it = multi.find(flag);
    if (it == multi.end()) {
      out.push_back(a);
    } else if (flag.size() < a.size()) {  // --flag=value
      out.push_back(it->second + a.substr(flag.size()));
    } else {
      bool any = false;
      while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0 && takes(argv[i + 1])) {
        out.push_back(it->second + "=" + argv[++i]);
        any = true;
      }
      if (!any) throw user_error(a, "expects " + expected);
    }
  }
  return out;
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
