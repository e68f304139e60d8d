// The WAMP v2 json decoder (core/wamp/v2_codec, Serializer::Json) over arbitrary frames.
//
// Decode, encode, decode again: the two decodes are equal (bit for bit for doubles), and
// encoding the second gives the same bytes as encoding the first (the encoder's output is
// canonical). The message checker (validateFromClient) sees every decoded message and must
// give a reason for what it refuses.
#include <string>

#include "fuzz_check.h"
#include "same_value.h"
#include "wamp/v2_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wampd;
  using namespace wampd::core;
  constexpr auto kSerializer = wamp2::Serializer::Json;
  Array message;
  std::string error;
  if (!wamp2::decode(fuzz::asText(data, size), kSerializer, message, error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  std::string reason;
  if (!wamp2::validateFromClient(message, reason)) FUZZ_CHECK(!reason.empty());
  FUZZ_CHECK(wamp2::typeName(wamp2::typeOf(message)) != nullptr);

  const std::string encoded = wamp2::encode(message, kSerializer);
  Array again;
  error.clear();
  FUZZ_CHECK(wamp2::decode(encoded, kSerializer, again, error));
  FUZZ_CHECK(fuzz::sameValue(Value(message), Value(again)));
  FUZZ_CHECK(wamp2::encode(again, kSerializer) == encoded);
  return 0;
}
