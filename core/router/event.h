// One event on its way to a topic's subscribers: what every wire format needs to carry it,
// and the frames made from it. A frame is made once per wire format, on first need, and
// shared by every recipient of that format (the fan-out fast path); the session classes
// decide which slot is theirs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "transport/transport.h"
#include "wampd/connection.h"
#include "wampd/value.h"

namespace wampd::core {

struct Event {
  static constexpr std::size_t kFormats = 4;

  Event(std::string_view topicUri, const Value& event) noexcept : topic(topicUri), payload(event) {}

  std::string_view topic;
  /// What WAMP v1 subscribers receive, and what the handler broadcast.
  const Value& payload;
  /// The exact topic's subscription id, or the pattern subscription's.
  std::uint64_t subscription = 0;
  std::uint64_t publication = 0;
  /// Delivered through a pattern subscription: the event names its concrete topic.
  bool viaPattern = false;
  /// Set when the publisher asked to be disclosed.
  const Connection* publisher = nullptr;
  std::string publisherAuthid, publisherAuthrole;
  /// The publisher's own WAMP v2 arguments, set when the handler passed its event on
  /// unchanged: v2 subscribers receive them as sent.
  const Array* args = nullptr;
  const Object* kwargs = nullptr;

  SharedFramePtr& frame(std::size_t format) noexcept { return frames_[format]; }

 private:
  std::array<SharedFramePtr, kFormats> frames_{};
};

}  // namespace wampd::core
