#include "ctl/topics_table.h"

#include <doctest/doctest.h>

using namespace wampd;
using namespace wampd::ctl;

namespace {

Value entry(const char* name, const char* channel, const char* callback, bool loaded,
            int subscribers) {
  return Value(Object{{"name", name},
                      {"channel", channel},
                      {"callback", callback},
                      {"handler_loaded", loaded},
                      {"subscribers", subscribers}});
}

}  // namespace

TEST_CASE("parseTopics reads wampd.topics' result") {
  std::vector<TopicRow> rows;
  std::string error;
  REQUIRE(parseTopics(Value(Array{entry("r", "oro/ping", "oro_sync.ping", true, 3)}), rows, error));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].name == "r");
  CHECK(rows[0].channel == "oro/ping");
  CHECK(rows[0].callback == "oro_sync.ping");
  CHECK(rows[0].handlerLoaded);
  CHECK(rows[0].subscribers == 3);
}

TEST_CASE("parseTopics refuses other shapes") {
  std::vector<TopicRow> rows;
  std::string error;
  CHECK_FALSE(parseTopics(Value(Object{}), rows, error));
  CHECK_FALSE(parseTopics(Value(Array{Value(Object{{"name", "r"}})}), rows, error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("renderTopicsTable lays out Symfony-style columns") {
  std::vector<TopicRow> rows{{"oro_sync.ping", "oro/ping", "oro_sync.ping", true, 2},
                             {"orphan", "x/{id}", "nobody", false, 0}};
  CHECK(renderTopicsTable(rows) ==
        " --------------- ---------- --------------- -------- ------------- \n"
        "  Name            Channel    Handler         Loaded   Subscribers  \n"
        " --------------- ---------- --------------- -------- ------------- \n"
        "  oro_sync.ping   oro/ping   oro_sync.ping   yes      2            \n"
        "  orphan          x/{id}     nobody          no       0            \n"
        " --------------- ---------- --------------- -------- ------------- \n");
}

TEST_CASE("renderTopicsTable counts UTF-8 characters, not bytes") {
  std::string table = renderTopicsTable({{"caf\xC3\xA9", "c", "h", true, 0}});
  CHECK(table.find("  caf\xC3\xA9   c ") != std::string::npos);
}
