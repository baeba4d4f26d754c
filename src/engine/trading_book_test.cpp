// The order, position and protection core on its own: an account of books,
// orders placed by hand (as a client or the gateway would), fills from the
// real fill simulator or reported by hand (a remote venue). Every number is
// checked by hand.
#include "engine/trading_book.h"

#include <map>

#include <gtest/gtest.h>

#include "core/test_bars.h"
#include "matching/simulated_venue.h"

namespace quant::engine {
namespace {

InstrumentSpec win() { return testing::win_spec(); }

InstrumentSpec wdo() { return testing::wdo_spec(); }

Timestamp at(int day, int hh, int mm) { return testing::brt_march_2021(day, hh, mm); }
Bar bar(Timestamp ts, double o, double h, double l, double c) { return testing::ohlc_bar(ts, o, h, l, c); }

struct Collector final : EngineObserver {
  std::vector<TradeRecord> trades;
  std::vector<std::pair<Order, std::string>> done;  // order, note
  std::vector<DecisionRecord> decisions;
  void on_trade(const TradeRecord& t) override { trades.push_back(t); }
  void on_order_done(const Order& o, std::string_view, std::string_view note) override {
    done.emplace_back(o, std::string(note));
  }
  void on_decision(const DecisionRecord& d) override { decisions.push_back(d); }
  std::string note_of(OrderId id) const {
    for (const auto& [o, note] : done) {
      if (o.id == id) return note;
    }
    return "(still working)";
  }
};

/// A venue that accepts everything and fills only when the test says so (a
/// remote venue whose reports arrive later).
struct HandVenue final : ExecutionVenue {
  ExecutionListener* listener = nullptr;
  std::map<OrderId, Order> orders;
  void set_listener(ExecutionListener* l) override { listener = l; }
  void submit(const Order& o) override {
    orders[o.id] = o;
    listener->on_accepted(o.id, o.created);
  }
  bool confirm_cancels = true;  ///< false: cancels wait for confirm_cancel (a remote venue's round trip)
  void cancel(OrderId id) override {
    if (confirm_cancels) confirm_cancel(id);
  }
  void confirm_cancel(OrderId id) {
    if (orders.erase(id) != 0) listener->on_cancelled(id, Timestamp{});
  }
  void replace_stop(OrderId id, double price) override {
    orders[id].stop_price = price;
    listener->on_replaced(id, Timestamp{}, price);
  }
  void end_of_session(Timestamp) override {}
  void fill(OrderId id, std::int64_t qty, double price, Timestamp ts) {
    Fill f;
    f.order_id = id;
    f.ts = ts;
    f.side = orders.at(id).side;
    f.qty = qty;
    f.price = price;
    f.purpose = orders.at(id).purpose;
    listener->on_fill(f);
  }
};

BookConfig config_of(InstrumentSpec spec, risk::RiskConfig rc = {}) {
  BookConfig c;
  c.zone = TimeZone::find(spec.time_zone).value();
  c.spec = std::move(spec);
  c.risk = rc;
  return c;
}

/// A sized buy entry of `qty` at `price` with ATR `atr`.
OrderIntent sized_entry(TradingBook& book, Side side, std::int64_t qty, double price, double atr, Timestamp ts) {
  risk::EntryDecision d = book.risk()->check_entry({ts, side, price, atr, 100000});
  OrderIntent o;
  o.side = side;
  o.qty = qty;
  o.ts = ts;
  o.reason = "test_entry";
  o.plan = EntryPlan{d, price};
  return o;
}

/// A WIN book on a fresh 100 000 account after one bar closed at 100000 with
/// ATR 100: where each single-book test starts.
struct WinBook {
  explicit WinBook(risk::RiskConfig rc = {}) : book(account.open_book(config_of(win(), rc), venue, out)) {
    book.start_bar(bar(at(1, 10, 0), 100000, 100050, 99950, 100000));
    book.close_bar(bar(at(1, 10, 0), 100000, 100050, 99950, 100000), 100);
  }
  Account account{100000};
  HandVenue venue;
  Collector out;
  TradingBook& book;
};

TEST(TradingBookTest, AnEntryFillPlacesAStopAndATargetAnchoredToTheFill) {
  risk::RiskConfig rc;
  rc.target_points = 100;
  WinBook w(rc);
  TradingBook& book = w.book;
  HandVenue& venue = w.venue;
  Collector& out = w.out;
  const OrderId entry = book.submit(sized_entry(book, Side::Buy, 3, 100000, 100, at(1, 10, 1)));
  venue.fill(entry, 3, 100010, at(1, 10, 1));
  // Sized at 100000 with a 200-point stop and a 100-point target; filled 10 higher.
  ASSERT_TRUE(book.protective_stop());
  ASSERT_TRUE(book.protective_target());
  EXPECT_EQ(book.protective_stop()->stop_price, 99810);
  EXPECT_EQ(book.protective_stop()->qty, 3);
  EXPECT_EQ(book.protective_target()->limit_price, 100110);
  EXPECT_EQ(book.protective_target()->side, Side::Sell);
  // A partial exit of 1: both are resized to the 2 left, at the same prices.
  OrderIntent exit;
  exit.side = Side::Sell;
  exit.purpose = OrderPurpose::Exit;
  exit.qty = 1;
  exit.ts = at(1, 10, 2);
  exit.reason = "trim";
  venue.fill(book.submit(exit), 1, 100020, at(1, 10, 2));
  EXPECT_EQ(book.position_qty(), 2);
  EXPECT_EQ(book.protective_stop()->qty, 2);
  EXPECT_EQ(book.protective_stop()->stop_price, 99810);
  EXPECT_EQ(book.protective_target()->qty, 2);
  // The target fills: the trade closes with its reason, the stop is withdrawn.
  venue.fill(book.protective_target()->id, 2, 100110, at(1, 10, 5));
  EXPECT_EQ(book.position_qty(), 0);
  EXPECT_FALSE(book.protective_stop());
  ASSERT_EQ(out.trades.size(), 1u);
  EXPECT_EQ(out.trades[0].exit_reason, "target");
  EXPECT_EQ(out.trades[0].qty, 3);
  EXPECT_EQ(out.trades[0].initial_stop, 99810);
  EXPECT_TRUE(venue.orders.empty() || venue.orders.size() == 3u);  // the hand venue keeps filled orders
}

TEST(TradingBookTest, WorkingOrdersAreCountedByState) {
  risk::RiskConfig rc;
  rc.target_points = 100;
  WinBook w(rc);
  TradingBook& book = w.book;
  HandVenue& venue = w.venue;
  EXPECT_EQ(book.working_counts().accepted, 0);
  const OrderId entry = book.submit(sized_entry(book, Side::Buy, 3, 100000, 100, at(1, 10, 1)));
  EXPECT_EQ(book.working_counts().accepted, 1);
  venue.fill(entry, 1, 100010, at(1, 10, 1));  // 1 of 3: the entry works on; stop and target placed
  auto c = book.working_counts();
  EXPECT_EQ(c.partially_filled, 1);
  EXPECT_EQ(c.accepted, 2);
  EXPECT_EQ(c.pending_new, 0);
  venue.fill(entry, 2, 100010, at(1, 10, 1));  // the entry is done: only its protection works
  c = book.working_counts();
  EXPECT_EQ(c.partially_filled, 0);
  EXPECT_EQ(c.accepted, 2);
}

TEST(TradingBookTest, AnExitLeftBeyondThePositionIsCancelledWhenTheStopClosesIt) {
  WinBook w;
  TradingBook& book = w.book;
  HandVenue& venue = w.venue;
  Collector& out = w.out;
  venue.fill(book.submit(sized_entry(book, Side::Buy, 4, 100000, 100, at(1, 10, 1))), 4, 100000, at(1, 10, 1));
  OrderIntent exit;
  exit.side = Side::Sell;
  exit.type = OrderType::Limit;
  exit.purpose = OrderPurpose::Exit;
  exit.qty = 2;
  exit.limit_price = 100500;
  exit.ts = at(1, 10, 2);
  const OrderId working_exit = book.submit(exit);
  venue.fill(book.protective_stop()->id, 4, 99800, at(1, 10, 3));
  EXPECT_EQ(book.position_qty(), 0);
  EXPECT_EQ(out.note_of(working_exit), "cancelled: the protective stop closed the position it was to reduce");
  EXPECT_EQ(out.trades.at(0).exit_reason, "stop");
}

TEST(TradingBookTest, ARemoteVenuesRaceThroughZeroIsFlattened) {
  // A remote venue confirms cancels later. The client closes a long of 2 with a
  // market exit (the book asks the venue to cancel the stop), but the venue
  // fills the stop first, then the exit too: the long went through zero into
  // a short that nothing sized. The book flattens it at once.
  Account account(100000);
  HandVenue venue;
  Collector out;
  TradingBook& book = account.open_book(config_of(win()), venue, out);
  book.start_bar(bar(at(1, 10, 0), 100000, 100050, 99950, 100000));
  book.close_bar(bar(at(1, 10, 0), 100000, 100050, 99950, 100000), 100);
  venue.fill(book.submit(sized_entry(book, Side::Buy, 2, 100000, 100, at(1, 10, 1))), 2, 100000, at(1, 10, 1));
  const OrderId stop = book.protective_stop()->id;
  venue.confirm_cancels = false;
  OrderIntent exit;
  exit.side = Side::Sell;
  exit.purpose = OrderPurpose::Exit;
  exit.qty = 2;
  exit.ts = at(1, 10, 2);
  exit.reason = "exit_signal";
  const OrderId exit_id = book.submit(exit);
  EXPECT_TRUE(book.closing());
  EXPECT_FALSE(book.protective_stop()) << "a market exit of the whole position withdraws the stop";
  venue.fill(stop, 2, 99800, at(1, 10, 2));
  EXPECT_EQ(book.position_qty(), 0);
  ASSERT_EQ(out.trades.size(), 1u);
  EXPECT_EQ(out.trades[0].exit_reason, "stop");
  venue.fill(exit_id, 2, 99795, at(1, 10, 2));
  EXPECT_EQ(book.position_qty(), -2);
  ASSERT_TRUE(book.closing());
  ASSERT_EQ(book.working_qty(Side::Buy, OrderPurpose::Flatten), 2);
  EXPECT_FALSE(book.protective_stop()) << "an unsized position gets no stop, it goes";
  OrderId flatten = 0;
  for (const auto& [id, o] : venue.orders) {
    if (o.purpose == OrderPurpose::Flatten) flatten = id;
  }
  venue.fill(flatten, 2, 99800, at(1, 10, 3));
  EXPECT_EQ(book.position_qty(), 0);
  ASSERT_EQ(out.trades.size(), 2u);
  EXPECT_EQ(out.trades[1].exit_reason, "unsized");
  EXPECT_EQ(out.trades[1].side, Side::Sell);
  // The late cancel confirmations find nothing to cancel.
  venue.confirm_cancel(stop);
  venue.confirm_cancel(exit_id);
  EXPECT_EQ(book.position_qty(), 0);
}

TEST(TradingBookTest, TheBreakerOfOneBookHaltsAndFlattensTheWholeAccount) {
  risk::RiskConfig rc;
  rc.risk_pct = 0.05;
  rc.stop_atr_multiple = 20;  // far stops: the breaker acts first
  rc.trailing_stop = false;
  Account account(100000);
  HandVenue win_venue, wdo_venue;
  Collector win_out, wdo_out;
  TradingBook& w = account.open_book(config_of(win(), rc), win_venue, win_out);
  TradingBook& d = account.open_book(config_of(wdo(), rc), wdo_venue, wdo_out);
  for (TradingBook* b : {&w, &d}) {
    const double px = b == &w ? 100000 : 5000;
    b->start_bar(bar(at(1, 10, 0), px, px, px, px));
    b->close_bar(bar(at(1, 10, 0), px, px, px, px), b == &w ? 100 : 10);
  }
  win_venue.fill(w.submit(sized_entry(w, Side::Buy, 10, 100000, 100, at(1, 10, 1))), 10, 100000, at(1, 10, 1));
  wdo_venue.fill(d.submit(sized_entry(d, Side::Buy, 1, 5000, 10, at(1, 10, 1))), 1, 5000, at(1, 10, 1));
  // WIN falls 1600 points: 10 × 1600 × 0.2 = −3200 ≤ −3 % of 100000.
  const Bar fall = bar(at(1, 10, 1), 100000, 100000, 98400, 98400);
  w.start_bar(fall);
  w.close_bar(fall, 100);
  EXPECT_TRUE(account.halted());
  EXPECT_EQ(account.halt_state().symbol, "WIN");
  ASSERT_TRUE(w.risk()->halted());
  ASSERT_TRUE(d.risk()->halted());
  // Both positions are being flattened; no stops remain.
  EXPECT_TRUE(w.closing());
  EXPECT_TRUE(d.closing());
  EXPECT_FALSE(w.protective_stop());
  EXPECT_FALSE(d.protective_stop());
  ASSERT_EQ(win_out.decisions.size(), 1u);
  EXPECT_STREQ(win_out.decisions[0].kind, "risk_halted");
  // The next session clears each book's halt at its first bar.
  w.start_bar(bar(at(2, 9, 0), 98400, 98400, 98400, 98400));
  EXPECT_FALSE(w.risk()->halted());
  EXPECT_TRUE(account.halted());  // WDO has not started its session yet
  d.start_bar(bar(at(2, 9, 0), 5000, 5000, 5000, 5000));
  EXPECT_FALSE(account.halted());
  EXPECT_FALSE(account.halt_state().halted);
}

}  // namespace
}  // namespace quant::engine
