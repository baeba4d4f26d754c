#include "config/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "core/session_locator.h"
#include "features/test_bars.h"

namespace quant::config {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ConfigTest, ShippedConfigParsesWithB3Facts) {
  auto cfg = parse_config(read_file(std::string(QUANT_SOURCE_DIR) + "/config/quant.toml"), "quant.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const InstrumentSpec* win = cfg->instruments.find("WIN");
  ASSERT_NE(win, nullptr);
  EXPECT_EQ(win->tick_size, 5);
  EXPECT_DOUBLE_EQ(win->point_value, 0.20);
  EXPECT_DOUBLE_EQ(win->tick_value(), 1.0);
  EXPECT_EQ(win->time_zone, "America/Sao_Paulo");
  EXPECT_EQ(win->session.open, std::chrono::minutes(9 * 60));
  EXPECT_EQ(win->session.close, std::chrono::minutes(18 * 60 + 25));
  EXPECT_EQ(win->roll_rule, RollRule::WednesdayNearest15th);
  const InstrumentSpec* wdo = cfg->instruments.find("WDO");
  ASSERT_NE(wdo, nullptr);
  EXPECT_DOUBLE_EQ(wdo->tick_value(), 5.0);
  EXPECT_EQ(wdo->session.close, std::chrono::minutes(18 * 60 + 30));
  for (const char* s : {"IND", "DOL", "EURUSD", "BTCUSDT", "SPY"}) EXPECT_NE(cfg->instruments.find(s), nullptr) << s;
  EXPECT_EQ(cfg->lake.dir, "lake");
}

AppConfig shipped_config() {
  auto cfg = parse_config(read_file(std::string(QUANT_SOURCE_DIR) + "/config/quant.toml"), "quant.toml");
  EXPECT_TRUE(cfg) << cfg.error().message;
  return cfg ? std::move(*cfg) : AppConfig{};
}

Date ymd(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}};
}

/// Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
Date easter(int y) {
  const int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return ymd(y, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

TEST(ConfigTest, ShippedB3CalendarHasTheNationalHolidaysAndAshWednesdayOfEveryYear) {
  const AppConfig cfg = shipped_config();
  ASSERT_EQ(cfg.calendars.count("B3"), 1u);
  const ExchangeCalendar& b3 = cfg.calendars.at("B3");
  EXPECT_EQ(b3.time_zone, "America/Sao_Paulo");
  using std::chrono::days;
  std::set<Date> expected_holidays, expected_ash;
  for (int y = 2020; y <= 2027; ++y) {
    const Date e = easter(y);
    for (Date d : {e - days(48), e - days(47), e - days(2), e + days(60)})
      expected_holidays.insert(d);  // Carnival, Good Friday, Corpus Christi
    for (auto [m, d] :
         {std::pair{1u, 1u}, {4u, 21u}, {5u, 1u}, {9u, 7u}, {10u, 12u}, {11u, 2u}, {11u, 15u}, {12u, 25u}}) {
      expected_holidays.insert(ymd(y, m, d));
    }
    if (y >= 2024) expected_holidays.insert(ymd(y, 11, 20));  // national from 2024
    expected_ash.insert(e - days(46));
  }
  EXPECT_EQ(std::set<Date>(b3.holidays.begin(), b3.holidays.end()), expected_holidays);
  std::set<Date> ash;
  for (const SpecialSession& s : b3.special_sessions) {
    ash.insert(s.date);
    EXPECT_EQ(s.open, std::chrono::minutes(13 * 60)) << format_date(s.date);
    EXPECT_FALSE(s.close) << format_date(s.date);
  }
  EXPECT_EQ(ash, expected_ash);
  // Dec 24 when a weekday, and the year's last weekday, are closed.
  const TradingCalendar& win = *cfg.instruments.find("WIN")->calendar;
  for (int y = 2020; y <= 2027; ++y) {
    const Date dec24 = ymd(y, 12, 24);
    if (weekday_of(dec24) != 0 && weekday_of(dec24) != 6) {
      EXPECT_FALSE(win.day(dec24).trading) << y;
    }
    Date last = ymd(y, 12, 31);
    while (weekday_of(last) == 0 || weekday_of(last) == 6) last -= days(1);
    EXPECT_FALSE(win.day(last).trading) << format_date(last);
  }
}

TEST(ConfigTest, ShippedB3InstrumentsTradeByTheirSchedules) {
  const AppConfig cfg = shipped_config();
  for (const char* symbol : {"WIN", "IND", "WDO", "DOL"}) {
    const InstrumentSpec* s = cfg.instruments.find(symbol);
    ASSERT_NE(s, nullptr);
    ASSERT_NE(s->calendar, nullptr) << symbol;
    EXPECT_EQ(s->calendar->name, "B3");
  }
  const TradingCalendar& win = *cfg.instruments.find("WIN")->calendar;
  const TradingCalendar& wdo = *cfg.instruments.find("WDO")->calendar;
  EXPECT_EQ(win.hours_name, "index");
  EXPECT_EQ(wdo.hours_name, "dollar");
  EXPECT_EQ(cfg.instruments.find("IND")->calendar, cfg.instruments.find("WIN")->calendar);  // shared
  using std::chrono::minutes;
  EXPECT_EQ(win.day(ymd(2021, 2, 17)).session, (Session{minutes(13 * 60), minutes(18 * 60 + 25)}));
  EXPECT_EQ(wdo.day(ymd(2021, 2, 17)).session, (Session{minutes(13 * 60), minutes(18 * 60 + 30)}));
  EXPECT_EQ(win.day(ymd(2022, 6, 1)).session.close, minutes(17 * 60 + 55));
  EXPECT_EQ(wdo.day(ymd(2022, 6, 1)).session.close, minutes(18 * 60));
  EXPECT_EQ(win.day(ymd(2025, 6, 2)).session.close, minutes(18 * 60 + 25));
  EXPECT_TRUE(win.day(ymd(2023, 11, 20)).trading);   // Sao Paulo's holiday: B3 trades since 2022
  EXPECT_FALSE(win.day(ymd(2024, 11, 20)).trading);  // national from 2024
  // Instruments without a calendar keep their own session.
  EXPECT_EQ(cfg.instruments.find("EURUSD")->calendar, nullptr);
  EXPECT_EQ(cfg.instruments.find("SPY")->session.open, minutes(9 * 60 + 30));
}

// The real WIN file (2020-11-06 .. 2021-03-31) against the shipped calendar:
// every bar inside that day's session, every trading day present.
TEST(ConfigTest, ShippedB3CalendarMatchesTheRealWinFile) {
  const std::string file = std::string(QUANT_SHARED_DATA_DIR) + "/b3/WIN_N_M1_2020-11_2021-03.csv.gz";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " is absent (needs ../shared/data)";
  const AppConfig cfg = shipped_config();
  const InstrumentSpec& win = *cfg.instruments.find("WIN");
  const TimeZone zone = TimeZone::find(win.time_zone).value();
  const auto bars = features::testing::read_mt5_bars_gz(file, zone);
  ASSERT_TRUE(bars);
  ASSERT_EQ(bars->size(), 54003u);
  SessionLocator locator(win, zone);
  std::set<std::int64_t> days_with_bars;
  std::map<std::int64_t, int> last_minutes_to_close;  // of each day's last bar
  std::int64_t outside = 0;
  for (const Bar& b : *bars) {
    const SessionPlace p = locator.locate(b.ts);
    if (!p.in_session) ++outside;
    days_with_bars.insert(p.day);
    last_minutes_to_close[p.day] = p.minutes_to_close;
  }
  EXPECT_EQ(outside, 0);
  // Every day of the file runs to its close (18:24 or 17:54 is the last bar):
  // the dated hours put each day's close exactly there.
  for (const auto& [day, left] : last_minutes_to_close) {
    EXPECT_EQ(left, 0) << format_date(Date{std::chrono::days{day}});
  }
  std::vector<std::string> missing;
  for (std::int64_t d = *days_with_bars.begin(); d <= *days_with_bars.rbegin(); ++d) {
    if (locator.day(d).trading && days_with_bars.count(d) == 0)
      missing.push_back(format_date(Date{std::chrono::days{d}}));
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " trading days without bars, first " << missing.front();
  EXPECT_EQ(days_with_bars.size(), 97u);  // the file's 97 sessions
  // Ash Wednesday 2021: the first bar is the 13:00 open.
  const auto ash = std::find_if(bars->begin(), bars->end(), [&](const Bar& b) {
    return locator.locate(b.ts).day == ymd(2021, 2, 17).time_since_epoch().count();
  });
  ASSERT_NE(ash, bars->end());
  EXPECT_EQ(format_local(zone.to_local(ash->ts)), "2021-02-17 13:00:00");
  EXPECT_EQ(locator.locate(ash->ts).minutes_since_open, 0);
}

TEST(ConfigTest, CalendarParsesDatesAsTextOrTomlDates) {
  auto cfg = parse_config(R"(
[calendars.X]
time_zone = "America/New_York"
weekdays = [1, 2, 3, 4, 5]
holidays = ["2021-01-01", 2021-07-05]
closed = [2021-11-26]
special_sessions = [{ date = 2021-11-26, close = "13:00" }]
[calendars.X.hours]
all = [{ from = "2021-01-01", open = "09:30", close = "16:00" }, { from = 2021-06-01, open = "10:00", close = "16:00" }]
[instruments.SPY]
tick_size = 0.01
point_value = 1
calendar = "X"
)",
                          "c.toml");
  ASSERT_FALSE(cfg);  // a special session on a closed day
  EXPECT_NE(cfg.error().message.find(
                "calendars.X.special_sessions[0]: 2021-11-26 is a no-trading day (calendars.X.closed[0])"),
            std::string::npos)
      << cfg.error().message;

  auto ok = parse_config(R"(
[calendars.X]
time_zone = "America/New_York"
holidays = ["2021-01-01", 2021-07-05]
special_sessions = [{ date = 2021-11-26, close = "13:00" }]
[calendars.X.hours]
all = [{ from = "2021-01-01", open = "09:30", close = "16:00" }, { from = 2021-06-01, open = "10:00", close = "16:00" }]
[instruments.SPY]
tick_size = 0.01
point_value = 1
calendar = "X"
[instruments.QQQ]
tick_size = 0.01
point_value = 1
)",
                         "c.toml");
  ASSERT_TRUE(ok) << ok.error().message;
  const InstrumentSpec& spy = *ok->instruments.find("SPY");
  ASSERT_NE(spy.calendar, nullptr);
  EXPECT_EQ(spy.calendar->hours_name, "all");    // the only schedule: no `hours` needed
  EXPECT_EQ(spy.time_zone, "America/New_York");  // from the calendar
  EXPECT_EQ(spy.session, (Session{std::chrono::minutes(600), std::chrono::minutes(960)}));  // the latest entry
  EXPECT_FALSE(spy.calendar->day(ymd(2021, 7, 5)).trading);
  EXPECT_EQ(spy.calendar->day(ymd(2021, 11, 26)).session,
            (Session{std::chrono::minutes(600), std::chrono::minutes(780)}));
  EXPECT_EQ(spy.calendar->day(ymd(2021, 3, 1)).session.open, std::chrono::minutes(570));
  EXPECT_EQ(ok->instruments.find("QQQ")->calendar, nullptr);
}

TEST(ConfigTest, CalendarErrorsNameTheKey) {
  const std::string base = R"(
[calendars.B3]
time_zone = "America/Sao_Paulo"
[calendars.B3.hours]
index = [{ from = "2020-01-01", open = "09:00", close = "18:25" }]
dollar = [{ from = "2020-01-01", open = "09:00", close = "18:30" }]
)";
  auto expect_error = [&](const std::string& calendar_extra, const std::string& instrument, const char* fragment) {
    // Keys of [calendars.B3] go before its [calendars.B3.hours] sub-table.
    std::string text = base;
    text.insert(text.find("[calendars.B3.hours]"), calendar_extra);
    text += instrument;
    auto cfg = parse_config(text, "c.toml");
    ASSERT_FALSE(cfg) << text;
    EXPECT_NE(cfg.error().message.find(fragment), std::string::npos) << cfg.error().message;
  };
  expect_error("holidays = [\"2021-02-30\"]\n", "",
               "calendars.B3.holidays[0]: '2021-02-30' is not a date (YYYY-MM-DD)");
  expect_error("holidays = [\"2021/02/15\"]\n", "",
               "calendars.B3.holidays[0]: '2021/02/15' is not a date (YYYY-MM-DD)");
  expect_error("holidays = [\"2021-02-15\", \"21-02-16\"]\n", "", "calendars.B3.holidays[1]: '21-02-16' is not a date");
  expect_error("holidays = [20210215]\n", "", "calendars.B3.holidays[0] must be a date");
  expect_error("holidays = [\"2021-02-15\"]\nspecial_sessions = [{ date = \"2021-02-15\", open = \"13:00\" }]\n", "",
               "calendars.B3.special_sessions[0]: 2021-02-15 is a no-trading day (calendars.B3.holidays[0])");
  expect_error("holidays = [\"2021-12-25\", \"2021-12-24\"]\nclosed = [\"2021-12-24\"]\n", "",
               "calendars.B3.closed[0]: 2021-12-24 is already listed (calendars.B3.holidays[1])");
  expect_error(
      "special_sessions = [{ date = \"2021-02-17\", open = \"13:00\" }, { date = \"2021-02-17\", close = \"16:00\" "
      "}]\n",
      "", "calendars.B3.special_sessions[1]: 2021-02-17 already has a special session");
  expect_error("special_sessions = [{ date = \"2021-02-17\" }]\n", "",
               "calendars.B3.special_sessions[0] changes nothing");
  expect_error("special_sessions = [{ date = \"2021-02-17\", open = \"1pm\" }]\n", "",
               "calendars.B3.special_sessions[0].open: bad clock time '1pm'");
  expect_error("special_sessions = [{ date = \"2021-02-17\", opens = \"13:00\" }]\n", "",
               "unknown key 'calendars.B3.special_sessions[0].opens'");
  expect_error("special_sessions = [{ date = \"2021-02-17\", open = \"18:26\" }]\n", "",
               "calendars.B3.special_sessions: calendar B3: the special session on 2021-02-17 would open at or after "
               "it closes under hours 'index'");
  expect_error("holyday = [\"2021-02-15\"]\n", "", "unknown key 'calendars.B3.holyday'");
  expect_error("weekdays = [1, 7]\n", "", "calendars.B3.weekdays");
  {
    std::string text = base;
    text.replace(text.find("America/Sao_Paulo"), 17, "Nowhere/City");
    auto zone = parse_config(text, "c.toml");
    ASSERT_FALSE(zone);
    EXPECT_NE(zone.error().message.find("calendars.B3.time_zone"), std::string::npos) << zone.error().message;
    auto cfg = parse_config(
        "[calendars.B3]\nholidays = []\n[calendars.B3.hours]\nall = [{ from = \"2020-01-01\", open = \"09:00\", close "
        "= \"18:00\" }]\n",
        "c.toml");
    ASSERT_FALSE(cfg);
    EXPECT_NE(cfg.error().message.find("calendars.B3.time_zone is required"), std::string::npos) << cfg.error().message;
    auto no_hours = parse_config("[calendars.B3]\ntime_zone = \"UTC\"\n", "c.toml");
    ASSERT_FALSE(no_hours);
    EXPECT_NE(no_hours.error().message.find("calendars.B3.hours is required"), std::string::npos)
        << no_hours.error().message;
    auto order = parse_config(
        "[calendars.B3]\ntime_zone = \"UTC\"\n[calendars.B3.hours]\nall = [{ from = \"2021-01-01\", open = \"09:00\", "
        "close = "
        "\"18:00\" }, { from = \"2020-01-01\", open = \"09:00\", close = \"17:00\" }]\n",
        "c.toml");
    ASSERT_FALSE(order);
    EXPECT_NE(order.error().message.find(
                  "calendars.B3.hours.all[1].from 2020-01-01 must come after the previous entry's 2021-01-01"),
              std::string::npos)
        << order.error().message;
    auto clock = parse_config(
        "[calendars.B3]\ntime_zone = \"UTC\"\n[calendars.B3.hours]\nall = [{ from = \"2021-01-01\", open = \"09:00\", "
        "close = \"25:00\" }]\n",
        "c.toml");
    ASSERT_FALSE(clock);
    EXPECT_NE(clock.error().message.find("calendars.B3.hours.all[0].close: bad clock time '25:00'"), std::string::npos)
        << clock.error().message;
    auto missing = parse_config(
        "[calendars.B3]\ntime_zone = \"UTC\"\n[calendars.B3.hours]\nall = [{ from = \"2021-01-01\", open = \"09:00\" "
        "}]\n",
        "c.toml");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("calendars.B3.hours.all[0].close is required"), std::string::npos)
        << missing.error().message;
  }
  const std::string x = "[instruments.X]\ntick_size = 1\npoint_value = 1\n";
  expect_error("", x + "calendar = \"B4\"\n", "instruments.X.calendar: no [calendars.B4] (configured: B3)");
  expect_error("", x + "calendar = \"B3\"\n", "instruments.X.hours: name one of calendars.B3.hours (dollar, index)");
  expect_error("", x + "calendar = \"B3\"\nhours = \"equities\"\n",
               "instruments.X.hours: calendar B3 has no hours 'equities'");
  expect_error("", x + "hours = \"index\"\n", "instruments.X.hours names a schedule of the instrument's calendar");
  expect_error("", x + "calendar = \"B3\"\nhours = \"index\"\nsession = { open = \"09:00\", close = \"18:25\" }\n",
               "instruments.X.session: an instrument with a calendar takes its hours from calendars.B3.hours");
  expect_error("", x + "calendar = \"B3\"\nhours = \"index\"\nweekdays = [1, 2, 3, 4, 5]\n",
               "instruments.X.weekdays: an instrument with a calendar takes its trading days from calendars.B3");
  expect_error("", x + "calendar = \"B3\"\nhours = \"index\"\ntime_zone = \"UTC\"\n",
               "instruments.X.time_zone 'UTC' differs from calendars.B3.time_zone 'America/Sao_Paulo'");
}

