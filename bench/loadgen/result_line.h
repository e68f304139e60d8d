// One result as one JSON object on one line of stdout: what scripts/bench collects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wampd::bench {

class ResultLine {
 public:
  explicit ResultLine(std::string_view scenario) { add("scenario", scenario); }
  ResultLine& add(std::string_view key, std::string_view value);
  ResultLine& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  ResultLine& add(std::string_view key, double value);
  ResultLine& add(std::string_view key, std::int64_t value);
  ResultLine& add(std::string_view key, std::uint64_t value);
  ResultLine& add(std::string_view key, int value) {
    return add(key, static_cast<std::int64_t>(value));
  }
  ResultLine& add(std::string_view key, bool value);
  /// Writes the line to stdout and flushes it.
  void print() const;

 private:
  void key(std::string_view k);
  std::string text_;
};

}  // namespace wampd::bench
