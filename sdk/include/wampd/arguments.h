// wampd::Arguments: a service's constructor arguments from its plugin manifest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "wampd/value.h"

namespace wampd {

/// The manifest's `arguments:` list after `%parameter%` substitution. Scalars arrive as
/// strings (YAML and parameters do not say whether "50" is a number); the typed getters
/// convert and throw std::invalid_argument with a message naming the position, which the
/// host reports against the manifest.
class Arguments {
 public:
  Arguments() = default;
  explicit Arguments(std::vector<Value> values) : values_(std::move(values)) {}

  std::size_t size() const noexcept { return values_.size(); }
  const Value& at(std::size_t i) const {
    if (i >= values_.size()) throw std::invalid_argument("missing argument #" + std::to_string(i));
    return values_[i];
  }
  std::string string(std::size_t i) const {
    const Value& v = at(i);
    if (v.isString()) return std::string(v.asString());
    if (v.isInteger()) return std::to_string(v.asInt());
    throw std::invalid_argument("argument #" + std::to_string(i) + " must be a string");
  }
  std::int64_t integer(std::size_t i) const {
    const Value& v = at(i);
    if (v.isInteger()) return v.asInt();
    if (v.isString()) {
      std::string s(v.asString());
      std::size_t used = 0;
      try {
        long long n = std::stoll(s, &used);
        if (used == s.size()) return n;
      } catch (const std::exception&) {
      }
    }
    throw std::invalid_argument("argument #" + std::to_string(i) + " must be an integer");
  }
  const std::vector<Value>& values() const noexcept { return values_; }

 private:
  std::vector<Value> values_;
};

}  // namespace wampd
