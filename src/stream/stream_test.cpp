#include "stream/stream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "stream/test_redis.h"

namespace quant::stream {
namespace {

using namespace std::chrono_literals;
/// Every test here runs against its own redis-server (test_redis.h).
class RedisStreamTest : public quant::testing::RedisTest {};

Fields one(std::string key, std::string value) { return Fields{{std::move(key), std::move(value)}}; }

/// Reads until `want` entries came back (or `rounds` reads returned nothing), acknowledging each batch.
std::vector<Entry> drain(Consumer& consumer, std::size_t want, std::size_t count, int rounds = 20) {
  std::vector<Entry> all;
  int empty = 0;
  while (all.size() < want && empty < rounds) {
    auto batch = consumer.read(count, 50ms);
    EXPECT_TRUE(batch) << batch.error().message;
    if (!batch) break;
    if (batch->empty()) ++empty;
    EXPECT_TRUE(consumer.ack(*batch));
    all.insert(all.end(), batch->begin(), batch->end());
  }
  return all;
}

TEST(EntryTest, AnIntegerFieldIsWholeDigitsOrNothing) {
  const Entry e{"s", {1, 0}, {{"recv_ns", "1700000000123456789"}, {"bad", "12x3"}, {"neg", "-5"}, {"empty", ""}}};
  EXPECT_EQ(e.integer("recv_ns"), 1700000000123456789);
  EXPECT_EQ(e.integer("neg"), -5);
  EXPECT_FALSE(e.integer("bad"));
  EXPECT_FALSE(e.integer("empty"));
  EXPECT_FALSE(e.integer("absent"));
}

TEST(StreamIdTest, ParsesPrintsAndOrdersAsRedisDoes) {
  auto id = StreamId::parse("1700000000000-7");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1700000000000u);
  EXPECT_EQ(id->seq, 7u);
  EXPECT_EQ(id->str(), "1700000000000-7");
  EXPECT_EQ(StreamId::parse("5")->seq, 0u);
  EXPECT_LT((StreamId{1, 9}), (StreamId{2, 0}));
  EXPECT_LT((StreamId{2, 0}), (StreamId{2, 1}));
  EXPECT_FALSE(StreamId::parse("x-1"));
  EXPECT_FALSE(StreamId::parse("1-"));
  EXPECT_FALSE(StreamId::parse(""));
  EXPECT_EQ(tick_key("WIN"), "md:tick:WIN");
  EXPECT_EQ(bar_key("WIN"), "md:bar1m:WIN");
}

TEST_F(RedisStreamTest, PipelinedAddsTrimApproximatelyToMaxlen) {
  auto producer = Producer::connect(redis.endpoint(), 100);
  ASSERT_TRUE(producer) << producer.error().message;
  for (int i = 0; i < 1000; ++i) producer->add("md:tick:WIN", one("i", std::to_string(i)));
  EXPECT_EQ(producer->queued(), 1000u);
  auto added = producer->flush();
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_EQ(added->size(), 1000u);
  EXPECT_EQ(producer->queued(), 0u);
  for (std::size_t i = 1; i < added->size(); ++i) {
    ASSERT_TRUE((*added)[i].id);
    EXPECT_LT(*(*added)[i - 1].id, *(*added)[i].id);
  }
  auto kept = read_range(redis.endpoint(), "md:tick:WIN");
  ASSERT_TRUE(kept) << kept.error().message;
  // `~` trims whole nodes (100 entries each by default): at least maxlen stay, far fewer than 1000.
  EXPECT_GE(kept->size(), 100u);
  EXPECT_LE(kept->size(), 300u);
  EXPECT_EQ(kept->back().field("i"), "999");
  auto last = producer->last("md:tick:WIN");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->id, *added->back().id);
  EXPECT_EQ((*last)->field("i"), "999");
  auto none = producer->last("md:tick:NONE");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(RedisStreamTest, ExplicitIdDuplicatesAreRefusedNotDoubled) {
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer) << producer.error().message;
  producer->add(kOrders, StreamId{100, 1}, one("order", "a"));
  producer->add(kOrders, StreamId{100, 2}, one("order", "b"));
  auto first = producer->flush();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE((*first)[1].duplicate);
  EXPECT_EQ((*first)[1].id, (StreamId{100, 2}));
  // A retry after a crash sends 100-2 again, then the next one.
  producer->add(kOrders, StreamId{100, 2}, one("order", "b"));
  producer->add(kOrders, StreamId{100, 1}, one("order", "a"));
  producer->add(kOrders, StreamId{100, 3}, one("order", "c"));
  auto second = producer->flush();
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->size(), 3u);
  EXPECT_TRUE((*second)[0].duplicate);
  EXPECT_FALSE((*second)[0].id);
  EXPECT_TRUE((*second)[1].duplicate);
  EXPECT_FALSE((*second)[2].duplicate);
  EXPECT_EQ((*second)[2].id, (StreamId{100, 3}));
  auto all = read_range(redis.endpoint(), kOrders);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->at(2).field("order"), "c");
}