TEST(ConfigTest, UnknownKeyIsNamed) {
  auto cfg = parse_config("[instruments.WIN]\ntick = 5\n", "x.toml");
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find("unknown key 'instruments.WIN.tick'"), std::string::npos) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find("x.toml:2"), std::string::npos) << cfg.error().message;
  auto top = parse_config("[laek]\ndir = 'x'\n", "x.toml");
  ASSERT_FALSE(top);
  EXPECT_NE(top.error().message.find("'laek'"), std::string::npos);
}

TEST(ConfigTest, ValuesAreValidated) {
  EXPECT_FALSE(parse_config("[instruments.X]\ntick_size = 0\npoint_value = 1\n", "x"));
  EXPECT_FALSE(parse_config("[instruments.X]\ntick_size = 1\npoint_value = 1\ntime_zone = 'Nowhere/City'\n", "x"));
  EXPECT_FALSE(parse_config("[instruments.X]\ntick_size = 1\npoint_value = 1\ncontract_months = 'GA'\n", "x"));
  EXPECT_FALSE(parse_config("[instruments.X]\ntick_size = 1\npoint_value = 1\nsession = { open = '9h' }\n", "x"));
  EXPECT_FALSE(parse_config("[instruments.X]\ntick_size = 'five'\npoint_value = 1\n", "x"));
  EXPECT_FALSE(parse_config("this is = not toml [", "x"));
  auto ok = parse_config("[instruments.X]\ntick_size = 1\npoint_value = 1\n", "x");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->instruments.find("X")->time_zone, "UTC");
}

