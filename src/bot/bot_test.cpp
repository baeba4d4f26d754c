// The bot against a real redis-server and telegram_stand_in.py (a local Bot
// API stand-in started per test): commands, the allow-list, alerts, restarts,
// retries and the token's secrecy.

#include "bot/bot.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "execution/bridge_protocol.h"
#include "http/http_client.h"
#include "monitor/metrics.h"
#include "stream/metrics.h"
#include "stream/test_redis.h"
#include "core/test_net.h"
#include "bot/prometheus_alerts.h"

namespace quant::bot {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "123456789:AAtest-SECRET_token_value_xyz";
constexpr std::int64_t kChat = 111;
constexpr std::int64_t kStranger = 999;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Starts `args` (args[0] looked up on PATH) as a child that dies with the test.
pid_t spawn(std::vector<std::string> args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

/// SIGTERM to a spawned child, and waits for it; `pid` becomes -1.
void stop_child(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
}

/// telegram_stand_in.py on a free port, stopped (SIGTERM, waited for) with the object.
class StandIn {
 public:
  explicit StandIn(const fs::path& dir) : dir_(dir) {
    const std::string port_file = (dir_ / "stand_in.port").string();
    const std::string script = std::string(QUANT_SOURCE_DIR) + "/src/bot/telegram_stand_in.py";
    pid_ = spawn({"python3", script, "--token", kToken, "--port-file", port_file, "--photo-dir", dir_.string()});
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (in >> port_) break;
      std::this_thread::sleep_for(25ms);
    }
    client_.emplace(std::move(*http::Client::create("bot-test")));
  }
  ~StandIn() { stop_child(pid_); }
  bool up() const { return port_ != 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  json control(const std::string& path, const json& body = nullptr) {
    http::Request r;
    r.url = url() + path;
    if (!body.is_null()) r.body = body.dump();
    auto answer = client_->perform(r);
    if (!answer) return nullptr;
    return json::parse(answer->body, nullptr, false);
  }
  void message(std::int64_t chat, const std::string& text) { control("/_test/update", {{"chat_id", chat}, {"text", text}}); }
  void fail(const std::string& method, int status, int count, int retry_after = -1) {
    json q = {{"method", method}, {"status", status}, {"count", count}};
    if (retry_after >= 0) q["retry_after"] = retry_after;
    control("/_test/fail", q);
  }
  std::vector<json> requests(const std::string& method) {
    std::vector<json> out;
    const json all = control("/_test/requests");
    for (const auto& r : all) {
      if (r["method"] == method) out.push_back(r);
    }
    return out;
  }
  /// Texts delivered (sendMessage answered 200) to `chat`, in order.
  std::vector<std::string> texts(std::int64_t chat) {
    std::vector<std::string> out;
    for (const auto& r : requests("sendMessage")) {
      if (r["status"] == 200 && r.contains("chat_id") && r["chat_id"] == chat && r.contains("text")) out.push_back(r["text"].get<std::string>());
    }
    return out;
  }

 private:
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::optional<http::Client> client_;
};

std::size_t count_containing(const std::vector<std::string>& texts, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& t : texts) n += t.find(needle) != std::string::npos;
  return n;
}

/// A 24-hour session that opened `minutes_ago` minutes before now (UTC), every weekday.
InstrumentSpec open_instrument(const std::string& symbol, int minutes_ago = 30) {
  InstrumentSpec spec;
  spec.symbol = symbol;
  spec.time_zone = "UTC";
  const std::int64_t minute_of_day = (now_ms() / 60000) % 1440;
  const auto open = static_cast<int>(((minute_of_day - minutes_ago) % 1440 + 1440) % 1440);
  spec.session.open = std::chrono::minutes(open);
  spec.session.close = std::chrono::minutes(open);
  spec.weekdays = {0, 1, 2, 3, 4, 5, 6};
  return spec;
}

class BotTest : public quant::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    dir_ = redis.dir() / "bot";
    fs::create_directories(dir_);
    stand_in_ = std::make_unique<StandIn>(dir_);
    ASSERT_TRUE(stand_in_->up()) << "telegram_stand_in.py did not start";
    config_.chat_ids = {kChat};
    config_.instruments = {open_instrument("WIN")};
    config_.state_file = (dir_ / "state.json").string();
    config_.stale_seconds = 5;
    config_.time_zone = "UTC";
    config_.summary_time = std::chrono::minutes(23 * 60 + 59);  // only the summary test reaches it
  }

  ApiConfig api_config() const {
    ApiConfig a;
    a.base_url = stand_in_->url();
    a.token = kToken;
    a.poll_timeout = 0s;
    a.max_attempts = 3;
    a.first_backoff = 10ms;
    a.max_backoff = 50ms;
    return a;
  }

  std::unique_ptr<Bot> make_bot(ApiConfig api = {}) {
    if (api.token.empty()) api = api_config();
    auto telegram = TelegramApi::create(api, &metrics_, [this](const std::string& l) { log(l); });
    EXPECT_TRUE(telegram) << (telegram ? "" : telegram.error().message);
    if (!telegram) return nullptr;
    auto clock = [this] {
      return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) +
             std::chrono::milliseconds(skew_ms_.load());
    };
    auto bot = Bot::create(config_, std::move(*telegram), endpoint_.value_or(redis.endpoint()), metrics_, clock,
                           [this](const std::string& l) { log(l); });
    EXPECT_TRUE(bot) << (bot ? "" : bot.error().message);
    return bot ? std::move(*bot) : nullptr;
  }

  void log(const std::string& line) {
    std::lock_guard lock(log_mutex_);
    logs_.push_back(line);
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& l : logs_) std::fprintf(stderr, "log: %s\n", l.c_str());
    }
    RedisTest::TearDown();
  }

  void step(Bot& bot, int times = 1) {
    for (int i = 0; i < times; ++i) ASSERT_TRUE(bot.step());
  }

  void publish_metrics(const std::string& symbol, std::int64_t ts_ms, double equity, double day_start,
                       std::int64_t position = 0) {
    stream::Metrics m;
    m.symbol = symbol;
    m.ts_ms = ts_ms;
    m.session = "s1";
    m.equity = equity;
    m.position = position;
    m.realized_pnl = equity - day_start;
    m.day_start_equity = day_start;
    m.drawdown = std::min(0.0, equity / day_start - 1);
    m.breaker_drawdown = -0.03;
    auto producer = stream::Producer::connect(redis.endpoint());
    ASSERT_TRUE(producer);
    producer->add(stream::kMetrics, stream::metrics_fields(m));
    ASSERT_TRUE(producer->flush());
  }

  void publish_fill(const std::string& exec_id, std::int64_t qty, double price) {
    execution::bridge::FillMsg f;
    f.cl_ord_id = "s1-1";
    f.exec_id = exec_id;
    f.symbol = "WIN";
    f.side = Side::Buy;
    f.qty = qty;
    f.price = price;
    f.fee = 0.26;
    f.time_msc = now_ms();
    f.cum_qty = qty;
    execution::bridge::Message m;
    m.seq = ++fill_seq_;
    m.t_ms = now_ms();
    m.body = f;
    auto producer = stream::Producer::connect(redis.endpoint());
    ASSERT_TRUE(producer);
    producer->add(stream::kFills, {{"type", "fill"}, {"msg", execution::bridge::encode(m)}, {"recv_ns", "0"}});
    ASSERT_TRUE(producer->flush());
  }

  void publish_tick(const std::string& symbol, std::int64_t recv_ms) {
    auto producer = stream::Producer::connect(redis.endpoint());
    ASSERT_TRUE(producer);
    producer->add(stream::tick_key(symbol), {{"type", "tick"}, {"msg", "{}"}, {"recv_ns", std::to_string(recv_ms * 1'000'000)}});
    ASSERT_TRUE(producer->flush());
  }

  fs::path dir_;
  std::unique_ptr<StandIn> stand_in_;
  BotConfig config_;
  monitor::Registry registry_{"bot", "test"};
  BotMetrics metrics_{registry_};
  std::atomic<std::int64_t> skew_ms_{0};
  std::int64_t fill_seq_ = 0;
  std::optional<stream::Endpoint> endpoint_;
  std::mutex log_mutex_;
  std::vector<std::string> logs_;
};

