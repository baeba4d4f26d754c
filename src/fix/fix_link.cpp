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

// ---- what both ends share ----

FixLink::~FixLink() {
  if (session_) session_->stop();
}

Expected<void> FixLink::open(const SessionSettings& settings) {
  std::string error;
  auto session = Session::create(
      settings, [this](const RawMessage& m) { inbox_.push(m); },
      [this, who = settings.sender_comp_id](bool on, const std::string& why) {
        inbox_.state(on);
        if (log_) log_("fix " + who + ": " + why);
      },
      &error);
  if (!session) return make_error(error);
  session->on_test_reply([this](const std::string& id) { inbox_.reply(id); });
  session_ = std::move(session);
  return {};
}

Expected<void> FixLink::start() {
  std::string error;
  if (!session_->start(&error)) return make_error(error);
  return {};
}

void FixLink::stop(bool force) { session_->stop(force); }
bool FixLink::wait_logon(std::chrono::milliseconds timeout) { return inbox_.wait_state(true, timeout); }
bool FixLink::logged_on() const { return session_->logged_on(); }
int FixLink::next_sender_seq() const { return session_->next_sender_seq(); }
int FixLink::next_target_seq() const { return session_->next_target_seq(); }

Expected<void> FixLink::sync(std::chrono::milliseconds timeout) {
  const std::string id = "sync-" + std::to_string(++syncs_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!session_->logged_on() && !inbox_.wait_state(true, timeout)) return make_error("fix: not logged on");
  std::string error;
  if (!session_->test_request(id, &error)) return make_error(error);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (!inbox_.wait_reply(id, std::max(left, std::chrono::milliseconds(1))))
    return make_error("fix: no answer to TestRequest " + id + " within " + std::to_string(timeout.count()) + " ms");
  return {};
}

// ---- the platform's end ----

FixVenue::FixVenue(B3Identity identity, std::function<void(const std::string&)> log)
    : FixLink(std::move(log)), codec_(std::move(identity)) {}

Expected<std::unique_ptr<FixVenue>> FixVenue::create(const SessionSettings& settings, B3Identity identity,
                                                     std::function<void(const std::string&)> log) {
  if (settings.acceptor) return make_error("fix: the venue's session is an initiator (acceptor = false)");
  std::unique_ptr<FixVenue> v(new FixVenue(std::move(identity), std::move(log)));
  if (auto opened = v->open(settings); !opened) return tl::unexpected(opened.error());
  return v;
}

Expected<void> FixVenue::expect_next(int seq) {
  std::string error;
  if (!session_->set_next_target_seq(seq, &error)) return make_error(error);
  return {};
}

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

LinkStats FixVenue::stats() const { return LinkStats{session_->counters(), taken_, duplicates_, bad_}; }

// ---- the exchange's end ----

Expected<std::unique_ptr<FixExchange>> FixExchange::create(const SessionSettings& settings,
                                                           std::function<void(const std::string&)> log) {
  if (!settings.acceptor) return make_error("fix: the exchange's session is an acceptor (acceptor = true)");
  std::unique_ptr<FixExchange> x(new FixExchange(std::move(log)));
  if (auto opened = x->open(settings); !opened) return tl::unexpected(opened.error());
  return x;
}

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

Expected<void> FixExchange::answer(const bridge::Body& request, const std::vector<bridge::Body>& answers) {
  return send_all(codec_.encode(&request, answers));
}

Expected<void> FixExchange::report(const std::vector<bridge::Body>& answers) {
  return send_all(codec_.encode(nullptr, answers));
}

LinkStats FixExchange::stats() const { return LinkStats{session_->counters(), taken_, 0, bad_}; }

}  // namespace quant::fix
