#pragma once
// Typed reads of an unpickled checkpoint that fail as one-line user errors naming the file and
// the key (c10's own accessors fail with multi-line c10::Errors).
#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>

#include <string>

#include "segtrain/core/error.h"

namespace segtrain::io {

using Dict = c10::impl::GenericDict;

inline Dict make_dict() { return Dict(c10::StringType::get(), c10::AnyType::get()); }

class IValueAccess {
 public:
  IValueAccess(c10::IValue value, std::string file, std::string key)
      : value_(std::move(value)), file_(std::move(file)), key_(std::move(key)) {}

  const c10::IValue& value() const { return value_; }
  const std::string& key() const { return key_; }

  // `message` replaces "expected a dict" (e.g. for the file's root).
  Dict dict(const std::string& message = "") const {
    if (!value_.isGenericDict()) throw fail(message.empty() ? "expected a dict" : message);
    return value_.toGenericDict();
  }
  // A missing child says `missing` (or "missing") and names the child's key.
  IValueAccess at(const std::string& child, const std::string& missing = "") const {
    const Dict d = dict();
    const std::string path = key_.empty() ? child : key_ + "." + child;
    if (!d.contains(child))
      throw user_error(file_, (missing.empty() ? "missing" : missing) + " (no key '" + path + "')");
    return IValueAccess(d.at(child), file_, path);
  }
  bool has(const std::string& child) const { return value_.isGenericDict() && value_.toGenericDict().contains(child); }

  int64_t integer() const {
    if (!value_.isInt()) throw fail("expected an integer");
    return value_.toInt();
  }
  int64_t count() const {  // an iteration, epoch or offset
    const int64_t n = integer();
    if (n < 0) throw fail("expected an integer >= 0");
    return n;
  }
  double number() const {
    if (value_.isInt()) return static_cast<double>(value_.toInt());
    if (!value_.isDouble()) throw fail("expected a number");
    return value_.toDouble();
  }
  const std::string& string() const {
    if (!value_.isString()) throw fail("expected a string");
    return value_.toStringRef();
  }
  at::Tensor tensor() const {
    if (!value_.isTensor()) throw fail("expected a tensor");
    return value_.toTensor();
  }

  Error fail(const std::string& message) const {
    return user_error(file_, key_.empty() ? message : "key '" + key_ + "': " + message);
  }

 private:
  c10::IValue value_;
  std::string file_, key_;
};

}  // namespace segtrain::io
