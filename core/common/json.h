// JSON text <-> wampd::Value (RapidJSON underneath; no RapidJSON type leaves json.cpp).
#pragma once

#include <string>
#include <string_view>

#include "wampd/value.h"

namespace wampd::core::json {

/// Parses one JSON document. On malformed input returns false and describes it in `error`;
/// never throws. Nesting deeper than kMaxDepth is malformed (a client may not exhaust the
/// stack).
bool parse(std::string_view text, Value& out, std::string* error = nullptr);

inline constexpr int kMaxDepth = 64;

/// Appends the compact JSON form of `value` to `out`, byte for byte as PHP's json_encode
/// (which Ratchet uses) writes it: `/` escaped as `\/`, non-ASCII as `\uXXXX`. JSON has no
/// bytes, NaN or infinity: a string that is not UTF-8 is written in WAMP's form for binary
/// ("\0" followed by its base64), a non-finite number as null.
void serializeTo(const Value& value, std::string& out);
std::string serialize(const Value& value);

}  // namespace wampd::core::json