TEST_F(RedisStreamTest, AFlushRefusedForAnotherReasonNamesTheStreamAndSendsTheRest) {
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer) << producer.error().message;
  ASSERT_TRUE(set_halt(redis.endpoint(), Halt{"test", "2026-01-01T00:00:00Z", 1.5, "test"}));
  producer->add("md:tick:A", one("i", "0"));
  producer->add(kHalt, one("i", "1"));  // a hash: WRONGTYPE
  producer->add("md:tick:B", one("i", "2"));
  auto flushed = producer->flush();
  ASSERT_FALSE(flushed);
  EXPECT_NE(flushed.error().message.find("XADD risk:halt (entry 2 of 3"), std::string::npos)
      << flushed.error().message;
  EXPECT_EQ(producer->queued(), 0u);
  auto b = read_range(redis.endpoint(), "md:tick:B");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 1u);
}

TEST_F(RedisStreamTest, OneAckCoversEntriesOfEveryStream) {
  std::vector<std::string> keys;
  for (int s = 0; s < 20; ++s) keys.push_back(tick_key("S" + std::to_string(s)));
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer) << producer.error().message;
  for (std::uint64_t i = 1; i <= 400; ++i) producer->add(keys[i % keys.size()], StreamId{i, 0}, one("i", "x"));
  ASSERT_TRUE(producer->flush());
  auto c = Consumer::connect(redis.endpoint(), "g", "c1", keys);
  ASSERT_TRUE(c) << c.error().message;
  std::vector<Entry> all;
  for (int round = 0; round < 50 && all.size() < 400; ++round) {
    auto batch = c->read(1000, 20ms);
    ASSERT_TRUE(batch) << batch.error().message;
    all.insert(all.end(), batch->begin(), batch->end());
  }
  ASSERT_EQ(all.size(), 400u);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].id, (StreamId{i + 1, 0}));
  EXPECT_EQ(*c->pending(), 400);
  ASSERT_TRUE(c->ack(all));
  EXPECT_EQ(*c->pending(), 0);
  auto nothing = c->read(10, 20ms);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
}