TEST(ConfigTest, ServeSectionParsesGatesInOrder) {
  auto cfg = parse_config(R"(
[serve]
port = 0
workers = 3
token_env = "MY_TOKEN"
[serve.paper]
symbols = ["WIN", "WDO"]
equity = 50000
[[serve.gates]]
name = "gatekeeper"
dir = "models/gatekeeper"
p_min = 0.55
[[serve.gates]]
name = "book"
registry = "mlruns"
)",
                          "s.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const auto& s = cfg->serve;
  EXPECT_EQ(s.bind, "127.0.0.1");  // loopback unless asked
  EXPECT_EQ(s.port, 0);
  EXPECT_EQ(s.workers, 3);
  EXPECT_EQ(s.token_env, "MY_TOKEN");
  EXPECT_EQ(s.paper.symbols, (std::vector<std::string>{"WIN", "WDO"}));
  EXPECT_DOUBLE_EQ(s.paper.equity, 50000);
  ASSERT_EQ(s.gates.size(), 2u);
  EXPECT_EQ(s.gates[0].name, "gatekeeper");
  EXPECT_DOUBLE_EQ(s.gates[0].p_min, 0.55);
  EXPECT_EQ(s.gates[1].registry, "mlruns");
  EXPECT_EQ(s.gates[1].alias, "champion");
  EXPECT_EQ(s.drain_timeout_ms, 10000);
}

