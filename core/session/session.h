// One client session on one connection: the part every WAMP version shares. Each version's
// class (Wamp1Session, Wamp2Session) owns its protocol state, reads its client's messages
// and encodes its own frames; the router roles see a session only as a Peer.
//
// Constraint: sessions run on the I/O thread only, like the handlers they call.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/errors.h"
#include "router/broker.h"
#include "router/dealer.h"
#include "router/peer.h"
#include "transport/transport.h"
#include "wampd/connection.h"

namespace wampd::core {

namespace auth {
class Authenticator;
}

class Session;

/// Answers one call, now or later: a result, or a non-ok Status for an error.
using CallReply = std::function<void(const Status& status, const Value& result)>;

/// What sessions need of the server that owns them.
class SessionHost {
 public:
  /// Procedures the server itself answers (names under `wampd.`), before any route. Returns
  /// false when `uri` is not one of them; otherwise `reply` is called exactly once.
  virtual bool builtin(Session& session, const std::string& uri, const Array& args,
                       CallReply reply) = 0;
  /// The live session with this id, or nullptr (for answers that arrive after it left).
  virtual Session* findSession(SessionId id) = 0;
  virtual const auth::Authenticator& authenticator() const = 0;
  /// The realms WAMP v2 clients may join.
  virtual const std::vector<std::string>& realms() const = 0;

 protected:
  ~SessionHost() = default;
};

/// The router roles and the host, shared by every session of a server.
struct SessionServices {
  Broker& broker;
  Dealer& dealer;
  SessionHost& host;
};

class Session : public Peer {
 public:
  Session(SessionId id, Link& link, Identity identity, SessionServices services)
      : services_(services),
        id_(id),
        idText_(std::to_string(id)),
        link_(link),
        identity_(std::move(identity)) {}
  virtual ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  SessionId sessionId() const noexcept override { return id_; }
  const Identity& identity() const noexcept override { return identity_; }
  std::string_view remoteAddress() const noexcept override { return link_.remoteAddress(); }
  std::string authid() const override { return identity_.anonymous ? idText_ : identity_.username; }
  std::string authrole() const override {
    return identity_.backend ? "backend" : identity_.anonymous ? "anonymous" : "user";
  }
  std::size_t queuedBytes() const noexcept override { return link_.bufferedAmount(); }
  void fellBehind() noexcept override;

  /// The wire protocol, as metrics label it: "v1", "v2_json" or "v2_msgpack".
  virtual std::string_view protocol() const noexcept = 0;
  /// One whole message from the client.
  virtual void onMessage(std::string_view payload, bool binary) = 0;
  /// The server is shutting down: end the session so that its client comes back by itself
  /// to the next server on the port.
  virtual void shutdown() noexcept = 0;
  /// This session as a callee of the dealer, if its protocol can register procedures.
  virtual Callee* asCallee() noexcept { return nullptr; }

  /// The session id as WAMP v1 carries it.
  const std::string& idText() const noexcept { return idText_; }
  Link& link() noexcept { return link_; }
  /// Set once the server started closing this connection: later messages are dropped.
  bool closing() const noexcept { return closing_; }

 protected:
  /// Marks the session closing and ends the connection for `fault`: with the closing
  /// handshake and the fault's close code, unless the fault wants the client back and this
  /// is WAMP v1, which then ends with no close frame (FaultInfo::comesBack). With
  /// `discardQueued`, frames not yet begun are dropped first.
  void closeWith(Fault fault, bool discardQueued = false) noexcept;
  void setIdentity(Identity identity) { identity_ = std::move(identity); }
  void markClosing() noexcept { closing_ = true; }

  SessionServices services_;

 private:
  SessionId id_;
  std::string idText_;
  Link& link_;
  Identity identity_;
  bool closing_ = false;
};

}  // namespace wampd::core