TEST_F(RedisStreamTest, UnacknowledgedEntriesComeBackToTheSameConsumerName) {
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer);
  for (int i = 1; i <= 5; ++i) producer->add(kFills, StreamId{static_cast<std::uint64_t>(i), 0}, one("n", "x"));
  ASSERT_TRUE(producer->flush());
  {
    auto c = Consumer::connect(redis.endpoint(), "logger", "logger-1", {std::string(kFills)});
    ASSERT_TRUE(c) << c.error().message;
    auto got = c->read(10, 100ms);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->size(), 5u);
    // A second read does not hand out the same (unacknowledged) entries again.
    auto again = c->read(10, 20ms);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->empty());
    EXPECT_EQ(*c->pending(), 5);
  }  // crashed before acknowledging
  auto c = Consumer::connect(redis.endpoint(), "logger", "logger-1", {std::string(kFills)});
  ASSERT_TRUE(c);
  auto back = c->read(3, 100ms);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ(back->front().id, (StreamId{1, 0}));
  ASSERT_TRUE(c->ack(*back));
  EXPECT_EQ(*c->pending(), 2);
  auto rest = c->read(10, 100ms);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->back().id, (StreamId{5, 0}));
  ASSERT_TRUE(c->ack(*rest));
  EXPECT_EQ(*c->pending(), 0);
  auto after = Consumer::connect(redis.endpoint(), "logger", "logger-1", {std::string(kFills)});
  ASSERT_TRUE(after);
  auto nothing = after->read(10, 20ms);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
}

TEST_F(RedisStreamTest, AnotherConsumerClaimsWhatADeadOneLeftPending) {
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer);
  for (int i = 0; i < 4; ++i) producer->add(signal_key("WIN"), one("side", "buy"));
  ASSERT_TRUE(producer->flush());
  auto dead = Consumer::connect(redis.endpoint(), "bridge", "bridge-a", {signal_key("WIN")});
  auto alive = Consumer::connect(redis.endpoint(), "bridge", "bridge-b", {signal_key("WIN")});
  ASSERT_TRUE(dead && alive);
  auto taken = dead->read(3, 50ms);
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 3u);
  auto own = alive->read(10, 50ms);  // the fourth, new
  ASSERT_TRUE(own);
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ(*alive->pending(), 4);
  std::this_thread::sleep_for(120ms);
  auto claimed = alive->claim_stale(100ms);
  ASSERT_TRUE(claimed) << claimed.error().message;
  EXPECT_EQ(*claimed, 4u);  // its own idle one too, but it is not returned twice
  auto got = alive->read(10, 50ms);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ((*got)[i].id, (*taken)[i].id);
  ASSERT_TRUE(alive->ack(*got));
  ASSERT_TRUE(alive->ack(*own));
  EXPECT_EQ(*alive->pending(), 0);
}

// XINFO GROUPS: pending (delivered, not acknowledged) and lag (not yet
// delivered) per group; a stream that does not exist yet has no groups.
TEST_F(RedisStreamTest, GroupInfoReportsPendingAndLagPerGroup) {
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer);
  auto consumer = Consumer::connect(redis.endpoint(), "signal", "live", {tick_key("WIN")});
  ASSERT_TRUE(consumer);
  for (int i = 0; i < 5; ++i) producer->add(tick_key("WIN"), one("p", "1"));
  ASSERT_TRUE(producer->flush());
  auto got = consumer->read(2, 10ms);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  auto info = group_info(redis.endpoint(), {tick_key("WIN"), tick_key("WDO")});
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_EQ(info->size(), 1u);  // md:tick:WDO does not exist
  EXPECT_EQ((*info)[0].stream, tick_key("WIN"));
  EXPECT_EQ((*info)[0].group, "signal");
  EXPECT_EQ((*info)[0].consumers, 1);
  EXPECT_EQ((*info)[0].pending, 2);
  EXPECT_EQ((*info)[0].lag, 3);
  ASSERT_TRUE(consumer->ack(*got));
  info = group_info(redis.endpoint(), {tick_key("WIN")});
  ASSERT_TRUE(info);
  EXPECT_EQ((*info)[0].pending, 0);
  EXPECT_EQ((*info)[0].lag, 3);
}