TEST(ConfigTest, ServeGatesTakeTheBacktestGateRuleUnlessTheySayOtherwise) {
  auto cfg = parse_config(R"(
[gate]
p_min = 0.6
use_quantiles = false
[serve]
drain_timeout_ms = 0
[[serve.gates]]
name = "gatekeeper"
dir = "models/gatekeeper"
[[serve.gates]]
name = "book"
dir = "models/book"
p_min = 0.7
use_quantiles = true
)",
                          "s.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const auto& g = cfg->serve.gates;
  ASSERT_EQ(g.size(), 2u);
  EXPECT_DOUBLE_EQ(g[0].p_min, 0.6);
  EXPECT_FALSE(g[0].use_quantiles);
  EXPECT_DOUBLE_EQ(g[1].p_min, 0.7);
  EXPECT_TRUE(g[1].use_quantiles);
  EXPECT_EQ(cfg->serve.drain_timeout_ms, 0);
}

TEST(ConfigTest, ServeSectionErrorsNameTheKey) {
  auto expect_error = [](const char* text, const char* fragment) {
    auto cfg = parse_config(text, "s.toml");
    ASSERT_FALSE(cfg) << text;
    EXPECT_NE(cfg.error().message.find(fragment), std::string::npos) << cfg.error().message;
  };
  expect_error("[serve]\ntoken = 'secret'\n", "unknown key 'serve.token'");
  expect_error("[serve]\nport = 70000\n", "serve.port");
  expect_error("[[serve.gates]]\nname = 'g'\n", "exactly one of 'dir' and 'registry'");
  expect_error("[[serve.gates]]\nname = 'g'\ndir = 'a'\nregistry = 'b'\n", "exactly one of 'dir' and 'registry'");
  expect_error("[[serve.gates]]\nname = 'g'\ndir = 'a'\n[[serve.gates]]\nname = 'g'\ndir = 'b'\n", "used twice");
  expect_error("[[serve.gates]]\nname = 'g'\ndir = 'a'\np_min = 2\n", "p_min");
  expect_error("[serve.paper]\nsymbols = 'WIN'\n", "serve.paper.symbols");
  expect_error("[serve]\ndrain_timeout_ms = -1\n", "serve.drain_timeout_ms");
  expect_error("[[serve.gates]]\nname = 'g'\ndir = 'a'\nuse_quantiles = 'yes'\n", "use_quantiles");
}

