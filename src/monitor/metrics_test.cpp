#include "monitor/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace quant::monitor {
namespace {

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(MonitorTest, RenderHasBuildInfoProcessHealthAndMetrics) {
  Registry r("live", "1.2.3");
  r.counter("quant_test_events_total", "events", {{"kind", "a"}}).inc(3);
  r.counter("quant_test_events_total", "events", {{"kind", "a"}}).inc();  // the same series
  r.gauge("quant_test_level", "level").set(-0.5);
  r.histogram("quant_test_latency_seconds", "latency", fast_buckets()).observe(0.0012);
  const std::string text = r.render();
  EXPECT_NE(text.find("quant_build_info{command=\"live\",version=\"1.2.3\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("quant_test_events_total{kind=\"a\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("quant_test_level -0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("quant_test_latency_seconds_bucket{le=\"0.0015\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("quant_test_latency_seconds_bucket{le=\"0.001\"} 0"), std::string::npos) << text;
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_start_time_seconds ",
                           "process_open_fds ", "process_max_fds ", "process_virtual_memory_bytes "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
  }
}

TEST(MonitorTest, ProcessStatsAreThisProcesss) {
  auto s = read_process_stats();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_GT(s->resident_bytes, 1e6);
  EXPECT_GT(s->open_fds, 2);  // stdin, stdout, stderr at least
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GT(s->start_time_seconds, now - 3600);  // a test binary started within the hour
  EXPECT_GE(s->cpu_seconds, 0);
}

TEST(MonitorTest, HooksRunAtEachCollect) {
  Registry r("bridge", "x");
  int calls = 0;
  Gauge g = r.gauge("quant_test_hooked", "set by a hook");
  r.on_collect([&] { g.set(++calls); });
  (void)r.render();
  EXPECT_NE(r.render().find("quant_test_hooked 2"), std::string::npos);
}

TEST(MonitorTest, ExpositionServesMetricsOnAFreePort) {
  Registry r("logger", "x");
  r.counter("quant_test_scraped_total", "c").inc(7);
  auto e = Exposition::start("127.0.0.1:0", r);
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_GT((*e)->port(), 0);
  EXPECT_EQ((*e)->url(), "http://127.0.0.1:" + std::to_string((*e)->port()) + "/metrics");
  const std::string body = http_get((*e)->port(), "/metrics");
  EXPECT_NE(body.find("200"), std::string::npos) << body;
  EXPECT_NE(body.find("quant_test_scraped_total 7"), std::string::npos) << body;
  EXPECT_NE(body.find("process_open_fds"), std::string::npos);
  // The same port again: a clear error naming the address.
  const std::string taken = "127.0.0.1:" + std::to_string((*e)->port());
  auto second = Exposition::start(taken, r);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(taken), std::string::npos) << second.error().message;
}

TEST(MonitorTest, BadAddressIsRejected) {
  Registry r("live", "x");
  for (const char* bad : {"9101", ":9101", "127.0.0.1:"}) {
    auto e = Exposition::start(bad, r);
    ASSERT_FALSE(e) << bad;
    EXPECT_NE(e.error().message.find("HOST:PORT"), std::string::npos) << e.error().message;
  }
}

TEST(MonitorTest, DefaultHandlesIgnoreUpdates) {
  Counter c;
  Gauge g;
  Histogram h;
  c.inc();
  g.set(3);
  h.observe(1);
  EXPECT_EQ(c.value(), 0);
  EXPECT_EQ(g.value(), 0);
}

}  // namespace
}  // namespace quant::monitor
