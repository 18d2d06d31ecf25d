#pragma once
#include <exception>

namespace segtrain::dist {

// Thrown on the other ranks when a step run on rank 0 alone failed there: rank 0 reports the
// error, the others only leave with the same exit code.
class PeerFailed : public std::exception {
 public:
  explicit PeerFailed(int exit_code) : exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }
  const char* what() const noexcept override { return "a step on rank 0 failed"; }

 private:
  int exit_code_;
};

}  // namespace segtrain::dist
