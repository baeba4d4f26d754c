#pragma once
/// The paper venue behind `POST /order`: the order gateway (risk engine first,
/// then the backtest's simulated venue run on live bars) for one account over
/// the configured symbols, behind a mutex: HTTP workers submit orders while
/// the price feed thread delivers bars.
///
/// Parses and checks the order body (docs/contracts/order_request.schema.json)
/// and maps gateway errors to HTTP: invalid → 400 naming the field, reuse of a
/// client_order_id with other fields → 409, no price yet → 503.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/instrument.h"
#include "execution/order_gateway.h"
#include "risk/risk_engine.h"
#include "serve/service.h"

namespace quant::serve {

struct PaperSymbol {
  InstrumentSpec spec;
  risk::RiskConfig risk;
  int slippage_ticks = 0;
};

struct PaperDeskConfig {
  double initial_equity = 100000;
  int atr_period = 14;
  std::vector<PaperSymbol> symbols;
};

/// Parses an order body into a request; the error names the field.
tl::expected<execution::OrderRequest, ApiError> parse_order_body(std::string_view body);

class PaperDesk final : public OrderDesk {
 public:
  static Expected<std::unique_ptr<PaperDesk>> create(const PaperDeskConfig& config, Metrics* metrics);
  ~PaperDesk() override;

  Answer submit(std::string_view body) override;
  bool ready(std::string& reason) const override;
  /// A closed 1-minute bar of `symbol` (time order per symbol).
  void on_bar(const std::string& symbol, const Bar& bar);

  double equity() const;
  bool halted() const;

 private:
  PaperDesk() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Metrics* metrics_ = nullptr;
  mutable std::mutex mutex_;
};

}  // namespace quant::serve