TEST_F(BotTest, AllowedCommandIsAnswered) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  publish_metrics("WIN", now_ms(), 99000, 100000, 2);
  stand_in_->message(kChat, "/status");
  stand_in_->message(kChat, "/positions@QuantBot");
  stand_in_->message(kChat, "/pnl");
  stand_in_->message(kChat, "/help");
  step(*bot);
  const auto texts = stand_in_->texts(kChat);
  ASSERT_GE(texts.size(), 4u);
  EXPECT_NE(texts[0].find("Trading: running"), std::string::npos) << texts[0];
  EXPECT_NE(texts[0].find("WIN: position 2, equity 99000.00, drawdown -1.00% (breaker at -3.00%)"), std::string::npos)
      << texts[0];
  EXPECT_NE(texts[1].find("WIN: long 2"), std::string::npos) << texts[1];
  EXPECT_NE(texts[2].find("realised -1000.00"), std::string::npos) << texts[2];
  EXPECT_NE(texts[3].find("/resume"), std::string::npos) << texts[3];
  EXPECT_EQ(metrics_.commands("status"), 1);
  EXPECT_EQ(metrics_.commands("help"), 1);
}

TEST_F(BotTest, OtherChatIsIgnoredAndCounted) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->message(kStranger, "/halt secret words from a stranger");
  stand_in_->message(kStranger, "/status");
  step(*bot);
  EXPECT_TRUE(stand_in_->texts(kStranger).empty());
  EXPECT_EQ(metrics_.ignored_updates(), 2);
  auto halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt);
  EXPECT_FALSE(*halt) << "a stranger's /halt must not run";
  bool logged = false;
  for (const auto& l : logs_) {
    EXPECT_EQ(l.find("secret words"), std::string::npos) << "the message text must not be logged: " << l;
    logged = logged || l.find("ignored update") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST_F(BotTest, AnEditedMessageIsNotACommand) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->control("/_test/update", {{"chat_id", kChat}, {"text", "/halt edited"}, {"edited", true}});
  step(*bot);
  auto halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt);
  EXPECT_FALSE(*halt);
  EXPECT_EQ(bot->state().offset, 1001) << "but the offset moves past it";
}

