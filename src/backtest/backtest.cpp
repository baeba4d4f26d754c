#include "backtest/backtest.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "backtest/csv_output.h"
#include "backtest/trade_log.h"
#include "core/bar_aggregator.h"
#include "lake/parquet_stream.h"
#include "matching/simulated_venue.h"

namespace quant::backtest {

namespace {

namespace fs = std::filesystem;

/// Writes the run directory as the engine reports.
class RunWriter final : public engine::EngineObserver {
 public:
  RunWriter(const BacktestConfig& config, const InstrumentSpec& spec, engine::SessionClock& days)
      : config_(config),
        spec_(spec),
        days_(days),
        decimals_(price_decimals(spec.tick_size)),
        metrics_(config.engine.initial_equity),
        trades_(spec.tick_size) {
    auto zone = TimeZone::find(spec.time_zone);
    const TimeZone tz = zone ? *zone : TimeZone::utc();
    static constexpr std::array<int, 5> kMinutes = {1, 5, 15, 60, 1440};
    for (std::size_t i = 0; i < charts_.size(); ++i) {
      charts_[i].minutes = kMinutes[i];
      charts_[i].resampler.emplace(std::chrono::minutes(kMinutes[i]), tz);
    }
  }

  Expected<void> open(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error("backtest: cannot create " + dir + ": " + ec.message());
    dir_ = dir;
    const bool parquet = config_.equity_output == EquityOutput::Bar && config_.equity_parquet;
    if (parquet) {
      using Type = lake::ParquetColumn::Type;
      auto writer = lake::ParquetStreamWriter::open(
          dir + "/equity.parquet", {{"ts", Type::TimestampNs, 0},
                                    {"equity", Type::Decimal, 2},
                                    {"realized", Type::Decimal, 2},
                                    {"open_pnl", Type::Decimal, 2},
                                    {"position", Type::BigInt, 0},
                                    {"drawdown", Type::Decimal, 2},
                                    {"drawdown_pct", Type::Decimal, 6}});
      if (!writer) return make_error("backtest: " + writer.error().message);
      equity_parquet_ = std::move(*writer);
      // A stale equity.csv of an earlier run in this directory would contradict the new one.
      std::error_code ignored;
      fs::remove(dir + "/equity.csv", ignored);
    } else {
      std::error_code ignored;
      fs::remove(dir + "/equity.parquet", ignored);
    }
    for (auto r : {trades_.open(dir + "/trades.csv"),
                   orders_.open(dir + "/orders.csv",
                                "id,created,updated,side,type,tif,purpose,qty,limit_price,stop_price,status,"
                                "filled_qty,avg_fill_price,reason"),
                   parquet ? Expected<void>{}
                           : equity_.open(dir + "/equity.csv", "ts,equity,realized,open_pnl,position,drawdown,drawdown_pct"),
                   daily_.open(dir + "/daily.csv", "date,start_equity,end_equity,pnl,return_pct,trades,fees,halted"),
                   events_.open(dir + "/risk_events.csv", "ts,kind,reason,equity,value")}) {
      if (!r) return r;
    }
    return {};
  }

  void on_bar_close(const Bar& bar, double equity, double realized, double open_pnl, std::int64_t position) override {
    if (equity > peak_) peak_ = equity;
    metrics_.on_equity(equity);
    last_equity_ = equity;
    const double dd_pct = peak_ > 0 ? (peak_ - equity) / peak_ : 0.0;
    for (auto& c : charts_) {
      if (c.overflow) continue;
      if (auto out = c.resampler->add(bar)) push_chart(c, *out);
      // The open bucket's equity: its last close, its deepest drawdown.
      c.pending_drawdown = c.pending_open ? std::max(c.pending_drawdown, dd_pct) : dd_pct;
      c.pending_equity = equity;
      c.pending_open = true;
    }
    if (equity_parquet_) {
      const double dd = peak_ - equity;
      const std::int64_t row[] = {to_epoch_ns(bar.ts + kMinute), std::llround(equity * 100), std::llround(realized * 100),
                                  std::llround(open_pnl * 100), position, std::llround(dd * 100),
                                  std::llround((peak_ > 0 ? dd / peak_ : 0.0) * 1e6)};
      equity_parquet_->add_row(row);
    } else if (config_.equity_output == EquityOutput::Bar) {
      const double dd = peak_ - equity;
      line_.time(bar.ts + kMinute).comma().fixed(equity, 2).comma().fixed(realized, 2).comma().fixed(open_pnl, 2);
      line_.comma().integer(position).comma().fixed(dd, 2).comma().fixed(peak_ > 0 ? dd / peak_ : 0.0, 6);
      line_.write_to(equity_.get());
    }
    last_bar_ts_ = bar.ts + kMinute;
    last_realized_ = realized;
    last_open_ = open_pnl;
    last_position_ = position;
  }

