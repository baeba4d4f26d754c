#pragma once
/// The two ends of a FIX order session, carrying bridge protocol bodies:
///
/// - `FixVenue` (initiator): the platform's end. `send` takes the live
///   engine's order_new / order_cancel / order_replace; `poll` gives the
///   venue's reports as order_ack / fill, each with its FIX MsgSeqNum and
///   PossDupFlag, duplicates (a resent report seen before) dropped.
/// - `FixExchange` (acceptor): the simulated exchange's end. `poll` gives the
///   platform's requests as bridge bodies for replay's Terminal; `answer` and
///   `report` send the Terminal's answers back as ExecutionReports and
///   OrderCancelRejects.
///
/// QuickFIX calls back on its own threads: those callbacks only queue; the
/// owner's thread decodes and hands over in `poll`. `send`, `answer` and
/// `report` are for the owner's thread too (not thread-safe among themselves).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "execution/bridge_protocol.h"
#include "fix/fix_codec.h"
#include "fix/fix_session.h"

namespace quant::fix {

/// A report from the venue: the bridge body, its FIX MsgSeqNum (`seq`), and
/// whether it came again (PossDupFlag) after a reconnect.
struct Report {
  bridge::Message message;
  bool poss_dup = false;
};

/// What a link has seen, for tests, logs and `quant live`'s summary.
struct LinkStats {
  SessionCounters session;
  std::int64_t taken = 0;        ///< application messages handed over by poll (duplicates and bad ones included)
  std::int64_t duplicates = 0;   ///< reports dropped as seen before (same ExecID)
  std::int64_t bad_messages = 0;  ///< messages that did not translate (logged)
};

/// The queue between QuickFIX's threads and the owner's (shared by both ends).
class Inbox {
 public:
  void push(RawMessage m);
  /// Waits up to `wait` for a first message, then takes everything queued.
  std::vector<RawMessage> take(std::chrono::milliseconds wait);
  void state(bool logged_on);
  bool wait_state(bool logged_on, std::chrono::milliseconds timeout);
  /// The peer answered a TestRequest.
  void reply(const std::string& id);
  bool wait_reply(const std::string& id, std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<RawMessage> queue_;
  bool logged_on_ = false;
  std::string last_reply_;
};

/// What both ends share: the session, the queue its callbacks fill, the log.
class FixLink {
 public:
  virtual ~FixLink();
  FixLink(const FixLink&) = delete;
  FixLink& operator=(const FixLink&) = delete;

  /// Connects and keeps reconnecting (venue), or listens (exchange).
  Expected<void> start();
  /// Logs out and disconnects; `force`: drops the connection without a Logout.
  void stop(bool force = false);
  bool wait_logon(std::chrono::milliseconds timeout);
  bool logged_on() const;
  /// Returns once every message the peer sent before now has arrived (a
  /// TestRequest round trip: each side processes its session in order); poll
  /// then has them. Waits for the logon first; fails when no answer comes
  /// within `timeout`.
  Expected<void> sync(std::chrono::milliseconds timeout);
  int next_sender_seq() const;
  int next_target_seq() const;

 protected:
  explicit FixLink(std::function<void(const std::string&)> log) : log_(std::move(log)) {}
  /// Creates the session (its file store opens; nothing connects yet).
  Expected<void> open(const SessionSettings& settings);

  std::function<void(const std::string&)> log_;
  Inbox inbox_;
  std::unique_ptr<Session> session_;
  std::int64_t taken_ = 0;
  std::int64_t bad_ = 0;

 private:
  std::int64_t syncs_ = 0;
};

class FixVenue final : public FixLink {
 public:
  /// Creates the session (initiator) and opens its file store; not connected yet.
  static Expected<std::unique_ptr<FixVenue>> create(const SessionSettings& settings, B3Identity identity,
                                                   std::function<void(const std::string&)> log = {});

  /// The next MsgSeqNum to expect from the exchange (before start): a
  /// restarted platform sets the one after the last report it journaled, so
  /// the exchange resends what it never applied.
  Expected<void> expect_next(int seq);

  /// An order body out (D, F, G). Stored and resent after a reconnect when
  /// the session is down. Errors: not an order, an unknown order to cancel,
  /// a message the dictionary refuses.
  Expected<void> send(const bridge::Body& order);
  /// An order sent before a restart (from the journal): known again, not sent.
  void remember(const bridge::OrderNew& order) { codec_.remember(order); }
  /// The reports that arrived, waiting up to `wait` for the first one.
  std::vector<Report> poll(std::chrono::milliseconds wait);
  LinkStats stats() const;

 private:
  FixVenue(B3Identity identity, std::function<void(const std::string&)> log);
  VenueCodec codec_;
  std::int64_t duplicates_ = 0;
};

class FixExchange final : public FixLink {
 public:
  /// Creates the session (acceptor) and opens its file store; not listening yet.
  static Expected<std::unique_ptr<FixExchange>> create(const SessionSettings& settings,
                                                      std::function<void(const std::string&)> log = {});

  /// The platform's requests that arrived (order_new, order_cancel,
  /// order_replace), waiting up to `wait` for the first one. A request that
  /// does not translate is logged and counted, not returned.
  std::vector<bridge::Body> poll(std::chrono::milliseconds wait);
  /// Sends the Terminal's answers to `request` (as decoded by poll).
  Expected<void> answer(const bridge::Body& request, const std::vector<bridge::Body>& answers);
  /// Sends reports a market event caused (fills, OCO cancels, expiries).
  Expected<void> report(const std::vector<bridge::Body>& answers);
  LinkStats stats() const;

 private:
  explicit FixExchange(std::function<void(const std::string&)> log) : FixLink(std::move(log)) {}
  Expected<void> send_all(const std::vector<RawMessage>& messages);
  ExchangeCodec codec_;
};

/// The current time as Unix milliseconds (TransactTime of what the venue sends).
std::int64_t now_unix_ms();

}  // namespace quant::fix
