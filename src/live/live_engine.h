#pragma once
/// The live engine's decisions, without I/O: market data and execution
/// reports in (bridge protocol messages), orders out (into an outbox). Per
/// symbol it runs the one trading kernel — `engine::Engine` with the same
/// strategy, filters, gate, risk engine and TradingBook as `quant backtest` —
/// against a RemoteVenue. The live service (live_service.h) feeds it from
/// Redis, journals what it does and publishes the outbox.
///
/// Bars: with `BarSource::Terminal` the terminal's closed `bar` messages are
/// the decision bars and its ticks only say that a new minute has started;
/// with `BarSource::Ticks` the ticks are aggregated into 1-minute bars by the
/// lake's aggregator (core::BarAggregator), a bar closing when a tick of a
/// later minute arrives. Either way the kernel sees, per minute, exactly the
/// backtest's sequence: `before_bar` (at the first event of the minute — a
/// tick, a fill or the bar itself), the venue's reports, `on_bar_close`.
///
/// Deterministic: the same events in the same order give the same orders,
/// which is what recovery after a crash relies on (replay the journal).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bar_aggregator.h"
#include "core/costs.h"
#include "core/instrument.h"
#include "engine/engine.h"
#include "execution/bridge_protocol.h"
#include "live/remote_venue.h"
#include "risk/risk_engine.h"
#include "strategy/strategy.h"

namespace quant::live {

enum class BarSource : std::uint8_t { Terminal, Ticks };

struct LiveSymbol {
  InstrumentSpec spec;
  TradingCosts costs;  ///< what sizing counts (the venue's fees and slippage)
  std::unique_ptr<strategy::Strategy> strategy;
  std::unique_ptr<engine::Gate> gate;    ///< optional: last in the filter chain
  std::optional<risk::RiskConfig> risk;  ///< this instrument's (its profit target); else LiveConfig::risk
};

struct LiveConfig {
  engine::EngineConfig engine;
  risk::RiskConfig risk;
  BarSource bars = BarSource::Terminal;
  std::string id_prefix = "L";  ///< client order ids: <prefix><SYM>-<n>
  /// Send an `hb` with a mark after each minute start ("tick:<SYM>:<msc>"),
  /// each closed bar ("bar:<SYM>:<s>") and each fill ("fill:<exec_id>"), after
  /// the orders they caused (a lock-step replay waits for them).
  bool marks = true;
};

/// What the engine did with one input, for the journal: a new minute started
/// (`Start`, bar.ts only), a bar closed (`Bar`), an execution report was
/// applied (`Report`: the message), trading was halted (`Halt`: bar.ts, reason).
struct Derived {
  enum class Kind : std::uint8_t { Start, Bar, Report, Halt } kind = Kind::Start;
  std::string symbol;
  Bar bar;
  execution::bridge::Message report;
  std::string reason;
};

class LiveEngine {
 public:
  LiveEngine(LiveConfig config, std::vector<LiveSymbol> symbols);
  LiveEngine(const LiveEngine&) = delete;
  LiveEngine& operator=(const LiveEngine&) = delete;
  ~LiveEngine();

  /// One message from the terminal (tick, bar, order_ack, fill, positions;
  /// others are ignored). Orders it causes go to outbox().
  void on_message(const execution::bridge::Message& message);

  /// Replays a journaled step (recovery): the same effect as the input that
  /// caused it, the aggregator excepted.
  void apply(const Derived& step);
  /// Recovery of a half-built bar (BarSource::Ticks): the ticks of the current
  /// minute after its start, into the aggregator only.
  void restore_tick(const std::string& symbol, const Tick& tick);

  /// The marks `message` gave when it was processed (a lock-step terminal may
  /// still wait for them after a crash): for an input already processed.
  void remark(const execution::bridge::Message& message);

  std::vector<execution::bridge::Body>& outbox() { return outbox_; }
  /// Steps taken since the last call (for the journal).
  std::vector<Derived> take_steps();

  /// The venue's snapshot against the books: empty when they agree, else what differs.
  std::string reconcile(const execution::bridge::PositionsMsg& venue) const;
  /// Halts every book (no new entries; positions flattened), e.g. while
  /// `risk:halt` is set. Idempotent.
  void halt(Timestamp ts, const std::string& reason);
  /// True once any book's breaker (or halt()) has stopped trading today.
  bool halted() const;
  /// Why and when the first halt happened (for risk:halt), empty when none.
  std::optional<engine::AccountHalt> halt_state() const;

  std::int64_t position(const std::string& symbol) const;
  /// A symbol's book as of its last bar close, for the mon:metrics stream;
  /// nullopt for a symbol the engine does not trade.
  struct BookState {
    std::int64_t position = 0;
    double realized_pnl = 0;  ///< after fees
    double open_pnl = 0;
    double day_start_equity = 0;  ///< the risk engine's (0 before the first session)
    /// The day's loss as a fraction of start-of-day equity, ≤ 0: the figure
    /// the breaker compares (risk::RiskEngine::day_drawdown), 0 without a day start.
    double drawdown = 0;
    double breaker_drawdown = 0;  ///< where the breaker trips, e.g. -0.03 (0 without a risk engine)
    engine::TradingBook::WorkingCounts working;  ///< the book's working orders by status
  };
  std::optional<BookState> book_state(const std::string& symbol) const;
  /// What the kernel decided not to do, counted since start (journal
  /// recovery included): signals a filter, the gate or an entry block stopped,
  /// and orders the book refused. For the metrics.
  struct Decisions {
    std::int64_t signals_blocked = 0;
    std::int64_t orders_rejected = 0;
  };
  Decisions decisions(const std::string& symbol) const;
  double equity() const;
  std::int64_t orders_sent() const;
  std::int64_t bars() const;
  const std::vector<std::string>& symbols() const { return names_; }
  /// The last positions snapshot answered by the venue (nullopt before one).
  const std::optional<execution::bridge::PositionsMsg>& venue_positions() const { return venue_positions_; }

 private:
  struct Runner;
  Runner* find(const std::string& symbol);
  const Runner* find(const std::string& symbol) const;
  void start_minute(Runner& r, Timestamp minute);
  void close_bar(Runner& r, const Bar& bar);
  void mark(const char* kind, const std::string& symbol, std::int64_t time);

  LiveConfig config_;
  engine::Account account_;  ///< one equity, one order id sequence, one breaker for every symbol
  std::vector<std::unique_ptr<Runner>> runners_;
  std::vector<std::string> names_;
  std::vector<execution::bridge::Body> outbox_;
  std::vector<Derived> steps_;
  std::optional<execution::bridge::PositionsMsg> venue_positions_;
};

}  // namespace quant::live