TEST_F(BotTest, HaltSetsTheFlagAndAlerts) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->message(kChat, "/halt feed glitch");
  step(*bot);
  auto halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt);
  ASSERT_TRUE(*halt);
  EXPECT_EQ((*halt)->reason, "feed glitch");
  EXPECT_EQ((*halt)->by, "telegram:111");
  const auto texts = stand_in_->texts(kChat);
  EXPECT_EQ(count_containing(texts, "Halt set: feed glitch"), 1u);
  EXPECT_EQ(count_containing(texts, "HALT RAISED: feed glitch"), 1u);
  EXPECT_EQ(metrics_.alerts_sent("halt_raised"), 1);

  stand_in_->message(kChat, "/halt another reason");
  step(*bot);
  halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt && *halt);
  EXPECT_EQ((*halt)->reason, "feed glitch") << "a second /halt keeps the first reason";
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Already halted: feed glitch"), 1u);
  EXPECT_EQ(metrics_.alerts_sent("halt_raised"), 1);
}

TEST_F(BotTest, HaltRaisedElsewhereIsAlertedOnceAcrossRestarts) {
  stream::Halt h{"daily loss limit", "2026-12-07T15:00:00Z", 97000, "live"};
  ASSERT_TRUE(stream::set_halt(redis.endpoint(), h));
  {
    auto bot = make_bot();
    ASSERT_TRUE(bot);
    step(*bot, 2);
  }
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot, 2);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "HALT RAISED: daily loss limit"), 1u);
  ASSERT_TRUE(stream::clear_halt(redis.endpoint()));
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Halt lifted"), 1u);
}

// A state file that cannot be written stops the bot (it would otherwise
// repeat or lose alerts after a restart); a Redis hiccup does not.
TEST_F(BotTest, AStateFileThatCannotBeWrittenStopsTheBot) {
  const fs::path blocker = dir_ / "a-file";
  std::ofstream(blocker) << "not a directory";
  config_.state_file = (blocker / "state.json").string();  // its directory is a file: even root cannot write it
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  ASSERT_TRUE(stream::set_halt(redis.endpoint(), stream::Halt{"daily loss limit", "2026-12-07T15:00:00Z", 0, "live"}));
  auto stepped = bot->step();  // the halt alert goes out, then its state cannot be saved
  ASSERT_FALSE(stepped);
  EXPECT_NE(stepped.error().message.find("bot state"), std::string::npos) << stepped.error().message;
}

