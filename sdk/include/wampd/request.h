// wampd::Request: what routing found for a topic or procedure URI.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace wampd {

struct Request {
  /// The route's name in the routing file, e.g. "oro_email.event".
  std::string routeName;
  /// Placeholders of the route's channel with the values the URI gave them, plus the
  /// route's defaults, e.g. {"user_id": "5", "organization_id": "1"}.
  std::map<std::string, std::string, std::less<>> attributes;

  /// The attribute's value, or `fallback` when the route has no such attribute.
  std::string_view attribute(std::string_view name, std::string_view fallback = {}) const {
    auto it = attributes.find(name);
    return it == attributes.end() ? fallback : std::string_view(it->second);
  }
};

}  // namespace wampd
