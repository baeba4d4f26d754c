#include "features/feature_pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <tuple>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/test_calendar.h"
#include "core/test_data.h"
#include "features/order_flow.h"
#include "features/test_bars.h"

namespace quant::features {
namespace {

using testing::read_mt5_bars_gz;
using testing::win_spec;

InstrumentSpec plain_spec() {
  InstrumentSpec s;
  s.symbol = "TEST";
  s.asset_class = AssetClass::Future;
  s.tick_size = 1;
  s.time_zone = "UTC";
  s.session = Session{std::chrono::minutes(0), std::chrono::minutes(1440)};
  return s;
}

std::string win_file() { return std::string(QUANT_SHARED_DATA_DIR) + "/b3/WIN_N_M1_2020-11_2021-03.csv.gz"; }

FeatureConfig small_config() {
  FeatureConfig c;
  c.return_windows = {1, 2};
  c.ma_fast = 2;
  c.ma_slow = 3;
  c.atr_period = 2;
  c.keltner_period = 2;
  c.keltner_multiple = 1.5;
  c.volume_window = 3;
  c.book_depth = 2;
  c.hmm_volatility_window = 2;
  return c;
}

HmmParams two_states() {
  HmmParams p;
  p.states = 2;
  p.initial = {0.5, 0.5};
  p.transition = {0.95, 0.05, 0.1, 0.9};
  p.mean = {0.0, 0.0005, 0.0, 0.002};
  p.variance = {1e-6, 1e-7, 4e-6, 1e-6};
  return p;
}

Bar make_bar(int minute, double close, double volume) {
  Bar b;
  b.ts = from_epoch_ns(0) + std::chrono::minutes(minute);
  b.open = close;
  b.high = close + 2;
  b.low = close - 2;
  b.close = close;
  b.volume = volume;
  b.tick_volume = static_cast<std::int64_t>(volume) * 3;
  return b;
}

TEST(FeaturePipelineTest, ManifestListsFeaturesInOrderAndOnlyConfiguredGroups) {
  const auto spec = plain_spec();
  const HmmParams hmm = two_states();
  auto bare = FeaturePipeline::create(FeatureConfig{}, spec, false);
  auto book = FeaturePipeline::create(FeatureConfig{}, spec, true);
  auto full = FeaturePipeline::create(FeatureConfig{}, spec, true, &hmm);
  ASSERT_TRUE(bare && book && full);
  const std::vector<std::string> base = {"ret_log_1",          "ret_log_5",        "ret_log_15", "ret_log_60",
                                         "ma_spread_atr",      "keltner_position", "atr_pct",    "volume_z",
                                         "minutes_since_open", "day_of_week"};
  EXPECT_EQ(bare->manifest().names, base);
  EXPECT_EQ(bare->values().size(), base.size());
  EXPECT_FALSE(bare->manifest().params.contains("book"));
  std::vector<std::string> with_book = base;
  for (const char* n :
       {"book_imbalance_top", "book_imbalance_depth5", "book_spread_ticks", "book_microprice_mid_ticks"}) {
    with_book.emplace_back(n);
  }
  EXPECT_EQ(book->manifest().names, with_book);
  with_book.emplace_back("hmm_p0");
  with_book.emplace_back("hmm_p1");
  EXPECT_EQ(full->manifest().names, with_book);
  EXPECT_EQ(full->values().size(), with_book.size());
  EXPECT_EQ(full->manifest().params["hmm"]["model"], hmm.to_json());
  EXPECT_EQ(full->manifest().params["bar"]["volume"]["source"], "real");
  EXPECT_NE(bare->manifest().hash, book->manifest().hash);
  EXPECT_NE(book->manifest().hash, full->manifest().hash);
  // The manifest survives JSON and checks compatible with a rebuilt pipeline's.
  const auto parsed = FeatureManifest::from_json(full->manifest().to_json());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_TRUE(check_compatible(*parsed, full->manifest()).has_value());
  const auto r = check_compatible(book->manifest(), bare->manifest());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("missing 'book_imbalance_top'"), std::string::npos) << r.error().message;
}

TEST(FeaturePipelineTest, CreateRejectsBadConfig) {
  FeatureConfig c;
  c.ma_slow = c.ma_fast;
  auto r = FeaturePipeline::create(c, plain_spec(), false);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("features.ma_slow"), std::string::npos) << r.error().message;
  c = FeatureConfig{};
  c.return_windows = {1, 5, 1};
  EXPECT_FALSE(FeaturePipeline::create(c, plain_spec(), false).has_value());
  auto spec = plain_spec();
  spec.time_zone = "Mars/Olympus";
  EXPECT_FALSE(FeaturePipeline::create(FeatureConfig{}, spec, false).has_value());
  HmmParams bad = two_states();
  bad.initial = {0.7, 0.7};
  EXPECT_FALSE(FeaturePipeline::create(FeatureConfig{}, plain_spec(), false, &bad).has_value());
}