TEST(ConfigTest, BookImbalanceFilterSettings) {
  auto cfg = parse_config(R"(
[strategy.ma_breakout]
book_imbalance_filter = true
[strategy.ma_breakout.book_imbalance]
threshold = 0.25
depth = 10
source = "trades"
on_missing = "allow"
max_book_age_seconds = 5
)",
                          "b.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const auto& mb = cfg->backtest.strategy.ma_breakout;
  EXPECT_TRUE(mb.book_imbalance_filter);
  EXPECT_DOUBLE_EQ(mb.book_imbalance.threshold, 0.25);
  EXPECT_EQ(mb.book_imbalance.depth, 10);
  EXPECT_EQ(mb.book_imbalance.source, strategy::ImbalanceData::Trades);
  EXPECT_EQ(mb.book_imbalance.on_missing, strategy::MissingImbalance::Allow);
  EXPECT_EQ(mb.book_imbalance.max_book_age_seconds, 5);
  // Without the table: the struct's defaults.
  auto plain = parse_config("[strategy.ma_breakout]\nbook_imbalance_filter = true\n", "b.toml");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_DOUBLE_EQ(plain->backtest.strategy.ma_breakout.book_imbalance.threshold, 0.1);
  EXPECT_EQ(plain->backtest.strategy.ma_breakout.book_imbalance.source, strategy::ImbalanceData::Auto);
  EXPECT_EQ(plain->backtest.strategy.ma_breakout.book_imbalance.on_missing, strategy::MissingImbalance::Block);
}

