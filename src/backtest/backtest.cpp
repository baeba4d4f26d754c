#include "backtest/backtest.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "backtest/simulated_venue.h"
#include "core/bar_aggregator.h"

namespace quant::backtest {

namespace {

namespace fs = std::filesystem;

/// A buffered output file; remembers the first write error.
class CsvFile {
 public:
  Expected<void> open(const std::string& path, const char* header) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) return make_error("backtest: cannot write " + path);
    buffer_ = std::make_unique<char[]>(1 << 20);
    std::setvbuf(file_, buffer_.get(), _IOFBF, 1 << 20);
    std::fputs(header, file_);
    std::fputc('\n', file_);
    return {};
  }
  FILE* get() { return file_; }
  Expected<void> close() {
    if (file_ == nullptr) return {};
    const bool bad = std::ferror(file_) != 0;
    const bool close_failed = std::fclose(file_) != 0;
    file_ = nullptr;
    if (bad || close_failed) return make_error("backtest: write failed for " + path_);
    return {};
  }
  ~CsvFile() {
    if (file_ != nullptr) std::fclose(file_);
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
  std::unique_ptr<char[]> buffer_;
};

/// Text with commas replaced, for free-text CSV fields.
std::string no_commas(std::string s) {
  for (char& c : s) {
    if (c == ',' || c == '\n' || c == '\r') c = ';';
  }
  return s;
}

int price_decimals(double tick) {
  int d = 0;
  while (d < 10 && std::fabs(tick * std::pow(10.0, d) - std::round(tick * std::pow(10.0, d))) > 1e-9) ++d;
  return d;
}

/// Writes the run directory as the engine reports.
class RunWriter final : public engine::EngineObserver {
 public:
  RunWriter(const BacktestConfig& config, const InstrumentSpec& spec, engine::SessionClock& days)
      : config_(config), spec_(spec), days_(days), decimals_(price_decimals(spec.tick_size)),
        metrics_(config.engine.initial_equity) {
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
    for (auto r : {trades_.open(dir + "/trades.csv",
                                "entry_time,exit_time,side,qty,entry_price,exit_price,gross_pnl,fees,net_pnl,"
                                "exit_reason,initial_stop,bars_held"),
                   orders_.open(dir + "/orders.csv",
                                "id,created,updated,side,type,tif,purpose,qty,limit_price,stop_price,status,"
                                "filled_qty,avg_fill_price"),
                   equity_.open(dir + "/equity.csv", "ts,equity,realized,open_pnl,position,drawdown,drawdown_pct"),
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
    for (auto& c : charts_) {
      if (c.overflow) continue;
      if (auto out = c.resampler->add(bar)) push_chart(c, *out);
    }
    if (config_.equity_output == EquityOutput::Bar) {
      const double dd = peak_ - equity;
      std::fprintf(equity_.get(), "%s,%.2f,%.2f,%.2f,%lld,%.2f,%.6f\n", format_utc(bar.ts + kMinute).c_str(), equity,
                   realized, open_pnl, static_cast<long long>(position), dd, peak_ > 0 ? dd / peak_ : 0.0);
    }
    last_bar_ts_ = bar.ts + kMinute;
    last_realized_ = realized;
    last_open_ = open_pnl;
    last_position_ = position;
  }

  void on_trade(const engine::TradeRecord& t) override {
    metrics_.on_trade(t.net_pnl, t.gross_pnl, t.fees);
    std::fprintf(trades_.get(), "%s,%s,%s,%lld,%.*f,%.*f,%.2f,%.2f,%.2f,%s,%.*f,%lld\n",
                 format_utc(t.entry_time).c_str(), format_utc(t.exit_time).c_str(),
                 t.side == Side::Buy ? "long" : "short", static_cast<long long>(t.qty), decimals_ + 2, t.entry_price,
                 decimals_ + 2, t.exit_price, t.gross_pnl, t.fees, t.net_pnl, t.exit_reason, decimals_, t.initial_stop,
                 static_cast<long long>(t.bars_held));
  }

  void on_order_done(const Order& o) override {
    if (!config_.write_orders) return;
    std::fprintf(orders_.get(), "%llu,%s,%s,%s,%s,%s,%s,%lld,%.*f,%.*f,%s,%lld,%.*f\n",
                 static_cast<unsigned long long>(o.id), format_utc(o.created).c_str(), format_utc(o.updated).c_str(),
                 std::string(to_string(o.side)).c_str(), std::string(to_string(o.type)).c_str(),
                 std::string(to_string(o.tif)).c_str(), std::string(to_string(o.purpose)).c_str(),
                 static_cast<long long>(o.qty), decimals_, o.limit_price, decimals_, o.stop_price,
                 std::string(to_string(o.status)).c_str(), static_cast<long long>(o.filled_qty), decimals_ + 2,
                 o.avg_fill_price);
  }

  void on_risk_event(const risk::RiskEvent& e) override {
    // Trailing-stop moves happen on many bars: counted, not listed (the orders
    // carry the stop's final price).
    if (e.kind == risk::RiskEventKind::StopMoved) {
      ++stop_moves_;
      return;
    }
    std::fprintf(events_.get(), "%s,%s,%s,%.2f,%.6g\n", format_utc(e.ts).c_str(), risk::to_string(e.kind),
                 no_commas(e.reason).c_str(), e.equity, e.value);
  }

  void on_decision(const engine::DecisionRecord& d) override {
    std::fprintf(events_.get(), "%s,%s,%s,%.2f,%.6g\n", format_utc(d.ts).c_str(), d.kind, no_commas(d.reason).c_str(),
                 d.equity, d.value);
  }

  void on_day(const engine::DayRecord& d) override {
    metrics_.on_day(d.start_equity, d.end_equity);
    const double pnl = d.end_equity - d.start_equity;
    std::fprintf(daily_.get(), "%s,%.2f,%.2f,%.2f,%.6f,%lld,%.2f,%d\n", days_.day_text(d.day).c_str(), d.start_equity,
                 d.end_equity, pnl, d.start_equity > 0 ? pnl / d.start_equity : 0.0,
                 static_cast<long long>(d.trades), d.fees, d.halted ? 1 : 0);
    if (config_.equity_output == EquityOutput::Day) {
      const double dd = peak_ - d.end_equity;
      std::fprintf(equity_.get(), "%s,%.2f,%.2f,%.2f,%lld,%.2f,%.6f\n", format_utc(last_bar_ts_).c_str(),
                   d.end_equity, last_realized_, last_open_, static_cast<long long>(last_position_), dd,
                   peak_ > 0 ? dd / peak_ : 0.0);
    }
  }

  /// Closes the files, writes chart_bars.csv, summary.json and config.toml.
  Expected<Summary> finish(const engine::Engine& engine, const RunMeta& meta, const BacktestResult& result) {
    for (auto* f : {&trades_, &orders_, &equity_, &daily_, &events_}) {
      if (auto r = f->close(); !r) return tl::unexpected(r.error());
    }
    const Summary s = metrics_.finish(engine.bars(), engine.bars_in_market());
    // Chart: the finest timeframe that stayed under the cap.
    Chart* chosen = &charts_.back();
    for (auto& c : charts_) {
      if (auto out = c.resampler->finish(); out && !c.overflow) push_chart(c, *out);
      if (!c.overflow && chosen == &charts_.back()) chosen = &c;
    }
    CsvFile chart;
    if (auto r = chart.open(dir_ + "/chart_bars.csv", "ts,open,high,low,close"); !r) return tl::unexpected(r.error());
    for (const Bar& b : chosen->bars) {
      std::fprintf(chart.get(), "%s,%.*f,%.*f,%.*f,%.*f\n", format_utc(b.ts).c_str(), decimals_, b.open, decimals_,
                   b.high, decimals_, b.low, decimals_, b.close);
    }
    if (auto r = chart.close(); !r) return tl::unexpected(r.error());

    auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
    nlohmann::ordered_json j;
    j["net_pnl"] = finite(s.net_pnl);
    j["gross_pnl"] = finite(s.gross_pnl);
    j["trades"] = s.trades;
    j["win_rate"] = finite(s.win_rate);
    if (s.profit_factor_infinite) j["profit_factor"] = nullptr;
    else j["profit_factor"] = finite(s.profit_factor);
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
                 {"chart_timeframe", chosen->minutes == 1440 ? "1d" : chosen->minutes >= 60
                                                                  ? std::to_string(chosen->minutes / 60) + "h"
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
  struct Chart {
    int minutes = 1;
    std::optional<BarResampler> resampler;
    std::vector<Bar> bars;
    bool overflow = false;
  };
  void push_chart(Chart& c, const Bar& b) {
    if (c.bars.size() >= config_.chart_max_bars) {
      c.overflow = true;
      c.bars.clear();
      c.bars.shrink_to_fit();
      return;
    }
    c.bars.push_back(b);
  }

  const BacktestConfig& config_;
  const InstrumentSpec& spec_;
  engine::SessionClock& days_;
  int decimals_;
  MetricsAccumulator metrics_;
  std::string dir_;
  CsvFile trades_, orders_, equity_, daily_, events_;
  std::array<Chart, 5> charts_;
  double peak_ = -1e300, last_equity_ = 0;
  Timestamp last_bar_ts_{};
  double last_realized_ = 0, last_open_ = 0;
  std::int64_t last_position_ = 0;

 public:
  std::int64_t stop_moves_ = 0;
};

}  // namespace

Expected<BacktestResult> run_backtest(const BacktestConfig& config, const InstrumentSpec& spec,
                                      strategy::Strategy& strategy, engine::MarketDataFeed& feed,
                                      const std::string& out_dir, const RunMeta& meta,
                                      const ProgressCallback& progress) {
  auto zone = TimeZone::find(spec.time_zone);
  if (!zone) return tl::unexpected(zone.error());
  CostModel costs;
  if (!config.zero_costs) {
    costs.fee_per_contract_side = spec.fee_per_side + spec.brokerage_per_side;
    costs.slippage_ticks = config.slippage_ticks;
  }
  std::unique_ptr<FillModel> fill_model;
  if (config.fill_model == FillModelKind::VolumeParticipation) {
    fill_model = std::make_unique<VolumeParticipationModel>(config.participation);
  } else {
    fill_model = std::make_unique<FullFillModel>();
  }
  SimulatedVenue venue(spec, costs, std::move(fill_model));
  std::optional<risk::RiskEngine> risk;
  if (config.engine.use_risk_engine) risk.emplace(config.risk, spec);
  engine::SessionClock days(spec, *zone);
  RunWriter writer(config, spec, days);
  if (auto opened = writer.open(out_dir); !opened) return tl::unexpected(opened.error());
  engine::Engine engine(config.engine, spec, *zone, strategy, risk ? &*risk : nullptr, venue, writer);

  BacktestResult result;
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
      if (report_progress && (result.bars & 0xFFFFF) == 0) progress(result.bars, bar.ts);
    }
    last = batch[*got - 1];
  }
  if (result.bars == 0) return make_error("backtest: no bars in the requested range");
  result.last_bar = last.ts;
  engine.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.bars_per_second = result.seconds > 0 ? static_cast<double>(result.bars) / result.seconds : 0;
  result.final_equity = engine.equity();
  auto summary = writer.finish(engine, meta, result);
  if (!summary) return tl::unexpected(summary.error());
  result.summary = *summary;
  return result;
}

}  // namespace quant::backtest
