// Just enough WAMP v1 for the baseline broadcasters: the message type and the raw text of
// its next two elements, without decoding JSON.
#pragma once

#include <string_view>

namespace wampd::bench::baseline {

struct Scanned {
  int type = -1;
  std::string_view first;   // SUBSCRIBE/PUBLISH: the quoted topic; CALL: the call id
  std::string_view second;  // PUBLISH: the event
};

/// False when `message` is not an array starting with an integer type.
bool scanWamp1(std::string_view message, Scanned& scanned);

}  // namespace wampd::bench::baseline
