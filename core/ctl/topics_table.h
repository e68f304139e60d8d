// `wampctl topics`: the server's route list (from its `wampd.topics` procedure) as a table
// in the style of Symfony's `gos:websocket:debug-router`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wampd/value.h"

namespace wampd::ctl {

struct TopicRow {
  std::string name;
  std::string channel;
  std::string callback;
  bool handlerLoaded = false;
  std::int64_t subscribers = 0;
  /// Of `subscribers`, those speaking WAMP v1 and v2.
  std::int64_t subscribersV1 = 0;
  std::int64_t subscribersV2 = 0;
  /// The server's generation (routes, plugins, parameters) the row belongs to.
  std::int64_t generation = 0;
  /// Cluster mode: subscribers over every node still reporting; -1 when the server runs
  /// alone.
  std::int64_t subscribersCluster = -1;
};

/// Reads the array of {"name", "channel", "callback", "handler_loaded", "subscribers",
/// "subscribers_v1", "subscribers_v2", "generation"} objects `wampd.topics` returns; false
/// with a reason when the result has another shape, or rows of different generations.
bool parseTopics(const Value& result, std::vector<TopicRow>& rows, std::string& error);

/// Columns Name, Channel, Handler, Loaded, Subscribers and v1/v2 (subscribers by WAMP
/// version, "3/1"; in cluster mode Subscribers reads "3 of 9": this node's of the
/// cluster's); widths count UTF-8 characters. Then a line "generation N" (when there is
/// a row to tell it).
std::string renderTopicsTable(const std::vector<TopicRow>& rows);

}  // namespace wampd::ctl
