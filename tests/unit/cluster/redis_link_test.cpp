// RESP through hiredis's reader and formatter, as the link uses them: split input, pushes,
// errors, binary-safe arguments; and the link's write path against a stand-in Redis on
// loopback that answers only when told (how commands are batched into writes). (The rest of
// the link's I/O runs against a real redis-server in tests/integration/test_cluster.py.)
#include "cluster/redis_link.h"

#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

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

// A Redis that reads commands (RESP arrays, which the reply reader parses as well) and
// answers them only when answer() is called: what the link has written so far, and when.
class HeldRedis {
 public:
  explicit HeldRedis(asio::io_context& io) : io_(io), acceptor_(io), socket_(io) {
    const asio::ip::tcp::endpoint any(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(any.protocol());
    acceptor_.bind(any);
    acceptor_.listen();
    acceptor_.async_accept(socket_, [this](const asio::error_code& e) {
      if (!e) read();
    });
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  /// Answers every command received and not yet answered (PING: +PONG, others :1).
  void answer() {
    std::string out;
    for (; answered_ < commands_.size(); ++answered_)
      out += commands_[answered_] == "PING" ? "+PONG\r\n" : ":1\r\n";
    auto bytes = std::make_shared<std::string>(std::move(out));
    asio::async_write(socket_, asio::buffer(*bytes),
                      [bytes](const asio::error_code&, std::size_t) {});
  }
  /// The first argument of each command received, in order (the PUBLISH payloads for them).
  const std::vector<std::string>& commands() const { return commands_; }
  const std::vector<std::string>& payloads() const { return payloads_; }
  std::size_t unanswered() const { return commands_.size() - answered_; }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [this](const asio::error_code& e, std::size_t n) {
                              if (e) return;
                              reader_.feed(std::string_view(buffer_.data(), n));
                              RedisReply command;
                              while (reader_.next(command) == 1) {
                                commands_.emplace_back(command.text(0));
                                payloads_.emplace_back(command.text(2));
                              }
                              read();
                            });
  }

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket socket_;
  std::array<char, 65536> buffer_{};
  RespReader reader_;
  std::vector<std::string> commands_, payloads_;
  std::size_t answered_ = 0;
};

template <typename Done>
void runUntil(asio::io_context& io, Done done) {
  for (int i = 0; i < 2000 && !done(); ++i) io.run_for(std::chrono::milliseconds(1));
  REQUIRE(done());
}

TEST_CASE("a loop turn's commands leave in one write, and none waits for Redis's answers") {
  asio::io_context io;
  HeldRedis redis(io);
  RedisLink::Options options;
  options.address.host = "127.0.0.1";
  options.address.port = redis.port();
  // No PINGs of the link's own during the test: only the commands sent here.
  options.pingInterval = std::chrono::seconds(60);
  options.healthTimeout = std::chrono::seconds(60);
  bool up = false;
  int replies = 0;
  auto link =
      std::make_shared<RedisLink>(io, options,
                                  RedisLink::Handlers{[&] { up = true; }, [](const std::string&) {},
                                                      [&](RedisReply&) { ++replies; }});
  link->start();
  runUntil(io, [&] { return redis.unanswered() == 1; });  // the handshake's PING
  redis.answer();
  runUntil(io, [&] { return up; });
  const std::uint64_t writes0 = link->counters().writes;

  // Twenty commands in one turn: one write, in order.
  for (int i = 0; i < 20; ++i)
    REQUIRE(link->send(formatCommand({"PUBLISH", "c", std::to_string(i)})));
  runUntil(io, [&] { return redis.commands().size() == 21; });
  CHECK(link->counters().writes == writes0 + 1);
  for (int i = 0; i < 20; ++i) CHECK(redis.payloads()[1 + i] == std::to_string(i));

  // Redis has answered none of them: the next turns' commands still leave at once, each turn
  // in its own write (pipelined; an event does not wait a round trip for the previous one).
  for (int turn = 0; turn < 3; ++turn) {
    REQUIRE(link->send(formatCommand({"PUBLISH", "c", "t" + std::to_string(turn)})));
    runUntil(io, [&] { return redis.commands().size() == 22u + turn; });
    CHECK(link->counters().writes == writes0 + 2 + turn);
  }
  CHECK(replies == 0);
  redis.answer();
  runUntil(io, [&] { return replies == 23; });
  link->stop();
}

}  // namespace
}  // namespace wampd::core::cluster
