// The HTTP side of the WebSocket port: GET /health and /metrics for probes and scrapers, and
// /api/* for backends that publish or call over plain HTTP. An API request takes the same
// path as the backend's WAMP PUBLISH or CALL (route, handler, permissions), as a short-lived
// backend session that subscribes to nothing. /dashboard's files: dashboard.cpp.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "common/errors.h"
#include "common/json.h"
#include "common/log_fields.h"
#include "common/metrics_text.h"
#include "server/server.h"

namespace wampd::core {
namespace {

HttpResponse jsonResponse(std::uint16_t status, Value body) {
  HttpResponse response;
  response.status = status;
  response.contentType = "application/json";
  response.body = json::serialize(body);
  return response;
}

HttpResponse problem(std::uint16_t status, std::string message) {
  return jsonResponse(status, Object{{"error", Value(std::move(message))}});
}

// Compares in time independent of where the strings differ (a token is a secret).
bool sameSecret(std::string_view a, std::string_view b) noexcept {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    difference |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return difference == 0;
}

// The backend as a session of the HTTP API: one request long, never a subscriber.
class ApiCaller final : public Peer {
 public:
  ApiCaller(SessionId id, std::string_view remoteAddress) : id_(id), remote_(remoteAddress) {
    identity_.anonymous = false;
    identity_.backend = true;
    identity_.username = "backend";
  }
  SessionId sessionId() const noexcept override { return id_; }
  const Identity& identity() const noexcept override { return identity_; }
  std::string_view remoteAddress() const noexcept override { return remote_; }
  int wampVersion() const noexcept override { return 1; }
  std::string authid() const override { return identity_.username; }
  std::string authrole() const override { return "backend"; }
  bool receivesEvents() const noexcept override { return false; }
  std::size_t queuedBytes() const noexcept override { return 0; }
  bool deliver(Event&) noexcept override { return true; }
  void fellBehind() noexcept override {}
  void subscriptionRevoked(const std::string&, std::uint64_t, const Status&) noexcept override {}

 private:
  SessionId id_;
  std::string_view remote_;
  Identity identity_;
};

// Session ids as the backend names them: numbers, or the decimal strings WAMP v1 uses.
bool readSessionIds(const Value& list, SessionIds& out) {
  const Array* items = list.array();
  if (!items) return false;
  for (const Value& item : *items) {
    if (item.isInteger() && item.asInt(-1) >= 0) {
      out.push_back(item.asUInt());
    } else if (item.isString() && !item.asString().empty() &&
               item.asString().find_first_not_of("0123456789") == std::string_view::npos &&
               item.asString().size() <= 19) {
      out.push_back(std::stoull(std::string(item.asString())));
    } else {
      return false;
    }
  }
  return true;
}

// The request body as a JSON object whose keys are all in `allowed`; else the 400 to send.
std::optional<HttpResponse> readBody(const HttpRequest& request,
                                     std::initializer_list<std::string_view> allowed, Value& body) {
  std::string error;
  if (!json::parse(request.body, body, &error))
    return problem(400, "the body is not JSON: " + error);
  if (!body.isObject()) return problem(400, "the body must be a JSON object");
  for (const auto& [key, value] : *body.object()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (!known) {
      std::string names;
      for (std::string_view name : allowed)
        names += (names.empty() ? "" : ", ") + std::string(name);
      return problem(400, "unknown field \"" + key + "\" (expected " + names + ")");
    }
  }
  return std::nullopt;
}

// What a handler's refusal or failure is in HTTP: the v1 CALLERROR code Gos uses is already
// HTTP's (403, 404, 400, 500).
std::uint16_t httpStatusOf(const Status& status) {
  const std::uint16_t code = describe(faultForUri(status.uri())).detailsCode;
  return code >= 400 && code < 600 ? code : 500;
}

}  // namespace

std::optional<HttpResponse> Server::onHttpRequest(const HttpRequest& request) {
  const LogFields about{LogFields::text("remote", request.remoteAddress)};
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const bool api = path.substr(0, 5) == "/api/";
  if (Dashboard::owns(path)) return dashboard_.serve(request, path);
  if (path != "/health" && path != "/metrics" && !api) return std::nullopt;
  if (api) return apiRequest(request, path);
  if (request.method != "GET" && request.method != "HEAD")
    return problem(405, std::string(path) + " answers GET and HEAD");
  if (path == "/health") {
    if (shuttingDown_) return jsonResponse(503, Object{{"status", Value("draining")}});
    return jsonResponse(
        200, Object{{"status", Value("ok")}, {"generation", Value(generation_->number)}});
  }
  HttpResponse response;
  response.contentType = std::string(MetricsText::kContentType);
  response.body = metricsText();
  return response;
}

HttpResponse Server::apiRequest(const HttpRequest& request, std::string_view path) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view authorization = request.authorization;
  if (authorization.substr(0, kBearer.size()) != kBearer ||
      !sameSecret(authorization.substr(kBearer.size()), authenticator_->backendToken())) {
    spdlog::warn("HTTP API: {} {} from {} refused: no valid backend token", request.method, path,
                 request.remoteAddress);
    HttpResponse response = problem(401, "send Authorization: Bearer <backend token>");
    return response;
  }
  const bool post = request.method == "POST";
  if (path == "/api/topics" || path == "/api/stats") {
    if (request.method != "GET") return problem(405, std::string(path) + " answers GET");
    if (path == "/api/topics") return jsonResponse(200, topicsTable());
    // The dashboard's status line; not in wampd.stats, whose keys wampctl prints one a line.
    Value stats = statistics();
    const Reloader::Last& last = reloader_.last();
    stats.object()->set("last_reload", last.message.empty()
                                           ? Value()
                                           : Value(Object{{"ok", Value(last.ok)},
                                                          {"status", Value(last.message)}}));
    return jsonResponse(200, std::move(stats));
  }
  if (path != "/api/publish" && path != "/api/call")
    return problem(404, "no such endpoint: " + std::string(path) +
                            " (the API has /api/publish, /api/call, /api/topics, /api/stats)");
  if (!post) return problem(405, std::string(path) + " answers POST");
  Value body;
  ApiCaller caller(newSessionId(), request.remoteAddress);

