#include "transport/connection.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <exception>

#include "common/errors.h"
#include "common/log_fields.h"
#include "transport/handshake.h"
#include "transport/shared_frame.h"
#include "transport/tls.h"

namespace wampd::core::ws {
namespace {

// Enough frames per sendmsg for any burst; the kernel's IOV_MAX is 1024.
constexpr int kMaxIov = 256;
// Reads per readiness before other connections get their turn.
constexpr int kReadRounds = 16;
// TLS: frames smaller than this are gathered into one record (an event's 64 bytes would
// otherwise each pay a record's header and tag, and a call into the cipher).
constexpr std::size_t kTlsRecord = 16 * 1024;
// The gathering space; one I/O thread per transport, and a flush never runs inside another.
thread_local char tlsGather[kTlsRecord];
// Plain HTTP requests one connection may make; the last response closes it (as nginx's
// keepalive_requests does), so no client holds a connection and its address's slot for ever.
constexpr std::uint32_t kMaxHttpRequests = 1'000;
// Responses queued beyond this pause reading further (pipelined) requests until they are out:
// a client that sends and never reads costs this much, not a response per request it sent.
constexpr std::size_t kMaxHttpBacklog = 256 * 1024;

}  // namespace

Connection::Connection(ConnectionHost& host, asio::ip::tcp::socket socket, std::string remote)
    : host_(host),
      socket_(std::move(socket)),
      remote_(std::move(remote)),
      reader_(host.options().maxMessageSize) {}

Connection::~Connection() = default;

void Connection::useTls(std::unique_ptr<TlsEngine> engine) noexcept {
  tls_ = std::move(engine);
}

std::size_t Connection::bufferedAmount() const noexcept {
  return tls_ ? queuedBytes_ + tls_->outputSize() : queuedBytes_;
}

void Connection::start() {
  armTimer(host_.options().handshakeTimeout);
  waitReadable();
}

void Connection::waitReadable() {
  if (readWaiting_ || state_ == State::Done) return;
  readWaiting_ = true;
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const asio::error_code& ec) {
                       self->readWaiting_ = false;
                       if (ec || self->state_ == State::Done) return;
                       self->onReadable();
                     });
}

void Connection::onReadable() {
  std::size_t capacity = 0;
  char* buffer = host_.readBuffer(capacity);
  for (int round = 0; round < kReadRounds && state_ != State::Done; ++round) {
    const ssize_t n = ::recv(socket_.native_handle(), buffer, capacity, MSG_DONTWAIT);
    if (n == 0) {
      peerClosed_ = true;
      // A client that sent its requests and then its FIN still gets the answers queued.
      if (state_ == State::Handshake && queuedBytes_ > 0 && !discardInput_)
        endHandshake();
      else
        finish();
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      finish();
      return;
    }
    const auto size = static_cast<std::size_t>(n);
    liveness_.received = host_.tick();
    if (!tls_) {
      consume(buffer, size);
    } else if (tls_->feed(buffer, size)) {
      // The engine copied the ciphertext: the buffer takes the plaintext.
      pumpTls(buffer, capacity);
    } else {
      finish();
      return;
    }
    // Drained: save the read saying EAGAIN.
    if (size < capacity || awaitingAnswer_ || httpPaused_) break;
  }
  // A deferred handshake reads on once answered: frames behind the request wait in the socket;
  // so do requests behind responses that have not gone out.
  if (!awaitingAnswer_ && !httpPaused_) waitReadable();
}

void Connection::consume(char* data, std::size_t size) {
  if (discardInput_) {
    // Nothing more is read after a protocol failure or a refusal: we wait for EOF.
  } else if (state_ == State::Handshake) {
    readHandshake(std::string_view(data, size));
  } else if (inbox_.empty()) {
    const std::size_t used = readFrames(data, size);
    if (used < size && !discardInput_ && state_ != State::Done)
      inbox_.assign(data + used, size - used);
  } else {
    inbox_.append(data, size);
    const std::size_t used = readFrames(inbox_.data(), inbox_.size());
    if (state_ != State::Done) inbox_.erase(0, used);
    if (inbox_.empty()) std::string().swap(inbox_);
  }
}

