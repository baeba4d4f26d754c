// The only file that includes QuickFIX (C++14: its headers carry dynamic
// exception specifications). Everything QuickFIX throws stops here and
// becomes an error string.
#include "fix/fix_session.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <utility>

#include <quickfix/Application.h>
#include <quickfix/DataDictionary.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/ThreadedSocketAcceptor.h>
#include <quickfix/ThreadedSocketInitiator.h>

namespace quant {
namespace fix {

namespace {

const char kSoh = '\x01';

/// QuickFIX settings text for one session.
std::string settings_text(const SessionSettings& s) {
  std::ostringstream out;
  out << "[DEFAULT]\n";
  out << "ConnectionType=" << (s.acceptor ? "acceptor" : "initiator") << "\n";
  out << "HeartBtInt=" << s.heartbeat_s << "\n";
  out << "ReconnectInterval=" << s.reconnect_s << "\n";
  out << "FileStorePath=" << s.store_dir << "\n";
  if (!s.log_dir.empty()) out << "FileLogPath=" << s.log_dir << "\n";
  // A session that never ends by the clock: the venue's trading hours are the engine's business.
  out << "StartTime=00:00:00\nEndTime=00:00:00\n";
  out << "UseDataDictionary=Y\nDataDictionary=" << s.dictionary << "\n";
  out << "ValidateUserDefinedFields=Y\nValidateFieldsOutOfOrder=Y\nValidateFieldsHaveValues=Y\n";
  out << "PersistMessages=Y\n";
  out << "ResetOnLogon=" << (s.reset_on_logon ? "Y" : "N") << "\nResetOnLogout=N\nResetOnDisconnect=N\n";
  out << "SocketNodelay=Y\nSocketReuseAddress=Y\n";
  out << "[SESSION]\nBeginString=FIX.4.4\n";
  out << "SenderCompID=" << s.sender_comp_id << "\nTargetCompID=" << s.target_comp_id << "\n";
  if (s.acceptor) {
    out << "SocketAcceptPort=" << s.port << "\n";
  } else {
    out << "SocketConnectHost=" << s.host << "\nSocketConnectPort=" << s.port << "\n";
  }
  return out.str();
}

/// tag=value<SOH> ... as a list of fields; header and trailer fields are skipped.
void body_fields(const std::string& wire, RawMessage& out) {
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const std::size_t eq = wire.find('=', pos);
    if (eq == std::string::npos) break;
    std::size_t end = wire.find(kSoh, eq + 1);
    if (end == std::string::npos) end = wire.size();
    const int tag = std::atoi(wire.substr(pos, eq - pos).c_str());
    std::string value = wire.substr(eq + 1, end - eq - 1);
    pos = end + 1;
    if (tag == FIX::FIELD::MsgType) {
      out.type = value;
    } else if (tag == FIX::FIELD::MsgSeqNum) {
      out.seq = std::atoi(value.c_str());
    } else if (tag == FIX::FIELD::PossDupFlag) {
      out.poss_dup = value == "Y";
    } else if (tag == FIX::FIELD::CheckSum || tag == FIX::FIELD::SignatureLength || tag == FIX::FIELD::Signature ||
               FIX::Message::isHeaderField(tag)) {
      continue;
    } else {
      Field f;
      f.tag = tag;
      f.value = std::move(value);
      out.fields.push_back(std::move(f));
    }
  }
}

/// The wire form of `m` with a header QuickFIX will complete (8, 9, 35) and a checksum.
std::string wire_of(const RawMessage& m) {
  std::string body = "35=" + m.type + kSoh;
  for (const Field& f : m.fields) {
    body += std::to_string(f.tag);
    body += '=';
    body += f.value;
    body += kSoh;
  }
  std::string out = std::string("8=FIX.4.4") + kSoh + "9=" + std::to_string(body.size()) + kSoh + body;
  unsigned sum = 0;
  for (char c : out) sum += static_cast<unsigned char>(c);
  char tail[16];
  std::snprintf(tail, sizeof tail, "10=%03u%c", sum % 256, kSoh);
  return out + tail;
}

std::string field_text(const FIX::FieldMap& m, int tag) {
  return m.isSetField(tag) ? m.getField(tag) : std::string();
}

}  // namespace

struct Session::Impl : public FIX::Application {
  SessionSettings settings;
  MessageHandler on_message;
  StateHandler on_state;
  std::function<void(const std::string&)> on_test_reply;
  FIX::SessionSettings qf_settings;
  FIX::DataDictionary dictionary;
  std::unique_ptr<FIX::FileStoreFactory> store;
  std::unique_ptr<FIX::FileLogFactory> log;
  std::unique_ptr<FIX::Initiator> initiator;
  std::unique_ptr<FIX::Acceptor> acceptor;
  FIX::SessionID id;
  bool started = false;
  mutable std::mutex mutex;  // counters and the logon flag
  SessionCounters counts;
  std::atomic<bool> logged{false};

  FIX::Session* session() const {
    if (initiator) return initiator->getSession(id);
    if (acceptor) return acceptor->getSession(id);
    return nullptr;
  }

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++counts.logons;
    }
    logged = true;
    if (on_state) on_state(true, "logon");
  }
  void onLogout(const FIX::SessionID&) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++counts.logouts;
    }
    logged = false;
    if (on_state) on_state(false, "logout or disconnect");
  }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override {
    if (field_text(m.getHeader(), FIX::FIELD::MsgType) == "2") {
      std::lock_guard<std::mutex> lock(mutex);
      ++counts.resend_requests_sent;
    }
  }
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                       FIX::IncorrectTagValue,
                                                                       FIX::RejectLogon) override {
    const std::string type = field_text(m.getHeader(), FIX::FIELD::MsgType);
    if (type == "0" && on_test_reply && m.isSetField(FIX::FIELD::TestReqID)) {
      on_test_reply(m.getField(FIX::FIELD::TestReqID));
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (type == "2") ++counts.resend_requests_received;
    if (type == "3") ++counts.rejects_received;
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                     FIX::IncorrectTagValue,
                                                                     FIX::UnsupportedMessageType) override {
    RawMessage out;
    std::string wire;
    m.toString(wire);
    body_fields(wire, out);
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++counts.received;
      if (out.poss_dup) ++counts.received_poss_dup;
    }
    if (on_message) on_message(out);
  }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() { stop(); }

