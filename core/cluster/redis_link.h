// One connection to Redis on the I/O thread: RESP replies read with hiredis's reader and
// commands formatted with hiredis's formatter, the socket, timers and timeouts Asio's and
// wampd's own (hiredis's async API has no timeouts). The link health-checks itself with
// PING, notices a dead or stalled Redis within healthTimeout + pingInterval, bounds what it
// buffers, and reconnects with backoff; its owner re-issues its state (SUBSCRIBE) on each
// onUp.
//
// Writes: everything queued in one loop turn leaves in one write, without waiting for Redis
// to answer earlier ones (pipelined). Under bursts that is already a whole publisher's window
// per write (about 31 publications at a window of 32, scripts/bench --cluster); holding
// commands until Redis answered the previous write was measured too and batched no more
// there, nor at fixed rates on loopback, while it can add a Redis round trip to an event's
// way to the other nodes (docs/BENCHMARKS.md, "Cluster on Redis").
//
// Constraint: runs on the I/O thread only; no thread of its own.
#pragma once

#include <array>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_url.h"

struct redisReader;

namespace wampd::core::cluster {

/// One RESP reply, copied out of hiredis's reader.
struct RedisReply {
  enum class Type { String, Array, Integer, Nil, Status, Error };
  Type type = Type::Nil;
  std::string str;  // String, Status, Error
  long long integer = 0;
  std::vector<RedisReply> elements;  // Array

  bool isArray() const noexcept { return type == Type::Array; }
  /// Element `i` of an array when it is a string (bulk or status), else empty.
  std::string_view text(std::size_t i) const noexcept;
};

/// Feeds RESP bytes and hands out complete replies (hiredis's redisReader).
class RespReader {
 public:
  RespReader();
  ~RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  void feed(std::string_view bytes);
  /// 1: a reply in `out`; 0: needs more bytes; -1: a protocol error (see error()).
  int next(RedisReply& out);
  std::string error() const;

 private:
  redisReader* reader_;
};

/// One command in RESP (redisFormatCommandArgv).
std::string formatCommand(const std::vector<std::string_view>& args);

class RedisLink : public std::enable_shared_from_this<RedisLink> {
 public:
  struct Options {
    RedisAddress address;
    /// For logs: which of the owner's links this is.
    std::string name = "redis";
    /// A subscriber connection: its replies are pushes, and PING answers ["pong", ""].
    bool subscriber = false;
    /// The oldest unanswered PING is checked at each tick: a stall is noticed at most
    /// healthTimeout + pingInterval after it began (3 s at these values, the bound).
    std::chrono::milliseconds pingInterval{500};
    /// A PING unanswered this long, or a connect not done, takes the link down.
    std::chrono::milliseconds healthTimeout{2000};
    std::chrono::milliseconds minBackoff{100}, maxBackoff{2000};
    /// Bytes waiting to be written beyond which commands are refused (counted by the owner).
    std::size_t maxOutputBytes = 8 * 1024 * 1024;
  };
  struct Handlers {
    /// Connected, authenticated and the database selected: commands go out now.
    std::function<void()> onUp;
    /// Went down (also for a connect that failed): why, for the log.
    std::function<void(const std::string&)> onDown;
    /// Every reply, in order, except the link's own (AUTH, SELECT, PING).
    std::function<void(RedisReply&)> onReply;
  };

  RedisLink(asio::io_context& io, Options options, Handlers handlers);
  ~RedisLink();

  void start();
  /// Closes and stops reconnecting; no handler is called afterwards.
  void stop();
  bool up() const noexcept { return state_ == State::Up; }
  /// Queues a formatted command; written with everything else queued in this turn. False
  /// when the link is not up or its buffer is full.
  bool send(std::string command);
  std::size_t bufferedBytes() const noexcept { return output_.size() + writing_.size(); }

  struct Counters {
    std::uint64_t connects = 0, disconnects = 0, writes = 0, commands = 0;
  };
  const Counters& counters() const noexcept { return counters_; }

 private:
  enum class State { Stopped, Connecting, Handshake, Up, Backoff };
  void connect();
  void fail(const std::string& why);
  void read();
  void flush();
  void onReplies();
  void schedulePing();
  void queue(std::string command, char owner);
  void handshakeDone();

  asio::io_context& io_;
  Options options_;
  Handlers handlers_;
  State state_ = State::Stopped;
  asio::generic::stream_protocol::socket socket_;
  asio::steady_timer retry_, ping_;
  std::chrono::milliseconds backoff_;
  std::unique_ptr<RespReader> reader_;
  std::string output_, writing_;
  bool writePending_ = false;
  std::array<char, 64 * 1024> input_{};
  // Whose each awaited reply is, in order: 'h' AUTH/SELECT, 'p' PING, 'o' the owner's. A
  // subscriber connection's pushes are not in it (they are told apart by their content).
  std::deque<char> expect_;
  // Unanswered PINGs' send times; the oldest past healthTimeout takes the link down.
  std::deque<std::chrono::steady_clock::time_point> pings_;
  std::uint64_t generation_ = 0;  // bumped on each close: late completions see a new value
  Counters counters_;
};

}  // namespace wampd::core::cluster
