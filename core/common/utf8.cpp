#include "common/utf8.h"

#include <cstdint>

namespace wampd::core {

bool isValidUtf8(std::string_view text) noexcept {
  Utf8Validator validator;
  return validator.feed(text) && validator.complete();
}

bool Utf8Validator::feed(std::string_view chunk) noexcept {
  if (failed_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  const auto* end = p + chunk.size();
  while (p < end) {
    if (pending_ == 0) {
      // ASCII runs are the common case: eight bytes at a time.
      while (end - p >= 8) {
        std::uint64_t word;
        __builtin_memcpy(&word, p, 8);
        if (word & 0x8080808080808080ULL) break;
        p += 8;
      }
      if (p >= end) break;
      const unsigned char c = *p++;
      if (c < 0x80) continue;
      low_ = 0x80;
      high_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        pending_ = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        pending_ = 2;
        if (c == 0xE0) low_ = 0xA0;   // below: overlong
        if (c == 0xED) high_ = 0x9F;  // above: surrogates
      } else if (c >= 0xF0 && c <= 0xF4) {
        pending_ = 3;
        if (c == 0xF0) low_ = 0x90;   // below: overlong
        if (c == 0xF4) high_ = 0x8F;  // above: beyond U+10FFFF
      } else {
        failed_ = true;  // a continuation byte, an overlong lead (C0, C1) or beyond F4
        return false;
      }
      continue;
    }
    const unsigned char c = *p++;
    if (c < low_ || c > high_) {
      failed_ = true;
      return false;
    }
    low_ = 0x80;
    high_ = 0xBF;
    --pending_;
  }
  return true;
}

std::size_t utf8PrefixLength(std::string_view text, std::size_t limit) noexcept {
  if (text.size() <= limit) return text.size();
  std::size_t n = limit;
  // Step back over continuation bytes to the start of the character the limit cuts.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace wampd::core
