// What the two WAMP v2 targets check, for either serializer: decode, encode, decode again. The
// two decodes are equal (bit for bit for doubles), and encoding the second gives the same bytes
// as encoding the first (the encoder's output is canonical). The message checker
// (validateFromClient) sees every decoded message and must give a reason for what it refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "same_value.h"
#include "wamp/v2_codec.h"

namespace wampd::fuzz {

inline void wamp2RoundTrip(const std::uint8_t* data, std::size_t size,
                           core::wamp2::Serializer serializer) {
  namespace wamp2 = core::wamp2;
  Array message;
  std::string error;
  if (!wamp2::decode(asText(data, size), serializer, message, error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  std::string reason;
  if (!wamp2::validateFromClient(message, reason)) FUZZ_CHECK(!reason.empty());
  FUZZ_CHECK(wamp2::typeName(wamp2::typeOf(message)) != nullptr);

  const std::string encoded = wamp2::encode(message, serializer);
  Array again;
  error.clear();
  FUZZ_CHECK(wamp2::decode(encoded, serializer, again, error));
  FUZZ_CHECK(sameValue(Value(message), Value(again)));
  FUZZ_CHECK(wamp2::encode(again, serializer) == encoded);
}

}  // namespace wampd::fuzz