  void on_trade(const engine::TradeRecord& t) override {
    metrics_.on_trade(t.net_pnl, t.gross_pnl, t.fees);
    trades_.write(t);
  }

  void on_order_done(const Order& o, std::string_view reason, std::string_view) override {
    if (!config_.write_orders) return;
    char id[24];
    const auto id_end = std::to_chars(id, id + sizeof id, static_cast<unsigned long long>(o.id)).ptr;
    line_.text(std::string_view(id, static_cast<std::size_t>(id_end - id))).comma().time(o.created).comma();
    line_.time(o.updated).comma().text(to_string(o.side)).comma().text(to_string(o.type)).comma();
    line_.text(to_string(o.tif)).comma().text(to_string(o.purpose)).comma().integer(o.qty).comma();
    line_.fixed(o.limit_price, decimals_).comma().fixed(o.stop_price, decimals_).comma().text(to_string(o.status));
    line_.comma().integer(o.filled_qty).comma().fixed(o.avg_fill_price, decimals_ + 2).comma().field_text(reason);
    line_.write_to(orders_.get());
  }

  void on_risk_event(const risk::RiskEvent& e) override {
    // Trailing-stop moves happen on many bars: counted, not listed (the orders
    // carry the stop's final price).
    if (e.kind == risk::RiskEventKind::StopMoved) {
      ++stop_moves_;
      return;
    }
    line_.time(e.ts).comma().text(risk::to_string(e.kind)).comma().field_text(e.reason).comma();
    line_.fixed(e.equity, 2).comma().general6(e.value).write_to(events_.get());
  }

  void on_decision(const engine::DecisionRecord& d) override {
    line_.time(d.ts).comma().text(d.kind).comma().field_text(d.reason).comma();
    line_.fixed(d.equity, 2).comma().general6(d.value).write_to(events_.get());
  }

  void on_day(const engine::DayRecord& d) override {
    metrics_.on_day(d.start_equity, d.end_equity);
    const double pnl = d.end_equity - d.start_equity;
    std::fprintf(daily_.get(), "%s,%.2f,%.2f,%.2f,%.6f,%lld,%.2f,%d\n", days_.day_text(d.day).c_str(), d.start_equity,
                 d.end_equity, pnl, d.start_equity > 0 ? pnl / d.start_equity : 0.0, static_cast<long long>(d.trades),
                 d.fees, d.halted ? 1 : 0);
    if (config_.equity_output == EquityOutput::Day) {
      const double dd = peak_ - d.end_equity;
      line_.time(last_bar_ts_).comma().fixed(d.end_equity, 2).comma().fixed(last_realized_, 2).comma();
      line_.fixed(last_open_, 2).comma().integer(last_position_).comma().fixed(dd, 2).comma();
      line_.fixed(peak_ > 0 ? dd / peak_ : 0.0, 6).write_to(equity_.get());
    }
  }