// Entries with global ids spread at random over three streams come back in
// strict id order and all of them, whatever `count` (which cuts streams).
TEST_F(RedisStreamTest, MergedReadIsInIdOrderAcrossStreamsForAnyCount) {
  const std::vector<std::string> keys{tick_key("S0"), tick_key("S1"), tick_key("S2")};
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    std::mt19937 rng(seed);
    const std::string prefix = "p" + std::to_string(seed) + ":";
    std::vector<std::string> streams;
    for (const auto& k : keys) streams.push_back(prefix + k);
    auto producer = Producer::connect(redis.endpoint());
    ASSERT_TRUE(producer);
    const std::size_t n = 150 + rng() % 150;
    std::uint64_t ms = 1000;
    for (std::size_t i = 0; i < n; ++i) {
      ms += 1 + rng() % 3;
      const auto& s = streams[rng() % streams.size()];
      producer->add(s, StreamId{ms, rng() % 2}, one("i", std::to_string(i)));
    }
    auto added = producer->flush();
    ASSERT_TRUE(added) << added.error().message;
    auto consumer = Consumer::connect(redis.endpoint(), "signal", "signal-1", streams);
    ASSERT_TRUE(consumer) << consumer.error().message;
    std::vector<Entry> all;
    std::uniform_int_distribution<std::size_t> count(1, 7);
    for (int empty = 0; all.size() < n && empty < 3;) {
      auto batch = consumer->read(count(rng), 10ms);
      ASSERT_TRUE(batch) << batch.error().message;
      if (batch->empty()) {
        ++empty;
      }
      // Some batches are acknowledged late or not at all: order must not depend on it.
      if (rng() % 3 != 0) {
        ASSERT_TRUE(consumer->ack(*batch));
      }
      all.insert(all.end(), batch->begin(), batch->end());
    }
    ASSERT_EQ(all.size(), n) << "seed " << seed;
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(all[i].field("i"), std::to_string(i)) << "seed " << seed << " position " << i;
      if (i > 0) {
        ASSERT_LT(all[i - 1].id, all[i].id) << "seed " << seed;
      }
    }
  }
}

TEST_F(RedisStreamTest, HaltFlagIsSetReadAndCleared) {
  auto none = read_halt(redis.endpoint());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  Halt halt{"daily breaker -3%", "2026-01-02T15:04:05Z", 97000.5, "live"};
  ASSERT_TRUE(set_halt(redis.endpoint(), halt));
  auto got = read_halt(redis.endpoint());
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->reason, halt.reason);
  EXPECT_EQ((*got)->time, halt.time);
  EXPECT_EQ((*got)->equity, 97000.5);
  EXPECT_EQ((*got)->by, "live");
  EXPECT_EQ(*clear_halt(redis.endpoint()), true);
  EXPECT_FALSE(read_halt(redis.endpoint())->has_value());
  EXPECT_EQ(*clear_halt(redis.endpoint()), false);
}

TEST_F(RedisStreamTest, SetHaltIfAbsentKeepsTheHaltAlreadyThere) {
  const Halt mine{"from Telegram", "2026-01-02T15:05:00Z", 97000, "telegram:1"};
  auto first = set_halt_if_absent(redis.endpoint(), mine);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(*first) << "no halt was there: it is set";
  EXPECT_EQ((*read_halt(redis.endpoint()))->by, "telegram:1");
  ASSERT_TRUE(clear_halt(redis.endpoint()));
  const Halt breaker{"daily breaker -3%", "2026-01-02T15:04:05Z", 97000.5, "live"};
  ASSERT_TRUE(set_halt(redis.endpoint(), breaker));
  auto second = set_halt_if_absent(redis.endpoint(), mine);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->reason, breaker.reason);
  EXPECT_EQ((*second)->equity, 97000.5);
  auto kept = read_halt(redis.endpoint());
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->reason, breaker.reason);
  EXPECT_EQ((*kept)->time, breaker.time);
  EXPECT_EQ((*kept)->by, "live");
}

