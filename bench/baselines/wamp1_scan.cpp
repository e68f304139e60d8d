#include "wamp1_scan.h"

namespace wampd::bench::baseline {
namespace {

std::size_t skipSpace(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// The end of the JSON value starting at `i`, or npos.
std::size_t valueEnd(std::string_view s, std::size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  int depth = 0;
  bool inString = false;
  for (std::size_t j = i; j < s.size(); ++j) {
    const char c = s[j];
    if (inString) {
      if (c == '\\')
        ++j;
      else if (c == '"') {
        inString = false;
        if (depth == 0) return j + 1;
      }
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{')
      ++depth;
    else if (c == ']' || c == '}') {
      if (depth == 0) return j;
      if (--depth == 0) return j + 1;
    } else if (c == ',' && depth == 0)
      return j;
  }
  return std::string_view::npos;
}

}  // namespace

bool scanWamp1(std::string_view m, Scanned& scanned) {
  std::size_t i = skipSpace(m, 0);
  if (i >= m.size() || m[i] != '[') return false;
  i = skipSpace(m, i + 1);
  int type = 0;
  std::size_t digits = 0;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') {
    type = type * 10 + (m[i++] - '0');
    ++digits;
  }
  if (digits == 0) return false;
  scanned.type = type;
  std::string_view* slots[2] = {&scanned.first, &scanned.second};
  for (std::string_view* slot : slots) {
    i = skipSpace(m, i);
    if (i >= m.size() || m[i] != ',') break;
    i = skipSpace(m, i + 1);
    const std::size_t end = valueEnd(m, i);
    if (end == std::string_view::npos) return false;
    *slot = m.substr(i, end - i);
    i = end;
  }
  return true;
}

}  // namespace wampd::bench::baseline
