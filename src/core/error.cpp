#include "segtrain/core/error.h"

namespace segtrain {
namespace {
std::string one_line(const std::string& where, const std::string& message) {
  std::string line = where.empty() ? message : where + ": " + message;
  for (char& c : line)
    if (c == '\n') c = ' ';
  return line;
}
}  // namespace

Error::Error(ErrorKind kind, std::string where, const std::string& message)
    : std::runtime_error(one_line(where, message)),
      kind_(kind),
      where_(std::move(where)),
      message_(message) {}

Error user_error(std::string where, const std::string& message) {
  return Error(ErrorKind::User, std::move(where), message);
}

Error runtime_error(std::string where, const std::string& message) {
  return Error(ErrorKind::Runtime, std::move(where), message);
}

}  // namespace segtrain