  if (path == "/api/publish") {
    if (auto refused = readBody(request, {"topic", "data", "exclude", "eligible"}, body))
      return *refused;
    const Value* topic = body.find("topic");
    if (!topic || !topic->isString() || topic->asString().empty())
      return problem(400, "\"topic\" must be a non-empty string");
    SessionIds exclude, eligible;
    if (const Value* list = body.find("exclude"); list && !readSessionIds(*list, exclude))
      return problem(400, "\"exclude\" must be a list of session ids");
    if (const Value* list = body.find("eligible"); list && !readSessionIds(*list, eligible))
      return problem(400, "\"eligible\" must be a list of session ids");
    // As for WAMP v1: a list naming no session reaches no one (session id 0 is never given).
    if (const Value* list = body.find("eligible"); list && eligible.empty()) eligible.push_back(0);
    const Value* data = body.find("data");
    const Value event = data ? *data : Value();
    const std::string uri(topic->asString());
    const std::uint64_t before = broker_.counters().deliveries;
    const Broker::Result result = broker_.publish(caller, uri, event, exclude, eligible);
    switch (result.outcome) {
      case Broker::Outcome::NoRoute:
        return problem(404, "no route matches \"" + uri + "\"");
      case Broker::Outcome::NoHandler:
        return problem(404, "the handler of \"" + uri + "\" is not loaded");
      case Broker::Outcome::Failed:
        return problem(httpStatusOf(result.status), result.status.message());
      default:
        break;
    }
    return jsonResponse(200, Object{{"published", Value(true)},
                                    {"recipients", Value(broker_.counters().deliveries - before)}});
  }

  if (auto refused = readBody(request, {"procedure", "args"}, body)) return *refused;
  const Value* procedure = body.find("procedure");
  if (!procedure || !procedure->isString() || procedure->asString().empty())
    return problem(400, "\"procedure\" must be a non-empty string");
  const Value* args = body.find("args");
  if (args && !args->isArray()) return problem(400, "\"args\" must be a list");
  const std::string uri(procedure->asString());
  const Dealer::Result result = dealer_.call(caller, uri, args ? *args->array() : Array{});
  switch (result.outcome) {
    case Dealer::Outcome::NoRoute:
      return problem(404, "no route matches \"" + uri + "\"");
    case Dealer::Outcome::NoHandler:
      return problem(404, "the RPC handler of \"" + uri + "\" is not loaded");
    case Dealer::Outcome::Failed:
      return problem(httpStatusOf(result.status), result.status.message());
    default:
      return jsonResponse(200, Object{{"result", result.value}});
  }
}

}  // namespace wampd::core