std::unique_ptr<Session> Session::create(const SessionSettings& settings, MessageHandler on_message,
                                         StateHandler on_state, std::string* error) {
  std::unique_ptr<Impl> impl(new Impl());
  impl->settings = settings;
  impl->on_message = std::move(on_message);
  impl->on_state = std::move(on_state);
  try {
    impl->dictionary = FIX::DataDictionary(settings.dictionary);
    std::istringstream text(settings_text(settings));
    impl->qf_settings = FIX::SessionSettings(text);
    impl->id = FIX::SessionID("FIX.4.4", settings.sender_comp_id, settings.target_comp_id);
    impl->store.reset(new FIX::FileStoreFactory(settings.store_dir));
    if (!settings.log_dir.empty()) impl->log.reset(new FIX::FileLogFactory(settings.log_dir));
    if (settings.acceptor) {
      if (impl->log) {
        impl->acceptor.reset(new FIX::ThreadedSocketAcceptor(*impl, *impl->store, impl->qf_settings, *impl->log));
      } else {
        impl->acceptor.reset(new FIX::ThreadedSocketAcceptor(*impl, *impl->store, impl->qf_settings));
      }
    } else {
      if (impl->log) {
        impl->initiator.reset(new FIX::ThreadedSocketInitiator(*impl, *impl->store, impl->qf_settings, *impl->log));
      } else {
        impl->initiator.reset(new FIX::ThreadedSocketInitiator(*impl, *impl->store, impl->qf_settings));
      }
    }
  } catch (const std::exception& e) {
    if (error) *error = std::string("fix session ") + settings.sender_comp_id + "->" + settings.target_comp_id + ": " + e.what();
    return nullptr;
  }
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

bool Session::start(std::string* error) {
  if (impl_->started) return true;
  try {
    if (impl_->acceptor) impl_->acceptor->start();
    if (impl_->initiator) impl_->initiator->start();
  } catch (const std::exception& e) {
    if (error) *error = std::string("fix session: start failed: ") + e.what();
    return false;
  }
  impl_->started = true;
  return true;
}

void Session::stop(bool force) {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  try {
    if (impl_->initiator) impl_->initiator->stop(force);
    if (impl_->acceptor) impl_->acceptor->stop(force);
  } catch (const std::exception&) {
    // Stopping is best effort: the store already holds what was sent.
  }
  impl_->logged = false;
}

bool Session::send(const RawMessage& message, std::string* error) {
  try {
    FIX::Message m(wire_of(message), impl_->dictionary, false);
    impl_->dictionary.validate(m, true);
    FIX::Session* s = impl_->session();
    if (s == nullptr) {
      if (error) *error = "fix session: no session " + impl_->id.toString();
      return false;
    }
    if (!s->send(m)) {
      if (error) *error = "fix session: QuickFIX refused to send " + message.type;
      return false;
    }
  } catch (const FIX::Exception& e) {
    if (error) *error = "fix: message " + message.type + " does not fit the dictionary: " + e.what();
    return false;
  } catch (const std::exception& e) {
    if (error) *error = "fix: message " + message.type + ": " + e.what();
    return false;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  ++impl_->counts.sent;
  return true;
}

bool Session::logged_on() const { return impl_->logged; }

void Session::on_test_reply(std::function<void(const std::string& id)> handler) {
  impl_->on_test_reply = std::move(handler);
}

bool Session::test_request(const std::string& id, std::string* error) {
  FIX::Session* s = impl_->session();
  if (s == nullptr || !impl_->logged) {
    if (error) *error = "fix session: not logged on";
    return false;
  }
  try {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, "1");
    m.setField(FIX::FIELD::TestReqID, id);
    if (!s->send(m)) {
      if (error) *error = "fix session: QuickFIX refused to send a TestRequest";
      return false;
    }
  } catch (const std::exception& e) {
    if (error) *error = std::string("fix session: TestRequest: ") + e.what();
    return false;
  }
  return true;
}

int Session::next_sender_seq() const {
  FIX::Session* s = impl_->session();
  return s ? s->getExpectedSenderNum() : 0;
}

int Session::next_target_seq() const {
  FIX::Session* s = impl_->session();
  return s ? s->getExpectedTargetNum() : 0;
}

bool Session::set_next_target_seq(int seq, std::string* error) {
  FIX::Session* s = impl_->session();
  if (s == nullptr) {
    if (error) *error = "fix session: no session";
    return false;
  }
  try {
    s->setNextTargetMsgSeqNum(seq);
  } catch (const std::exception& e) {
    if (error) *error = std::string("fix session: cannot set the next target seqnum: ") + e.what();
    return false;
  }
  return true;
}

SessionCounters Session::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counts;
}

bool check_dictionary(const std::string& path, std::string* error) {
  try {
    FIX::DataDictionary dd(path);
    if (!dd.isMsgType("D") || !dd.isMsgType("8")) {
      if (error) *error = path + ": the dictionary lacks NewOrderSingle or ExecutionReport";
      return false;
    }
  } catch (const std::exception& e) {
    if (error) *error = path + ": " + e.what();
    return false;
  }
  return true;
}

}  // namespace fix
}  // namespace quant
