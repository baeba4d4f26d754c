#pragma once
/// One FIX 4.4 session through QuickFIX, behind a plain interface: this
/// header uses only C++14 and the standard library, because QuickFIX's own
/// headers (dynamic exception specifications) compile only as C++14. They
/// appear in `quickfix_session.cpp` alone (its own C++14 target,
/// `quant_fix_quickfix`); everything else in src/fix is C++20 and speaks
/// `RawMessage`.
///
/// The session validates every message against the data dictionary
/// (`UseDataDictionary=Y`, ours: config/fix/FIX44.xml) both ways, keeps its
/// sequence numbers and sent messages in a file store (a ResendRequest after
/// a reconnect is answered from it) and reconnects by itself (initiator).
///
/// Threads: QuickFIX calls back on its own threads (one per connection).
/// `on_message` and `on_state` are called there and must only hand the
/// event over (a queue); `send` may be called from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace quant {
namespace fix {

/// One tag=value of a message body, in wire order.
struct Field {
  int tag = 0;
  std::string value;
};

/// A FIX application message without its header and trailer: the type (35)
/// and the body fields in wire order. A repeating group is flattened as on
/// the wire: its NoXxx count, then each entry's fields (the dictionary tells
/// QuickFIX where entries start). Received messages also carry their
/// MsgSeqNum (34) and PossDupFlag (43).
struct RawMessage {
  std::string type;
  std::vector<Field> fields;
  int seq = 0;
  bool poss_dup = false;
};

/// A session's settings (QuickFIX's, for one session).
struct SessionSettings {
  bool acceptor = false;          ///< true: listen on `port`; false: connect to host:port
  std::string host = "127.0.0.1";  ///< initiator: where the acceptor listens
  int port = 0;
  std::string sender_comp_id;     ///< 49 of what we send
  std::string target_comp_id;     ///< 56 of what we send
  int heartbeat_s = 30;           ///< HeartBtInt (the initiator proposes it)
  int reconnect_s = 5;            ///< initiator: seconds between connection attempts
  std::string store_dir;          ///< FileStorePath: sequence numbers and sent messages
  std::string log_dir;            ///< FileLogPath (every message in and out); "" = no log
  std::string dictionary;         ///< the FIX44.xml data dictionary
  /// Both sides start again at 1 on each logon (ResetOnLogon): no resend
  /// across connections. Off by default: missed messages are resent.
  bool reset_on_logon = false;
};

/// What the session has done, for tests and logs.
struct SessionCounters {
  std::int64_t logons = 0;
  std::int64_t logouts = 0;
  std::int64_t received = 0;                 ///< application messages
  std::int64_t received_poss_dup = 0;        ///< of which PossDupFlag=Y (resent)
  std::int64_t sent = 0;                     ///< application messages handed to QuickFIX
  std::int64_t resend_requests_sent = 0;     ///< 35=2 we sent (a gap in what we received)
  std::int64_t resend_requests_received = 0;  ///< 35=2 the peer sent
  std::int64_t rejects_received = 0;         ///< session-level Reject (35=3)
};

class Session {
 public:
  using MessageHandler = std::function<void(const RawMessage&)>;
  /// `logged_on` true at logon, false at logout or a lost connection.
  using StateHandler = std::function<void(bool logged_on, const std::string& why)>;

  /// Creates the session and opens its store (nothing is connected yet).
  /// Returns null and sets `error` on bad settings, an unreadable
  /// dictionary or an unusable store directory.
  static std::unique_ptr<Session> create(const SessionSettings& settings, MessageHandler on_message,
                                         StateHandler on_state, std::string* error);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Connects (initiator: and keeps reconnecting) or listens (acceptor).
  bool start(std::string* error);
  /// Logs out and disconnects; `force` drops the connection without a Logout
  /// (a crash, as the peer sees it). Idempotent.
  void stop(bool force = false);

  /// Sends an application message (QuickFIX fills the header). While logged
  /// out it is stored with its sequence number and goes out when the peer
  /// asks for the gap after the next logon. False (with `error`) when the
  /// message does not build or fails the dictionary.
  bool send(const RawMessage& message, std::string* error);

  bool logged_on() const;
  /// MsgSeqNum of the next message we send / expect to receive (from the store).
  int next_sender_seq() const;
  int next_target_seq() const;
  /// Sends a TestRequest (35=1) with `id`; the peer's Heartbeat answering it
  /// goes to the handler set by `on_test_reply`. Messages are processed in
  /// order, so when the answer comes, everything the peer sent before it
  /// read the TestRequest has arrived: a barrier. False when not logged on.
  bool test_request(const std::string& id, std::string* error);
  /// Where answers to test_request go (called on QuickFIX's thread). Set before start.
  void on_test_reply(std::function<void(const std::string& id)> handler);
  /// Sets the next MsgSeqNum expected from the peer (before start): a higher
  /// one received at logon makes the session ask for the gap again.
  bool set_next_target_seq(int seq, std::string* error);
  SessionCounters counters() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Loads a data dictionary; false and `error` when it does not load.
bool check_dictionary(const std::string& path, std::string* error);

}  // namespace fix
}  // namespace quant
