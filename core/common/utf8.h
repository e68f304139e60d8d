// Strict UTF-8 validation as RFC 6455 requires of text messages and close reasons (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wampd::core {

bool isValidUtf8(std::string_view text) noexcept;

/// Validates text that arrives in chunks (the fragments of a WebSocket text message), so that
/// bad bytes are refused in the chunk that carries them (RFC 6455 section 8.1: fail fast). A
/// character may be split across chunks.
class Utf8Validator {
 public:
  /// False from the first chunk holding a byte no valid text can continue with, and for every
  /// chunk after it.
  bool feed(std::string_view chunk) noexcept;
  /// True when everything fed is valid and ends on a character boundary: the end of a message.
  bool complete() const noexcept { return !failed_ && pending_ == 0; }
  void reset() noexcept { *this = Utf8Validator(); }

 private:
  // Continuation bytes still due for the character begun, and the range the next one must lie
  // in: narrower than 80..BF right after E0, ED, F0 and F4, which is what refuses overlong
  // forms, surrogates and code points above U+10FFFF at their first wrong byte.
  std::uint8_t pending_ = 0;
  std::uint8_t low_ = 0x80;
  std::uint8_t high_ = 0xBF;
  bool failed_ = false;
};

/// The longest prefix of `text` of at most `limit` bytes that does not split a character.
std::size_t utf8PrefixLength(std::string_view text, std::size_t limit) noexcept;

}  // namespace wampd::core