TEST_F(BotTest, ResumeNeedsTheConfirmationCode) {
  ASSERT_TRUE(stream::set_halt(redis.endpoint(), stream::Halt{"manual", "2026-12-07T15:00:00Z", 0, "operator"}));
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->message(kChat, "/resume");
  step(*bot);
  auto halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt);
  EXPECT_TRUE(*halt) << "a lone /resume must not clear the halt";
  auto texts = stand_in_->texts(kChat);
  const auto prompt = std::find_if(texts.begin(), texts.end(), [](const std::string& t) { return t.find("/resume ") != std::string::npos; });
  ASSERT_NE(prompt, texts.end());
  const std::string code = prompt->substr(prompt->find("/resume ") + 8, 6);

  stand_in_->message(kChat, "/resume 99999999");
  step(*bot);
  halt = stream::read_halt(redis.endpoint());
  EXPECT_TRUE(*halt) << "a wrong code must not clear the halt";

  // The code was spent by the wrong try: the right one no longer works.
  stand_in_->message(kChat, "/resume " + code);
  step(*bot);
  halt = stream::read_halt(redis.endpoint());
  EXPECT_TRUE(*halt) << "a code is good for one try only";

  // A new prompt, then it expires.
  stand_in_->message(kChat, "/resume");
  step(*bot);
  texts = stand_in_->texts(kChat);
  const std::string second = texts.back().substr(texts.back().find("/resume ") + 8, 6);
  skew_ms_ = 61'000;
  stand_in_->message(kChat, "/resume " + second);
  step(*bot);
  halt = stream::read_halt(redis.endpoint());
  EXPECT_TRUE(*halt) << "an expired code must not clear the halt";
  EXPECT_NE(stand_in_->texts(kChat).back().find("expired"), std::string::npos);

  skew_ms_ = 0;
  stand_in_->message(kChat, "/resume");
  step(*bot);
  texts = stand_in_->texts(kChat);
  const std::string third = texts.back().substr(texts.back().find("/resume ") + 8, 6);
  stand_in_->message(kChat, "/resume " + third);
  step(*bot);
  halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt);
  EXPECT_FALSE(*halt) << "the right code within 60 s clears it";
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Halt cleared"), 1u);
  EXPECT_EQ(metrics_.commands("resume"), 7);
}

TEST_F(BotTest, CountersAreInTheRegistryUnderTheirNames) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->message(kStranger, "/status");
  stand_in_->message(kChat, "/positions");
  stand_in_->message(kChat, "/nonsense");
  step(*bot);
  // What a scrape sees: the exposition text, one "name{labels} value" a line.
  std::map<std::string, double> values;
  std::istringstream text(registry_.render());
  for (std::string line; std::getline(text, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    std::string key = line.substr(0, space);  // name{label="value"} -> name{label=value}
    std::erase(key, '"');
    values[key] = std::stod(line.substr(space + 1));
  }
  EXPECT_EQ(values["quant_bot_ignored_updates_total"], 1);
  EXPECT_EQ(values["quant_bot_commands_total{command=positions}"], 1);
  EXPECT_EQ(values["quant_bot_commands_total{command=unknown}"], 1);
  EXPECT_EQ(values["quant_bot_alerts_sent_total{kind=feed_stale}"], 1);  // WIN has no data at all
  EXPECT_TRUE(values.count("quant_bot_api_errors_total"));
  EXPECT_TRUE(values.count("quant_bot_alerts_sent_total{kind=summary}"));
}

TEST_F(BotTest, FillAlertPerFillNeverLostNorRepeated) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  publish_fill("E1", 2, 118250);
  publish_fill("E2", 1, 118255);
  step(*bot);
  auto texts = stand_in_->texts(kChat);
  EXPECT_EQ(count_containing(texts, "FILL WIN BUY 2 @ 118250"), 1u);
  EXPECT_EQ(count_containing(texts, "FILL WIN BUY 1 @ 118255"), 1u);

  // The Bot API down for longer than the retries: the fill waits, then goes once.
  stand_in_->fail("sendMessage", 500, 3);
  publish_fill("E3", 3, 118260);
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "FILL WIN BUY 3"), 0u);
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "FILL WIN BUY 3"), 1u);
  EXPECT_EQ(metrics_.alerts_sent("fill"), 3);

  // A restart sends nothing again.
  bot.reset();
  bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot, 2);
  texts = stand_in_->texts(kChat);
  EXPECT_EQ(count_containing(texts, "FILL WIN"), 3u);
}

