// Standard base64 (RFC 4648, with padding): how JSON carries WAMP's binary payloads.
#pragma once

#include <string>
#include <string_view>

namespace wampd::core::base64 {

/// Appends the padded base64 of `bytes` to `out`.
void append(std::string_view bytes, std::string& out);

/// Padded base64 only, as WAMP peers write it; false (and `out` unspecified) for anything
/// else.
bool decode(std::string_view text, std::string& out);

}  // namespace wampd::core::base64
