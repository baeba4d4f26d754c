#include "serve_command.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <pthread.h>

#include "lake/lake.h"
#include "lake/lake_tail.h"
#include "serve/http_server.h"
#include "serve/paper_desk.h"
#include "serve/service.h"
#include "metrics_setup.h"

namespace quant::app {

namespace {

Expected<void> write_port_file(const std::string& path, std::uint16_t port) {
  // Written whole, then renamed: a test polling for it never reads half a number.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out) return make_error("cannot write the port file " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error("cannot write the port file " + path + ": " + ec.message());
  return {};
}

std::string describe(const serve::ModelSet& set) {
  std::string s;
  for (const auto& g : set.gates) {
    s += (s.empty() ? "" : ", ") + g.name + " v" + std::to_string(g.version) + " (" + g.manifest_sha256.substr(0, 12) +
         ")";
  }
  return s;
}

}  // namespace

int run_serve(const GlobalOptions& global, const ServeArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  config::ServeSettings s = cfg->serve;
  if (!args.bind.empty()) s.bind = args.bind;
  if (args.port >= 0) s.port = args.port;
  if (args.workers >= 0) s.workers = args.workers;
  if (!args.token_file.empty()) s.token_file = args.token_file;
  if (!args.models_dir.empty()) {
    if (s.gates.empty())
      s.gates.push_back({"gatekeeper", "", "", "champion", cfg->gate.p_min, cfg->gate.use_quantiles});
    s.gates[0].dir = args.models_dir;
    s.gates[0].registry.clear();
  }
  if (s.port < 0 || s.port > 65535) return fail("serve: --port must be within [0, 65535]");
  const unsigned workers =
      s.workers > 0 ? static_cast<unsigned>(s.workers) : std::max(1u, std::thread::hardware_concurrency());

  auto auth = serve::BearerAuth::from_sources(s.token_env, s.token_file);
  if (!auth) return fail("serve: " + auth.error().message);
  if (!auth->configured()) {
    std::fprintf(
        stderr,
        "serve: no bearer token (set %s or [serve] token_file / --token-file): /order and /admin/* answer 401\n",
        s.token_env.c_str());
  }

  // Signals are taken synchronously by this thread (sigwait below); every
  // thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGHUP, SIGINT, SIGTERM}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<serve::GateSpec> gates;
  for (const auto& g : s.gates) gates.push_back({g.name, g.dir, g.registry, g.alias, g.p_min, g.use_quantiles});
  serve::ModelHost models(gates, workers);
  auto loaded = models.reload();
  if (!loaded) return fail("serve: " + loaded.error().message);

  // One registry: serve's series with the process's health and
  // quant_build_info on the same /metrics route (docs/monitoring.md).
  monitor::Registry registry("serve", kQuantVersion);
  serve::Metrics metrics(registry);

  // The paper venue: one account over the configured symbols, fed by the lake.
  std::unique_ptr<serve::PaperDesk> desk;
  std::unique_ptr<lake::LakeTail> tail;
  if (!s.paper.symbols.empty()) {
    serve::PaperDeskConfig pc;
    pc.initial_equity = s.paper.equity;
    pc.atr_period = s.paper.atr_period;
    pc.audit_log = s.paper.audit_log;
    pc.journal = s.paper.journal;
    pc.bar_clock = s.paper.clock == "bars";
    for (const auto& symbol : s.paper.symbols) {
      const InstrumentSpec* spec = cfg->instruments.find(symbol);
      if (spec == nullptr)
        return fail("serve: [serve.paper] symbols: '" + symbol + "' has no [instruments." + symbol + "] table");
      serve::PaperSymbol ps;
      ps.spec = *spec;
      ps.risk = cfg->backtest.backtest.risk;
      ps.risk.target_points = cfg->backtest.target_points(symbol);
      ps.session = cfg->backtest.backtest.engine.session;
      ps.slippage_ticks = cfg->backtest.backtest.slippage_ticks;
      pc.symbols.push_back(std::move(ps));
    }
    auto d = serve::PaperDesk::create(pc, &metrics);
    if (!d) return fail("serve: " + d.error().message);
    desk = std::move(*d);
    lake::LakeOptions lo;
    lo.threads = 1;
    tail = std::make_unique<lake::LakeTail>(lake_dir(global, *cfg), lo, s.paper.symbols);
  }

  // /infer judges entries by the backtest's rule with the backtest's distances.
  serve::InferSettings infer;
  infer.target_points = cfg->backtest.backtest.risk.target_points;
  infer.target_points_by_symbol.insert(cfg->backtest.target_points_by_symbol.begin(),
                                       cfg->backtest.target_points_by_symbol.end());
  infer.stop_atr_multiple = cfg->backtest.backtest.risk.stop_atr_multiple;
  serve::SignalService service(models, desk.get(), std::move(*auth), metrics, std::move(infer));
  serve::ServerOptions so;
  so.bind = s.bind;
  so.port = static_cast<std::uint16_t>(s.port);
  so.workers = workers;
  so.max_body_bytes = static_cast<std::size_t>(s.max_body_bytes);
  so.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
  so.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
  so.busy_poll = std::chrono::microseconds(s.busy_poll_us);
  auto server = serve::HttpServer::start(
      so, [&service](const serve::HttpRequest& rq, serve::HttpResponse& rs) { service.handle(rq, rs); },
      [&metrics](int status) { metrics.record_transport(status); });
  if (!server) return fail(server.error().message);

  // Bars for the paper venue, on their own thread (the lake is read through DuckDB).
  std::atomic<bool> stopping{false};
  std::thread feeder;
  if (tail) {
    feeder = std::thread([&] {
      std::string last_error;
      bool caught_up = false;
      while (!stopping) {
        auto n = tail->poll([&](const std::string& symbol, const Bar& bar) { desk->on_bar(symbol, bar); });
        if (!n && n.error().message != last_error) {
          last_error = n.error().message;
          std::fprintf(stderr, "serve: paper prices: %s (retrying every %d ms)\n", last_error.c_str(), s.paper.poll_ms);
        } else if (n) {
          last_error.clear();
          if (!caught_up) {
            // The first full read of the lake is the desk's warm-up: orders wait for it.
            caught_up = true;
            desk->caught_up();
            std::fprintf(stderr, "serve: paper desk caught up with the lake (%lld bars); taking orders\n",
                         static_cast<long long>(*n));
          }
        }
        for (int waited = 0; waited < s.paper.poll_ms && !stopping; waited += 20) {
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, s.paper.poll_ms - waited)));
        }
      }
    });
  }

  std::fprintf(stderr, "serve: listening on http://%s:%u (%u workers; gates: %s; paper: %s)\n", s.bind.c_str(),
               static_cast<unsigned>((*server)->port()), (*server)->workers(), describe(**loaded).c_str(),
               s.paper.symbols.empty() ? "off" : std::to_string(s.paper.symbols.size()).append(" symbol(s)").c_str());
  if (!args.port_file.empty()) {
    if (auto ok = write_port_file(args.port_file, (*server)->port()); !ok) {
      std::fprintf(stderr, "serve: %s\n", ok.error().message.c_str());
    }
  }

  const char* stop_signal = "SIGTERM";
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      const auto answer = service.reload();
      if (answer.status == 200) {
        std::fprintf(stderr, "serve: SIGHUP: reloaded: %s\n", describe(*models.current()).c_str());
      } else {
        std::fprintf(stderr, "serve: SIGHUP: %s\n", answer.body.c_str());
      }
      continue;
    }
    stop_signal = sig == SIGINT ? "SIGINT" : "SIGTERM";
    break;
  }

  // Graceful stop: no new connections; requests already received are
  // answered (their connections then close); idle keep-alive connections
  // close now. A second SIGTERM/SIGINT, or drain_timeout_ms, cuts the rest.
  service.set_draining();
  (*server)->begin_drain();
  std::fprintf(stderr,
               "serve: %s: stopping: new connections are refused; %zu open connection(s) get up to %d ms to "
               "finish their requests\n",
               stop_signal, (*server)->open_connections(), s.drain_timeout_ms);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.drain_timeout_ms);
  bool interrupted = false;
  while ((*server)->open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    const timespec poll{0, 10'000'000};  // 10 ms
    const int sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig == SIGTERM || sig == SIGINT) {
      interrupted = true;
      break;
    }
  }
  const std::size_t cut = (*server)->open_connections();
  (*server)->stop();
  stopping = true;
  if (feeder.joinable()) feeder.join();
  if (cut == 0) {
    std::fprintf(stderr, "serve: stopped: every request in flight was answered\n");
  } else {
    std::fprintf(stderr, "serve: stopped: %s; closed %zu connection(s) still open\n",
                 interrupted ? "a second signal ended the drain" : "the drain timed out", cut);
  }
  return 0;
}

}  // namespace quant::app
