#include "cluster/redis_link.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace wampd::core::cluster {
namespace {

RedisReply copyReply(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::String;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::Status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::Error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::Integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::Array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copyReply(*r.element[i]));
      break;
    default:
      out.type = RedisReply::Type::Nil;
  }
  return out;
}

bool isPong(const RedisReply& r) {
  if (r.type == RedisReply::Type::Status) return r.str == "PONG";
  return r.isArray() && r.text(0) == "pong";
}

}  // namespace

std::string_view RedisReply::text(std::size_t i) const noexcept {
  if (i >= elements.size()) return {};
  const RedisReply& e = elements[i];
  if (e.type != Type::String && e.type != Type::Status) return {};
  return e.str;
}

RespReader::RespReader() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

RespReader::~RespReader() {
  redisReaderFree(reader_);
}

void RespReader::feed(std::string_view bytes) {
  redisReaderFeed(reader_, bytes.data(), bytes.size());
}

int RespReader::next(RedisReply& out) {
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) return -1;
  if (!reply) return 0;
  out = copyReply(*static_cast<redisReply*>(reply));
  freeReplyObject(reply);
  return 1;
}

std::string RespReader::error() const {
  return reader_->errstr;
}

std::string formatCommand(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  char* command = nullptr;
  const int length =
      redisFormatCommandArgv(&command, static_cast<int>(args.size()), argv.data(), lengths.data());
  if (length < 0 || !command) throw std::bad_alloc();
  std::string out(command, static_cast<std::size_t>(length));
  redisFreeCommand(command);
  return out;
}

RedisLink::RedisLink(asio::io_context& io, Options options, Handlers handlers)
    : io_(io),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      socket_(io),
      retry_(io),
      ping_(io),
      backoff_(options_.minBackoff) {}

RedisLink::~RedisLink() {
  stop();
}

void RedisLink::start() {
  if (state_ != State::Stopped) return;
  connect();
}

void RedisLink::stop() {
  state_ = State::Stopped;
  ++generation_;
  asio::error_code ignored;
  socket_.close(ignored);
  retry_.cancel();
  ping_.cancel();
}

