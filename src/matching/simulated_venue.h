#pragma once
/// The fill simulator: an `engine::ExecutionVenue` that fills orders against
/// 1-minute bars (docs/backtest_semantics.md). The backtest and the paper venue
/// both run it, so a paper fill is a backtest fill.
/// - decisions happen at a bar's close; orders act from the next bar;
/// - a bar fills only orders that existed when it opened (`order.created <=
///   bar.ts`): an order never fills at a price from before it was placed, even
///   when older bars arrive late (a backfilled lake, a start-up replay);
/// - market orders fill at the open ± slippage (ticks);
/// - stops and limits are checked against each later bar's high/low; a gap
///   through a stop fills at the open (± slippage), a gap through a limit fills
///   at the open (the better price);
/// - the open comes first: an order whose price the bar opened beyond fills at
///   the open before anything the bar reaches later (a position's target
///   gapped through fills at the open even when the bar then falls through its
///   stop); among orders the bar reaches after opening between them, stops fill
///   before limits (the conservative order: which came first is unknown);
/// - orders placed while a bar is being processed (a protective stop placed
///   when an entry fills at the open) are checked against the rest of that bar;
/// - IOC orders cancel what is not filled at their first chance, Day orders
///   expire at the end of the session.
/// How much of an order fills in one bar is a pluggable `FillModel`.
/// Costs: `CostModel` (exchange fee + brokerage per contract per side, slippage).

#include <cstdint>
#include <memory>
#include <vector>

#include "core/costs.h"
#include "core/instrument.h"
#include "engine/ports.h"

namespace quant::matching {

/// How many contracts of an order can fill in a bar.
class FillModel {
 public:
  virtual ~FillModel() = default;
  /// `used` = contracts already filled in this bar by earlier orders.
  virtual std::int64_t fillable(std::int64_t remaining, const Bar& bar, std::int64_t used) const = 0;
};

/// Everything fills (the default).
class FullFillModel final : public FillModel {
 public:
  std::int64_t fillable(std::int64_t remaining, const Bar&, std::int64_t) const override { return remaining; }
};

/// At most `participation` × the bar's volume (real volume, else tick volume)
/// per bar across all orders; the rest waits for later bars (partial fills).
class VolumeParticipationModel final : public FillModel {
 public:
  explicit VolumeParticipationModel(double participation) : participation_(participation) {}
  std::int64_t fillable(std::int64_t remaining, const Bar& bar, std::int64_t used) const override;

 private:
  double participation_;
};

/// Fees and slippage of the simulation (core/costs.h).
using CostModel = TradingCosts;

class SimulatedVenue final : public engine::ExecutionVenue {
 public:
  SimulatedVenue(const InstrumentSpec& spec, CostModel costs, std::unique_ptr<FillModel> fill_model);

  void set_listener(engine::ExecutionListener* listener) override { listener_ = listener; }
  void submit(const Order& order) override;
  void cancel(OrderId id) override;
  void replace_stop(OrderId id, double new_stop_price) override;
  void end_of_session(Timestamp ts) override;

  /// Fills working orders against `bar` (call between the engine's start of the
  /// bar and its close). Orders created after `bar.ts` wait for a later bar.
  void process(const Bar& bar) {
    process_open(bar);
    process_range(bar);
  }
  /// The two phases of process(), for a terminal that reports the fills at the
  /// open and lets the platform answer before the rest of the bar (a replayed
  /// terminal): 1. market orders at the open;
  void process_open(const Bar& bar);
  /// 2. stops, limits and stop-limits against the bar (orders placed after
  /// phase 1 with `created <= bar.ts` included, e.g. the protection of an entry
  /// filled at this open), then IOC orders that did not fill are cancelled.
  void process_range(const Bar& bar);

  std::size_t working() const { return orders_.size(); }

 private:
  struct Resting {
    Order order;
  };
  Resting* find(OrderId id);
  void fill(Resting& r, double price, const Bar& bar, Timestamp ts);
  void remove(OrderId id);

  TickGrid grid_;
  double tick_;
  CostModel costs_;
  std::unique_ptr<FillModel> fill_model_;
  engine::ExecutionListener* listener_ = nullptr;
  std::vector<Resting> orders_;
  // process()'s scratch lists, kept between bars: a position's stop and target
  // rest on every bar it is open, and these would otherwise allocate each time.
  struct Hit {
    OrderId id;
    int rank;  // 0 at the open, then intrabar: 1 stop, 2 stop-limit, 3 limit
    double price;
  };
  std::vector<OrderId> ids_;
  std::vector<Hit> hits_;
  std::int64_t used_this_bar_ = 0;
  Timestamp now_{};
};

}  // namespace quant::matching
