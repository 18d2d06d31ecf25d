#pragma once
// The one error type of segtrain (as Horovod has one Status): what failed, where (file, key,
// flag), on which rank, and whether it is the user's mistake (exit 2) or a runtime failure
// (exit 1). `what()` is the single line main() prints.
#include <stdexcept>
#include <string>

namespace segtrain {

enum class ErrorKind { User, Runtime };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string where, const std::string& message);

  ErrorKind kind() const { return kind_; }
  const std::string& where() const { return where_; }
  const std::string& message() const { return message_; }
  int exit_code() const { return kind_ == ErrorKind::User ? 2 : 1; }

 private:
  ErrorKind kind_;
  std::string where_;
  std::string message_;
};

// A mistake in what the user gave us: a config, a flag, a file.
Error user_error(std::string where, const std::string& message);
// Something that went wrong while running: I/O, a peer, a library.
Error runtime_error(std::string where, const std::string& message);

}  // namespace segtrain
