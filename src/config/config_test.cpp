#include "config/config.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

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
)", "s.toml");
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
)", "s.toml");
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

TEST(ConfigTest, ClockParsing) {
  EXPECT_EQ(parse_clock("18:25").value(), std::chrono::minutes(1105));
  EXPECT_FALSE(parse_clock("25:00"));
  EXPECT_FALSE(parse_clock("9:00"));
}

}  // namespace
}  // namespace quant::config
