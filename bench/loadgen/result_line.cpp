#include "result_line.h"

#include <cmath>
#include <cstdio>

namespace wampd::bench {

void ResultLine::key(std::string_view k) {
  text_ += text_.empty() ? "{\"" : ",\"";
  text_.append(k);
  text_ += "\":";
}

ResultLine& ResultLine::add(std::string_view k, std::string_view value) {
  key(k);
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      text_ += '\\';
      text_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      text_ += escaped;
    } else {
      text_ += c;
    }
  }
  text_ += '"';
  return *this;
}

ResultLine& ResultLine::add(std::string_view k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    text_ += "null";
    return *this;
  }
  char number[64];
  std::snprintf(number, sizeof number, "%.6g", value);
  text_ += number;
  return *this;
}

ResultLine& ResultLine::add(std::string_view k, std::int64_t value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}

ResultLine& ResultLine::add(std::string_view k, std::uint64_t value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}

ResultLine& ResultLine::add(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}

void ResultLine::print() const {
  std::printf("%s}\n", text_.c_str());
  std::fflush(stdout);
}

}  // namespace wampd::bench
