#include "live_command.h"

#include <csignal>
#include <cstdio>

#include "core/costs.h"
#include "fix/fix_ports.h"
#include "fix_settings.h"
#include "live/live_engine.h"
#include "live/live_metrics.h"
#include "live/live_service.h"
#include "metrics_setup.h"
#include "signal_path.h"
#include "stream/stream.h"

namespace quant::app {

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

}  // namespace

int run_live_command(const GlobalOptions& global, const LiveArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  if (args.state.empty()) return fail("live: --state DIR is required (the journal that makes restarts safe)");
  if (args.session.empty() || args.session.size() > 12)
    return fail("live: --session must be 1-12 characters (it prefixes every client order id)");
  if (args.group.empty()) return fail("live: --group must not be empty");
  if (args.orders != stream::kOrders && (args.orders.rfind(std::string(stream::kOrders) + ":", 0) != 0 ||
                                         args.orders.size() <= stream::kOrders.size() + 1))
    return fail("live: --orders must be exec:orders or exec:orders:<name>, not '" + args.orders + "'");
  auto redis = parse_host_port("--redis", args.redis);
  if (!redis) return fail("live: " + redis.error().message);

  auto metrics = start_metrics("live", args.metrics, cfg->monitor.live);
  if (!metrics) return fail("live: " + metrics.error().message);
  monitor::Registry& registry = *metrics->registry;

  live::LiveConfig lc;
  lc.id_prefix = args.session;
  if (args.bars == "terminal") {
    lc.bars = live::BarSource::Terminal;
  } else if (args.bars == "ticks") {
    lc.bars = live::BarSource::Ticks;
  } else {
    return fail("live: --bars must be terminal or ticks, not '" + args.bars + "'");
  }
  std::vector<live::LiveSymbol> symbols;
  bool first = true;
  for (const auto& name : args.symbols) {
    auto found = find_instrument(global, *cfg, name, "live");
    if (!found) return fail(found.error().message);
    const InstrumentSpec* spec = *found;
    const config::BacktestSettings& settings = cfg->backtest;
    if (settings.strategy.name == "ma_breakout" && settings.strategy.ma_breakout.book_imbalance_filter) {
      return fail(
          "live: strategy.ma_breakout.book_imbalance_filter is on, and the live engine does not compute order flow "
          "from md:book yet: switch the filter off for live trading");
    }
    auto path = build_signal_path(*cfg, settings, *spec, args.gate_dir, "live", nullptr,
                                  GateModels{args.infer_url, args.infer_model});
    if (!path) return fail(path.error().message);
    if (first) {
      // One engine configuration for the session (the instruments share it, as in a backtest).
      lc.engine = path->settings.engine;
      lc.risk = path->settings.risk;
      first = false;
    }
    live::LiveSymbol s;
    s.spec = *spec;
    s.costs = path->settings.zero_costs ? TradingCosts{} : costs_of(*spec, path->settings.slippage_ticks);
    s.strategy = std::move(path->strategy);
    if (path->model_gate) {
      const bool remote = !args.infer_url.empty();
      s.gate = std::make_unique<live::MeteredGate>(std::move(path->model_gate), registry, spec->symbol, remote);
      if (path->manifest) {
        registry
            .gauge("quant_live_model_info", "The gate's model: name and version (always 1)",
                   {{"symbol", spec->symbol},
                    {"model", path->manifest->name},
                    {"version", std::to_string(path->manifest->version)},
                    {"mode", remote ? "remote" : "process"}})
            .set(1);
      }
    }
    s.risk = path->settings.risk;
    symbols.push_back(std::move(s));
  }
  if (symbols.empty()) return fail("live: --symbols is empty");
  std::vector<std::pair<std::string, double>> metered;
  // The order stream this engine writes (the bridge's group on it), when
  // orders go over the bridge; a FIX venue takes them directly.
  std::vector<std::string> streams{std::string(stream::kFills)};
  if (args.venue != "fix") streams.push_back(args.orders);
  for (const auto& s : symbols) {
    metered.emplace_back(s.spec.symbol, s.spec.tick_size);
    streams.push_back(stream::tick_key(s.spec.symbol));
    streams.push_back(stream::bar_key(s.spec.symbol));
  }
  live::LiveMetrics live_metrics(registry, metered);
  {
    std::vector<InstrumentSpec> specs;
    for (const auto& s : symbols) specs.push_back(s.spec);
    live::LiveMetrics::watch_sessions(registry, specs, [] {
      return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
    });
  }
  live::LiveEngine engine(lc, std::move(symbols));

  live::ServiceConfig sc;
  sc.redis.host = redis->host;
  sc.redis.port = redis->port;
  sc.state_dir = args.state;
  sc.session = args.session;
  sc.consumer = args.consumer;
  sc.group = args.group;
  sc.orders_stream = args.orders;
  sc.start_id = std::string(args.from_start ? "0" : "$");  // a move: GCC 12 warns falsely (-Wrestrict) on assigning a literal
  sc.metrics = &live_metrics;
  watch_stream_groups(registry, sc.redis, streams);
  sc.orders_csv = args.orders_csv.empty() ? args.state + "/orders.csv" : args.orders_csv;
  sc.should_stop = [] { return g_stop != 0; };
  sc.log = [quiet = global.quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
  };
  // --venue fix: the orders leave over the [fix] session, its reports come back into the engine.
  std::unique_ptr<fix::FixOrderRoute> route;
  if (args.venue == "fix") {
    int port = 0;
    auto session = fix_session_settings(global, cfg->fix, false, args.fix_store, 0);
    if (!session) return fail("live: " + session.error().message);
    if (!args.fix_connect.empty()) {
      auto where = parse_host_port("--fix-connect", args.fix_connect);
      if (!where) return fail("live: " + where.error().message);
      session->host = where->host;
      port = where->port;
    }
    if (port > 0) session->port = port;
    fix::B3Identity identity;
    identity.account = cfg->fix.account;
    identity.entering_trader = cfg->fix.entering_trader;
    identity.entering_firm = cfg->fix.entering_firm;
    identity.sender_location = cfg->fix.sender_location;
    identity.security_exchange = cfg->fix.security_exchange;
    auto venue = fix::FixVenue::create(*session, identity, sc.log);
    if (!venue) return fail("live: " + venue.error().message);
    route = std::make_unique<fix::FixOrderRoute>(std::move(*venue));
    sc.route = route.get();
    // Reports arrive between Redis reads: read in short blocks so none waits long.
    sc.block = std::chrono::milliseconds(2);
    sc.log("live: orders over FIX " + session->sender_comp_id + " -> " + session->target_comp_id + " at " +
           session->host + ":" + std::to_string(session->port) + " (store " + session->store_dir + ")");
  } else if (args.venue != "mt5") {
    return fail("live: --venue must be mt5 or fix, not '" + args.venue + "'");
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  auto stats = live::run_live(engine, sc);
  if (!stats) return fail(stats.error().message);
  std::printf(
      "live: %lld entries processed (%lld already in the journal), %lld order messages sent (new, cancel, replace), "
      "%lld journal steps recovered, "
      "%lld positions checks; equity %.2f%s\n",
      static_cast<long long>(stats->entries), static_cast<long long>(stats->skipped),
      static_cast<long long>(stats->orders), static_cast<long long>(stats->recovered_steps),
      static_cast<long long>(stats->reconciliations), engine.equity(), stats->halted ? "; HALTED" : "");
  if (route) {
    const auto st = route->venue().stats();
    std::printf("  fix: %lld reports applied, %lld received (%lld resent), %lld duplicates dropped, %lld resend requests sent\n",
                static_cast<long long>(stats->route_reports), static_cast<long long>(st.session.received),
                static_cast<long long>(st.session.received_poss_dup), static_cast<long long>(st.duplicates),
                static_cast<long long>(st.session.resend_requests_sent));
  }
  for (const auto& sym : engine.symbols()) {
    std::printf("  %s: position %lld\n", sym.c_str(), static_cast<long long>(engine.position(sym)));
  }
  std::printf("  orders: %s\n", sc.orders_csv.c_str());
  return 0;
}

}  // namespace quant::app
