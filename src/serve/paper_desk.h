#pragma once
/// The paper venue behind `POST /order`: the order gateway (risk engine and
/// session rules first, then the trading book and the backtest's fill
/// simulator run on live bars) for one account over the configured symbols,
/// behind a mutex: HTTP workers submit orders while the price feed thread
/// delivers bars.
///
/// Parses and checks the order body (docs/contracts/order_request.schema.json)
/// and maps gateway errors to HTTP: invalid → 400 naming the field, reuse of a
/// client_order_id with other fields → 409, no price yet or still catching up
/// with the lake → 503.
///
/// Every order decision, order end, trade, risk event, decision and day goes
/// to the audit log (one JSON object per line, appended and flushed as it
/// happens) instead of memory; a desk that cannot write its audit log refuses
/// to start.

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/instrument.h"
#include "engine/ports.h"
#include "engine/trading_book.h"
#include "execution/order_gateway.h"
#include "risk/risk_engine.h"
#include "serve/service.h"

namespace quant::serve {

struct PaperSymbol {
  InstrumentSpec spec;
  risk::RiskConfig risk;
  engine::SessionRules session;  ///< the backtest's session rules
  int slippage_ticks = 0;
};

struct PaperDeskConfig {
  double initial_equity = 100000;
  int atr_period = 14;
  std::vector<PaperSymbol> symbols;
  /// The audit log (JSON lines, appended; its directory is created). Empty: none.
  std::string audit_log;
  /// The order journal (execution::Journal): every order taken, fsynced
  /// before its answer. After a restart a client_order_id it holds is
  /// answered from it (the same fields: the recorded reply, replayed; other
  /// fields: 409), never placed again. Empty: none (idempotency lasts as long
  /// as the process). The desk's positions are not restored from it: the
  /// paper account starts afresh, which the answer of a replayed id says.
  std::string journal;
  /// What stamps an order: false = the wall clock (live bars: an order acts
  /// from the first bar that opens after it arrives); true = the close of the
  /// latest bar the desk has seen (a market replayed from history: an order
  /// acts from the next bar, as a backtest's decision at that close would).
  bool bar_clock = false;
};

/// Parses an order body into a request; the error names the field.
tl::expected<execution::OrderRequest, ApiError> parse_order_body(std::string_view body);

class PaperDesk final : public OrderDesk {
 public:
  /// `clock` stamps orders (null: config.bar_clock decides) and must outlive the desk.
  /// Fails when the configuration is invalid or the audit log cannot be opened.
  static Expected<std::unique_ptr<PaperDesk>> create(const PaperDeskConfig& config, Metrics* metrics,
                                                     const engine::Clock* clock = nullptr);
  ~PaperDesk() override;

  /// 503 until caught_up() has been called and every symbol has a price.
  Answer submit(std::string_view body) override;
  bool ready(std::string& reason) const override;
  /// A closed 1-minute bar of `symbol` (time order per symbol).
  void on_bar(const std::string& symbol, const Bar& bar);
  /// The start-up replay of the lake is done: the desk's market is now, and
  /// orders are taken. Until then an order would be checked against stale prices.
  void caught_up();

  double equity() const;
  bool halted() const;
  std::int64_t position(const std::string& symbol) const;

 private:
  PaperDesk() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Metrics* metrics_ = nullptr;
  mutable std::mutex mutex_;
};

}  // namespace quant::serve