void Connection::pumpTls(char* buffer, std::size_t capacity) {
  const LogFields about{LogFields::text("remote", remote_)};
  // A deferred handshake leaves the rest in the engine; complete() pumps it.
  while (state_ != State::Done && !awaitingAnswer_ && !httpPaused_) {
    const TlsEngine::Read read = tls_->read(buffer, capacity);
    if (read.status == TlsEngine::Status::Data) {
      consume(buffer, read.bytes);
    } else if (read.status == TlsEngine::Status::NeedMore) {
      break;
    } else if (read.status == TlsEngine::Status::Closed) {
      // close_notify: the end of the peer's stream, as EOF is on a plain connection.
      peerClosed_ = true;
      finish();
      return;
    } else {
      // A bad record, a refused client certificate, plain HTTP on a TLS port: nothing more
      // can be read, and nothing written but OpenSSL's alert, sent once if the socket takes it.
      if (state_ == State::Handshake)
        spdlog::info("TLS handshake from {} failed: {}", remote_, tls_->error());
      else
        spdlog::debug("TLS connection from {} failed: {}", remote_, tls_->error());
      if (tls_->outputSize() > 0)
        (void)::send(socket_.native_handle(), tls_->output(), tls_->outputSize(),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
      finish();
      return;
    }
  }
  // Handshake messages, alerts, session tickets.
  if (tls_->outputSize() > 0) requestFlush();
}

void Connection::readHandshake(std::string_view bytes) {
  inbox_.append(bytes);
  handleRequests();
}

void Connection::handleRequests() {
  while (state_ == State::Handshake && !awaitingAnswer_ && !httpPaused_ && !inbox_.empty()) {
    if (!handleRequest()) break;
  }
  if (state_ != State::Handshake || httpRequests_ == 0) return;
  // A kept-alive connection: idle, it has the keep-alive timeout to begin its next request;
  // a request begun (a deferred handshake too) has the handshake timeout to arrive whole and
  // be answered (counted from its first bytes, so a client sending a byte at a time gains
  // nothing). Paused, the handshake timeout bounds the wait for the client to read what was
  // queued.
  const bool idle = inbox_.empty() && !httpPaused_ && !awaitingAnswer_;
  const HttpTimer wanted = idle ? HttpTimer::Idle : HttpTimer::Request;
  if (httpTimer_ == wanted) return;
  httpTimer_ = wanted;
  armTimer(wanted == HttpTimer::Idle ? host_.options().limits.httpKeepAliveTimeout
                                     : host_.options().handshakeTimeout);
}

bool Connection::handleRequest() {
  const std::optional<std::size_t> length = headerBlockLength(inbox_);
  if (!length) {
    if (inbox_.size() > kMaxHandshakeBytes) refuse(431, "handshake request too large");
    return false;
  }
  if (*length > kMaxHandshakeBytes) {
    refuse(431, "handshake request too large");
    return false;
  }
  ParsedRequest parsed = parseUpgradeRequest(std::string_view(inbox_).substr(0, *length));
  if (parsed.plain) {
    const std::size_t bodyLength = parsed.plain->contentLength;
    if (bodyLength > host_.options().maxMessageSize) {
      refuse(413, "request body over " + std::to_string(host_.options().maxMessageSize) +
                      " bytes (server.max_message_size)");
      return false;
    }
    if (inbox_.size() - *length < bodyLength) return false;  // the rest of the body is on its way
    const std::chrono::milliseconds idle = host_.options().limits.httpKeepAliveTimeout;
    const bool keep = parsed.plain->keepAlive && idle.count() > 0 && !host_.draining() &&
                      httpRequests_ + 1 < kMaxHttpRequests;
    KeepAlive keepAlive;
    if (keep) {
      // Whole seconds, rounded up (the header has no fractions).
      keepAlive.seconds =
          static_cast<std::uint32_t>(std::chrono::ceil<std::chrono::seconds>(idle).count());
      keepAlive.requestsLeft = kMaxHttpRequests - httpRequests_ - 1;
    }
    std::optional<std::string> response;
    try {
      response = answerPlain(*parsed.plain, std::string_view(inbox_).substr(*length, bodyLength),
                             keepAlive);
    } catch (const std::exception&) {
      refuse(500, "internal error");
      return false;
    }
    if (response) {
      ++httpRequests_;
      if (keep) {
        respondAndContinue(std::move(*response), *length + bodyLength);
        return true;
      }
      respond(std::move(*response));
      return false;
    }
  }
  if (!parsed.request) {
    refuse(parsed.error.status, parsed.error.reason);
    return false;
  }
  HandshakeRequest request;
  request.resource = std::move(parsed.request->resource);
  request.origin = std::move(parsed.request->origin);
  request.remoteAddress = remote_;
  request.subprotocols = std::move(parsed.request->subprotocols);
  request.pending = std::static_pointer_cast<PendingHandshake>(shared_from_this());
  HandshakeAnswer result;
  try {
    result = host_.onHandshake(request);
  } catch (const std::exception&) {
    refuse(500, "internal error");
    return false;
  }
  if (result.deferred) {
    awaitingAnswer_ = true;
    key_ = std::move(parsed.request->key);
    requestLength_ = *length;
    return false;
  }
  answer(parsed.request->key, *length, result);
  return false;
}

void Connection::respondAndContinue(std::string response, std::size_t consumed) {
  inbox_.erase(0, consumed);
  queue_.push_back(std::make_shared<const SharedFrame>(std::move(response)));
  queuedBytes_ += queue_.back()->bytes().size();
  httpTimer_ = HttpTimer::None;
  if (queuedBytes_ > kMaxHttpBacklog) httpPaused_ = true;
  // Pipelined requests read together leave together, in one write.
  requestFlush();
}

void Connection::resumeRequests() {
  if (state_ != State::Handshake || httpPaused_) return;
  handleRequests();
  if (state_ == State::Done || awaitingAnswer_ || httpPaused_) return;
  // Over TLS, requests behind the ones answered may be decrypted and waiting in the engine.
  if (tls_) {
    std::size_t capacity = 0;
    char* buffer = host_.readBuffer(capacity);
    pumpTls(buffer, capacity);
    if (state_ == State::Done || awaitingAnswer_ || httpPaused_) return;
  }
  waitReadable();
}

void Connection::answer(const std::string& key, std::size_t requestLength,
                        const HandshakeAnswer& result) {
  if (!result.accept) {
    refuse(result.httpStatus, result.reason, result.retryAfter);
    return;
  }
  inbox_.erase(0, requestLength);  // a client may send frames right behind its request
  accept(key, result);
}

bool Connection::complete(const HandshakeAnswer& result) noexcept {
  if (!awaitingAnswer_ || state_ != State::Handshake) return false;
  awaitingAnswer_ = false;
  const std::string key = std::move(key_);
  try {
    if (result.deferred)
      refuse(500, "internal error");  // deferring twice is a listener bug
    else
      answer(key, requestLength_, result);
    // Over TLS what followed the request may already be decrypted and waiting in the engine,
    // where no readiness of the socket would announce it.
    if (tls_ && state_ != State::Done) {
      std::size_t capacity = 0;
      char* buffer = host_.readBuffer(capacity);
      pumpTls(buffer, capacity);
    }
  } catch (const std::exception&) {
    finish();  // out of memory; if it was an acceptance, onAbandoned is owed
    if (result.accept && !opened_) host_.listener().onAbandoned(result.token);
    return true;
  }
  waitReadable();
  return true;
}

std::optional<std::string> Connection::answerPlain(const PlainRequest& plain, std::string_view body,
                                                   KeepAlive keepAlive) {
  ++host_.counters().httpRequests;
  HttpRequest request;
  request.method = plain.method;
  request.target = plain.target;
  request.authorization = plain.authorization;
  request.remoteAddress = remote_;
  request.body = std::string(body);
  std::optional<HttpResponse> response = host_.listener().onHttpRequest(request);
  if (!response) return std::nullopt;
  return httpResponse(response->status, response->contentType, response->body,
                      host_.options().serverHeader, plain.method == "HEAD", keepAlive);
}

void Connection::refuse(std::uint16_t status, std::string_view reason, std::uint32_t retryAfter) {
  respond(refusalResponse(status, reason, host_.options().serverHeader, retryAfter));
}

void Connection::respond(std::string response) {
  std::string().swap(inbox_);
  discardInput_ = true;
  state_ = State::Closing;
  queue_.push_back(std::make_shared<const SharedFrame>(std::move(response)));
  queuedBytes_ += queue_.back()->bytes().size();
  closeQueued_ = true;
  armTimer(host_.options().closeTimeout);
  flush();
}

void Connection::accept(const std::string& key, const HandshakeAnswer& answer) {
  std::string bytes =
      switchingProtocolsResponse(key, answer.subprotocol, host_.options().serverHeader);
  if (!answer.openingMessage.empty()) {
    // The body of a 101 is the first bytes of the WebSocket stream, so the opening message
    // leaves in the same write as the handshake (Oro's PHP client reads both with one read).
    appendFrameHeader(bytes, Opcode::Text, answer.openingMessage.size());
    bytes.append(answer.openingMessage);
  }
  token_ = answer.token;
  state_ = State::Open;
  liveness_.received = liveness_.moved = host_.tick();
  timer_.reset();
  queue_.push_back(std::make_shared<const SharedFrame>(std::move(bytes)));
  queuedBytes_ += queue_.back()->bytes().size();
  flush();
  if (state_ == State::Done) {
    host_.listener().onAbandoned(token_);
    return;
  }
  opened_ = true;
  host_.listener().onOpen(*this, token_);
  if (!inbox_.empty() && state_ != State::Done) {
    const std::size_t used = readFrames(inbox_.data(), inbox_.size());
    if (state_ != State::Done) inbox_.erase(0, used);
  }
  if (inbox_.empty()) std::string().swap(inbox_);
}

std::size_t Connection::readFrames(char* data, std::size_t size) {
  std::size_t used = 0;
  while (state_ == State::Open || state_ == State::Closing) {
    const FrameEvent e = reader_.next(data + used, size - used);
    used += e.consumed;
    switch (e.kind) {
      case FrameEvent::Kind::NeedMore:
        return used;
      case FrameEvent::Kind::Fragment:
      case FrameEvent::Kind::Pong:
        break;
      case FrameEvent::Kind::Message:
        // After our close frame, data is ignored (RFC 6455 section 5.5.1).
        if (!closeQueued_) host_.listener().onMessage(*this, e.payload, e.binary);
        break;
      case FrameEvent::Kind::Ping:
        if (!closeQueued_)
          enqueue(std::make_shared<const SharedFrame>(encodeFrame(Opcode::Pong, e.payload)));
        break;
      case FrameEvent::Kind::Close:
        peerClosed_ = true;
        peerCode_ = e.code;
        peerReason_ = std::string(e.payload);
        if (!closeQueued_)
          startClose(e.code, e.payload, false);  // the echo
        else if (closeWritten_)
          finish();
        discardInput_ = true;
        return size;
      case FrameEvent::Kind::Failure:
        startClose(e.code, e.reason, false);
        discardInput_ = true;
        return size;
    }
  }
  return size;
}

void Connection::send(const SharedFramePtr& frame) noexcept {
  enqueue(frame);
}

void Connection::sendText(std::string text) noexcept {
  try {
    enqueue(std::make_shared<const SharedFrame>(encodeFrame(Opcode::Text, text)));
  } catch (const std::bad_alloc&) {
    abortWith(Fault::OutOfMemory);
  }
}

void Connection::sendBinary(std::string bytes) noexcept {
  try {
    enqueue(std::make_shared<const SharedFrame>(encodeFrame(Opcode::Binary, bytes)));
  } catch (const std::bad_alloc&) {
    abortWith(Fault::OutOfMemory);
  }
}

void Connection::close(std::uint16_t code, std::string_view reason) noexcept {
  startClose(code, reason, false);
}

void Connection::abort(std::uint16_t code, std::string_view reason) noexcept {
  startClose(code, reason, true);
}

void Connection::abortWith(Fault fault) noexcept {
  const FaultInfo& info = describe(fault);
  // The transport cannot tell WAMP v1 from v2: a transport that ends with no close frame is
  // what clients of both retry after.
  if (info.comesBack)
    hangUp(true);
  else
    startClose(info.closeCode, info.reason, true);
}

void Connection::enqueue(SharedFramePtr frame) noexcept {
  if (closeQueued_ || state_ != State::Open) return;
  // The write timeout counts from when there is something to write.
  if (queuedBytes_ == 0) liveness_.moved = host_.tick();
  try {
    queue_.push_back(std::move(frame));
  } catch (const std::bad_alloc&) {
    abortWith(Fault::OutOfMemory);
    return;
  }
  queuedBytes_ += queue_.back()->bytes().size();
  if (queuedBytes_ > host_.options().maxQueuedBytes) {
    abortWith(Fault::SlowConsumer);
    return;
  }
  requestFlush();
}

void Connection::requestFlush() noexcept {
  if (flushScheduled_ || writeWaiting_ || state_ == State::Done) return;
  try {
    host_.scheduleFlush(shared_from_this());
    flushScheduled_ = true;
  } catch (const std::exception&) {
    // No memory for the flush list: the next send or the close timer tries again.
  }
}

void Connection::startClose(std::uint16_t code, std::string_view reason,
                            bool discardQueued) noexcept {
  if (closeQueued_ || state_ == State::Done || state_ == State::Handshake) return;
  state_ = State::Closing;
  localCode_ = code;
  try {
    localReason_ = std::string(reason);
    if (discardQueued) discardUnbegun();
    // A close without a status code is echoed the same way (RFC 6455 section 5.5.1).
    std::string payload =
        code == wireCode(CloseCode::NoStatus) ? std::string() : closePayload(code, reason);
    queue_.push_back(std::make_shared<const SharedFrame>(encodeFrame(Opcode::Close, payload)));
    queuedBytes_ += queue_.back()->bytes().size();
    closeQueued_ = true;
    armTimer(host_.options().closeTimeout);
  } catch (const std::exception&) {
    closeQueued_ = true;  // the close timer, if it could be armed, or EOF ends it
  }
  requestFlush();
}

void Connection::hangUp(bool discardQueued) noexcept {
  if (closeQueued_ || state_ != State::Open) return;
  state_ = State::Closing;
  // What the peer sends from now on could only be answered on a stream that is ending. (The
  // input buffer stays: a handler calling this may be reading from it.)
  discardInput_ = true;
  if (discardQueued) discardUnbegun();
  // flush() shuts the socket down once the queue is out, as after a close frame.
  closeQueued_ = true;
  try {
    armTimer(host_.options().closeTimeout);
  } catch (const std::exception&) {
    // Without a timer the peer's EOF, or the transport's end, closes the socket.
  }
  requestFlush();
}

void Connection::discardUnbegun() noexcept {
  const std::size_t keep = head_ + (headOffset_ > 0 ? 1 : 0);
  for (std::size_t i = keep; i < queue_.size(); ++i) queuedBytes_ -= queue_[i]->bytes().size();
  queue_.resize(keep);
}

void Connection::flush() noexcept {
  flushScheduled_ = false;
  if (state_ == State::Done || writeWaiting_) return;
  // Over TLS, the queue leaves as ciphertext there; what follows finds it empty.
  if (tls_ && !flushTls()) return;
  const int fd = socket_.native_handle();
  while (head_ < queue_.size()) {
    iovec iov[kMaxIov];
    int count = 0;
    for (std::size_t i = head_; i < queue_.size() && count < kMaxIov; ++i, ++count) {
      const std::string& bytes = queue_[i]->bytes();
      const std::size_t offset = i == head_ ? headOffset_ : 0;
      iov[count].iov_base = const_cast<char*>(bytes.data() + offset);
      iov[count].iov_len = bytes.size() - offset;
    }
    // One frame (an event at a time) takes send(), the kernel's shorter path: no message
    // header or vector to copy in.
    ssize_t n;
    if (count == 1) {
      n = ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = static_cast<std::size_t>(count);
      n = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        waitWritable();
        return;
      }
      finish();  // reset or broken pipe: the peer is gone
      return;
    }
    const auto written = static_cast<std::size_t>(n);
    host_.counters().bytesSent += written;
    queuedBytes_ -= written;
    liveness_.moved = host_.tick();
    advanceQueue(written);
  }
  // A burst's queue is kept for the next one; a large one is given back.
  if (queue_.capacity() > 1024)
    std::vector<SharedFramePtr>().swap(queue_);
  else
    queue_.clear();
  head_ = 0;
  if (httpPaused_ && state_ == State::Handshake) {
    // The responses that paused reading are out: read on, after this flush returns (it may
    // run inside the handling of a request).
    httpPaused_ = false;
    try {
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->resumeRequests(); });
    } catch (const std::exception&) {
      finish();
      return;
    }
  }
  if (closeQueued_ && !closeWritten_) {
    closeWritten_ = true;
    ::shutdown(fd, SHUT_WR);
    if (peerClosed_) finish();
  }
}

