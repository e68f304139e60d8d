// The WAMP v2 json decoder (core/wamp/v2_codec, Serializer::Json) over arbitrary frames; the
// checks are wamp2_round_trip.h's.
#include "wamp2_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wampd::fuzz::wamp2RoundTrip(data, size, wampd::core::wamp2::Serializer::Json);
  return 0;
}
