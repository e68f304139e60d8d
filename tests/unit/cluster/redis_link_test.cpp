// RESP through hiredis's reader and formatter, as the link uses them: split input, pushes,
// errors, binary-safe arguments. (The link's I/O runs against a real redis-server in
// tests/integration/test_cluster.py.)
#include "cluster/redis_link.h"

#include <doctest/doctest.h>

namespace wampd::core::cluster {
namespace {

TEST_CASE("formatCommand writes binary-safe RESP arrays of bulk strings") {
  CHECK(formatCommand({"PING"}) == "*1\r\n$4\r\nPING\r\n");
  const std::string binary("a\0\r\nb", 5);
  using namespace std::string_literals;
  CHECK(formatCommand({"PUBLISH", "wampd:oro/x", binary}) ==
        "*3\r\n$7\r\nPUBLISH\r\n$11\r\nwampd:oro/x\r\n$5\r\na\0\r\nb\r\n"s);
  CHECK(formatCommand({"SET", ""}) == "*2\r\n$3\r\nSET\r\n$0\r\n\r\n");
}

TEST_CASE("the reader hands out whole replies, whatever the pieces the socket gives") {
  RespReader reader;
  RedisReply r;
  using namespace std::string_literals;
  const std::string bytes =
      "*3\r\n$9\r\nsubscribe\r\n$7\r\nwampd:t\r\n:1\r\n"
      "*3\r\n$7\r\nmessage\r\n$7\r\nwampd:t\r\n$3\r\na\0b\r\n"
      "+PONG\r\n:42\r\n-ERR nope\r\n$-1\r\n"s;
  // One byte at a time: no reply before its last byte.
  std::vector<RedisReply> got;
  for (char c : bytes) {
    reader.feed(std::string_view(&c, 1));
    while (reader.next(r) == 1) got.push_back(r);
  }
  REQUIRE(got.size() == 6);
  CHECK(got[0].isArray());
  CHECK(got[0].text(0) == "subscribe");
  CHECK(got[0].text(1) == "wampd:t");
  CHECK(got[0].elements[2].integer == 1);
  CHECK(got[1].text(0) == "message");
  CHECK(got[1].elements[2].str == std::string("a\0b", 3));
  CHECK(got[2].type == RedisReply::Type::Status);
  CHECK(got[2].str == "PONG");
  CHECK(got[3].type == RedisReply::Type::Integer);
  CHECK(got[3].integer == 42);
  CHECK(got[4].type == RedisReply::Type::Error);
  CHECK(got[4].str == "ERR nope");
  CHECK(got[5].type == RedisReply::Type::Nil);
  CHECK(reader.next(r) == 0);
}

TEST_CASE("a byte that is no RESP type is a protocol error") {
  RespReader reader;
  RedisReply r;
  reader.feed("?what\r\n");
  CHECK(reader.next(r) == -1);
  CHECK_FALSE(reader.error().empty());
}

TEST_CASE("text() is empty for elements that are not strings") {
  RedisReply r;
  r.type = RedisReply::Type::Array;
  r.elements.resize(1);
  r.elements[0].type = RedisReply::Type::Integer;
  CHECK(r.text(0).empty());
  CHECK(r.text(5).empty());
}

}  // namespace
}  // namespace wampd::core::cluster
