#include "live/engine_leases.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace quant::live {

namespace {

/// "symbol WIN" for "live:symbol:WIN", for messages.
std::string what_of(const std::string& key) {
  const std::string rest = key.substr(key.find(':') + 1);  // "symbol:WIN"
  const auto colon = rest.find(':');
  const std::string kind = rest.substr(0, colon);
  const std::string name = rest.substr(colon + 1);
  if (kind == "group") return "consumer group " + name;
  if (kind == "orders") return "order stream " + name;
  return kind + " " + name;
}

std::string hint_of(const std::string& key) {
  if (key.rfind("live:symbol:", 0) == 0) return "give each engine its own --symbols";
  if (key.rfind("live:group:", 0) == 0) return "give each engine its own --group";
  if (key.rfind("live:orders:", 0) == 0) return "give each engine its own --orders stream";
  return "give each engine its own --session (and --state)";
}

}  // namespace

Expected<EngineLeases> EngineLeases::take(const stream::Endpoint& redis, const LeaseRequest& request) {
  std::error_code ec;
  std::filesystem::create_directories(request.state_dir, ec);
  if (ec) return make_error("live: cannot create " + request.state_dir + ": " + ec.message());
  const std::filesystem::path dir = std::filesystem::weakly_canonical(request.state_dir, ec);
  EngineLeases leases;
  const std::string lock = (dir / "lock").string();
  leases.lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (leases.lock_fd_ < 0) return make_error("live: cannot open " + lock + ": " + std::strerror(errno));
  if (::flock(leases.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return make_error("live: another quant live runs with --state " + request.state_dir + " (" + lock +
                      " is locked): one engine per state directory");
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  leases.redis_ = redis;
  leases.ttl_ = request.ttl;
  leases.owner_ = request.session + "@" + host + ":" + dir.string();
  leases.keys_.push_back("live:session:" + request.session);
  leases.keys_.push_back("live:group:" + request.group);
  if (!request.orders_stream.empty()) leases.keys_.push_back("live:orders:" + request.orders_stream);
  for (const auto& s : request.symbols) leases.keys_.push_back("live:symbol:" + s);
  if (auto r = leases.claim_all(); !r) return tl::unexpected(r.error());
  return leases;
}

EngineLeases::EngineLeases(EngineLeases&& other) noexcept
    : redis_(std::move(other.redis_)),
      keys_(std::move(other.keys_)),
      owner_(std::move(other.owner_)),
      ttl_(other.ttl_),
      renewed_(other.renewed_),
      lock_fd_(std::exchange(other.lock_fd_, -1)) {}

EngineLeases::~EngineLeases() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Expected<void> EngineLeases::claim_all() {
  auto owners = stream::claim(redis_, keys_, owner_, ttl_);
  if (!owners) return make_error("live: leases: " + owners.error().message);
  std::string taken;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if ((*owners)[i] == owner_) continue;
    taken += (taken.empty() ? "" : "; ") + what_of(keys_[i]) + " is held by the engine " + (*owners)[i] + " (" +
             keys_[i] + "): " + hint_of(keys_[i]);
  }
  if (!taken.empty()) {
    return make_error("live: " + taken + " (a stopped engine's lease lapses " + std::to_string(ttl_.count() / 1000) +
                      " s after it stopped)");
  }
  renewed_ = std::chrono::steady_clock::now();
  return {};
}

Expected<void> EngineLeases::renew_if_due() {
  if (keys_.empty() || std::chrono::steady_clock::now() - renewed_ < ttl_ / 3) return {};
  return claim_all();
}

Expected<void> EngineLeases::release() {
  if (keys_.empty()) return {};
  return stream::release(redis_, keys_, owner_);
}

}  // namespace quant::live