TEST_F(BotTest, BreakerNearOncePerDayPerSymbol) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  publish_metrics("WIN", now_ms(), 99000, 100000);  // -1 %: not near
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "BREAKER NEAR"), 0u);
  publish_metrics("WIN", now_ms(), 97700, 100000);  // -2.3 % ≤ -0.7 × 3 %
  publish_metrics("WIN", now_ms(), 97600, 100000);
  step(*bot);
  bot.reset();
  bot = make_bot();
  ASSERT_TRUE(bot);
  publish_metrics("WIN", now_ms(), 97500, 100000);
  step(*bot);
  const auto texts = stand_in_->texts(kChat);
  ASSERT_EQ(count_containing(texts, "BREAKER NEAR: WIN drawdown -2.30% (breaker at -3.00%)"), 1u);
  EXPECT_EQ(count_containing(texts, "BREAKER NEAR"), 1u);
}

TEST_F(BotTest, FeedStaleWhileTheSessionIsOpen) {
  config_.instruments.push_back(open_instrument("WDO"));
  InstrumentSpec closed = open_instrument("DOL");
  closed.weekdays = {};  // never trades: never stale
  config_.instruments.push_back(closed);
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  publish_tick("WIN", now_ms() - 20'000);  // 20 s old, limit 5 s
  publish_tick("WDO", now_ms());
  step(*bot, 2);
  auto texts = stand_in_->texts(kChat);
  EXPECT_EQ(count_containing(texts, "FEED STALE: WIN"), 1u);
  EXPECT_EQ(count_containing(texts, "FEED STALE: WDO"), 0u);
  EXPECT_EQ(count_containing(texts, "FEED STALE: DOL"), 0u);
  bot.reset();
  bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "FEED STALE: WIN"), 1u) << "not again after a restart";
  publish_tick("WIN", now_ms());
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Feed back: WIN"), 1u);
}

TEST_F(BotTest, DailySummarySendsAPngChart) {
  const std::int64_t day_ms = now_ms() / 86'400'000 * 86'400'000;
  skew_ms_ = day_ms + 23 * 3'600'000 + 59 * 60'000 + 30'000 - now_ms();  // today 23:59:30 UTC
  for (int i = 0; i < 60; ++i) publish_metrics("WIN", day_ms + 13 * 3'600'000 + i * 60'000, 100000 + 40.0 * i - (i % 7) * 90, 100000);
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot, 2);
  auto photos = stand_in_->requests("sendPhoto");
  ASSERT_EQ(photos.size(), 1u);
  const json& p = photos[0];
  EXPECT_EQ(p["chat_id"], "111");
  const std::string head = p["photo_head"];
  EXPECT_EQ(head.substr(0, 16), "89504e470d0a1a0a") << "PNG signature";
  EXPECT_EQ(head.substr(24, 8), "49484452") << "IHDR first";
  EXPECT_EQ(head.substr(32, 16), "0000032000000190") << "800 x 400 pixels";
  EXPECT_GT(p["photo_size"].get<int>(), 2000);
  EXPECT_NE(p["caption"].get<std::string>().find("Daily summary"), std::string::npos);
  EXPECT_NE(p["caption"].get<std::string>().find("WIN: realised"), std::string::npos);
  bot.reset();
  bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot);
  EXPECT_EQ(stand_in_->requests("sendPhoto").size(), 1u) << "one summary per day, restarts included";
  EXPECT_EQ(metrics_.alerts_sent("summary"), 1);
}

