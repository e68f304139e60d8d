#include "ctl/topics_table.h"

#include <doctest/doctest.h>

using namespace wampd;
using namespace wampd::ctl;

namespace {

Value entry(const char* name, const char* channel, const char* callback, bool loaded,
            int subscribers, int v1 = 0, int v2 = 0, int generation = 1) {
  return Value(Object{{"name", name},
                      {"channel", channel},
                      {"callback", callback},
                      {"handler_loaded", loaded},
                      {"subscribers", subscribers},
                      {"subscribers_v1", v1},
                      {"subscribers_v2", v2},
                      {"generation", generation}});
}

}  // namespace

TEST_CASE("parseTopics reads wampd.topics' result") {
  std::vector<TopicRow> rows;
  std::string error;
  REQUIRE(parseTopics(Value(Array{entry("r", "oro/ping", "oro_sync.ping", true, 3, 2, 1, 4)}), rows,
                      error));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].name == "r");
  CHECK(rows[0].channel == "oro/ping");
  CHECK(rows[0].callback == "oro_sync.ping");
  CHECK(rows[0].handlerLoaded);
  CHECK(rows[0].subscribers == 3);
  CHECK(rows[0].subscribersV1 == 2);
  CHECK(rows[0].subscribersV2 == 1);
  CHECK(rows[0].generation == 4);
}

TEST_CASE("parseTopics needs the split by version and the generation") {
  std::vector<TopicRow> rows;
  std::string error;
  Value withoutSplit(Object{{"name", "r"},
                            {"channel", "c"},
                            {"callback", "h"},
                            {"handler_loaded", true},
                            {"subscribers", 0}});
  CHECK_FALSE(parseTopics(Value(Array{withoutSplit}), rows, error));
  CHECK(error.find("subscribers_v1") != std::string::npos);
  Value negative = entry("r", "c", "h", true, 1, -1, 2);
  CHECK_FALSE(parseTopics(Value(Array{negative}), rows, error));
}

TEST_CASE("parseTopics refuses rows of different generations") {
  std::vector<TopicRow> rows;
  std::string error;
  CHECK_FALSE(parseTopics(
      Value(Array{entry("a", "a", "h", true, 0, 0, 0, 2), entry("b", "b", "h", true, 0, 0, 0, 3)}),
      rows, error));
  CHECK(error.find("generations 2 and 3") != std::string::npos);
}

TEST_CASE("parseTopics refuses other shapes") {
  std::vector<TopicRow> rows;
  std::string error;
  CHECK_FALSE(parseTopics(Value(Object{}), rows, error));
  CHECK_FALSE(parseTopics(Value(Array{Value(Object{{"name", "r"}})}), rows, error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("renderTopicsTable lays out Symfony-style columns and the generation") {
  std::vector<TopicRow> rows{{"oro_sync.ping", "oro/ping", "oro_sync.ping", true, 4, 3, 1, 7},
                             {"orphan", "x/{id}", "nobody", false, 0, 0, 0, 7}};
  CHECK(renderTopicsTable(rows) ==
        " --------------- ---------- --------------- -------- ------------- ------- \n"
        "  Name            Channel    Handler         Loaded   Subscribers   v1/v2  \n"
        " --------------- ---------- --------------- -------- ------------- ------- \n"
        "  oro_sync.ping   oro/ping   oro_sync.ping   yes      4             3/1    \n"
        "  orphan          x/{id}     nobody          no       0             0/0    \n"
        " --------------- ---------- --------------- -------- ------------- ------- \n"
        "generation 7\n");
}

TEST_CASE("renderTopicsTable widens the v1/v2 column for large counts") {
  std::string table = renderTopicsTable({{"r", "c", "h", true, 12345, 12000, 345, 1}});
  CHECK(table.find("  12000/345  \n") != std::string::npos);
  CHECK(table.find("  v1/v2      \n") != std::string::npos);
}

TEST_CASE("renderTopicsTable without routes has no generation line") {
  std::string table = renderTopicsTable({});
  CHECK(table.find("Name") != std::string::npos);
  CHECK(table.find("generation") == std::string::npos);
}

TEST_CASE("renderTopicsTable counts UTF-8 characters, not bytes") {
  std::string table = renderTopicsTable({{"caf\xC3\xA9", "c", "h", true, 0}});
  CHECK(table.find("  caf\xC3\xA9   c ") != std::string::npos);
}

TEST_CASE("in cluster mode Subscribers shows this node's of the cluster's") {
  std::vector<TopicRow> rows;
  std::string error;
  Value row = entry("r", "oro/ping", "oro_sync.ping", true, 3, 2, 1);
  row.object()->set("subscribers_cluster", Value(9));
  REQUIRE(parseTopics(Value(Array{row}), rows, error));
  CHECK(rows[0].subscribersCluster == 9);
  CHECK(renderTopicsTable(rows).find(" 3 of 9 ") != std::string::npos);
  row.object()->set("subscribers_cluster", Value("many"));
  CHECK_FALSE(parseTopics(Value(Array{row}), rows, error));
  REQUIRE(parseTopics(Value(Array{entry("r", "c", "h", true, 3)}), rows, error));
  CHECK(rows[0].subscribersCluster == -1);
  CHECK(renderTopicsTable(rows).find(" of ") == std::string::npos);
}
