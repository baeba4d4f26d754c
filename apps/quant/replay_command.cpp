#include "replay_command.h"

#include <cstdio>
#include <sstream>

#include "fix/fix_ports.h"
#include "fix_settings.h"
#include "lake/lake.h"
#include "replay/replay.h"

namespace quant::app {

namespace {
std::vector<std::string> split_symbols(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}
}  // namespace

int run_replay_command(const GlobalOptions& global, const ReplayArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  const auto symbols = split_symbols(args.symbols);
  if (symbols.empty()) return fail("replay: --symbols WIN[,WDO] is required");
  replay::ReplayConfig rc;
  if (args.mode == "bars")
    rc.mode = replay::ReplayMode::Bars;
  else if (args.mode == "ticks")
    rc.mode = replay::ReplayMode::Ticks;
  else
    return fail("replay: --mode must be bars or ticks, not '" + args.mode + "'");
  if (args.speed < 0) return fail("replay: --speed must be >= 0 (0 = as fast as possible)");
  auto connect = parse_host_port("--connect", args.connect);
  if (!connect) return fail("replay: " + connect.error().message);
  rc.host = connect->host;
  rc.port = connect->port;

  // Fills as the backtest's: its slippage, fees and fill model, zero costs for
  // the sma_cross reference (backtest_command.cpp).
  const backtest::BacktestConfig& bt = cfg->backtest.backtest;
  const bool zero_costs = bt.zero_costs || cfg->backtest.strategy.name == "sma_cross";
  for (const auto& symbol : symbols) {
    auto found = find_instrument(global, *cfg, symbol, "replay");
    if (!found) return fail(found.error().message);
    const InstrumentSpec* spec = *found;
    replay::InstrumentSetup setup;
    setup.spec = *spec;
    setup.costs = zero_costs ? TradingCosts{} : costs_of(*spec, bt.slippage_ticks);
    if (bt.fill_model == backtest::FillModelKind::VolumeParticipation) setup.participation = bt.participation;
    rc.instruments.push_back(setup);
  }
  auto zone = TimeZone::find(rc.instruments.front().spec.time_zone);
  if (!zone) return fail(zone.error().message);
  auto range = parse_range(args.from, args.to, *zone);
  if (!range) return fail(range.error().message);

  const std::string root = lake_dir(global, *cfg);
  auto lk = open_existing_lake(global, *cfg);
  if (!lk) return fail(lk.error().message);

  rc.speed = args.speed;
  rc.lockstep = args.lockstep;
  rc.state_dir = args.state_dir;
  rc.server_utc_offset_s = args.server_utc_offset_s;
  // The journal belongs to this replay only: same symbols, mode and range.
  rc.fingerprint = "symbols=" + args.symbols + " mode=" + args.mode + " from=" + format_utc(range->from) +
                   " to=" + format_utc(range->to) + " lake=" + root;
  rc.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  if (!global.quiet) {
    rc.progress = [](const replay::ReplayProgress& p) {
      std::fprintf(stderr, "replay: %lld events (%lld sent), at %s, %lld orders, %lld fills\n",
                   static_cast<long long>(p.events), static_cast<long long>(p.events_sent), format_utc(p.at).c_str(),
                   static_cast<long long>(p.orders), static_cast<long long>(p.fills));
    };
  }
  // --venue fix: the simulated exchange. The platform's orders arrive over a
  // FIX acceptor and the Terminal's reports leave over it; market data stays on the bridge.
  std::unique_ptr<fix::FixOrderChannel> channel;
  if (args.venue == "fix") {
    auto session = fix_session_settings(global, cfg->fix, true, args.fix_store, args.fix_port);
    if (!session) return fail("replay: " + session.error().message);
    auto exchange = fix::FixExchange::create(*session, rc.log);
    if (!exchange) return fail("replay: " + exchange.error().message);
    if (auto started = (*exchange)->start(); !started) return fail("replay: " + started.error().message);
    channel = std::make_unique<fix::FixOrderChannel>(std::move(*exchange), std::chrono::seconds(10));
    rc.orders = channel.get();
    rc.log("replay: FIX acceptor " + session->sender_comp_id + " on port " + std::to_string(session->port) +
           " (store " + session->store_dir + ")");
  } else if (args.venue != "mt5") {
    return fail("replay: --venue must be mt5 or fix, not '" + args.venue + "'");
  }
  auto events = replay::lake_events(**lk, symbols, rc.mode, range->from, range->to);
  auto stats = replay::run_replay(rc, events);
  if (!stats) return fail(stats.error().message);
  const auto& p = stats->progress;
  std::printf("replay %s (%s): %lld events, %lld sent, %lld orders, %lld fills, %lld connection(s)\n",
              args.symbols.c_str(), args.mode.c_str(), static_cast<long long>(p.events),
              static_cast<long long>(p.events_sent), static_cast<long long>(p.orders), static_cast<long long>(p.fills),
              static_cast<long long>(stats->connections));
  for (const auto& pos : stats->final_positions.positions) {
    std::printf("  %s: position %lld @ %.6g\n", pos.symbol.c_str(), static_cast<long long>(pos.qty), pos.avg_price);
  }
  for (const auto& o : stats->final_positions.orders) {
    std::printf("  working: %s %s %s %lld (filled %lld) price %.6g stop %.6g\n", o.cl_ord_id.c_str(), o.symbol.c_str(),
                std::string(to_string(o.side)).c_str(), static_cast<long long>(o.qty),
                static_cast<long long>(o.cum_qty), o.price, o.stop_price);
  }
  return 0;
}

}  // namespace quant::app