TEST_F(BotTest, AMissedSummaryIsSentTheNextMorning) {
  const std::int64_t day_ms = now_ms() / 86'400'000 * 86'400'000;
  skew_ms_ = day_ms + 10 * 3'600'000 - now_ms();  // today 10:00 UTC, before today's summary time
  const std::int64_t yesterday = day_ms - 86'400'000;
  for (int i = 0; i < 30; ++i) publish_metrics("WIN", yesterday + 13 * 3'600'000 + i * 60'000, 100000 - 10.0 * i, 100000);
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot, 2);
  auto photos = stand_in_->requests("sendPhoto");
  ASSERT_EQ(photos.size(), 1u);
  const std::string date = format_utc(Timestamp(std::chrono::milliseconds(yesterday))).substr(0, 10);
  EXPECT_NE(photos[0]["caption"].get<std::string>().find("Daily summary " + date), std::string::npos)
      << photos[0]["caption"];
  EXPECT_NE(photos[0]["caption"].get<std::string>().find("day -290.00"), std::string::npos) << photos[0]["caption"];
}

TEST_F(BotTest, RestartDoesNotReplayCommands) {
  {
    auto bot = make_bot();
    ASSERT_TRUE(bot);
    stand_in_->message(kChat, "/halt once only");
    ASSERT_TRUE(bot->poll_commands());  // then "crash": no further getUpdates confirmed the update
  }
  ASSERT_TRUE(stream::clear_halt(redis.endpoint()));
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  step(*bot, 2);
  auto halt = stream::read_halt(redis.endpoint());
  ASSERT_TRUE(halt);
  EXPECT_FALSE(*halt) << "the /halt ran again after the restart";
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Halt set: once only"), 1u);
  const auto polls = stand_in_->requests("getUpdates");
  ASSERT_GE(polls.size(), 2u);
  EXPECT_EQ(polls[1]["offset"], polls[0]["offset"].get<std::int64_t>() == 0 ? 1001 : polls[0]["offset"].get<std::int64_t>() + 1);
}

TEST_F(BotTest, RetriesAfter429) {
  config_.instruments.clear();  // no feed-stale alert among the messages
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->fail("sendMessage", 429, 1, 1);
  stand_in_->message(kChat, "/help");
  const auto start = std::chrono::steady_clock::now();
  step(*bot);
  const auto waited = std::chrono::steady_clock::now() - start;
  const auto sends = stand_in_->requests("sendMessage");
  ASSERT_EQ(sends.size(), 2u) << "one 429, one retry";
  EXPECT_GE(sends[1]["time"].get<double>() - sends[0]["time"].get<double>(), 0.95) << "retry_after honoured";
  EXPECT_GE(waited, 950ms);
  EXPECT_EQ(stand_in_->texts(kChat).size(), 1u) << "delivered once";
  EXPECT_EQ(metrics_.api_errors(), 1);
}

TEST_F(BotTest, BadAnswersNeverCrashAndTheTokenIsNeverLogged) {
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  stand_in_->fail("getUpdates", 502, 3);  // an HTML page from a proxy
  step(*bot);
  stand_in_->fail("getUpdates", 500, 3);
  step(*bot);
  publish_fill("E9", 1, 100);
  stand_in_->fail("sendMessage", 400, 1);
  step(*bot);
  // A wrong token (401) and nothing listening at all.
  ApiConfig wrong = api_config();
  wrong.token = "987654321:WRONG-token";
  auto telegram = TelegramApi::create(wrong, &metrics_, [this](const std::string& l) { log(l); });
  ASSERT_TRUE(telegram);
  auto answer = telegram->send_message(kChat, "x");
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("401"), std::string::npos);
  EXPECT_EQ(answer.error().message.find("WRONG-token"), std::string::npos);
  ApiConfig dead = api_config();
  dead.base_url = "http://127.0.0.1:" + std::to_string(quant::testing::free_port());
  auto offline = make_bot(dead);
  ASSERT_TRUE(offline);
  step(*offline);
  ASSERT_FALSE(logs_.empty());
  bool saw_http = false, saw_refused = false;
  for (const auto& l : logs_) {
    EXPECT_EQ(l.find(kToken), std::string::npos) << l;
    EXPECT_EQ(l.find("AAtest-SECRET"), std::string::npos) << l;
    saw_http = saw_http || l.find("HTTP 502") != std::string::npos;
    saw_refused = saw_refused || l.find("no answer") != std::string::npos;
  }
  EXPECT_TRUE(saw_http);
  EXPECT_TRUE(saw_refused);
  std::ifstream state(config_.state_file);
  std::stringstream text;
  text << state.rdbuf();
  EXPECT_EQ(text.str().find("AAtest-SECRET"), std::string::npos);
}