TEST(FeaturePipelineTest, BarFeaturesMatchHandComputedValues) {
  auto p = FeaturePipeline::create(small_config(), plain_spec(), false);
  ASSERT_TRUE(p.has_value());
  const std::vector<Bar> bars = {make_bar(0, 100, 10), make_bar(1, 110, 20), make_bar(2, 120, 30),
                                 make_bar(3, 115, 60)};
  p->update(bars[0]);
  EXPECT_FALSE(p->ready());
  EXPECT_TRUE(std::isnan(p->values()[0]));
  p->update(bars[1]);
  EXPECT_FALSE(p->ready());
  EXPECT_FLOAT_EQ(p->values()[0], static_cast<float>(std::log(110.0 / 100.0)));
  EXPECT_TRUE(std::isnan(p->values()[1]));
  p->update(bars[2]);
  ASSERT_TRUE(p->ready());
  // t = 2: ATR(2) = (4 + 12) / 2 = 8, then (8 + 12) / 2 = 10; EMA(2) = 105 → 115; band 115 ± 15.
  EXPECT_FLOAT_EQ(p->values()[3], static_cast<float>((120.0 - 100.0) / 30.0));
  p->update(bars[3]);
  ASSERT_TRUE(p->ready());
  const auto v = p->values();
  EXPECT_FLOAT_EQ(v[0], static_cast<float>(std::log(115.0 / 120.0)));
  EXPECT_FLOAT_EQ(v[1], static_cast<float>(std::log(115.0 / 110.0)));
  // fast (120 + 115) / 2 = 117.5, slow (110 + 120 + 115) / 3 = 115; ATR (10 + 7) / 2 = 8.5.
  EXPECT_FLOAT_EQ(v[2], static_cast<float>(2.5 / 8.5));
  // EMA stays 115 (close 115): band 115 ± 12.75 → position 0.5.
  EXPECT_FLOAT_EQ(v[3], 0.5f);
  EXPECT_FLOAT_EQ(v[4], static_cast<float>(100.0 * 8.5 / 115.0));
  const double mean = (20 + 30 + 60) / 3.0;
  const double sd = std::sqrt(((20 - mean) * (20 - mean) + (30 - mean) * (30 - mean) + (60 - mean) * (60 - mean)) / 2);
  EXPECT_FLOAT_EQ(v[5], static_cast<float>((60 - mean) / sd));
  EXPECT_FLOAT_EQ(v[6], 3.0f);  // minutes since the 00:00 open
  EXPECT_FLOAT_EQ(v[7], 4.0f);  // 1970-01-01 was a Thursday
}

TEST(FeaturePipelineTest, VolumeSourceAutoUsesTickVolumeForFx) {
  auto spec = plain_spec();
  spec.asset_class = AssetClass::Fx;
  auto p = FeaturePipeline::create(small_config(), spec, false);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->manifest().params["bar"]["volume"]["source"], "tick");
  FeatureConfig c = small_config();
  c.volume_source = VolumeSource::Real;
  auto q = FeaturePipeline::create(c, spec, false);
  EXPECT_EQ(q->manifest().params["bar"]["volume"]["source"], "real");
}

TEST(FeaturePipelineTest, SessionTimeInExchangeLocalTime) {
  const auto spec = win_spec();
  auto p = FeaturePipeline::create(FeatureConfig{}, spec, false);
  ASSERT_TRUE(p.has_value());
  const auto zone = TimeZone::find(spec.time_zone);
  LocalTime local;
  ASSERT_TRUE(make_local_time(2020, 11, 6, 10, 28, 0, 0, local));  // a Friday, 88 minutes after 09:00
  Bar b = make_bar(0, 100000, 100);
  b.ts = *zone->to_utc(local);
  p->update(b);
  EXPECT_FLOAT_EQ(p->values()[8], 88.0f);
  EXPECT_FLOAT_EQ(p->values()[9], 5.0f);
  ASSERT_TRUE(make_local_time(2020, 11, 9, 9, 0, 0, 0, local));  // Monday at the open
  b.ts = *zone->to_utc(local);
  p->update(b);
  EXPECT_FLOAT_EQ(p->values()[8], 0.0f);
  EXPECT_FLOAT_EQ(p->values()[9], 1.0f);
}

