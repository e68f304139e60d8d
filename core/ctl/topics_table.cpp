#include "ctl/topics_table.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace wampd::ctl {
namespace {

constexpr std::size_t kColumns = 6;
using Cells = std::array<std::string, kColumns>;

std::size_t displayWidth(const std::string& text) {
  // UTF-8 continuation bytes (10xxxxxx) do not start a character.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool readString(const Value& entry, const char* key, std::string& out) {
  const Value* field = entry.find(key);
  if (!field || !field->isString()) return false;
  out = std::string(field->asString());
  return true;
}

bool readCount(const Value& entry, const char* key, std::int64_t& out) {
  const Value* field = entry.find(key);
  if (!field || !field->isInteger() || field->asInt(-1) < 0) return false;
  out = field->asInt();
  return true;
}

// Symfony's "symfony-style-guide" table: dashes for rules, spaces for borders.
void appendRule(const std::array<std::size_t, kColumns>& widths, std::string& out) {
  for (std::size_t width : widths) out.append(" ").append(width + 2, '-');
  out.append(" \n");
}

void appendRow(const std::array<std::size_t, kColumns>& widths, const Cells& cells,
               std::string& out) {
  for (std::size_t i = 0; i < kColumns; ++i) {
    out.append("  ").append(cells[i]);
    out.append(widths[i] - displayWidth(cells[i]) + 1, ' ');
  }
  out.append(" \n");
}

}  // namespace

bool parseTopics(const Value& result, std::vector<TopicRow>& rows, std::string& error) {
  const Array* entries = result.array();
  if (!entries) {
    error = "wampd.topics returned something other than an array";
    return false;
  }
  rows.clear();
  for (const Value& entry : *entries) {
    TopicRow row;
    const Value* loaded = entry.find("handler_loaded");
    if (!readString(entry, "name", row.name) || !readString(entry, "channel", row.channel) ||
        !readString(entry, "callback", row.callback) || !loaded || !loaded->isBool() ||
        !readCount(entry, "subscribers", row.subscribers) ||
        !readCount(entry, "subscribers_v1", row.subscribersV1) ||
        !readCount(entry, "subscribers_v2", row.subscribersV2) ||
        !readCount(entry, "generation", row.generation)) {
      error =
          "wampd.topics returned an entry without name, channel, callback, handler_loaded, "
          "subscribers, subscribers_v1, subscribers_v2 and generation";
      return false;
    }
    row.handlerLoaded = loaded->asBool();
    if (entry.find("subscribers_cluster") &&
        !readCount(entry, "subscribers_cluster", row.subscribersCluster)) {
      error = "wampd.topics returned an entry whose subscribers_cluster is not a count";
      return false;
    }
    if (!rows.empty() && rows.front().generation != row.generation) {
      error = "wampd.topics returned rows of generations " +
              std::to_string(rows.front().generation) + " and " + std::to_string(row.generation);
      return false;
    }
    rows.push_back(std::move(row));
  }
  return true;
}

std::string renderTopicsTable(const std::vector<TopicRow>& rows) {
  std::vector<Cells> body;
  body.reserve(rows.size());
  for (const TopicRow& row : rows)
    body.push_back(Cells{
        row.name, row.channel, row.callback, row.handlerLoaded ? "yes" : "no",
        std::to_string(row.subscribers) + (row.subscribersCluster < 0
                                               ? std::string()
                                               : " of " + std::to_string(row.subscribersCluster)),
        std::to_string(row.subscribersV1) + "/" + std::to_string(row.subscribersV2)});
  const Cells header{"Name", "Channel", "Handler", "Loaded", "Subscribers", "v1/v2"};

  std::array<std::size_t, kColumns> widths{};
  for (std::size_t i = 0; i < kColumns; ++i) {
    widths[i] = displayWidth(header[i]);
    for (const Cells& cells : body) widths[i] = std::max(widths[i], displayWidth(cells[i]));
  }

  std::string out;
  appendRule(widths, out);
  appendRow(widths, header, out);
  appendRule(widths, out);
  for (const Cells& cells : body) appendRow(widths, cells, out);
  appendRule(widths, out);
  if (!rows.empty()) out += "generation " + std::to_string(rows.front().generation) + "\n";
  return out;
}

}  // namespace wampd::ctl
