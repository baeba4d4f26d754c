#pragma once
/// The paper venue: the fill simulator (`matching::SimulatedVenue`, the
/// backtest's) behind the `engine::ExecutionVenue` port, driven by the live
/// bars the order gateway sees instead of a replay. Same fill rules as the
/// backtest (docs/backtest_semantics.md): market orders fill at the next bar's
/// open ± slippage, stops and limits against later bars' high/low (a gap fills
/// at the open), IOC cancels what its first bar did not fill, Day orders
/// expire at end_of_session, and a bar that opened before an order existed
/// never fills it (bars that arrive late — a backfill, a start-up replay —
/// cannot reach back in time). No fill logic lives here: every call goes to
/// the simulator.
///
/// Reports arrive synchronously, inside submit/cancel/replace_stop/on_bar.
/// Not thread-safe (the order gateway's caller serialises access).

#include <cstddef>

#include "core/instrument.h"
#include "engine/ports.h"
#include "matching/simulated_venue.h"

namespace quant::execution {

/// How the paper venue fills; the defaults are the backtest's.
struct PaperVenueConfig {
  int slippage_ticks = 1;  ///< against us on market and stop fills, >= 0
  /// 0: every order fills whole (the backtest's NextOpen model). In (0, 1]:
  /// at most this share of each bar's volume fills, the rest waits (partial fills).
  double participation = 0;
};

class PaperVenue final : public engine::ExecutionVenue {
 public:
  /// Fees per contract per side are the instrument's exchange fee + brokerage.
  /// `spec.tick_size` > 0 and `config` as documented (checked where the
  /// configuration is read; a violation here is a bug and aborts).
  explicit PaperVenue(const InstrumentSpec& spec, PaperVenueConfig config = {});

  void set_listener(engine::ExecutionListener* listener) override { venue_.set_listener(listener); }
  void submit(const Order& order) override { venue_.submit(order); }
  void cancel(OrderId id) override { venue_.cancel(id); }
  void replace_stop(OrderId id, double new_stop_price) override { venue_.replace_stop(id, new_stop_price); }
  void end_of_session(Timestamp ts) override { venue_.end_of_session(ts); }

  /// Processes a closed 1-minute bar: fills what the bar reaches (market orders
  /// sent before it at its open ± slippage, then stops and limits).
  void on_bar(const Bar& bar) { venue_.process(bar); }

  /// Orders resting at the venue.
  std::size_t working() const { return venue_.working(); }

 private:
  matching::SimulatedVenue venue_;
};

}  // namespace quant::execution