TEST_F(BotTest, RedisOutageIsNotAStaleFeed) {
  stream::Endpoint quick = redis.endpoint();
  quick.reconnect.give_up_after = 300ms;
  quick.connect_timeout = 100ms;
  endpoint_ = quick;
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  publish_tick("WIN", now_ms());
  step(*bot);
  redis.stop();
  stand_in_->message(kChat, "/status");
  step(*bot, 2);  // logged, not fatal
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "FEED STALE"), 0u) << "Redis down says nothing about the feed";
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Trading: UNKNOWN"), 1u) << "/status says it cannot tell";
  ASSERT_EQ(redis.start(), "");
  skew_ms_ = 20'000;  // the tick is 20 s old now (limit 5 s)
  step(*bot);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "FEED STALE: WIN"), 1u) << "and judged again once Redis is back";
}

TEST(ParseUpdatesTest, OddAnswersGiveHarmlessUpdatesNeverACrash) {
  auto ok = parse_updates(
      R"([{"update_id": 7, "message": {"chat": {"id": -100123}, "text": "/status"}},
          {"update_id": 8, "edited_message": {"chat": {"id": 5}, "text": "/halt"}},
          {"update_id": 9, "message": {"chat": {"id": "5"}, "text": "/halt"}},
          {"update_id": 10, "message": {"chat": {"id": 5}, "text": 42}},
          {"update_id": "11"}, 12, null,
          {"update_id": 13, "message": {"chat": {"id": 5}, "photo": []}}])");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 5u);
  EXPECT_EQ((*ok)[0].update_id, 7);
  EXPECT_EQ((*ok)[0].chat_id, -100123);
  EXPECT_EQ((*ok)[0].text, "/status");
  EXPECT_EQ((*ok)[1].chat_id, 0) << "an edit is not a command";
  EXPECT_EQ((*ok)[2].chat_id, 0) << "a chat id that is not a number";
  EXPECT_EQ((*ok)[3].text, "");
  EXPECT_EQ((*ok)[4].update_id, 13);
  EXPECT_EQ((*ok)[4].text, "");
  for (const char* bad : {"", "{}", "{\"ok\": true}", "[1, 2", "null", "\"text\"", "[[[[[[[[[[[["}) {
    EXPECT_FALSE(parse_updates(bad)) << bad;
  }
  EXPECT_TRUE(parse_updates("[]"));
}

