#include "ctl/wamp_session.h"

#include <chrono>

namespace wampd::ctl {
namespace {

constexpr std::uint16_t kNormalClosure = 1000;
// Close codes that are never sent in a frame; websocketpp reports them for a close without
// a status and for a connection that dropped without a close frame.
constexpr std::uint16_t kNoStatus = 1005;
constexpr std::uint16_t kAbnormalClosure = 1006;

std::string newCallId() {
  static unsigned counter = 0;
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return "wampctl-" + std::to_string(now) + "-" + std::to_string(++counter);
}

}  // namespace

bool WampSession::open(const std::string& url, std::string& error) {
  if (!ws_.connect(url, "wamp", error)) return false;
  std::string text;
  if (!ws_.receive(text, error)) {
    error = "no WELCOME from " + url + ": " + error + describePeerClose();
    return false;
  }
  return wamp::parseWelcome(text, welcome_, error);
}

bool WampSession::publishAndClose(const std::string& topic, const Value& payload,
                                  std::string& error) {
  if (!ws_.send(wamp::publishMessage(topic, payload), error)) return false;
  if (!ws_.close(kNormalClosure, error)) {
    error = "publish to '" + topic + "' not confirmed: " + error;
    return false;
  }
  const auto& peer = ws_.peerClose();
  std::uint16_t code = peer ? peer->code : kAbnormalClosure;
  if (code == kNormalClosure || code == kNoStatus) return true;
  if (code == kAbnormalClosure) {
    error = "publish to '" + topic + "' not confirmed: the server dropped the connection";
    return false;
  }
  error = "the server refused the publish to '" + topic + "'" + describePeerClose();
  return false;
}

bool WampSession::call(const std::string& procedure, const Array& args, wamp::CallReply& reply,
                       std::string& error) {
  const std::string callId = newCallId();
  if (!ws_.send(wamp::callMessage(callId, procedure, args), error)) return false;
  std::string text;
  while (ws_.receive(text, error))
    if (wamp::parseCallReply(text, callId, reply)) return true;
  error = "no answer to the call of '" + procedure + "': " + error + describePeerClose();
  return false;
}

void WampSession::close() {
  std::string ignored;
  ws_.close(kNormalClosure, ignored);
}

std::string WampSession::describePeerClose() const {
  const auto& peer = ws_.peerClose();
  if (!peer || peer->code == kAbnormalClosure || peer->code == kNoStatus) return "";
  std::string text = " (close code " + std::to_string(peer->code);
  if (!peer->reason.empty()) text += ": " + peer->reason;
  return text + ")";
}

}  // namespace wampd::ctl