TEST(ConfigTest, BookImbalanceErrorsNameTheKey) {
  auto expect_error = [](const char* text, const char* fragment) {
    auto cfg = parse_config(text, "b.toml");
    ASSERT_FALSE(cfg) << text;
    EXPECT_NE(cfg.error().message.find(fragment), std::string::npos) << cfg.error().message;
  };
  const std::string t = "[strategy.ma_breakout.book_imbalance]\n";
  expect_error((t + "treshold = 0.2\n").c_str(),
               "b.toml:2: unknown key 'strategy.ma_breakout.book_imbalance.treshold'");
  expect_error((t + "threshold = 1.2\n").c_str(),
               "strategy.ma_breakout.book_imbalance.threshold: must be a number within [0, 1]");
  expect_error((t + "threshold = 'high'\n").c_str(),
               "'strategy.ma_breakout.book_imbalance.threshold' must be a number");
  expect_error((t + "depth = 0\n").c_str(), "strategy.ma_breakout.book_imbalance.depth: must be between 1 and 1000");
  expect_error((t + "depth = 2.5\n").c_str(), "'strategy.ma_breakout.book_imbalance.depth' must be a whole number");
  expect_error((t + "source = 'ticks'\n").c_str(),
               "strategy.ma_breakout.book_imbalance.source: 'auto', 'book' or 'trades', got 'ticks'");
  expect_error((t + "on_missing = 'pass'\n").c_str(),
               "strategy.ma_breakout.book_imbalance.on_missing: 'block' or 'allow', got 'pass'");
  expect_error((t + "max_book_age_seconds = 0\n").c_str(), "strategy.ma_breakout.book_imbalance.max_book_age_seconds:");
  expect_error("[strategy.ma_breakout]\nbook_imbalance = 0.2\n",
               "'strategy.ma_breakout.book_imbalance' must be a table");
}

TEST(ConfigTest, ClockParsing) {
  EXPECT_EQ(parse_clock("18:25").value(), std::chrono::minutes(1105));
  EXPECT_FALSE(parse_clock("25:00"));
  EXPECT_FALSE(parse_clock("9:00"));
}

}  // namespace
}  // namespace quant::config