std::size_t slot_of(const FeaturePipeline& p, const std::string& name) {
  const auto& names = p.manifest().names;
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// B3's Ash Wednesday 2021 (Feb 17) opens at 13:00 (core/test_calendar.h).
TEST(FeaturePipelineTest, MinutesSinceOpenCountFromTheDaysActualOpen) {
  using quant::testing::brt;
  auto p = FeaturePipeline::create(FeatureConfig{}, quant::testing::win_with_b3_calendar(), false);
  ASSERT_TRUE(p.has_value());
  const std::size_t minutes = slot_of(*p, "minutes_since_open"), weekday = slot_of(*p, "day_of_week");
  const auto at = [&](Timestamp ts) {
    Bar b = make_bar(0, 100000, 100);
    b.ts = ts;
    p->update(b);
    return std::pair{p->values()[minutes], p->values()[weekday]};
  };
  EXPECT_EQ(at(brt(2021, 2, 12, 9, 30)), (std::pair{30.0f, 5.0f}));  // Friday: 09:00 open
  // Before 13:00 the bar still belongs to Tuesday's trading day: 27 h after its 09:00.
  EXPECT_EQ(at(brt(2021, 2, 17, 12, 0)), (std::pair{1620.0f, 2.0f}));
  EXPECT_EQ(at(brt(2021, 2, 17, 13, 0)), (std::pair{0.0f, 3.0f}));  // Ash Wednesday opens
  EXPECT_EQ(at(brt(2021, 2, 17, 13, 5)), (std::pair{5.0f, 3.0f}));
  EXPECT_EQ(at(brt(2021, 2, 18, 9, 30)), (std::pair{30.0f, 4.0f}));  // Thursday: 09:00 again

  // Without the calendar the same bar counts from 09:00.
  InstrumentSpec fixed = quant::testing::win_with_b3_calendar();
  fixed.calendar = nullptr;
  fixed.session = Session{std::chrono::minutes(540), std::chrono::minutes(1105)};
  auto q = FeaturePipeline::create(FeatureConfig{}, fixed, false);
  Bar b = make_bar(0, 100000, 100);
  b.ts = brt(2021, 2, 17, 13, 0);
  q->update(b);
  EXPECT_EQ(q->values()[minutes], 240.0f);
}

TEST(FeaturePipelineTest, ManifestHashFollowsTheOpensOfTheCalendar) {
  using quant::testing::date_of;
  using quant::testing::hh_mm;
  const auto hash_of = [](const InstrumentSpec& spec) {
    return FeaturePipeline::create(FeatureConfig{}, spec, false).value().manifest().hash;
  };
  const auto with = [](const ExchangeCalendar& e) {
    InstrumentSpec s = quant::testing::win_with_b3_calendar();
    s.calendar = std::make_shared<const TradingCalendar>(make_trading_calendar(e, "index").value());
    return s;
  };
  const ExchangeCalendar b3 = quant::testing::b3_2021_exchange_calendar();
  const std::string base = hash_of(with(b3));
  InstrumentSpec fixed = with(b3);
  fixed.calendar = nullptr;
  fixed.session = Session{hh_mm(9, 0), hh_mm(18, 25)};
  EXPECT_NE(base, hash_of(fixed));  // Ash Wednesday's 13:00 open changes values

  ExchangeCalendar later_ash = b3;
  later_ash.special_sessions[0].open = hh_mm(14, 0);
  EXPECT_NE(base, hash_of(with(later_ash)));
  ExchangeCalendar moved_open = b3;
  moved_open.hours["index"][1].session.open = hh_mm(10, 0);
  EXPECT_NE(base, hash_of(with(moved_open)));
  const auto manifest = FeaturePipeline::create(FeatureConfig{}, with(moved_open), false).value().manifest();
  EXPECT_EQ(manifest.params["instrument"]["session_open_changes"].dump(), R"([["2021-03-15","10:00"]])");
  EXPECT_EQ(manifest.params["instrument"]["special_session_opens"].dump(), R"([["2021-02-17","13:00"]])");

  // Holidays, closes and a special close change no feature value: same hash.
  ExchangeCalendar more_holidays = b3;
  more_holidays.holidays.push_back(date_of(2021, 6, 3));
  EXPECT_EQ(base, hash_of(with(more_holidays)));
  ExchangeCalendar other_closes = b3;
  other_closes.hours["index"][1].session.close = hh_mm(18, 0);
  other_closes.special_sessions.push_back(SpecialSession{date_of(2021, 3, 31), std::nullopt, hh_mm(16, 0)});
  EXPECT_EQ(base, hash_of(with(other_closes)));

  // A calendar whose opens never move means what the fixed session means.
  ExchangeCalendar plain = b3;
  plain.special_sessions.clear();
  EXPECT_EQ(hash_of(with(plain)), hash_of(fixed));
}

// Training runs the pipeline over the whole history, a live process starts at
// some bar: the session features depend only on the bar's time and the
// calendar, so both see the same values on the real WIN file.
TEST(FeaturePipelineTest, SessionFeaturesAreTheSameForTrainingAndALateLiveStart) {
  if (!std::filesystem::exists(win_file())) GTEST_SKIP() << win_file() << " is absent";
  const InstrumentSpec spec = quant::testing::win_with_b3_calendar();
  const TimeZone zone = TimeZone::find(spec.time_zone).value();
  const auto bars = read_mt5_bars_gz(win_file(), zone);
  ASSERT_TRUE(bars.has_value());
  auto training = FeaturePipeline::create(FeatureConfig{}, spec, false).value();
  FeaturePipeline live(FeatureConfig{}, spec, zone, false);  // the gate's constructor
  const std::size_t minutes = slot_of(training, "minutes_since_open"), weekday = slot_of(training, "day_of_week");
  const std::size_t live_start = bars->size() / 3;
  std::size_t ash_bars = 0, compared = 0;
  for (std::size_t t = 0; t < bars->size(); ++t) {
    const Bar& b = (*bars)[t];
    training.update(b);
    const CivilTime local = to_civil(zone.to_local(b.ts));
    if (local.year == 2021 && local.month == 2 && local.day == 17) {
      // Ash Wednesday: minutes count from 13:00.
      ASSERT_EQ(training.values()[minutes], static_cast<float>(local.hour * 60 + local.minute - 13 * 60));
      ++ash_bars;
    } else {
      ASSERT_EQ(training.values()[minutes], static_cast<float>(local.hour * 60 + local.minute - 9 * 60));
    }
    ASSERT_EQ(training.values()[weekday], static_cast<float>(local.weekday));
    if (t < live_start) continue;
    live.update(b);
    ASSERT_EQ(live.values()[minutes], training.values()[minutes]) << t;
    ASSERT_EQ(live.values()[weekday], training.values()[weekday]) << t;
    ++compared;
  }
  EXPECT_EQ(ash_bars, 325u);  // 13:00 .. 18:24
  EXPECT_GT(compared, 30000u);
  EXPECT_EQ(training.manifest().hash, live.manifest().hash);
}

TEST(FeaturePipelineTest, BookFeaturesFromSnapshot) {
  auto p = FeaturePipeline::create(small_config(), plain_spec(), true);
  ASSERT_TRUE(p.has_value());
  for (int i = 0; i < 5; ++i) p->update(make_bar(i, 100 + i, 10 + i));
  EXPECT_FALSE(p->ready());  // bar features warm, no book yet
  BookSnapshot book;
  EXPECT_FALSE(p->update_book(book));
  book.bids = {{100, 10}, {99, 5}, {98, 5}};
  book.asks = {{101, 30}, {102, 10}, {103, 100}};
  ASSERT_TRUE(p->update_book(book));
  ASSERT_TRUE(p->ready());
  const auto v = p->values();
  const std::size_t b = 8;  // after 2 returns + 6 bar features
  EXPECT_EQ(p->manifest().names[b], "book_imbalance_top");
  EXPECT_FLOAT_EQ(v[b], -0.5f);
  EXPECT_FLOAT_EQ(v[b + 1], static_cast<float>((15.0 - 40.0) / 55.0));
  EXPECT_FLOAT_EQ(v[b + 2], 1.0f);
  EXPECT_FLOAT_EQ(v[b + 3], -0.25f);  // microprice (100×30 + 101×10)/40 = 100.25, mid 100.5
  // Book values persist across bars until the next snapshot.
  p->update(make_bar(5, 105, 15));
  EXPECT_FLOAT_EQ(p->values()[b], -0.5f);
  // A corrupt level keeps the previous values.
  BookSnapshot corrupt = book;
  corrupt.asks[0].size = std::nan("");
  EXPECT_FALSE(p->update_book(corrupt));
  EXPECT_FLOAT_EQ(p->values()[b], -0.5f);
  // So does a negative size on a deeper level, and a book with nothing on it:
  // the same rule as the book-imbalance filter (order_flow.h), which gives no value.
  corrupt = book;
  corrupt.bids[1].size = -1;  // inside the depth of 2
  EXPECT_FALSE(p->update_book(corrupt));
  BookSnapshot empty = book;
  for (auto* side : {&empty.bids, &empty.asks}) {
    for (auto& level : *side) level.size = 0;
  }
  EXPECT_FALSE(p->update_book(empty));
  EXPECT_FLOAT_EQ(p->values()[b], -0.5f);
  EXPECT_FLOAT_EQ(p->values()[b + 1], static_cast<float>(*book_imbalance(book, 2)));
  // A pipeline without book features ignores snapshots.
  auto q = FeaturePipeline::create(small_config(), plain_spec(), false);
  EXPECT_FALSE(q->update_book(book));
}

TEST(FeaturePipelineTest, HmmProbabilitiesFollowTheFilter) {
  const HmmParams hmm = two_states();
  auto p = FeaturePipeline::create(small_config(), plain_spec(), false, &hmm);
  ASSERT_TRUE(p.has_value());
  std::vector<Bar> bars;
  bars.reserve(30);
  for (int i = 0; i < 30; ++i) bars.push_back(make_bar(i, 1000 + (i % 3) * 2 - (i % 5), 10 + i % 4));
  HmmFilter reference(hmm);
  const auto obs = hmm_observations(bars, small_config().hmm_volatility_window);
  std::size_t next_obs = 0;
  for (std::size_t i = 0; i < bars.size(); ++i) {
    p->update(bars[i]);
    if (p->hmm_observation()) {
      ASSERT_LT(next_obs, obs.size());
      EXPECT_EQ(*p->hmm_observation(), obs[next_obs]);
      const auto probs = reference.update(obs[next_obs++]);
      EXPECT_EQ(p->values()[8], static_cast<float>(probs[0]));
      EXPECT_EQ(p->values()[9], static_cast<float>(probs[1]));
    }
  }
  EXPECT_EQ(next_obs, obs.size());
  EXPECT_TRUE(p->ready());
  EXPECT_EQ(p->regime_probabilities().size(), 2u);
}

// --- look-ahead: features on data truncated at t == features on the full data at t.

// One input step: a bar, or (when `book`) a snapshot arriving before it.
struct Step {
  Bar bar;
  std::optional<BookSnapshot> book;
};

rc::Gen<std::vector<Step>> gen_steps() {
  return rc::gen::apply(
      [](const std::vector<std::tuple<int, int, int, int, int, int>>& raw) {
        std::vector<Step> steps;
        std::int64_t close = 2000;
        int minute = 600;
        for (auto [move, up, down, volume, gap, book] : raw) {
          Step s;
          const std::int64_t open = close;
          close = std::max<std::int64_t>(10, close + move);
          minute += gap > 7 ? 1 + gap * 97 : 1;  // now and then a jump over a night or a weekend
          s.bar.ts = from_epoch_ns(0) + std::chrono::minutes(minute);
          s.bar.open = static_cast<double>(open);
          s.bar.close = static_cast<double>(close);
          s.bar.high = static_cast<double>(std::max(open, close) + up);
          s.bar.low = static_cast<double>(std::max<std::int64_t>(1, std::min(open, close) - down));
          s.bar.volume = volume;
          s.bar.tick_volume = volume / 2;
          if (book > 0) {
            BookSnapshot b;
            const double mid = static_cast<double>(close);
            for (int l = 0; l < book % 4 + 1; ++l) {
              b.bids.push_back({mid - 1 - l, static_cast<double>((book * (l + 3)) % 17)});
              b.asks.push_back({mid + 1 + l, static_cast<double>((book * (l + 5)) % 13)});
            }
            s.book = b;
          }
          steps.push_back(std::move(s));
        }
        return steps;
      },
      rc::gen::container<std::vector<std::tuple<int, int, int, int, int, int>>>(
          rc::gen::tuple(rc::gen::inRange(-30, 31), rc::gen::inRange(0, 8), rc::gen::inRange(0, 8),
                         rc::gen::inRange(0, 50), rc::gen::inRange(0, 10), rc::gen::inRange(-3, 7))));
}

FeatureConfig prop_config() {
  FeatureConfig c;
  c.return_windows = {1, 3, 7};
  c.ma_fast = 2;
  c.ma_slow = 5;
  c.atr_period = 3;
  c.keltner_period = 4;
  c.volume_window = 4;
  c.book_depth = 2;
  c.hmm_volatility_window = 3;
  return c;
}

void feed(FeaturePipeline& p, const Step& s) {
  if (s.book) p.update_book(*s.book);
  p.update(s.bar);
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool all_finite(std::span<const float> v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

RC_GTEST_PROP(FeaturePipelineProperty, PrefixEqualsFullRunAndReadyMeansFinite, ()) {
  const auto steps = *gen_steps();
  const bool with_book = *rc::gen::arbitrary<bool>();
  const bool with_hmm = *rc::gen::arbitrary<bool>();
  const HmmParams hmm = two_states();
  const auto make = [&] {
    return FeaturePipeline::create(prop_config(), plain_spec(), with_book, with_hmm ? &hmm : nullptr).value();
  };
  FeaturePipeline full = make();
  std::vector<std::vector<float>> history;
  bool was_ready = false;
  for (const Step& s : steps) {
    feed(full, s);
    history.emplace_back(full.values().begin(), full.values().end());
    RC_ASSERT(!was_ready || full.ready());  // once warm, always warm
    was_ready = full.ready();
    if (full.ready()) RC_ASSERT(all_finite(full.values()));
  }
  RC_CLASSIFY(was_ready, "warm");
  for (std::size_t t = 0; t < steps.size(); ++t) {
    FeaturePipeline prefix = make();
    for (std::size_t i = 0; i <= t; ++i) feed(prefix, steps[i]);
    RC_ASSERT(same_bits(prefix.values(), history[t]));
  }
}

TEST(FeaturePipelineTest, NoLookAheadOnRealWinData) {
  QUANT_REQUIRE_DATA(win_file());
  const auto spec = win_spec();
  const auto zone = TimeZone::find(spec.time_zone);
  ASSERT_TRUE(zone.has_value());
  const auto bars = read_mt5_bars_gz(win_file(), *zone);
  ASSERT_TRUE(bars.has_value());
  ASSERT_GT(bars->size(), 50000u);

  // An HMM fitted on the first 5000 bars' observations (as research would, on a training window).
  const FeatureConfig config;
  const auto obs = hmm_observations(std::span(*bars).first(5000), config.hmm_volatility_window);
  HmmFitConfig fit_config;
  fit_config.max_iterations = 30;
  const auto fit = fit_hmm(obs, fit_config);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;

  auto full = FeaturePipeline::create(config, spec, false, &fit->params);
  ASSERT_TRUE(full.has_value());
  const std::size_t width = full->values().size();
  std::vector<float> history;
  history.reserve(bars->size() * width);
  std::size_t first_ready = 0;
  for (std::size_t t = 0; t < bars->size(); ++t) {
    full->update((*bars)[t]);
    history.insert(history.end(), full->values().begin(), full->values().end());
    if (full->ready()) {
      if (first_ready == 0) first_ready = t;
      ASSERT_TRUE(all_finite(full->values())) << "bar " << t;
    }
  }
  ASSERT_GT(first_ready, 0u);
  // Prefixes ending at evenly spaced bars plus the warm-up edge and the end.
  std::vector<std::size_t> cuts = {first_ready - 1, first_ready, first_ready + 1, bars->size() - 1};
  for (std::size_t k = 1; k <= 40; ++k) cuts.push_back(k * (bars->size() - 1) / 41);
  for (std::size_t t : cuts) {
    auto prefix = FeaturePipeline::create(config, spec, false, &fit->params);
    for (std::size_t i = 0; i <= t; ++i) prefix->update((*bars)[i]);
    ASSERT_TRUE(same_bits(prefix->values(), std::span(history).subspan(t * width, width))) << "bar " << t;
  }
  std::printf("[ features ] WIN: %zu bars, ready from bar %zu, %zu prefixes identical to the full run\n", bars->size(),
              first_ready, cuts.size());
}

}  // namespace
}  // namespace quant::features