void RedisLink::connect() {
  state_ = State::Connecting;
  const std::uint64_t generation = ++generation_;
  reader_ = std::make_unique<RespReader>();
  output_.clear();
  writing_.clear();
  writePending_ = false;
  expect_.clear();
  pings_.clear();
  asio::error_code ec;
  socket_.close(ec);
  asio::generic::stream_protocol::endpoint endpoint;
  if (options_.address.isUnix()) {
    endpoint = asio::local::stream_protocol::endpoint(options_.address.socketPath);
  } else {
    endpoint = asio::ip::tcp::endpoint(asio::ip::make_address(options_.address.host, ec),
                                       options_.address.port);
  }
  // Connecting and the handshake (AUTH, SELECT, PING) must be done within the health timeout:
  // a stopped Redis's kernel still accepts the connection.
  retry_.expires_after(options_.healthTimeout);
  retry_.async_wait([this, generation, self = weak_from_this()](const asio::error_code& e) {
    if (e || self.expired() || generation != generation_) return;
    if (state_ == State::Connecting || state_ == State::Handshake) fail("no answer in time");
  });
  socket_.async_connect(
      endpoint, [this, generation, self = weak_from_this()](const asio::error_code& e) {
        if (self.expired() || generation != generation_ || state_ != State::Connecting) return;
        if (e) return fail("connect: " + e.message());
        if (!options_.address.isUnix()) {
          const int one = 1;
          ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        state_ = State::Handshake;
        read();
        const RedisAddress& a = options_.address;
        if (!a.password.empty()) {
          if (a.username.empty())
            queue(formatCommand({"AUTH", a.password}), 'h');
          else
            queue(formatCommand({"AUTH", a.username, a.password}), 'h');
        }
        if (a.database != 0) queue(formatCommand({"SELECT", std::to_string(a.database)}), 'h');
        // Up only once Redis answered: a stopped process's kernel still accepts connections.
        queue(formatCommand({"PING"}), 'h');
      });
}

void RedisLink::fail(const std::string& why) {
  if (state_ == State::Stopped || state_ == State::Backoff) return;
  const bool wasUp = state_ == State::Up;
  ++generation_;
  asio::error_code ignored;
  socket_.close(ignored);
  ping_.cancel();
  retry_.cancel();
  state_ = State::Backoff;
  output_.clear();
  writing_.clear();
  if (wasUp) {
    ++counters_.disconnects;
    backoff_ = options_.minBackoff;
  }
  const std::uint64_t generation = generation_;
  retry_.expires_after(backoff_);
  retry_.async_wait([this, generation, self = weak_from_this()](const asio::error_code& e) {
    if (e || self.expired() || generation != generation_ || state_ != State::Backoff) return;
    connect();
  });
  backoff_ = std::min(options_.maxBackoff, backoff_ * 2);
  if (handlers_.onDown) handlers_.onDown(why);
}

void RedisLink::read() {
  const std::uint64_t generation = generation_;
  socket_.async_read_some(asio::buffer(input_), [this, generation, self = weak_from_this()](
                                                    const asio::error_code& e, std::size_t n) {
    if (self.expired() || generation != generation_ || state_ == State::Stopped) return;
    if (e) return fail(e == asio::error::eof ? "Redis closed the connection" : e.message());
    reader_->feed(std::string_view(input_.data(), n));
    onReplies();
    if (generation == generation_ && state_ != State::Stopped && state_ != State::Backoff) read();
  });
}

void RedisLink::onReplies() {
  const std::uint64_t generation = generation_;
  RedisReply reply;
  for (;;) {
    const int got = reader_->next(reply);
    if (got == 0) return;
    if (got < 0) return fail("RESP: " + reader_->error());
    if (state_ == State::Handshake) {
      if (!expect_.empty()) expect_.pop_front();
      if (reply.type == RedisReply::Type::Error) return fail("Redis refused: " + reply.str);
      if (expect_.empty()) handshakeDone();
      continue;
    }
    if (options_.subscriber) {
      if (isPong(reply)) {
        if (!pings_.empty()) pings_.pop_front();
        continue;
      }
    } else {
      const char owner = expect_.empty() ? 'o' : expect_.front();
      if (!expect_.empty()) expect_.pop_front();
      if (owner == 'p') {
        if (!pings_.empty()) pings_.pop_front();
        continue;
      }
    }
    if (handlers_.onReply) handlers_.onReply(reply);
    // The owner may have stopped the link, or a reply may have taken it down.
    if (generation != generation_ || state_ != State::Up) return;
  }
}

void RedisLink::handshakeDone() {
  state_ = State::Up;
  retry_.cancel();
  backoff_ = options_.minBackoff;
  ++counters_.connects;
  schedulePing();
  if (handlers_.onUp) handlers_.onUp();
}

void RedisLink::schedulePing() {
  const std::uint64_t generation = generation_;
  ping_.expires_after(options_.pingInterval);
  ping_.async_wait([this, generation, self = weak_from_this()](const asio::error_code& e) {
    if (e || self.expired() || generation != generation_ || state_ != State::Up) return;
    const auto now = std::chrono::steady_clock::now();
    if (!pings_.empty() && now - pings_.front() > options_.healthTimeout)
      return fail("no answer to PING in " + std::to_string(options_.healthTimeout.count()) + " ms");
    pings_.push_back(now);
    queue(formatCommand({"PING"}), 'p');
    schedulePing();
  });
}

bool RedisLink::send(std::string command) {
  if (state_ != State::Up) return false;
  if (bufferedBytes() + command.size() > options_.maxOutputBytes) return false;
  ++counters_.commands;
  queue(std::move(command), 'o');
  return true;
}

void RedisLink::queue(std::string command, char owner) {
  // A subscriber connection's commands answer with pushes, told apart by content.
  if (!options_.subscriber || owner != 'o') expect_.push_back(owner);
  if (output_.empty())
    output_ = std::move(command);
  else
    output_ += command;
  if (writePending_) return;
  // Everything queued in this turn of the loop leaves in one write.
  writePending_ = true;
  const std::uint64_t generation = generation_;
  asio::post(io_, [this, generation, self = weak_from_this()] {
    if (self.expired() || generation != generation_) return;
    flush();
  });
}

void RedisLink::flush() {
  if (!writing_.empty() || output_.empty()) {
    if (writing_.empty()) writePending_ = false;
    return;
  }
  writing_.swap(output_);
  ++counters_.writes;
  const std::uint64_t generation = generation_;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [this, generation, self = weak_from_this()](const asio::error_code& e, std::size_t) {
        if (self.expired() || generation != generation_) return;
        if (e) return fail("write: " + e.message());
        writing_.clear();
        writePending_ = false;
        if (!output_.empty()) {
          writePending_ = true;
          flush();
        }
      });
}

}  // namespace wampd::core::cluster