void Connection::advanceQueue(std::size_t written) noexcept {
  while (written > 0) {
    const std::size_t left = queue_[head_]->bytes().size() - headOffset_;
    if (written < left) {
      headOffset_ += written;
      break;
    }
    written -= left;
    queue_[head_++].reset();
    headOffset_ = 0;
  }
}

bool Connection::flushTls() noexcept {
  const int fd = socket_.native_handle();
  for (;;) {
    if (tls_->outputSize() == 0) {
      if (head_ < queue_.size()) {
        // Encrypt one record only once the last has gone out: the ciphertext buffered stays
        // under a record, and what waits is plaintext, counted in queuedBytes_ as without TLS.
        const std::string& first = queue_[head_]->bytes();
        const char* data = first.data() + headOffset_;
        std::size_t size = std::min(first.size() - headOffset_, kTlsRecord);
        if (size < kTlsRecord && head_ + 1 < queue_.size()) {
          std::memcpy(tlsGather, data, size);
          for (std::size_t i = head_ + 1; i < queue_.size() && size < kTlsRecord; ++i) {
            const std::string& bytes = queue_[i]->bytes();
            const std::size_t part = std::min(bytes.size(), kTlsRecord - size);
            std::memcpy(tlsGather + size, bytes.data(), part);
            size += part;
          }
          data = tlsGather;
        }
        if (!tls_->write(data, size)) {
          const LogFields about{LogFields::text("remote", remote_)};
          spdlog::warn("TLS connection from {} failed: {}", remote_, tls_->error());
          finish();
          return false;
        }
        queuedBytes_ -= size;
        advanceQueue(size);
        continue;
      }
      if (closeQueued_ && !closeWritten_ && !tls_->shutdownSent()) {
        tls_->shutdown();  // close_notify before our FIN
        continue;
      }
      return true;
    }
    const ssize_t n = ::send(fd, tls_->output(), tls_->outputSize(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        waitWritable();
        return false;
      }
      finish();  // reset or broken pipe: the peer is gone
      return false;
    }
    tls_->consumeOutput(static_cast<std::size_t>(n));
    host_.counters().bytesSent += static_cast<std::size_t>(n);
    liveness_.moved = host_.tick();
  }
}

