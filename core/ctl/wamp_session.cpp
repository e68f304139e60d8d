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

bool WampSession::open(const std::string& url, const std::string& shownUrl, std::string& error) {
  if (!ws_.connect(url, shownUrl, "wamp", error)) return false;
  std::string text;
  if (!ws_.receive(text, error)) {
    error = "no WELCOME from " + shownUrl + ": " + error + describePeerClose();
    return false;
  }
  return wamp::parseWelcome(text, welcome_, error);
}

PublishOutcome WampSession::publishAndClose(const std::string& topic, const Value& payload,
                                            wamp::CallReply& refusal, std::string& error) {
  if (!ws_.send(wamp::publishMessage(topic, payload), error)) return PublishOutcome::Failed;
  if (!ws_.close(kNormalClosure, error)) {
    error = "publish to '" + topic + "' not confirmed: " + error;
    return PublishOutcome::Failed;
  }
  // Gos answers a refused publish like a failed call, with the topic as the call id.
  std::string text;
  std::string ignored;
  while (ws_.receive(text, ignored)) {
    wamp::CallReply reply;
    if (wamp::parseCallReply(text, topic, reply) && reply.isError) {
      refusal = std::move(reply);
      error = "the server refused the publish to '" + topic + "': " + refusal.errorDesc;
      if (refusal.errorDetails)
        if (const Value* code = refusal.errorDetails->find("code"); code && code->isInteger())
          error += " (code " + std::to_string(code->asInt()) + ")";
      return PublishOutcome::Refused;
    }
  }
  const auto& peer = ws_.peerClose();
  std::uint16_t code = peer ? peer->code : kAbnormalClosure;
  if (code == kNormalClosure || code == kNoStatus) return PublishOutcome::Accepted;
  if (code == kAbnormalClosure) {
    error = "publish to '" + topic + "' not confirmed: the server dropped the connection";
    return PublishOutcome::Failed;
  }
  error = "the server refused the publish to '" + topic + "'" + describePeerClose();
  return PublishOutcome::Failed;
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