/// A real Prometheus (Debian's `prometheus`) on a free port, evaluating `rules`
/// every second and scraping nothing; stopped with the object.
class PrometheusServer {
 public:
  PrometheusServer(const fs::path& dir, const std::string& rules) : dir_(dir) {
    fs::create_directories(dir_);
    set_rules(rules);
    std::ofstream(dir_ / "prometheus.yml") << "global:\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\n";
    port_ = quant::testing::free_port();
    pid_ = spawn({"prometheus", "--config.file=" + (dir_ / "prometheus.yml").string(),
                  "--storage.tsdb.path=" + (dir_ / "data").string(),
                  "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--web.enable-lifecycle",
                  "--log.level=warn"});
    client_.emplace(std::move(*http::Client::create("bot-test")));
    for (int i = 0; i < 200 && !ready_; ++i) {
      http::Request r;
      r.url = url() + "/-/ready";
      auto answer = client_->perform(r);
      ready_ = answer && answer->status == 200;
      if (!ready_) std::this_thread::sleep_for(50ms);
    }
  }
  ~PrometheusServer() { stop(); }
  void stop() { stop_child(pid_); }
  void set_rules(const std::string& rules) { std::ofstream(dir_ / "rules.yml") << rules; }
  bool reload() {
    http::Request r;
    r.url = url() + "/-/reload";
    r.method = "POST";
    auto answer = client_->perform(r);
    return answer && answer->status == 200;
  }
  bool ready() const { return ready_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
  std::optional<http::Client> client_;
};

bool have_prometheus() { return std::system("command -v prometheus > /dev/null 2>&1") == 0; }

TEST_F(BotTest, PrometheusAlertsAreForwardedOnceAndTheirResolutionToo) {
  if (!have_prometheus()) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && *ci != '\0') FAIL() << "prometheus is not installed, and CI always has it";
    GTEST_SKIP() << "prometheus is not installed (scripts/setup.sh installs it)";
  }
  const std::string firing = R"(groups:
  - name: t
    rules:
      - alert: ConsumerLag
        expr: vector(1)
        labels: {severity: warning}
        annotations: {summary: "quant live is 1500 entries behind", description: "md:tick:WIN, group signal"}
      - alert: HaltRaised
        expr: vector(1)
)";
  PrometheusServer prom(dir_ / "prometheus", firing);
  ASSERT_TRUE(prom.ready()) << "prometheus did not become ready";
  config_.prometheus_url = prom.url();
  config_.prometheus_every = 0s;
  auto wait_for = [&](Bot& bot, const std::string& needle, std::size_t count = 1) {
    for (int i = 0; i < 100 && count_containing(stand_in_->texts(kChat), needle) < count; ++i) {
      step(bot);
      std::this_thread::sleep_for(100ms);
    }
    return count_containing(stand_in_->texts(kChat), needle);
  };
  {
    auto bot = make_bot();
    ASSERT_TRUE(bot);
    ASSERT_EQ(wait_for(*bot, "ALERT ConsumerLag"), 1u);
    const auto texts = stand_in_->texts(kChat);
    EXPECT_EQ(count_containing(texts, "(warning): quant live is 1500 entries behind\nmd:tick:WIN, group signal"), 1u);
    EXPECT_EQ(count_containing(texts, "HaltRaised"), 0u) << "the bot raises halts itself: not forwarded twice";
    step(*bot, 3);
  }
  // A restart remembers what it announced: nothing again while it fires.
  {
    auto bot = make_bot();
    ASSERT_TRUE(bot);
    step(*bot, 3);
    EXPECT_EQ(count_containing(stand_in_->texts(kChat), "ALERT ConsumerLag"), 1u);
    // Prometheus away: no verdict, nothing resolved, one log line.
    prom.stop();
    step(*bot, 3);
    EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Resolved"), 0u);
    std::size_t logged = 0;
    for (const auto& l : logs_) logged += l.find("bot: Prometheus at " + prom.url()) != std::string::npos;
    EXPECT_EQ(logged, 1u);
  }
  PrometheusServer again(dir_ / "prometheus2", "groups: []\n");
  ASSERT_TRUE(again.ready());
  config_.prometheus_url = again.url();
  auto bot = make_bot();
  ASSERT_TRUE(bot);
  EXPECT_EQ(wait_for(*bot, "Resolved: ConsumerLag"), 1u);
  step(*bot, 3);
  EXPECT_EQ(count_containing(stand_in_->texts(kChat), "Resolved: ConsumerLag"), 1u);
  EXPECT_EQ(metrics_.alerts_sent("prometheus"), 2);
  // It fires again: a new announcement.
  again.set_rules(firing);
  ASSERT_TRUE(again.reload());
  EXPECT_EQ(wait_for(*bot, "ALERT ConsumerLag", 2), 2u);
}

TEST(PrometheusAlertsTest, OnlyFiringAlertsWithANameAndBadBodiesAreErrors) {
  auto ok = parse_prometheus_alerts(R"({"status":"success","data":{"alerts":[
      {"labels":{"alertname":"A","severity":"critical","instance":"x"},"annotations":{"summary":"s"},"state":"firing","activeAt":"2026-12-07T10:00:00Z"},
      {"labels":{"alertname":"B"},"state":"pending"},
      {"labels":{"instance":"y"},"state":"firing"},
      {"labels":{"instance":"z","alertname":"A"},"state":"firing"}]}})");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].name, "A");
  EXPECT_EQ((*ok)[0].severity, "critical");
  EXPECT_EQ((*ok)[0].summary, "s");
  EXPECT_EQ((*ok)[0].active_at, "2026-12-07T10:00:00Z");
  EXPECT_NE((*ok)[0].key, (*ok)[1].key) << "two instances of one rule are two alerts";
  for (const char* bad : {"", "[]", R"({"status":"error","error":"boom"})", R"({"status":"success","data":{}})"}) {
    EXPECT_FALSE(parse_prometheus_alerts(bad)) << bad;
  }
}

TEST(RedactTest, ReplacesEveryOccurrence) {
  EXPECT_EQ(redact("a/botT0K/x T0K", "T0K"), "a/bot<redacted>/x <redacted>");
  EXPECT_EQ(redact("nothing", ""), "nothing");
}

}  // namespace
}  // namespace quant::bot