  /// Closes the files, writes chart_bars.csv, summary.json and config.toml.
  Expected<Summary> finish(const engine::Engine& engine, const RunMeta& meta, const BacktestResult& result) {
    if (auto r = trades_.close(); !r) return tl::unexpected(r.error());
    for (auto* f : {&orders_, &equity_, &daily_, &events_}) {
      if (auto r = f->close(); !r) return tl::unexpected(r.error());
    }
    if (equity_parquet_) {
      if (auto r = equity_parquet_->close(); !r) return make_error("backtest: " + r.error().message);
    }
    const Summary s = metrics_.finish(engine.bars(), engine.bars_in_market());
    // Chart: the finest timeframe that stayed under the cap.
    Chart* chosen = &charts_.back();
    for (auto& c : charts_) {
      if (auto out = c.resampler->finish(); out && !c.overflow) push_chart(c, *out);
      if (!c.overflow && chosen == &charts_.back()) chosen = &c;
    }
    CsvFile chart, chart_equity;
    if (auto r = chart.open(dir_ + "/chart_bars.csv", "ts,open,high,low,close"); !r) return tl::unexpected(r.error());
    if (auto r = chart_equity.open(dir_ + "/chart_equity.csv", "ts,equity,drawdown_pct"); !r) {
      return tl::unexpected(r.error());
    }
    for (std::size_t i = 0; i < chosen->bars.size(); ++i) {
      const Bar& b = chosen->bars[i];
      line_.time(b.ts).comma().fixed(b.open, decimals_).comma().fixed(b.high, decimals_).comma();
      line_.fixed(b.low, decimals_).comma().fixed(b.close, decimals_).write_to(chart.get());
      const EquityPoint& e = chosen->equity[i];
      line_.time(b.ts).comma().fixed(e.equity, 2).comma().fixed(e.drawdown_pct, 6).write_to(chart_equity.get());
    }
    if (auto r = chart.close(); !r) return tl::unexpected(r.error());
    if (auto r = chart_equity.close(); !r) return tl::unexpected(r.error());

    auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
    nlohmann::ordered_json j;
    j["net_pnl"] = finite(s.net_pnl);
    j["gross_pnl"] = finite(s.gross_pnl);
    j["trades"] = s.trades;
    j["win_rate"] = finite(s.win_rate);
    if (s.profit_factor_infinite)
      j["profit_factor"] = nullptr;
    else
      j["profit_factor"] = finite(s.profit_factor);
    j["expectancy"] = finite(s.expectancy);
    j["sharpe"] = finite(s.sharpe);
    j["sortino"] = finite(s.sortino);
    j["max_drawdown"] = finite(s.max_drawdown);
    j["max_drawdown_pct"] = finite(s.max_drawdown_pct);
    j["calmar"] = finite(s.calmar);
    j["exposure"] = finite(s.exposure);
    j["fees"] = finite(s.fees);
    j["bars"] = result.bars;
    j["bars_per_second"] = std::round(finite(result.bars_per_second));
    j["annual_return"] = finite(s.annual_return);
    j["orders"] = engine.orders_sent();
    j["stop_moves"] = stop_moves_;
    j["meta"] = {{"symbol", meta.symbol},
                 {"strategy", meta.strategy},
                 {"from", format_utc(result.first_bar)},
                 {"to", format_utc(result.last_bar + kMinute)},
                 {"initial_equity", config_.engine.initial_equity},
                 {"final_equity", finite(result.final_equity)},
                 {"currency", spec_.currency},
                 {"generated_data", meta.generated_data},
                 {"data_source", meta.data_source},
                 {"chart_timeframe", chosen->minutes == 1440 ? "1d"
                                     : chosen->minutes >= 60 ? std::to_string(chosen->minutes / 60) + "h"
                                                             : std::to_string(chosen->minutes) + "m"},
                 {"seed", meta.seed},
                 {"version", meta.version},
                 {"point_value", spec_.point_value},
                 {"tick_size", spec_.tick_size},
                 {"time_zone", spec_.time_zone}};
    std::ofstream summary(dir_ + "/summary.json");
    summary << j.dump(2) << '\n';
    std::ofstream config(dir_ + "/config.toml");
    config << meta.config_text;
    if (!summary || !config) return make_error("backtest: cannot write summary.json/config.toml in " + dir_);
    return s;
  }

 private:
  struct EquityPoint {
    double equity = 0, drawdown_pct = 0;
  };
  /// One candidate chart timeframe: its bars and, per bar, the equity at the
  /// bar's close and the deepest drawdown within it (chart_equity.csv).
  struct Chart {
    int minutes = 1;
    std::optional<BarResampler> resampler;
    std::vector<Bar> bars;
    std::vector<EquityPoint> equity;
    double pending_equity = 0, pending_drawdown = 0;
    bool pending_open = false;
    bool overflow = false;
  };
  /// Adds a finished chart bar with the equity of its bucket (pending until now).
  void push_chart(Chart& c, const Bar& b) {
    if (c.bars.size() >= config_.chart_max_bars) {
      c.overflow = true;
      c.bars.clear();
      c.bars.shrink_to_fit();
      c.equity.clear();
      c.equity.shrink_to_fit();
      return;
    }
    c.bars.push_back(b);
    c.equity.push_back({c.pending_equity, c.pending_drawdown});
    c.pending_open = false;
  }

