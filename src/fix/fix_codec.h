#pragma once
/// The bridge protocol's order messages ↔ FIX 4.4 (docs/contracts/fix.md).
/// The bridge protocol was made with FIX semantics, so this is a field by
/// field translation, not a second order tracker: the order state machine
/// stays in the engine's TradingBook (platform) and in replay's Terminal
/// (the simulated exchange). What the codecs keep is what FIX needs and the
/// bridge does not carry: the ClOrdID chain of an order (FIX gives every
/// cancel/replace a new ClOrdID and names the order by its latest one; the
/// bridge names it by its first), the fields FIX requires again on F and G
/// (side, quantity, type), and on the exchange's side the quantities an
/// ExecutionReport must state (CumQty, LeavesQty, AvgPx).
///
///   platform (initiator)                         exchange (acceptor)
///   order_new / order_cancel / order_replace ──► D / F / G ──► same bodies
///   order_ack / fill ◄── 8 (ExecutionReport), 9 (OrderCancelReject) ◄── Terminal's answers
///
/// Neither codec is thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "execution/bridge_protocol.h"
#include "fix/fix_session.h"

namespace quant::fix {

namespace bridge = execution::bridge;

/// Who sends the orders, as B3 wants them on every NewOrderSingle, cancel and
/// replace (`[fix]` in config/quant.toml). Empty parties are left out.
struct B3Identity {
  std::string account;                     ///< 1 Account
  std::string security_exchange = "BVMF";  ///< 207
  std::string entering_trader;             ///< 453 entry with 452=36, 447=D
  std::string entering_firm;               ///< 452=7
  std::string sender_location;             ///< 452=54
};

/// FIX field text helpers (shared by both codecs and their tests).
/// A price or quantity as FIX wants it: plain decimal, shortest form that reads back exactly.
std::string format_decimal(double x);
/// UTCTIMESTAMP with milliseconds: YYYYMMDD-HH:MM:SS.sss.
std::string format_utc_ms(std::int64_t unix_ms);
Expected<std::int64_t> parse_utc_ms(std::string_view text);
/// The value of the first `tag` in the body, or null.
const std::string* find_field(const RawMessage& m, int tag);

/// The platform's side: bridge orders out as D/F/G, reports in as bridge bodies.
class VenueCodec {
 public:
  explicit VenueCodec(B3Identity identity) : identity_(std::move(identity)) {}

  /// order_new → D, order_cancel → F, order_replace → G (`now_ms` is the
  /// TransactTime). A cancel or replace of an order this codec never saw
  /// (sent or remembered) is an error; so is any other body.
  Expected<RawMessage> encode(const bridge::Body& order, std::int64_t now_ms);
  /// An order sent before a restart (the journal's): its fields and ClOrdID
  /// become known again without sending it.
  void remember(const bridge::OrderNew& order);
  /// 8 → order_ack (150 ≠ F) or fill (150 = F); 9 → order_ack rejected with
  /// the order's OrdStatus (the bridge's answer to a refused cancel/replace).
  /// nullopt: a report seen before (same ExecID; a resent duplicate).
  /// Errors name the message type and the tag.
  Expected<std::optional<bridge::Body>> decode(const RawMessage& report);

  /// The latest ClOrdID of the order first sent as `original` (itself until a replace is reported).
  std::string current_id(const std::string& original) const;

 private:
  struct Known {
    bridge::OrderNew order;
    std::string current;
  };
  std::string original_of(const std::string& cl_ord_id) const;
  void add_identity(RawMessage& m, const bridge::OrderNew& order) const;

  B3Identity identity_;
  std::unordered_map<std::string, Known> orders_;            // by original ClOrdID
  std::unordered_map<std::string, std::string> original_of_;  // any ClOrdID of the chain → original
  std::unordered_set<std::string> seen_;                      // ExecIDs (8) and ClOrdIDs of 9s
};

/// The exchange's side: D/F/G in as bridge requests (for replay's Terminal),
/// the Terminal's answers out as 8 and 9.
class ExchangeCodec {
 public:
  /// D → order_new, F → order_cancel, G → order_replace; `orig_cl_ord_id` is
  /// the order's first ClOrdID whichever of its chain 41 names. Errors name the tag.
  Expected<bridge::Body> decode(const RawMessage& request);
  /// The Terminal's answers (order_ack, fill) as FIX reports. `request` is
  /// what they answer (decoded by this codec), or null for reports a market
  /// event caused (fills, OCO cancels, expiries). A rejected ack answering a
  /// cancel or replace becomes an OrderCancelReject (9).
  std::vector<RawMessage> encode(const bridge::Body* request, const std::vector<bridge::Body>& answers);

 private:
  struct Known {
    bridge::OrderNew order;
    std::string current;   // the latest ClOrdID
    std::string order_id;  // the exchange's OrderID (37), from its first report
    std::int64_t cum_qty = 0;
    double notional = 0;  // Σ qty × price, for AvgPx
  };
  Known* known(const std::string& original);
  RawMessage report(Known* k, const bridge::OrderAck& ack, const bridge::Body* request);
  RawMessage fill_report(Known* k, const bridge::FillMsg& fill);

  std::unordered_map<std::string, Known> orders_;
  std::unordered_map<std::string, std::string> original_of_;
  std::unordered_map<std::string, std::string> request_prior_;  // a request's ClOrdID → the order's ClOrdID before it
};

}  // namespace quant::fix
