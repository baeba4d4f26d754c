#include "fix/fix_link.h"

#include <algorithm>
#include <utility>

namespace quant::fix {

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Inbox::push(RawMessage m) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(m));
  }
  cv_.notify_all();
}

std::vector<RawMessage> Inbox::take(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (queue_.empty() && wait.count() > 0) cv_.wait_for(lock, wait, [&] { return !queue_.empty(); });
  std::vector<RawMessage> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

void Inbox::state(bool logged_on) {
  {
    std::lock_guard lock(mutex_);
    logged_on_ = logged_on;
  }
  cv_.notify_all();
}

bool Inbox::wait_state(bool logged_on, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return logged_on_ == logged_on; });
}

void Inbox::reply(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    last_reply_ = id;
  }
  cv_.notify_all();
}

bool Inbox::wait_reply(const std::string& id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return last_reply_ == id; });
}

Expected<void> sync_session(Session& session, Inbox& inbox, const std::string& id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!session.logged_on() && !inbox.wait_state(true, timeout)) return make_error("fix: not logged on");
  std::string error;
  if (!session.test_request(id, &error)) return make_error(error);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (!inbox.wait_reply(id, std::max(left, std::chrono::milliseconds(1))))
    return make_error("fix: no answer to TestRequest " + id + " within " + std::to_string(timeout.count()) + " ms");
  return {};
}

namespace {

Expected<std::unique_ptr<Session>> open_session(const SessionSettings& settings, Inbox& inbox,
                                                const std::function<void(const std::string&)>& log) {
  std::string error;
  auto session = Session::create(
      settings, [&inbox](const RawMessage& m) { inbox.push(m); },
      [&inbox, log, who = settings.sender_comp_id](bool on, const std::string& why) {
        inbox.state(on);
        if (log) log("fix " + who + ": " + why);
      },
      &error);
  if (!session) return make_error(error);
  session->on_test_reply([&inbox](const std::string& id) { inbox.reply(id); });
  return session;
}

}  // namespace

// ---- the platform's end ----

FixVenue::FixVenue(B3Identity identity, std::function<void(const std::string&)> log)
    : codec_(std::move(identity)), log_(std::move(log)) {}

FixVenue::~FixVenue() {
  if (session_) session_->stop();
}

Expected<std::unique_ptr<FixVenue>> FixVenue::create(const SessionSettings& settings, B3Identity identity,
                                                     std::function<void(const std::string&)> log) {
  if (settings.acceptor) return make_error("fix: the venue's session is an initiator (acceptor = false)");
  std::unique_ptr<FixVenue> v(new FixVenue(std::move(identity), std::move(log)));
  auto session = open_session(settings, v->inbox_, v->log_);
  if (!session) return tl::unexpected(session.error());
  v->session_ = std::move(*session);
  return v;
}

Expected<void> FixVenue::expect_next(int seq) {
  std::string error;
  if (!session_->set_next_target_seq(seq, &error)) return make_error(error);
  return {};
}

Expected<void> FixVenue::start() {
  std::string error;
  if (!session_->start(&error)) return make_error(error);
  return {};
}

void FixVenue::stop(bool force) { session_->stop(force); }
bool FixVenue::wait_logon(std::chrono::milliseconds timeout) { return inbox_.wait_state(true, timeout); }
bool FixVenue::logged_on() const { return session_->logged_on(); }
int FixVenue::next_sender_seq() const { return session_->next_sender_seq(); }
int FixVenue::next_target_seq() const { return session_->next_target_seq(); }

Expected<void> FixVenue::send(const bridge::Body& order) {
  auto m = codec_.encode(order, now_unix_ms());
  if (!m) return tl::unexpected(m.error());
  std::string error;
  if (!session_->send(*m, &error)) return make_error(error);
  return {};
}

std::vector<Report> FixVenue::poll(std::chrono::milliseconds wait) {
  std::vector<Report> out;
  for (RawMessage& m : inbox_.take(wait)) {
    ++taken_;
    auto body = codec_.decode(m);
    if (!body) {
      ++bad_;
      if (log_) log_("fix venue: message " + std::to_string(m.seq) + " skipped: " + body.error().message);
      continue;
    }
    if (!*body) {
      ++duplicates_;
      continue;
    }
    out.push_back(Report{bridge::Message{m.seq, 0, std::move(**body)}, m.poss_dup});
  }
  return out;
}

Expected<void> FixVenue::sync(std::chrono::milliseconds timeout) {
  return sync_session(*session_, inbox_, "venue-sync-" + std::to_string(++syncs_), timeout);
}

LinkStats FixVenue::stats() const { return LinkStats{session_->counters(), taken_, duplicates_, bad_}; }

// ---- the exchange's end ----

FixExchange::FixExchange(std::function<void(const std::string&)> log) : log_(std::move(log)) {}

FixExchange::~FixExchange() {
  if (session_) session_->stop();
}

Expected<std::unique_ptr<FixExchange>> FixExchange::create(const SessionSettings& settings,
                                                           std::function<void(const std::string&)> log) {
  if (!settings.acceptor) return make_error("fix: the exchange's session is an acceptor (acceptor = true)");
  std::unique_ptr<FixExchange> x(new FixExchange(std::move(log)));
  auto session = open_session(settings, x->inbox_, x->log_);
  if (!session) return tl::unexpected(session.error());
  x->session_ = std::move(*session);
  return x;
}

Expected<void> FixExchange::start() {
  std::string error;
  if (!session_->start(&error)) return make_error(error);
  return {};
}

void FixExchange::stop(bool force) { session_->stop(force); }
bool FixExchange::wait_logon(std::chrono::milliseconds timeout) { return inbox_.wait_state(true, timeout); }
bool FixExchange::logged_on() const { return session_->logged_on(); }
int FixExchange::next_sender_seq() const { return session_->next_sender_seq(); }
int FixExchange::next_target_seq() const { return session_->next_target_seq(); }

std::vector<bridge::Body> FixExchange::poll(std::chrono::milliseconds wait) {
  std::vector<bridge::Body> out;
  for (RawMessage& m : inbox_.take(wait)) {
    ++taken_;
    auto body = codec_.decode(m);
    if (!body) {
      ++bad_;
      if (log_) log_("fix exchange: request " + std::to_string(m.seq) + " refused: " + body.error().message);
      continue;
    }
    out.push_back(std::move(*body));
  }
  return out;
}

Expected<void> FixExchange::send_all(const std::vector<RawMessage>& messages) {
  for (const RawMessage& m : messages) {
    std::string error;
    if (!session_->send(m, &error)) return make_error(error);
  }
  return {};
}

Expected<void> FixExchange::sync(std::chrono::milliseconds timeout) {
  return sync_session(*session_, inbox_, "sync-" + std::to_string(++syncs_), timeout);
}

Expected<void> FixExchange::answer(const bridge::Body& request, const std::vector<bridge::Body>& answers) {
  return send_all(codec_.encode(&request, answers));
}

Expected<void> FixExchange::report(const std::vector<bridge::Body>& answers) {
  return send_all(codec_.encode(nullptr, answers));
}

LinkStats FixExchange::stats() const { return LinkStats{session_->counters(), taken_, 0, bad_}; }

}  // namespace quant::fix
