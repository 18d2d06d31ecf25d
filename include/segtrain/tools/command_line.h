#pragma once
// What segtrain's and segtest's command lines share: MMSeg's nargs='+' flags, which cxxopts
// lacks, and unknown flags named with a suggestion.
#include <map>
#include <string>
#include <vector>

// Values of --options contain commas ([1,2]); cxxopts would split them into several values.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

namespace segtrain::tools {

// `--options a=1 b=2 --seed 3` -> `--options=a=1 --options=b=2 --seed 3` for every flag in
// `multi` (flag -> the name it is stored under, so aliases share one); a flag given no value
// is a user error. `takes` says which words a multi flag takes (e.g. only KEY=VALUE words).
std::vector<std::string> expand_multi_value(const std::vector<std::string>& args,
                                            const std::map<std::string, std::string>& multi,
                                            bool (*takes)(const std::string& word), const std::string& expected);

// Parses the words with cxxopts; its errors become one-line user errors.
cxxopts::ParseResult parse_args(cxxopts::Options& parser, const std::vector<std::string>& args);

// A user error naming the first --flag not in `known`, with a did-you-mean; `program` for the hint.
void check_known_flags(const std::vector<std::string>& args, const std::vector<std::string>& known,
                       const std::string& program);

}  // namespace segtrain::tools