// SIGKILL mid-stream, restarted 300 ms later: calls made meanwhile wait and
// then succeed; with the AOF fsynced per write nothing acknowledged is lost,
// and the halt flag is still there.
TEST_F(RedisStreamTest, SurvivesRedisKilledAndRestartedMidStream) {
  const std::vector<std::string> streams{tick_key("WIN"), tick_key("WDO")};
  auto producer = Producer::connect(redis.endpoint());
  auto consumer = Consumer::connect(redis.endpoint(), "signal", "signal-1", streams);
  ASSERT_TRUE(producer && consumer);
  ASSERT_TRUE(set_halt(redis.endpoint(), Halt{"breaker", "2026-01-02T15:00:00Z", 1.0, "live"}));
  std::uint64_t next = 1;
  auto produce = [&](int k) {
    for (int i = 0; i < k; ++i, ++next)
      producer->add(streams[next % 2], StreamId{next, 0}, one("n", std::to_string(next)));
    return producer->flush();
  };
  ASSERT_TRUE(produce(100));
  auto first = drain(*consumer, 40, 20, 5);
  ASSERT_GE(first.size(), 40u);

  redis.kill();
  std::thread restart([&] {
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(redis.start(), "");
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto added = produce(100);  // blocks until the server is back
  const auto waited = std::chrono::steady_clock::now() - t0;
  restart.join();
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_GE(waited, 250ms);
  for (const auto& a : *added) EXPECT_TRUE(a.id || a.duplicate);

  auto rest = drain(*consumer, 200 - first.size(), 20);
  std::set<StreamId> seen;
  for (const auto& e : first) seen.insert(e.id);
  for (const auto& e : rest) seen.insert(e.id);
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(seen.begin()->ms, 1u);
  EXPECT_EQ(seen.rbegin()->ms, 200u);
  EXPECT_EQ(*consumer->pending(), 0);
  auto halt = read_halt(redis.endpoint());
  ASSERT_TRUE(halt && *halt);
  EXPECT_EQ((*halt)->reason, "breaker");
}

// A consumer blocked in read() when Redis dies comes back with what was
// added after the restart.
TEST_F(RedisStreamTest, BlockedReadSurvivesARestart) {
  auto consumer = Consumer::connect(redis.endpoint(), "signal", "s", {tick_key("WIN")});
  ASSERT_TRUE(consumer);
  std::thread chaos([&] {
    std::this_thread::sleep_for(100ms);
    redis.kill();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(redis.start(), "");
    auto producer = Producer::connect(redis.endpoint());
    ASSERT_TRUE(producer);
    producer->add(tick_key("WIN"), one("p", "1"));
    EXPECT_TRUE(producer->flush());
  });
  std::vector<Entry> got;
  for (int i = 0; i < 40 && got.empty(); ++i) {
    auto batch = consumer->read(10, 100ms);
    ASSERT_TRUE(batch) << batch.error().message;
    got = *batch;
  }
  chaos.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].field("p"), "1");
}

// The group vanishing (a restart without persistence; here XGROUP DESTROY) is
// repaired: recreated after the last id this consumer fetched, so nothing
// added meanwhile is skipped and nothing it processed comes again.
TEST_F(RedisStreamTest, LostGroupIsRecreatedAfterTheLastFetchedId) {
  if (std::system("command -v redis-cli >/dev/null 2>&1") != 0) GTEST_SKIP() << "redis-cli is not installed";
  auto producer = Producer::connect(redis.endpoint());
  ASSERT_TRUE(producer);
  for (std::uint64_t i = 1; i <= 5; ++i) producer->add(kFills, StreamId{i, 0}, one("n", std::to_string(i)));
  ASSERT_TRUE(producer->flush());
  auto consumer = Consumer::connect(redis.endpoint(), "logger", "l1", {std::string(kFills)});
  ASSERT_TRUE(consumer);
  auto first = consumer->read(3, 50ms);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 3u);
  ASSERT_TRUE(consumer->ack(*first));
  const std::string destroy =
      "redis-cli -p " + std::to_string(redis.port()) + " XGROUP DESTROY exec:fills logger >/dev/null";
  ASSERT_EQ(std::system(destroy.c_str()), 0);
  for (std::uint64_t i = 6; i <= 7; ++i) producer->add(kFills, StreamId{i, 0}, one("n", std::to_string(i)));
  ASSERT_TRUE(producer->flush());
  auto rest = drain(*consumer, 4, 10);
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest.front().id, (StreamId{4, 0}));
  EXPECT_EQ(rest.back().id, (StreamId{7, 0}));
}

