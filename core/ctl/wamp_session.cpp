#include "ctl/wamp_session.h"

#include <chrono>

#include "common/errors.h"
#include "wamp/v1_client.h"

namespace wampd::ctl {
namespace {

namespace wamp1 = core::wamp1;
using core::CloseCode;
using core::wireCode;

constexpr std::uint16_t kNormalClosure = wireCode(CloseCode::Normal);
// Close codes that are never sent in a frame; websocketpp reports them for a close without
// a status and for a connection that dropped without a close frame.
constexpr std::uint16_t kNoStatus = wireCode(CloseCode::NoStatus);
constexpr std::uint16_t kAbnormalClosure = wireCode(CloseCode::Abnormal);
// Answered by wampd without side effects (and by any WAMP v1 server, if only with an error).
constexpr const char* kBarrierProcedure = "wampd.topics";

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
    error = "no WELCOME from " + shownUrl + ": " + error + ws_.describePeerClose();
    return false;
  }
  return wamp1::decodeWelcome(text, welcome_, error);
}

std::string WampSession::describeWelcome() const {
  return "session " + welcome_.sessionId + ", server " + welcome_.serverIdent;
}

PublishOutcome WampSession::publishAndClose(const std::string& topic, const Value& payload,
                                            CallReply& refusal, std::string& error) {
  // websocketpp drops data frames that arrive once it has sent its close, so a refusal must
  // be read before closing: a call sent after the publish is answered after the publish's
  // refusal, if there is one (the server handles a connection's messages in order).
  const std::string barrierId = newCallId();
  if (!ws_.send(wamp1::encodePublish(topic, payload), error) ||
      !ws_.send(wamp1::encodeCall(barrierId, kBarrierProcedure, {}), error))
    return PublishOutcome::Failed;
  std::string text;
  while (ws_.receive(text, error)) {
    CallReply reply;
    if (wamp1::decodeCallReply(text, topic, reply) && reply.isError) {
      refusal = std::move(reply);
      error = "the server refused the publish to '" + topic + "': " + refusal.errorDesc;
      if (refusal.errorDetails)
        if (const Value* code = refusal.errorDetails->find("code"); code && code->isInteger())
          error += " (code " + std::to_string(code->asInt()) + ")";
      close();
      return PublishOutcome::Refused;
    }
    if (wamp1::decodeCallReply(text, barrierId, reply)) break;
  }
  if (!ws_.peerClose() && !ws_.close(kNormalClosure, error)) {
    error = "publish to '" + topic + "' not confirmed: " + error;
    return PublishOutcome::Failed;
  }
  const auto& peer = ws_.peerClose();
  std::uint16_t code = peer ? peer->code : kAbnormalClosure;
  if (code == kNormalClosure || code == kNoStatus) return PublishOutcome::Accepted;
  if (code == kAbnormalClosure) {
    error = "publish to '" + topic + "' not confirmed: the server dropped the connection";
    return PublishOutcome::Failed;
  }
  error = "the server refused the publish to '" + topic + "'" + ws_.describePeerClose();
  return PublishOutcome::Failed;
}

bool WampSession::call(const std::string& procedure, const Array& args, CallReply& reply,
                       std::string& error) {
  const std::string callId = newCallId();
  if (!ws_.send(wamp1::encodeCall(callId, procedure, args), error)) return false;
  std::string text;
  while (ws_.receive(text, error))
    if (wamp1::decodeCallReply(text, callId, reply)) return true;
  error = "no answer to the call of '" + procedure + "': " + error + ws_.describePeerClose();
  return false;
}

void WampSession::close() {
  std::string ignored;
  ws_.close(kNormalClosure, ignored);
}

}  // namespace wampd::ctl
