#pragma once
/// Test helpers (not part of the library): a free loopback port, session
/// settings in a temporary directory, and the simulated exchange — replay's
/// Terminal (the backtest's fill simulator) behind a real QuickFIX acceptor —
/// driven bar by bar by the test.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/test_net.h"
#include "fix/fix_link.h"
#include "replay/terminal.h"

namespace quant::fix::testing {

using quant::testing::free_port;

inline std::string dictionary() { return std::string(QUANT_SOURCE_DIR) + "/config/fix/FIX44.xml"; }

/// The two sides' settings: the platform "QUANT" connects to the exchange "B3SIM".
inline SessionSettings venue_settings(const std::filesystem::path& dir, int port) {
  SessionSettings s;
  s.acceptor = false;
  s.port = port;
  s.sender_comp_id = "QUANT";
  s.target_comp_id = "B3SIM";
  s.heartbeat_s = 5;
  s.reconnect_s = 1;
  s.store_dir = (dir / "venue_store").string();
  s.dictionary = dictionary();
  return s;
}

inline SessionSettings exchange_settings(const std::filesystem::path& dir, int port) {
  SessionSettings s = venue_settings(dir, port);
  s.acceptor = true;
  s.sender_comp_id = "B3SIM";
  s.target_comp_id = "QUANT";
  s.store_dir = (dir / "exchange_store").string();
  return s;
}

/// The simulated exchange: replay's Terminal answering a FIX acceptor.
class SimulatedExchange {
 public:
  SimulatedExchange(const SessionSettings& settings, std::vector<replay::InstrumentSetup> instruments) {
    auto t = replay::Terminal::create(instruments, replay::ReplayMode::Bars);
    EXPECT_TRUE(t.has_value());
    terminal_ = std::move(*t);
    auto x = FixExchange::create(settings);
    EXPECT_TRUE(x.has_value()) << (x ? "" : x.error().message);
    fix_ = std::move(*x);
    auto started = fix_->start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
  }

  /// Applies the requests that arrived (waiting up to `wait` for the first); how many.
  std::size_t serve(std::chrono::milliseconds wait) {
    std::size_t n = 0;
    for (const bridge::Body& request : fix_->poll(wait)) {
      std::vector<bridge::Body> out;
      terminal_->on_request(request, out);
      auto sent = fix_->answer(request, out);
      EXPECT_TRUE(sent.has_value()) << (sent ? "" : sent.error().message);
      ++n;
    }
    return n;
  }

  /// One bar as replay plays it: the open (day check), the fills at the open, the rest of the bar.
  void bar(const Bar& b) {
    replay::Event e;
    e.bar = b;
    for (auto kind : {replay::EventKind::Open, replay::EventKind::OpenFills, replay::EventKind::Close}) {
      e.kind = kind;
      std::vector<bridge::Body> out;
      terminal_->on_event(e, out);
      auto sent = fix_->report(out);
      EXPECT_TRUE(sent.has_value()) << (sent ? "" : sent.error().message);
    }
  }

  std::int64_t position(const std::string& symbol) const {
    for (const auto& p : terminal_->positions().positions)
      if (p.symbol == symbol) return p.qty;
    return 0;
  }
  replay::Terminal& terminal() { return *terminal_; }
  FixExchange& fix() { return *fix_; }

 private:
  std::unique_ptr<replay::Terminal> terminal_;
  std::unique_ptr<FixExchange> fix_;
};

}  // namespace quant::fix::testing
