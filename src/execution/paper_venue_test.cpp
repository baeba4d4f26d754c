// PaperVenue is the simulated venue behind the port: these check the wiring
// (costs from the instrument, the fill model choice), not the fill rules,
// which backtest/simulated_venue_test.cpp covers.
#include "execution/paper_venue.h"

#include <vector>

#include <gtest/gtest.h>

#include "core/test_bars.h"

namespace quant::execution {
namespace {

struct Recorder final : engine::ExecutionListener {
  std::vector<Fill> fills;
  std::vector<OrderId> accepted, expired;
  void on_accepted(OrderId id, Timestamp) override { accepted.push_back(id); }
  void on_rejected(OrderId, Timestamp, std::string_view) override {}
  void on_fill(const Fill& f) override { fills.push_back(f); }
  void on_cancelled(OrderId, Timestamp) override {}
  void on_expired(OrderId id, Timestamp) override { expired.push_back(id); }
  void on_replaced(OrderId, Timestamp, double) override {}
};

InstrumentSpec win() {
  InstrumentSpec s = testing::win_spec();
  s.fee_per_side = 0.25;
  s.brokerage_per_side = 0.1;
  return s;
}

Bar bar(std::int64_t minute, double o, double h, double l, double c, double volume = 1000) {
  return testing::minute_bar(minute, o, h, l, c, volume);
}

Order market(OrderId id, Side side, std::int64_t qty, TimeInForce tif = TimeInForce::Gtc) {
  Order o;
  o.id = id;
  o.side = side;
  o.qty = qty;
  o.tif = tif;
  return o;
}

TEST(PaperVenueTest, FillsAtTheNextOpenWithTheInstrumentsCosts) {
  Recorder rec;
  PaperVenue venue(win(), PaperVenueConfig{2, 0});
  venue.set_listener(&rec);
  venue.submit(market(1, Side::Buy, 3));
  EXPECT_EQ(rec.accepted, std::vector<OrderId>{1});
  EXPECT_EQ(venue.working(), 1u);
  venue.on_bar(bar(1, 120000, 120100, 119900, 120050, 1000));
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_DOUBLE_EQ(rec.fills[0].price, 120010);  // open + 2 ticks
  EXPECT_DOUBLE_EQ(rec.fills[0].fee, 3 * 0.35);  // (fee + brokerage) per contract
  EXPECT_EQ(venue.working(), 0u);
}

TEST(PaperVenueTest, ParticipationFillsPartially) {
  Recorder rec;
  PaperVenue venue(win(), PaperVenueConfig{0, 0.1});
  venue.set_listener(&rec);
  venue.submit(market(1, Side::Sell, 5));
  venue.on_bar(bar(1, 120000, 120100, 119900, 120050, 30));  // 10 % of 30 = 3
  ASSERT_EQ(rec.fills.size(), 1u);
  EXPECT_EQ(rec.fills[0].qty, 3);
  venue.on_bar(bar(2, 120050, 120100, 119900, 120000, 30));
  ASSERT_EQ(rec.fills.size(), 2u);
  EXPECT_EQ(rec.fills[1].qty, 2);
}

TEST(PaperVenueTest, DayOrdersExpireAtTheSessionEnd) {
  Recorder rec;
  PaperVenue venue(win());
  venue.set_listener(&rec);
  venue.submit(market(1, Side::Buy, 1, TimeInForce::Day));
  venue.submit(market(2, Side::Buy, 1, TimeInForce::Gtc));
  venue.end_of_session(Timestamp(std::chrono::minutes(5)));
  EXPECT_EQ(rec.expired, std::vector<OrderId>{1});
  EXPECT_EQ(venue.working(), 1u);
}

}  // namespace
}  // namespace quant::execution
