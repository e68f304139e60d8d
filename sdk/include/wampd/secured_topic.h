// wampd::SecuredTopic: a per-user topic (Oro's SecuredTopic). Only the authenticated user
// whose id equals the route's `user_id` attribute may subscribe; publications reach the
// subscribers as in BroadcastTopic.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "wampd/broadcast_topic.h"

namespace wampd {

class SecuredTopic : public BroadcastTopic {
 public:
  /// Arguments: [0] the handler name.
  explicit SecuredTopic(const Arguments& args) : BroadcastTopic(args) {}

  Status onSubscribe(Connection& connection, Topic& topic, const Request& request) override {
    if (isAllowed(connection.identity(), request)) return {};
    return Status::refused("Not allowed to subscribe to \"" + std::string(topic.uri()) + "\"");
  }

 protected:
  /// True when `identity` is the user the topic belongs to. A `*` or `0` user id belongs to
  /// nobody; anonymous connections own nothing.
  virtual bool isAllowed(const Identity& identity, const Request& request) const {
    if (identity.anonymous) return false;
    std::string_view text = request.attribute(kUserIdAttribute);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return false;
    return id == identity.userId;
  }

  static constexpr std::string_view kUserIdAttribute = "user_id";
};

}  // namespace wampd
