#include "app/json_log_formatter.h"

#include <chrono>
#include <ctime>
#include <string>

#include "common/json.h"
#include "common/log_fields.h"

namespace wampd::core {

void JsonLogFormatter::format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) {
  const auto since = message.time.time_since_epoch();
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(since);
  const std::time_t seconds = whole.count();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - whole).count();
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time[40];
  const std::size_t n = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(time + n, sizeof time - n, ".%03dZ", static_cast<int>(millis));
  const spdlog::string_view_t level = spdlog::level::to_string_view(message.level);
  Object entry{{"time", Value(std::string(time))},
               {"level", Value(std::string(level.data(), level.size()))},
               {"message", Value(std::string(message.payload.data(), message.payload.size()))}};
  // The scopes' fields, the innermost of a key winning; never one of the three above.
  for (const LogField* field = LogFields::begin(); field != LogFields::end(); ++field) {
    const std::string key(field->key);
    if (key == "time" || key == "level" || key == "message") continue;
    if (!field->isNumber && field->text.empty()) continue;  // unknown: left out
    entry.set(key, field->isNumber ? Value(field->number) : Value(field->text));
  }
  std::string line;
  json::serializeTo(Value(std::move(entry)), line);
  line.push_back('\n');
  out.append(line.data(), line.data() + line.size());
}

}  // namespace wampd::core
