#include "reload/generation.h"

namespace wampd::core {

std::shared_ptr<const Generation> buildGeneration(const ServerConfig& config, std::uint64_t number,
                                                  const Generation* previous) {
  auto generation = std::make_shared<Generation>();
  generation->number = number;
  generation->config = config;
  // First: a certificate that does not load fails the reload before any plugin is loaded.
  if (config.tls) {
    TlsFiles files;
    files.certificate = config.tls->certificate;
    files.privateKey = config.tls->privateKey;
    files.ca = config.tls->ca;
    files.tls13Only = config.tls->minVersion == "1.3";
    generation->tls = TlsContext::load(files);
  }
  generation->router = loadRouting(config.routing);
  generation->plugins = loadPlugins(config.pluginDirectories, config.parameters,
                                    previous ? &previous->plugins : nullptr);
  for (const auto& route : generation->router.routes()) {
    const std::string& policy = route->spec().publishPolicy;
    if (!policy.empty() && policy != "anyone" && policy != "authenticated" && policy != "backend")
      throw ConfigError(route->spec().where,
                        "route '" + route->name() +
                            "': publish must be anyone, authenticated or backend; found '" +
                            policy + "'");
    const std::string& callback = route->callback();
    if (generation->plugins.topicHandler(callback) || generation->plugins.rpcHandler(callback))
      continue;
    generation->warnings.push_back(route->spec().where.str() + ": route '" + route->name() +
                                   "': no loaded handler is named '" + callback +
                                   "'; its topics and procedures are ignored");
  }
  auto users = std::make_shared<auth::UserDirectory>(config.auth.usersFile);
  for (const auto& provider : generation->plugins.userProviders()) users->addProvider(provider);
  // wampctl's cookie holds the running token: a reload must not invent another one.
  generation->authenticator = std::make_shared<const auth::Authenticator>(
      config.auth, std::move(users),
      previous && previous->authenticator ? previous->authenticator->backendToken()
                                          : std::string());
  return generation;
}

}  // namespace wampd::core
