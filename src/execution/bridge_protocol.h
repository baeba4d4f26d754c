#pragma once
/// The MetaTrader 5 bridge protocol (docs/contracts/bridge.md): newline-
/// delimited JSON over TCP between a terminal (the MQL5 Expert Advisor
/// `mt5/QuantBridge.mq5`, or `quant replay`) and the platform (`quant bridge`).
/// The terminal connects; the platform listens.
///
/// Every message is one JSON object on one line (at most kMaxLine bytes with
/// its '\n') carrying `type`, `seq` (per direction and per connection: 1, 2,
/// 3 ...; a gap or a repeat is a protocol error) and `t_ms` (the sender's
/// clock, Unix milliseconds UTC). Orders follow FIX 4.4 semantics: ClOrdID
/// (`cl_ord_id`, unique for ever), OrigClOrdID, ExecType, OrdStatus, so the FIX
/// venue maps one to one.
///
/// This header is the codec only: no sockets, no Redis.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"
#include "core/order.h"

namespace quant::execution::bridge {

inline constexpr int kSchemaVersion = 1;
inline constexpr std::size_t kMaxLine = 64 * 1024;  ///< bytes, the '\n' included

/// Where a terminal resumes sending after a reconnect: nothing at or before
/// these points is sent again (the platform has published it already).
struct Resume {
  std::int64_t tick_msc = 0;      ///< time_msc of the last tick published (0 = none)
  std::int64_t ticks_at_msc = 0;  ///< how many ticks with exactly that time_msc were published
  std::int64_t bar_time = 0;      ///< open time (Unix s, UTC) of the last closed bar published (0 = none)
};

/// First message of each side. The terminal's carries its symbols, account
/// and the trade server's UTC offset (TimeTradeServer() - TimeGMT()); the
/// platform's answer carries `resume` per symbol.
struct Hello {
  int schema = kSchemaVersion;
  std::string role;      ///< "terminal" | "platform"
  std::string terminal;  ///< "MT5 <build>", "replay"
  std::string account;
  std::int64_t server_utc_offset_s = 0;
  std::vector<std::string> symbols;
  std::vector<std::pair<std::string, Resume>> resume;  ///< platform → terminal
};

struct TickMsg {
  std::string symbol;
  Tick tick;  ///< tick.ts from `time_msc`; absent prices are NaN
};

struct BookMsg {
  std::string symbol;
  BookSnapshot book;  ///< book.ts from `time_msc`
};

/// A closed bar (`time` = open time, Unix s UTC).
struct BarMsg {
  std::string symbol;
  Bar bar;
};

/// FIX NewOrderSingle. `purpose` lets a halted platform pass exits only.
struct OrderNew {
  std::string cl_ord_id;
  std::string symbol;
  Side side = Side::Buy;
  std::int64_t qty = 0;
  OrderType type = OrderType::Market;
  TimeInForce tif = TimeInForce::Day;
  double price = 0;       ///< limit price (Limit, StopLimit)
  double stop_price = 0;  ///< Stop, StopLimit
  OrderPurpose purpose = OrderPurpose::Entry;
  std::string oco_with;  ///< the ClOrdID of a one-cancels-other partner ("" = none)
};

/// An order_new for `order`: side, quantity, type, time in force, prices and
/// purpose (the OCO partner's ClOrdID is the caller's to set).
OrderNew order_new_of(const Order& order, std::string cl_ord_id, std::string symbol);
/// The same fields back as an Order (id, times and status are the receiver's).
Order order_of(const OrderNew& message);

/// FIX OrderCancelRequest.
struct OrderCancel {
  std::string cl_ord_id;  ///< of this request
  std::string orig_cl_ord_id;
  std::string symbol;
};

/// FIX OrderCancelReplaceRequest (we only move stops).
struct OrderReplace {
  std::string cl_ord_id;  ///< of this request
  std::string orig_cl_ord_id;
  std::string symbol;
  double stop_price = 0;
};

/// FIX ExecType (150) values we use; Trade comes as a Fill message.
enum class ExecType : std::uint8_t { New, Rejected, Canceled, Replaced, Expired, Trade };
/// FIX OrdStatus (39).
enum class OrdStatus : std::uint8_t { New, PartiallyFilled, Filled, Canceled, Replaced, Rejected, Expired };

/// FIX ExecutionReport without a trade. `cl_ord_id` is the order's own id
/// (for a cancel/replace answer: the order that was cancelled or replaced).
struct OrderAck {
  std::string cl_ord_id;
  std::string symbol;
  std::string venue_order_id;  ///< MT5 ticket, "" when rejected before it had one
  ExecType exec_type = ExecType::New;
  OrdStatus ord_status = OrdStatus::New;
  std::string reason;     ///< rejects: why (MT5 retcode and text)
  double stop_price = 0;  ///< Replaced: the new stop
  std::int64_t time_msc = 0;
};

/// FIX ExecutionReport ExecType=Trade. `exec_id` is unique for ever (MT5 deal ticket).
struct FillMsg {
  std::string cl_ord_id;
  std::string exec_id;
  std::string symbol;
  Side side = Side::Buy;
  std::int64_t qty = 0;  ///< this fill
  double price = 0;
  double fee = 0;
  std::int64_t time_msc = 0;
  std::int64_t cum_qty = 0;
  std::int64_t leaves_qty = 0;
  OrdStatus ord_status = OrdStatus::Filled;
};

struct PositionEntry {
  std::string symbol;
  std::int64_t qty = 0;  ///< signed: > 0 long
  double avg_price = 0;
};

struct OpenOrder {
  std::string cl_ord_id;
  std::string symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Market;
  std::int64_t qty = 0;
  std::int64_t cum_qty = 0;
  double price = 0;
  double stop_price = 0;
};

/// Platform → terminal: a request (`request` = true, lists empty). Terminal →
/// platform: the snapshot of positions and working orders (after hello, and
/// on request).
struct PositionsMsg {
  bool request = false;
  std::vector<PositionEntry> positions;
  std::vector<OpenOrder> orders;
};

/// Heartbeat, both ways, at least every second when idle. The platform's may
/// carry `mark`: the last event the live engine has fully processed (a
/// lock-step replay waits for it).
struct Heartbeat {
  std::string mark;
};

using Body = std::variant<Hello, TickMsg, BookMsg, BarMsg, OrderNew, OrderCancel, OrderReplace, OrderAck, FillMsg,
                          PositionsMsg, Heartbeat>;

struct Message {
  std::int64_t seq = 0;
  std::int64_t t_ms = 0;
  Body body;
};

/// The `type` string of a body: "hello", "tick", "book", "bar", "order_new",
/// "order_cancel", "order_replace", "order_ack", "fill", "positions", "hb".
std::string_view type_name(const Body& body);
std::string_view to_string(ExecType t);
std::string_view to_string(OrdStatus s);
/// The wire name of a purpose ("entry", "exit", "stop_loss", "target",
/// "flatten") and back (nullopt for another text): the FIX venue carries it in Memo.
std::string_view purpose_name(OrderPurpose p);
std::optional<OrderPurpose> purpose_of(std::string_view text);

/// One line (without its '\n'); doubles are written so that they read back exactly.
std::string encode(const Message& message);
/// Parses one line. Errors name the field ("order_new: qty must be a positive integer").
Expected<Message> decode(std::string_view line);

/// Splits a byte stream into lines. A line longer than kMaxLine is an error
/// (the connection is dropped: the peer is broken or hostile).
class LineReader {
 public:
  /// Appends bytes; complete lines are available through next().
  Expected<void> feed(std::string_view bytes);
  /// The next complete line (without '\n', a trailing '\r' removed), or nullopt.
  std::optional<std::string> next();

 private:
  std::string buffer_;
  std::size_t start_ = 0;
};

/// Checks `seq` per direction: the first is 1 after a (re)connect, each next is
/// the previous + 1. A gap or a repeat is an error naming both numbers.
/// What the last check() refused, for counting without reading its message.
enum class SeqFault : std::uint8_t { None, Gap, Repeat };

class SeqTracker {
 public:
  Expected<void> check(std::int64_t seq);
  void reset() {
    last_ = 0;
    fault_ = SeqFault::None;
  }
  std::int64_t last() const { return last_; }
  SeqFault fault() const { return fault_; }

 private:
  std::int64_t last_ = 0;
  SeqFault fault_ = SeqFault::None;
};

}  // namespace quant::execution::bridge
