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

int price_decimals(double tick) {
  int d = 0;
  while (d < 10 && std::fabs(tick * std::pow(10.0, d) - std::round(tick * std::pow(10.0, d))) > 1e-9) ++d;
  return d;
}

/// One output line built in a reused buffer, then written with one fwrite.
/// Produces the same text as the printf formats it replaces (std::to_chars
/// with a precision is specified as printf's %.*f / %.*g), without printf's
/// format parsing on the per-bar and per-order path.
class Line {
 public:
  Line& text(std::string_view s) {
    buffer_.append(s);
    return *this;
  }
  Line& comma() {
    buffer_.push_back(',');
    return *this;
  }
  /// Free text for a CSV field: commas and line breaks become ';'.
  Line& field_text(std::string_view s) {
    const std::size_t at = buffer_.size();
    buffer_.append(s);
    for (std::size_t i = at; i < buffer_.size(); ++i) {
      char& c = buffer_[i];
      if (c == ',' || c == '\n' || c == '\r') c = ';';
    }
    return *this;
  }
  Line& integer(long long value) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, value);
    buffer_.append(digits, r.ptr);
    return *this;
  }
  /// printf("%.*f", decimals, value)
  Line& fixed(double value, int decimals) {
    char digits[400];
    const auto r = std::to_chars(digits, digits + sizeof digits, value, std::chars_format::fixed, decimals);
    if (r.ec != std::errc()) {
      const int n = std::snprintf(digits, sizeof digits, "%.*f", decimals, value);
      buffer_.append(digits, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof digits) - 1)));
      return *this;
    }
    buffer_.append(digits, r.ptr);
    return *this;
  }
  /// printf("%.6g", value)
  Line& general6(double value) {
    char digits[64];
    const auto r = std::to_chars(digits, digits + sizeof digits, value, std::chars_format::general, 6);
    buffer_.append(digits, r.ptr);
    return *this;
  }
  /// format_utc(t), with the date part cached (bars of one day share it).
  Line& time(Timestamp t) {
    const std::int64_t ns = t.time_since_epoch().count();
    std::int64_t secs = ns / 1'000'000'000;
    if (secs * 1'000'000'000 > ns) --secs;
    if (secs * 1'000'000'000 != ns) return text(format_utc(t));  // sub-second part: the general path
    std::int64_t day = secs / 86400;
    if (day * 86400 > secs) --day;
    if (day != cached_day_) {
      const std::string full = format_utc(t);  // "YYYY-MM-DDTHH:MM:SSZ"
      cached_date_ = full.substr(0, full.size() - 9);
      cached_day_ = day;
    }
    buffer_.append(cached_date_);
    const auto in_day = static_cast<unsigned>(secs - day * 86400);
    const unsigned h = in_day / 3600, m = in_day / 60 % 60, sec = in_day % 60;
    const char hms[9] = {static_cast<char>('0' + h / 10), static_cast<char>('0' + h % 10), ':',
                         static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10), ':',
                         static_cast<char>('0' + sec / 10), static_cast<char>('0' + sec % 10), 'Z'};
    buffer_.append(hms, sizeof hms);
    return *this;
  }
  /// Writes the line and a newline to `file`, and empties the buffer.
  void write_to(FILE* file) {
    buffer_.push_back('\n');
    std::fwrite(buffer_.data(), 1, buffer_.size(), file);
    buffer_.clear();
  }

 private:
  std::string buffer_;
  std::int64_t cached_day_ = std::numeric_limits<std::int64_t>::min();
  std::string cached_date_;
};

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
    line_.time(t.entry_time).comma().time(t.exit_time).comma().text(t.side == Side::Buy ? "long" : "short");
    line_.comma().integer(t.qty).comma().fixed(t.entry_price, decimals_ + 2).comma().fixed(t.exit_price, decimals_ + 2);
    line_.comma().fixed(t.gross_pnl, 2).comma().fixed(t.fees, 2).comma().fixed(t.net_pnl, 2);
    line_.comma().text(t.exit_reason).comma().fixed(t.initial_stop, decimals_).comma().integer(t.bars_held);
    line_.write_to(trades_.get());
  }

  void on_order_done(const Order& o) override {
    if (!config_.write_orders) return;
    char id[24];
    const auto id_end = std::to_chars(id, id + sizeof id, static_cast<unsigned long long>(o.id)).ptr;
    line_.text(std::string_view(id, static_cast<std::size_t>(id_end - id))).comma().time(o.created).comma();
    line_.time(o.updated).comma().text(to_string(o.side)).comma().text(to_string(o.type)).comma();
    line_.text(to_string(o.tif)).comma().text(to_string(o.purpose)).comma().integer(o.qty).comma();
    line_.fixed(o.limit_price, decimals_).comma().fixed(o.stop_price, decimals_).comma().text(to_string(o.status));
    line_.comma().integer(o.filled_qty).comma().fixed(o.avg_fill_price, decimals_ + 2);
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
                 d.end_equity, pnl, d.start_equity > 0 ? pnl / d.start_equity : 0.0,
                 static_cast<long long>(d.trades), d.fees, d.halted ? 1 : 0);
    if (config_.equity_output == EquityOutput::Day) {
      const double dd = peak_ - d.end_equity;
      line_.time(last_bar_ts_).comma().fixed(d.end_equity, 2).comma().fixed(last_realized_, 2).comma();
      line_.fixed(last_open_, 2).comma().integer(last_position_).comma().fixed(dd, 2).comma();
      line_.fixed(peak_ > 0 ? dd / peak_ : 0.0, 6).write_to(equity_.get());
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
