#pragma once
// "Did you mean ...?" for misspelled keys, flags and type names.
#include <string>
#include <vector>

namespace segtrain {

// Edit distance (insert, delete, substitute, swap neighbours: one each).
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word` when it is close enough to be a plausible typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// "'a', 'b', 'c'" — for "valid ones are ..." messages.
std::string quoted_list(const std::vector<std::string>& items);

}  // namespace segtrain