TEST_F(RedisStreamTest, GivesUpAfterThePolicyNamingTheServer) {
  Endpoint endpoint = redis.endpoint();
  endpoint.reconnect.give_up_after = 600ms;
  auto producer = Producer::connect(endpoint);
  ASSERT_TRUE(producer);
  redis.stop();
  producer->add(kOrders, one("o", "1"));
  const auto t0 = std::chrono::steady_clock::now();
  auto added = producer->flush();
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().message.find("127.0.0.1:" + std::to_string(redis.port())), std::string::npos)
      << added.error().message;
  EXPECT_GE(waited, 550ms);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(producer->queued(), 1u);  // kept for a later flush
  auto halt = read_halt(endpoint);
  ASSERT_FALSE(halt);
}

// Several live engines on one hub: leases all-or-none, renewed by their owner,
// released only by it, lapsing after their ttl; order streams registered with
// the bridge's group from their start.
TEST_F(RedisStreamTest, ClaimsAreAllOrNoneAndLapse) {
  const Endpoint e = redis.endpoint();
  auto a = claim(e, {"live:symbol:WIN", "live:group:g1"}, "A", 10s);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, (std::vector<std::string>{"A", "A"}));
  // B wants WDO (free) and WIN (A's): refused, and WDO is not taken either.
  auto b = claim(e, {"live:symbol:WDO", "live:symbol:WIN"}, "B", 10s);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (std::vector<std::string>{"B", "A"}));
  auto wdo = claim(e, {"live:symbol:WDO"}, "C", 300ms);
  ASSERT_TRUE(wdo);
  EXPECT_EQ(*wdo, std::vector<std::string>{"C"});
  // The owner renews; another cannot release it.
  ASSERT_TRUE(claim(e, {"live:symbol:WIN"}, "A", 10s));
  ASSERT_TRUE(release(e, {"live:symbol:WIN"}, "B"));
  EXPECT_EQ(*claim(e, {"live:symbol:WIN"}, "B", 10s), std::vector<std::string>{"A"});
  ASSERT_TRUE(release(e, {"live:symbol:WIN", "live:group:g1"}, "A"));
  EXPECT_EQ(*claim(e, {"live:symbol:WIN"}, "B", 10s), std::vector<std::string>{"B"});
  // C's lease on WDO lapses (a killed owner's lease frees itself).
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(*claim(e, {"live:symbol:WDO"}, "B", 10s), std::vector<std::string>{"B"});
}

TEST_F(RedisStreamTest, RegisteredOrderStreamKeepsItsFirstEntriesForTheBridge) {
  const Endpoint e = redis.endpoint();
  ASSERT_TRUE(register_order_stream(e, "exec:orders:W", "bridge"));
  ASSERT_TRUE(register_order_stream(e, "exec:orders:W", "bridge"));  // idempotent
  ASSERT_TRUE(register_order_stream(e, "exec:orders:D", "bridge"));
  auto producer = Producer::connect(e);
  ASSERT_TRUE(producer);
  producer->add("exec:orders:W", StreamId{1, 1}, one("msg", "first"));
  ASSERT_TRUE(producer->flush());
  auto streams = order_streams(e);
  ASSERT_TRUE(streams);
  EXPECT_EQ(*streams, (std::vector<std::string>{"exec:orders:D", "exec:orders:W"}));
  // The bridge discovers the stream after its first entry and still gets it ("$" does not apply: the group exists).
  auto consumer = Consumer::connect(e, "bridge", "b", *streams, "$");
  ASSERT_TRUE(consumer);
  auto got = drain(*consumer, 1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stream, "exec:orders:W");
  EXPECT_EQ(got[0].field("msg"), "first");
}

}  // namespace
}  // namespace quant::stream
