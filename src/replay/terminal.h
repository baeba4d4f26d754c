#pragma once
/// The simulated terminal's trading state: one `matching::SimulatedVenue` per
/// symbol (the backtest's fill simulator and costs, so a replay fill is a
/// backtest fill), the orders by ClOrdID with their FIX state, and the net
/// position per symbol built from the fills. It turns replay events and the
/// platform's order messages into the bridge protocol's order reports
/// (`order_ack`, `fill`). No I/O and no clock: the same events and requests in
/// the same order give the same reports, which is what lets a restarted
/// replay rebuild it from its journal. Not thread-safe.
///
/// Rules (README.md):
/// - an order's `created` time is `order_time(symbol)`: the open of the next
///   bar to be processed (bars mode), the next minute after the last trade
///   replayed (ticks mode), so it never fills at a price from before it came;
/// - a known ClOrdID is never entered twice: the order's current state is sent
///   again (an ack, and its fills);
/// - a cancel or replace request id seen before is answered with the order's state;
/// - an order whose OCO partner (`oco_with`, either side naming the other)
///   fills has its partner cancelled at once, inside the same bar, as the
///   backtest's trading book withdraws the other protective order;
/// - a new trading day (`engine::SessionClock`, the backtest's day rule)
///   calls `end_of_session`, which expires Day orders.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/costs.h"
#include "core/instrument.h"
#include "core/order.h"
#include "engine/session_clock.h"
#include "execution/bridge_protocol.h"
#include "matching/simulated_venue.h"
#include "replay/event_source.h"

namespace quant::replay {

namespace bridge = execution::bridge;

/// One replayed instrument: its spec, costs and fill model (the backtest's).
struct InstrumentSetup {
  InstrumentSpec spec;
  TradingCosts costs;
  double participation = 0;  ///< 0: orders fill whole; in (0, 1]: share of each bar's volume
};

class Terminal {
 public:
  /// Fails when an instrument's time zone is unknown.
  static Expected<std::unique_ptr<Terminal>> create(const std::vector<InstrumentSetup>& instruments, ReplayMode mode);
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  ~Terminal();

  /// Applies one event (Open: the day check; Close: the venue processes the
  /// bar) and appends the order reports it caused to `out`.
  void on_event(const Event& event, std::vector<bridge::Body>& out);
  /// Applies an order_new, order_cancel or order_replace (other bodies are
  /// ignored) and appends the answers to `out`.
  void on_request(const bridge::Body& request, std::vector<bridge::Body>& out);

  /// The positions of every symbol and the working orders (in the order sent).
  bridge::PositionsMsg positions() const;
  /// The `created` time an order of `symbol` arriving now gets.
  Timestamp order_time(std::size_t symbol) const;
  std::optional<std::size_t> symbol_index(std::string_view symbol) const;
  const std::string& symbol_name(std::size_t symbol) const { return books_[symbol].spec.symbol; }
  std::size_t symbols() const { return books_.size(); }

  std::int64_t orders() const { return static_cast<std::int64_t>(records_.size()); }
  std::int64_t fills() const { return fills_; }

 private:
  class Listener;
  struct Record {
    std::string cl_ord_id;
    std::size_t symbol = 0;
    bool known_symbol = true;
    Order order;
    std::string reason;  // the reject reason
    std::string oco;     // the partner's ClOrdID
    std::vector<bridge::FillMsg> fills;
  };
  struct Book {
    InstrumentSpec spec;
    std::unique_ptr<matching::SimulatedVenue> venue;
    std::unique_ptr<engine::ExecutionListener> listener;
    std::unique_ptr<engine::SessionClock> session;
    std::optional<std::int64_t> day;
    std::optional<Timestamp> open_bar;    // an Open processed, its Close not yet
    std::optional<Timestamp> last_close;  // the last bar closed
    Position position;
  };

  Terminal(ReplayMode mode) : mode_(mode) {}
  void new_order(const bridge::OrderNew& m);
  void cancel_order(const bridge::OrderCancel& m);
  void replace_order(const bridge::OrderReplace& m);
  /// A cancel or replace of an order this terminal never had: rejected, naming it.
  void reject_unknown(const std::string& orig_cl_ord_id, const std::string& symbol, const char* request);
  void send_state(const Record& r);
  void ack(const Record& r, bridge::ExecType type, std::string reason = "", double stop_price = 0);
  Record* find(std::string_view cl_ord_id);
  Record& record(OrderId id);

  // The venue's reports (through Listener).
  void accepted(OrderId id);
  void rejected(OrderId id, std::string_view reason);
  void filled(std::size_t symbol, const Fill& fill);
  void cancelled(OrderId id);
  void expired(OrderId id);
  void replaced(OrderId id, double stop_price);

  ReplayMode mode_;
  std::vector<Book> books_;
  std::vector<Record> records_;  // OrderId - 1 indexes it
  std::unordered_map<std::string, OrderId> by_cl_ord_id_;
  std::unordered_set<std::string> requests_;  // cancel/replace request ids seen
  std::vector<bridge::Body>* out_ = nullptr;
  Timestamp now_{};                       // the time of the last event
  std::optional<Timestamp> last_market_;  // ticks mode: the last Open or Tick
  std::int64_t fills_ = 0;
};

/// FIX OrdStatus of an order.
bridge::OrdStatus ord_status(const Order& order);
/// Unix milliseconds of a timestamp.
std::int64_t unix_ms(Timestamp t);

}  // namespace quant::replay
