#pragma once
/// The engine's ports: the engine owns these interfaces and the outside world
/// implements them (docs/design.md, "Ports and adapters"). Backtest and live
/// differ only in what is plugged in: a simulated clock, a replay feed and the
/// simulated venue, or the system clock, a live feed and a real venue (paper,
/// MT5 bridge, FIX). The model gate is a port too, so the engine never links
/// the model runtime.

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>

#include "core/error.h"
#include "core/market_data.h"
#include "core/order.h"

namespace quant::engine {

/// An entry the strategy wants, as the gate judges it.
struct EntryCandidate {
  Timestamp ts{};  ///< the decision time (the bar's close)
  Side side = Side::Buy;
  double price = 0;  ///< the decision price (the bar's close)
  double atr = 0;    ///< ATR at the decision bar, price units (0 = not known)
};

/// A gate's answer. `reason` points to a static string.
struct GateVerdict {
  bool allowed = false;
  const char* reason = "";  ///< "passed", "probability below p_min" ...
};

/// A last check on every entry the strategy and its filters let through (the
/// Gatekeeper's models). It sees every closed bar (`observe`, before the
/// strategy decides on that bar), so features of its own stay current.
class Gate {
 public:
  virtual ~Gate() = default;
  /// The name a blocked signal is logged with ("gate").
  virtual const char* name() const = 0;
  virtual void observe(const Bar& bar) = 0;
  virtual GateVerdict judge(const EntryCandidate& entry) = 0;
};

/// Time as the engine sees it. The backtest's clock is the bar time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

/// A clock set by hand (backtests, tests).
class ManualClock final : public Clock {
 public:
  Timestamp now() const override { return now_; }
  void set(Timestamp t) { now_ = t; }

 private:
  Timestamp now_{};
};

/// Closed 1-minute bars of one instrument, in time order.
class MarketDataFeed {
 public:
  virtual ~MarketDataFeed() = default;
  /// The next bar; false at the end of the data; an error when the source fails.
  virtual Expected<bool> next(Bar& bar) = 0;
  /// The fast path for replay: copies the next bars into `out` (at most
  /// out.size(), at least one unless the data has ended) and returns how many;
  /// 0 at the end of the data. A feed that has bars already decoded hands them
  /// over in one call instead of one virtual call per bar. The default reads
  /// one bar through next(), so a live feed never waits to fill a batch.
  virtual Expected<std::size_t> next_batch(std::span<Bar> out) {
    if (out.empty()) return std::size_t{0};


    auto more = next(out[0]);
    if (!more) return tl::unexpected(more.error());
    return *more ? std::size_t{1} : std::size_t{0};
  }
};

/// Bars already in memory, as a feed (research, tests). `bars` must outlive it.
class SpanFeed final : public MarketDataFeed {
 public:
  explicit SpanFeed(std::span<const Bar> bars) : bars_(bars) {}
  Expected<bool> next(Bar& bar) override {
    if (i_ >= bars_.size()) return false;
    bar = bars_[i_++];
    return true;
  }
  Expected<std::size_t> next_batch(std::span<Bar> out) override {
    const std::size_t n = std::min(out.size(), bars_.size() - i_);
    std::copy_n(bars_.begin() + static_cast<std::ptrdiff_t>(i_), n, out.begin());
    i_ += n;
    return n;
  }

 private:
  std::span<const Bar> bars_;
  std::size_t i_ = 0;
};

/// What a venue reports about orders (FIX ExecutionReport semantics). Called
/// on the engine's thread (live venues queue their reports and deliver them there).
class ExecutionListener {
 public:
  virtual ~ExecutionListener() = default;
  virtual void on_accepted(OrderId id, Timestamp ts) = 0;
  virtual void on_rejected(OrderId id, Timestamp ts, std::string_view reason) = 0;
  virtual void on_fill(const Fill& fill) = 0;
  virtual void on_cancelled(OrderId id, Timestamp ts) = 0;
  virtual void on_expired(OrderId id, Timestamp ts) = 0;
  /// A stop price changed (cancel/replace accepted).
  virtual void on_replaced(OrderId id, Timestamp ts, double new_stop_price) = 0;
};

/// Where orders go: the simulated venue (backtest), paper, MT5 bridge, FIX.
class ExecutionVenue {
 public:
  virtual ~ExecutionVenue() = default;
  virtual void set_listener(ExecutionListener* listener) = 0;
  /// Sends a new order; the venue answers with on_accepted/on_rejected.
  virtual void submit(const Order& order) = 0;
  virtual void cancel(OrderId id) = 0;
  /// Moves a working stop (FIX cancel/replace of StopPx).
  virtual void replace_stop(OrderId id, double new_stop_price) = 0;
  /// Day orders end with the session: the venue expires them.
  virtual void end_of_session(Timestamp ts) = 0;
};

}  // namespace quant::engine
