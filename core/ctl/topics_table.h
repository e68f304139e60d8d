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
};

/// Reads the array of {"name","channel","callback","handler_loaded","subscribers"} objects
/// `wampd.topics` returns; false with a reason when the result has another shape.
bool parseTopics(const Value& result, std::vector<TopicRow>& rows, std::string& error);

/// Columns Name, Channel, Handler, Loaded, Subscribers; widths count UTF-8 characters.
std::string renderTopicsTable(const std::vector<TopicRow>& rows);

}  // namespace wampd::ctl
