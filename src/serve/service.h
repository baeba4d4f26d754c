#pragma once
/// The signal service's routes (docs/contracts/serve_api.md): method and path
/// dispatch, bearer auth for `/order` and `/admin/*`, metrics for every
/// answer. Transport-free: `handle` takes an HttpRequest and fills an
/// HttpResponse, so tests drive it without sockets and HttpServer drives it
/// from its worker threads (concurrently: everything here is thread-safe).

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "serve/api.h"
#include "serve/auth.h"
#include "serve/http_server.h"
#include "serve/infer.h"
#include "serve/metrics.h"
#include "serve/model_set.h"

namespace quant::serve {

/// Where `POST /order` goes (the paper desk now; MT5 and FIX venues later).
class OrderDesk {
 public:
  virtual ~OrderDesk() = default;
  /// Handles one order body (JSON) and answers with the order's state.
  virtual Answer submit(std::string_view body) = 0;
  /// False (with the reason) while the desk cannot take orders (no prices yet).
  virtual bool ready(std::string& reason) const = 0;
};

class SignalService {
 public:
  /// `desk` may be null (no venue configured: /order answers 503).
  /// `infer` holds the trade distances /infer judges with when a request
  /// does not give them (the backtest's [risk] values).
  SignalService(ModelHost& models, OrderDesk* desk, BearerAuth auth, Metrics& metrics, InferSettings infer = {});

  void handle(const HttpRequest& request, HttpResponse& response);

  /// Reloads the models (POST /admin/reload and SIGHUP) and updates the metrics.
  Answer reload();

  /// The server is shutting down: from now on /ready answers 503
  /// ("shutting down") so that a load balancer stops sending requests.
  void set_draining() { draining_ = true; }

 private:
  Answer route(const HttpRequest& request, Endpoint& endpoint, HttpResponse& response);
  Answer models_answer() const;
  void publish_models(const ModelSet& set);

  ModelHost& models_;
  OrderDesk* desk_;
  BearerAuth auth_;
  Metrics& metrics_;
  InferSettings infer_;
  std::atomic<bool> draining_{false};
};

}  // namespace quant::serve
