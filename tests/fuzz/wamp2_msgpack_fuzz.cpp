// The WAMP v2 msgpack decoder (core/wamp/v2_codec, Serializer::MsgPack) over arbitrary frames; the
// checks are wamp2_round_trip.h's.
#include "wamp2_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wampd::fuzz::wamp2RoundTrip(data, size, wampd::core::wamp2::Serializer::MsgPack);
  return 0;
}
