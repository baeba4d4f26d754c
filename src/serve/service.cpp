#include "serve/service.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "serve/infer.h"

namespace quant::serve {

using nlohmann::json;

SignalService::SignalService(ModelHost& models, OrderDesk* desk, BearerAuth auth, Metrics& metrics, InferSettings infer)
    : models_(models), desk_(desk), auth_(std::move(auth)), metrics_(metrics), infer_(std::move(infer)) {
  if (auto set = models_.current()) publish_models(*set);
}

void SignalService::publish_models(const ModelSet& set) {
  std::vector<GateInfo> info;
  for (const auto& g : set.gates) info.push_back({g.name, g.version, g.manifest_sha256});
  metrics_.set_models(info, set.generation);
}

Answer SignalService::reload() {
  auto set = models_.reload();
  metrics_.record_reload(static_cast<bool>(set));
  if (!set) return error_answer({500, "reload failed, the previous models keep serving: " + set.error().message, ""});
  publish_models(**set);
  json gates = json::array();
  for (const auto& g : (*set)->gates) {
    gates.push_back({{"name", g.name}, {"version", g.version}, {"manifest_sha256", g.manifest_sha256}});
  }
  return {200, json{{"status", "reloaded"}, {"generation", (*set)->generation}, {"gates", gates}}.dump()};
}

Answer SignalService::models_answer() const {
  auto set = models_.current();
  if (!set) return error_answer({503, "no models loaded", ""});
  json gates = json::array();
  for (const auto& g : set->gates) {
    gates.push_back({{"name", g.name},
                     {"version", g.version},
                     {"source", g.source},
                     {"manifest_sha256", g.manifest_sha256},
                     {"features", g.features},
                     {"outputs", g.outputs},
                     {"p_min", g.rule.p_min},
                     {"use_quantiles", g.rule.use_quantiles},
                     {"loaded_at", g.loaded_at}});
  }
  return {200, json{{"generation", set->generation}, {"gates", gates}}.dump()};
}

namespace {

struct Route {
  std::string_view path;
  Endpoint endpoint;
  Method method;
  bool protected_route;
};

constexpr Route kRoutes[] = {
    {"/infer", Endpoint::Infer, Method::Post, false},
    {"/order", Endpoint::Order, Method::Post, true},
    {"/health", Endpoint::Health, Method::Get, false},
    {"/ready", Endpoint::Ready, Method::Get, false},
    {"/models", Endpoint::Models, Method::Get, false},
    {"/metrics", Endpoint::Metrics, Method::Get, false},
    {"/admin/reload", Endpoint::AdminReload, Method::Post, true},
};

}  // namespace

Answer SignalService::route(const HttpRequest& request, Endpoint& endpoint, HttpResponse& response) {
  const Route* route = nullptr;
  for (const auto& r : kRoutes) {
    if (r.path == request.path) route = &r;
  }
  if (route == nullptr) {
    endpoint = Endpoint::Other;
    return error_answer({404, "no such path (see docs/contracts/serve_api.md)", ""});
  }
  endpoint = route->endpoint;
  if (request.method != route->method) {
    response.allow = route->method == Method::Get ? "GET" : "POST";
    return error_answer({405, std::string(request.method_text) + " is not allowed here; use " + response.allow, ""});
  }
  if (route->protected_route && !auth_.allows(request.authorization)) {
    response.www_authenticate = true;
    return error_answer({401,
                         auth_.configured() ? "missing or wrong bearer token"
                                            : "no token is configured on the server: protected routes are closed",
                         ""});
  }
  switch (route->endpoint) {
    case Endpoint::Infer: {
      auto set = models_.current();
      if (!set) return error_answer({503, "models are not loaded yet", ""});
      return handle_infer(request.body, *set, request.worker, &metrics_, infer_);
    }
    case Endpoint::Order: {
      if (desk_ == nullptr) return error_answer({503, "no venue configured ([serve.paper] symbols is empty)", ""});
      return desk_->submit(request.body);
    }
    case Endpoint::Health: return {200, R"({"status":"ok"})"};
    case Endpoint::Ready: {
      if (draining_) return {503, R"({"status":"not_ready","reason":"shutting down"})"};
      auto set = models_.current();
      if (!set) return {503, R"({"status":"not_ready","reason":"models are not loaded"})"};
      return {200, json{{"status", "ready"}, {"gates", set->gates.size()}}.dump()};
    }
    case Endpoint::Models: return models_answer();
    case Endpoint::Metrics: {
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return {200, metrics_.render()};
    }
    case Endpoint::AdminReload: return reload();
    case Endpoint::Other:
    case Endpoint::Transport: break;
  }
  return error_answer({404, "no such path", ""});
}

void SignalService::handle(const HttpRequest& request, HttpResponse& response) {
  const auto t0 = std::chrono::steady_clock::now();
  Endpoint endpoint = Endpoint::Other;
  Answer answer = route(request, endpoint, response);
  response.status = answer.status;
  response.body = std::move(answer.body);
  metrics_.record_request(endpoint, response.status,
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace quant::serve
