// Test doubles for the sessions: a Link that records what a session sends (whole frames
// decoded back to their payload) and how it closes, and a SessionHost serving builtins, the
// live sessions, an authenticator and the realms. Real Broker and Dealer objects sit behind
// them, serving a generation built in the test (router/fake_peer.h).
#pragma once

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../router/fake_peer.h"
#include "auth/authenticator.h"
#include "auth/user_directory.h"
#include "common/json.h"
#include "session/session.h"
#include "transport/shared_frame.h"
#include "transport/transport.h"

namespace wampd::core::testing {

struct Sent {
  std::string payload;
  bool binary = false;
  bool shared = false;  // came as a SharedFrame (events), not sendText/sendBinary
};

/// The payload of a server frame (unmasked; header of 2, 4 or 10 bytes), and its opcode.
inline std::string unframe(const std::string& frame, int& opcode) {
  REQUIRE(frame.size() >= 2);
  const auto byte = [&frame](std::size_t i) { return static_cast<unsigned char>(frame[i]); };
  opcode = byte(0) & 0x0f;
  REQUIRE((byte(0) & 0x80) != 0);  // FIN: the transport sends whole messages
  REQUIRE((byte(1) & 0x80) == 0);  // a server never masks
  std::uint64_t length = byte(1) & 0x7f;
  std::size_t header = 2;
  if (length == 126) {
    header = 4;
    length = (std::uint64_t{byte(2)} << 8) | byte(3);
  } else if (length == 127) {
    header = 10;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
  }
  REQUIRE(frame.size() == header + length);
  return frame.substr(header);
}

class FakeLink final : public Link {
 public:
  void send(const SharedFramePtr& frame) noexcept override {
    int opcode = 0;
    std::string payload = unframe(frame->bytes(), opcode);
    CHECK((opcode == 1 || opcode == 2));
    record({std::move(payload), opcode == 2, true});
  }
  void sendText(std::string text) noexcept override { record({std::move(text), false, false}); }
  void sendBinary(std::string bytes) noexcept override { record({std::move(bytes), true, false}); }
  void close(std::uint16_t code, std::string_view reason) noexcept override {
    closes.emplace_back(code, std::string(reason));
  }
  void abort(std::uint16_t code, std::string_view reason) noexcept override {
    aborts.emplace_back(code, std::string(reason));
  }
  void hangUp(bool discardQueued) noexcept override { hangUps.push_back(discardQueued); }
  std::size_t bufferedAmount() const noexcept override { return 0; }
  const std::string& remoteAddress() const noexcept override { return address_; }

  /// The JSON messages sent so far, taken: each call sees only what came since the last.
  std::vector<Value> take() {
    std::vector<Value> out;
    for (const Sent& s : sent) {
      Value v;
      CHECK_MESSAGE(json::parse(s.payload, v), s.payload);
      out.push_back(std::move(v));
    }
    sent.clear();
    return out;
  }
  /// The one message sent since the last take.
  Value only() {
    std::vector<Value> all = take();
    REQUIRE(all.size() == 1);
    return all[0];
  }
  std::uint16_t closeCode() const { return closes.empty() ? 0 : closes.back().first; }

  std::vector<Sent> sent;
  std::vector<std::pair<std::uint16_t, std::string>> closes, aborts;
  /// Ended with no close frame (discardQueued each time).
  std::vector<bool> hangUps;
  /// Sends after close: a session must not write once it started closing.
  int sentAfterClose = 0;

 private:
  void record(Sent s) {
    if (!closes.empty() || !aborts.empty() || !hangUps.empty()) ++sentAfterClose;
    sent.push_back(std::move(s));
  }
  std::string address_ = "127.0.0.1";
};

class FakeHost final : public SessionHost {
 public:
  FakeHost()
      : authenticator_(std::make_unique<auth::Authenticator>(
            AuthConfig{}, std::make_shared<auth::UserDirectory>(std::string()))) {}

  /// Serves `wampd.echo` (answers its first argument at once) and `wampd.later` (answers
  /// when the test calls `answerLater`).
  bool builtin(Session& session, const std::string& uri, const Array& args,
               CallReply reply) override {
    builtins.push_back(std::to_string(session.sessionId()) + " " + uri);
    if (uri == "wampd.echo") {
      reply(Status(), args.empty() ? Value() : args[0]);
      return true;
    }
    if (uri == "wampd.later") {
      later = std::move(reply);
      return true;
    }
    return false;
  }
  Session* findSession(SessionId id) override {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second;
  }
  const auth::Authenticator& authenticator() const override { return *authenticator_; }
  const std::vector<std::string>& realms() const override { return realms_; }

  std::map<SessionId, Session*> sessions;
  std::vector<std::string> builtins;
  CallReply later;

 private:
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::vector<std::string> realms_{"realm1"};
};

/// The server around the sessions under test: a broker and a dealer over a generation with
/// a broadcasting topic (`news/{id}`, `pattern/{id}`), a route without handler (`orphan`)
/// and a plugin procedure (`calc/sum`).
struct Router {
  asio::io_context io;
  HandlerLog log;
  std::shared_ptr<boundary::TopicEndpoint> news = hosted<RecordingTopic>("news", log);
  Broker broker{io, BrokerLimits{}};
  Dealer dealer{io};
  FakeHost host;

  Router() {
    auto generation = GenerationBuilder()
                          .route("news", "news/{id}", "news")
                          .route("orphan", "orphan", "not.loaded")
                          .route("sum", "calc/sum", "sum")
                          .topic(news)
                          .rpc(hosted<SumProcedure>("sum"))
                          .build();
    broker.setGeneration(generation);
    dealer.setGeneration(generation);
  }
  SessionServices services() { return SessionServices{broker, dealer, host}; }
};

/// A session of class S on its own FakeLink, known to the host while it lives and taken out
/// of the router roles when it goes, as the server does.
template <class S>
struct Client {
  template <class... Args>
  Client(Router& r, SessionId id, Args&&... args)
      : router(r),
        session(
            std::make_unique<S>(id, link, Identity{}, r.services(), std::forward<Args>(args)...)) {
    router.host.sessions[id] = session.get();
  }
  ~Client() { leave(); }
  void leave() {
    if (!session) return;
    router.host.sessions.erase(session->sessionId());
    router.broker.disconnect(*session);
    router.dealer.disconnect(*session, session->asCallee());
    session.reset();
  }
  void receive(const std::string& text) { session->onMessage(text, false); }

  Router& router;
  FakeLink link;
  std::unique_ptr<S> session;
};

/// `Value` of a JSON literal, for comparing whole messages.
inline Value parsed(const std::string& text) {
  Value v;
  REQUIRE_MESSAGE(json::parse(text, v), text);
  return v;
}

}  // namespace wampd::core::testing