namespace quant::config {
namespace {

TEST(ConfigTest, MonitorAddressesAreReadCheckedAndUnknownKeysRefused) {
  auto cfg = parse_config("[monitor]\nlive = \"127.0.0.1:9101\"\nlogger = \"0.0.0.0:0\"\n", "m.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->monitor.live, "127.0.0.1:9101");
  EXPECT_EQ(cfg->monitor.logger, "0.0.0.0:0");
  EXPECT_EQ(cfg->monitor.bridge, "");  // off by default
  auto unknown = parse_config("[monitor]\nserve = \"x:1\"\n", "m.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("monitor.serve"), std::string::npos) << unknown.error().message;
  for (const char* bad : {"9101", "host:", "host:99999", "host:9x"}) {
    auto e = parse_config(std::string("[monitor]\nbridge = \"") + bad + "\"\n", "m.toml");
    ASSERT_FALSE(e) << bad;
    EXPECT_NE(e.error().message.find("m.toml:2"), std::string::npos) << e.error().message;
    EXPECT_NE(e.error().message.find("monitor.bridge"), std::string::npos) << e.error().message;
  }
}

TEST(ConfigTest, FixSessionSettingsAreReadAndUnknownKeysRefused) {
  auto cfg = parse_config(R"(
[fix]
host = "10.0.0.5"
port = 9000
sender_comp_id = "ME"
target_comp_id = "BROKER"
heartbeat_s = 10
store_dir = "/tmp/fixstore"
account = "777"
entering_trader = "T1"
)",
                          "f.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const FixSettings& f = cfg->fix;
  EXPECT_EQ(f.host, "10.0.0.5");
  EXPECT_EQ(f.port, 9000);
  EXPECT_EQ(f.sender_comp_id, "ME");
  EXPECT_EQ(f.target_comp_id, "BROKER");
  EXPECT_EQ(f.heartbeat_s, 10);
  EXPECT_EQ(f.reconnect_s, 5);  // the default
  EXPECT_EQ(f.store_dir, "/tmp/fixstore");
  EXPECT_EQ(f.dictionary, "fix/FIX44.xml");
  EXPECT_EQ(f.account, "777");
  EXPECT_EQ(f.entering_trader, "T1");
  EXPECT_EQ(f.security_exchange, "BVMF");

  auto unknown = parse_config("[fix]\npassword = \"x\"\n", "f.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("fix.password"), std::string::npos) << unknown.error().message;
  auto same = parse_config("[fix]\nsender_comp_id = \"A\"\ntarget_comp_id = \"A\"\n", "f.toml");
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().message.find("must be set and differ"), std::string::npos) << same.error().message;
  auto port = parse_config("[fix]\nport = 0\n", "f.toml");
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message.find("fix.port"), std::string::npos);
}

TEST(ConfigTest, LakeBackupSectionIsReadAndUnknownKeysRefused) {
  auto cfg = parse_config("[lake.backup]\nto = 's3://b/p'\nendpoint = 'http://127.0.0.1:9000'\nregion = 'sa-east-1'\n",
                          "x.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->lake.backup.to, "s3://b/p");
  EXPECT_EQ(cfg->lake.backup.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(cfg->lake.backup.region, "sa-east-1");
  auto secret = parse_config("[lake.backup]\nsecret_access_key = 'x'\n", "x.toml");
  ASSERT_FALSE(secret);
  EXPECT_NE(secret.error().message.find("unknown key 'lake.backup.secret_access_key'"), std::string::npos)
      << secret.error().message;
}

TEST(ConfigTest, TelegramSettingsAreReadAndCheckedAndNeverHoldTheToken) {
  auto cfg = parse_config(R"(
[telegram]
api_url = "http://127.0.0.1:8081"
chat_ids = [123456789, -1001234567890]
symbols = ["WIN", "WDO"]
breaker_near_fraction = 0.8
stale_seconds = 90
summary_time = "19:05"
time_zone = "UTC"
state_file = "/tmp/bot.json"
poll_seconds = 10
fill_alerts = false
)",
                          "t.toml");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const TelegramSettings& t = cfg->telegram;
  EXPECT_EQ(t.api_url, "http://127.0.0.1:8081");
  EXPECT_EQ(t.chat_ids, (std::vector<std::int64_t>{123456789, -1001234567890}));
  EXPECT_EQ(t.symbols, (std::vector<std::string>{"WIN", "WDO"}));
  EXPECT_DOUBLE_EQ(t.breaker_near_fraction, 0.8);
  EXPECT_EQ(t.stale_seconds, 90);
  EXPECT_EQ(t.summary_time, std::chrono::minutes(19 * 60 + 5));
  EXPECT_EQ(t.time_zone, "UTC");
  EXPECT_EQ(t.state_file, "/tmp/bot.json");
  EXPECT_EQ(t.poll_seconds, 10);
  EXPECT_FALSE(t.fill_alerts);
  EXPECT_EQ(t.token_env, "QUANT_TELEGRAM_TOKEN");  // the default
  EXPECT_EQ(t.group, "telegram");

  auto defaults = parse_config("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->telegram.api_url, "https://api.telegram.org");
  EXPECT_EQ(defaults->telegram.summary_time, std::chrono::minutes(18 * 60 + 45));

  auto token = parse_config("[telegram]\ntoken = \"123:ABC\"\n", "t.toml");
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().message.find("t.toml:2: telegram.token: the bot token never goes in the configuration"),
            std::string::npos)
      << token.error().message;
  EXPECT_EQ(token.error().message.find("123:ABC"), std::string::npos) << "the error must not echo the token";
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"[telegram]\nchat_id = [1]\n", "unknown key 'telegram.chat_id'"},
           {"[telegram]\nchat_ids = [\"abc\"]\n", "t.toml:2: 'telegram.chat_ids' entries must be whole numbers"},
           {"[telegram]\nchat_ids = 5\n", "'telegram.chat_ids' must be a list"},
           {"[telegram]\nsummary_time = \"25:00\"\n", "telegram.summary_time"},
           {"[telegram]\nbreaker_near_fraction = 1.5\n", "telegram.breaker_near_fraction"},
           {"[telegram]\nstale_seconds = 0\n", "telegram.stale_seconds"},
           {"[telegram]\napi_url = \"ftp://x\"\n", "telegram.api_url"},
           {"[telegram]\ntime_zone = \"Mars/Olympus\"\n", "telegram.time_zone"},
           {"[telegram]\npoll_seconds = 99\n", "telegram.poll_seconds"}}) {
    auto bad = parse_config(text, "t.toml");
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(needle), std::string::npos) << bad.error().message;
  }
}

}  // namespace
}  // namespace quant::config