void Connection::waitWritable() {
  // A reader that keeps up only just never lets the queue drain: without this the slots of
  // frames already written would pile up in front of head_ for ever.
  if (head_ >= 64 && head_ * 2 >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  writeWaiting_ = true;
  socket_.async_wait(asio::socket_base::wait_write,
                     [self = shared_from_this()](const asio::error_code& ec) {
                       self->writeWaiting_ = false;
                       if (ec || self->state_ == State::Done) return;
                       self->flush();
                     });
}

void Connection::armTimer(std::chrono::milliseconds after) {
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  timer_->expires_after(after);
  timer_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (ec || self->state_ == State::Done) return;
    if (self->state_ == State::Open) return;  // the handshake completed in time
    self->finish();
  });
}

void Connection::finish() noexcept {
  if (state_ == State::Done) return;
  state_ = State::Done;
  asio::error_code ignored;
  socket_.close(ignored);
  timer_.reset();
  queue_.clear();
  head_ = headOffset_ = queuedBytes_ = 0;
  std::string().swap(inbox_);
  if (opened_) {
    // The peer's code when it sent one, else ours; 1006 when neither side's frame was seen.
    const bool peerCode = peerCode_ != 0 && peerCode_ != wireCode(CloseCode::NoStatus);
    const std::uint16_t closeCode = peerCode     ? peerCode_
                                    : localCode_ ? localCode_
                                                 : wireCode(CloseCode::Abnormal);
    host_.listener().onClose(*this, closeCode, peerCode ? peerReason_ : localReason_);
  }
  host_.release(*this);
}

void Connection::cutOff(Fault fault) noexcept {
  if (state_ == State::Done) return;
  // Linger 0: close() resets the connection and the kernel drops its copy of the backlog,
  // which a peer that reads nothing would otherwise hold for minutes.
  asio::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  try {
    localReason_ = describe(fault).reason;
  } catch (const std::bad_alloc&) {
    // onClose then says 1006 without a reason.
  }
  finish();
}

void Connection::endHandshake() noexcept {
  if (state_ != State::Handshake) return;
  if (httpRequests_ == 0 || queuedBytes_ == 0) {
    finish();
    return;
  }
  // A kept-alive connection still writing a response: it closes once that is out.
  state_ = State::Closing;
  discardInput_ = true;
  closeQueued_ = true;
  try {
    armTimer(host_.options().closeTimeout);
  } catch (const std::exception&) {
    // The peer's EOF, or the transport's end, closes it.
  }
  requestFlush();
}

void Connection::drop() noexcept {
  state_ = State::Done;
  asio::error_code ignored;
  socket_.close(ignored);
  timer_.reset();
  queue_.clear();
}

}  // namespace wampd::core::ws
