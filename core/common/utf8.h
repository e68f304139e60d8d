// Strict UTF-8 validation as RFC 6455 requires of text messages and close reasons (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace wampd::core {

bool isValidUtf8(std::string_view text) noexcept;

/// The longest prefix of `text` of at most `limit` bytes that does not split a character.
std::size_t utf8PrefixLength(std::string_view text, std::size_t limit) noexcept;

}  // namespace wampd::core