  const BacktestConfig& config_;
  const InstrumentSpec& spec_;
  engine::SessionClock& days_;
  int decimals_;
  MetricsAccumulator metrics_;
  std::string dir_;
  TradeLog trades_;
  CsvFile orders_, equity_, daily_, events_;
  std::unique_ptr<lake::ParquetStreamWriter> equity_parquet_;
  Line line_;
  std::array<Chart, 5> charts_;
  double peak_ = -1e300, last_equity_ = 0;
  Timestamp last_bar_ts_{};
  double last_realized_ = 0, last_open_ = 0;
  std::int64_t last_position_ = 0;

 public:
  std::int64_t stop_moves_ = 0;
};

}  // namespace

Expected<Simulation> simulate(const BacktestConfig& config, const InstrumentSpec& spec, strategy::Strategy& strategy,
                              engine::MarketDataFeed& feed, engine::EngineObserver& observer,
                              const ProgressCallback& progress, engine::Gate* gate,
                              const FinishCallback& on_finish) {
  auto zone = TimeZone::find(spec.time_zone);
  if (!zone) return tl::unexpected(zone.error());
  const TradingCosts costs = config.zero_costs ? TradingCosts{} : costs_of(spec, config.slippage_ticks);
  std::unique_ptr<matching::FillModel> fill_model;
  if (config.fill_model == FillModelKind::VolumeParticipation) {
    fill_model = std::make_unique<matching::VolumeParticipationModel>(config.participation);
  } else {
    fill_model = std::make_unique<matching::FullFillModel>();
  }
  matching::SimulatedVenue venue(spec, costs, std::move(fill_model));
  // The risk engine sizes with the venue's costs: the loss at a stop, fees and
  // slippage included, stays within the risk budget.
  engine::Engine engine(config.engine, spec, *zone, config.risk, costs, strategy, venue, observer, gate);

  Simulation result;
  const auto start = std::chrono::steady_clock::now();
  // Bars come a batch at a time (one virtual call per batch, not per bar); the
  // buffer stays in L1/L2 while the engine walks it.
  std::array<Bar, 1024> batch;
  const bool report_progress = static_cast<bool>(progress);
  Bar last{};
  while (true) {
    auto got = feed.next_batch(batch);
    if (!got) return tl::unexpected(got.error());
    if (*got == 0) break;
    if (result.bars == 0) result.first_bar = batch[0].ts;
    for (std::size_t i = 0; i < *got; ++i) {
      const Bar& bar = batch[i];
      engine.before_bar(bar);
      venue.process(bar);
      engine.on_bar_close(bar);
      ++result.bars;
      if (report_progress && (result.bars & 0x3FFF) == 0) progress(result.bars, bar.ts);
    }
    last = batch[*got - 1];
  }
  if (result.bars == 0) return make_error("backtest: no bars in the requested range");
  result.last_bar = last.ts;
  engine.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.final_equity = engine.equity();
  if (on_finish) on_finish(engine, result);
  return result;
}

Expected<BacktestResult> run_backtest(const BacktestConfig& config, const InstrumentSpec& spec,
                                      strategy::Strategy& strategy, engine::MarketDataFeed& feed,
                                      const std::string& out_dir, const RunMeta& meta, const ProgressCallback& progress,
                                      engine::Gate* gate) {
  auto zone = TimeZone::find(spec.time_zone);
  if (!zone) return tl::unexpected(zone.error());
  engine::SessionClock days(spec, *zone);
  RunWriter writer(config, spec, days);
  if (auto opened = writer.open(out_dir); !opened) return tl::unexpected(opened.error());
  BacktestResult result;
  Expected<Summary> summary = make_error("backtest: the run did not finish");
  auto sim = simulate(config, spec, strategy, feed, writer, progress, gate,
                      [&](const engine::Engine& engine, const Simulation& done) {
                        result.bars = done.bars;
                        result.first_bar = done.first_bar;
                        result.last_bar = done.last_bar;
                        result.seconds = done.seconds;
                        result.bars_per_second =
                            done.seconds > 0 ? static_cast<double>(done.bars) / done.seconds : 0;
                        result.final_equity = done.final_equity;
                        summary = writer.finish(engine, meta, result);
                      });
  if (!sim) return tl::unexpected(sim.error());
  if (!summary) return tl::unexpected(summary.error());
  result.summary = *summary;
  return result;
}

}  // namespace quant::backtest
