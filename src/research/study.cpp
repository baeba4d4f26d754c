#include "research/study.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "research/storage_detail.h"

namespace quant::research {

namespace detail {

struct StudyCore {
  std::shared_ptr<StudyStorage> storage;
  SearchSpace space;
  StudyOptions options;
  TpeSampler sampler;
  std::optional<MedianPruner> pruner;
};

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

bool process_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string new_token(const std::string& host) {
  // Unique per attempt across processes and threads: host, pid, a random
  // number drawn once per process and a counter.
  static const std::uint64_t salt = [] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<std::uint64_t> counter{0};
  return host + ":" + std::to_string(::getpid()) + ":" + std::to_string(salt ^ static_cast<std::uint64_t>(::getpid())) +
         ":" + std::to_string(counter++);
}

bool worker_dead(const TrialRecord& trial, std::int64_t now_ms, const StorageOptions& options,
                 const std::string& host) {
  if (trial.state != TrialState::Running) return false;
  if (now_ms - trial.heartbeat_ms > options.stale_after.count()) return true;
  return options.check_pid && trial.host == host && trial.pid != ::getpid() && !process_alive(trial.pid);
}

bool budget_finished(const std::vector<TrialRecord>& trials, std::int64_t max_trials) {
  if (max_trials < 0) return false;
  std::int64_t finished = 0;
  for (const TrialRecord& trial : trials) finished += trial.finished();
  return finished >= max_trials;
}

nlohmann::json params_to_json(const Params& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : params) j[name] = value;
  return j;
}

Expected<Params> params_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("params are not a JSON object");
  Params params;
  for (const auto& [name, value] : j.items()) {
    if (!value.is_number()) return make_error("param '" + name + "' is not a number");
    params[name] = value.get<double>();
  }
  return params;
}

}  // namespace detail

namespace {

using detail::StudyCore;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double json_number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : kNaN; }

/// The trials of a memory or journal storage, and the rules that change them.
/// Each journal line is one operation; applying the lines in order rebuilds
/// the state. An operation whose token does not own its trial is ignored
/// (writers check ownership first, so only a journal edited by hand has them).
class LocalState {
 public:
  Expected<void> apply(const nlohmann::json& op) {
    const std::string kind = op.at("op").get<std::string>();
    if (kind == "define") {
      definition_ = op.at("definition").get<std::string>();
      return {};
    }
    const auto number = op.at("n").get<std::int64_t>();
    const std::string token = op.at("token").get<std::string>();
    const auto t = op.value("t", std::int64_t{0});
    if (kind == "start") {
      auto params = detail::params_from_json(op.at("params"));
      if (!params) return tl::unexpected(params.error());
      TrialRecord* trial = nullptr;
      if (number == static_cast<std::int64_t>(trials_.size())) {
        trials_.emplace_back();
        trial = &trials_.back();
        trial->number = number;
      } else if (number >= 0 && number < static_cast<std::int64_t>(trials_.size()) &&
                 trials_[static_cast<std::size_t>(number)].state == TrialState::Running) {
        trial = &trials_[static_cast<std::size_t>(number)];
      } else {
        return make_error("start of trial " + std::to_string(number) + " out of order (" +
                          std::to_string(trials_.size()) + " trials so far)");
      }
      trial->params = std::move(*params);
      trial->token = token;
      trial->host = op.value("host", std::string());
      trial->pid = op.value("pid", std::int64_t{0});
      trial->attempt = op.value("attempt", std::int64_t{1});
      trial->heartbeat_ms = t;
      trial->intermediate.clear();
      return {};
    }
    TrialRecord* trial = owned(number, token);
    if (trial == nullptr) return {};
    trial->heartbeat_ms = std::max(trial->heartbeat_ms, t);
    if (kind == "heartbeat") return {};
    if (kind == "report") {
      trial->intermediate[op.at("step").get<std::int64_t>()] = json_number(op.at("value"));
      return {};
    }
    if (kind == "finish") {
      auto state = parse_trial_state(op.at("state").get<std::string>());
      if (!state) return tl::unexpected(state.error());
      trial->state = *state;
      trial->value = json_number(op.at("value"));
      return {};
    }
    return make_error("unknown op '" + kind + "'");
  }

  /// The Running trial `number` when `token` owns it, else nullptr.
  TrialRecord* owned(std::int64_t number, std::string_view token) {
    if (number < 0 || number >= static_cast<std::int64_t>(trials_.size())) return nullptr;
    TrialRecord& trial = trials_[static_cast<std::size_t>(number)];
    return trial.state == TrialState::Running && trial.token == token ? &trial : nullptr;
  }
  const TrialRecord* find(std::int64_t number) const {
    if (number < 0 || number >= static_cast<std::int64_t>(trials_.size())) return nullptr;
    return &trials_[static_cast<std::size_t>(number)];
  }

  const std::vector<TrialRecord>& trials() const { return trials_; }
  const std::string& definition() const { return definition_; }
  void reset() {
    trials_.clear();
    definition_.clear();
  }

 private:
  std::vector<TrialRecord> trials_;
  std::string definition_;
};

/// Memory storage (no path) or the journal file (a path): the same state
/// machine; the journal adds the lock, the incremental read and the append.
class LocalStorage final : public StudyStorage {
 public:
  LocalStorage(std::filesystem::path path, StorageOptions options)
      : path_(std::move(path)), options_(std::move(options)) {
    if (options_.host.empty()) options_.host = detail::this_host();
    if (!options_.now_ms) options_.now_ms = detail::system_now_ms;
  }

  Expected<void> bind(std::string_view definition) override {
    return locked([&](LocalState& state) -> Expected<void> {
      if (state.definition().empty()) return append({{"op", "define"}, {"definition", definition}});
      if (state.definition() != definition)
        return make_error(where() + ": the study stored here has a different definition (space, direction or seed): " +
                          state.definition() + " vs " + std::string(definition));
      return {};
    });
  }

  Expected<ClaimResult> claim(std::int64_t max_trials, const SampleFunction& sample) override {
    return locked([&](LocalState& state) -> Expected<ClaimResult> {
      const std::int64_t now = options_.now_ms();
      const std::string token = detail::new_token(options_.host);
      if (detail::budget_finished(state.trials(), max_trials)) return ClaimResult{ClaimOutcome::Done, {}};
      for (const TrialRecord& trial : state.trials()) {
        if (!detail::worker_dead(trial, now, options_, options_.host)) continue;
        const std::int64_t attempt = trial.attempt + 1;
        auto done = append(start_op(trial.number, token, now, attempt, trial.params));
        if (!done) return tl::unexpected(done.error());
        return ClaimResult{ClaimOutcome::Claimed, *state.find(trial.number)};
      }
      const auto created = static_cast<std::int64_t>(state.trials().size());
      if (max_trials >= 0 && created >= max_trials) return ClaimResult{ClaimOutcome::Wait, {}};
      const Params params = sample(state.trials(), created);
      auto done = append(start_op(created, token, now, 1, params));
      if (!done) return tl::unexpected(done.error());
      return ClaimResult{ClaimOutcome::Claimed, *state.find(created)};
    });
  }

  Expected<bool> heartbeat(std::int64_t number, std::string_view token) override {
    return owner_op(number, token, {{"op", "heartbeat"}});
  }

  Expected<bool> report(std::int64_t number, std::string_view token, std::int64_t step, double value) override {
    return owner_op(number, token, {{"op", "report"}, {"step", step}, {"value", value}});
  }

  Expected<bool> finish(std::int64_t number, std::string_view token, TrialState state, double value) override {
    return locked([&](LocalState& s) -> Expected<bool> {
      const TrialRecord* trial = s.find(number);
      if (trial != nullptr && trial->finished() && trial->token == token) return trial->state == state;
      if (s.owned(number, token) == nullptr) return false;
      auto done = append({{"op", "finish"},
                          {"n", number},
                          {"token", token},
                          {"t", options_.now_ms()},
                          {"state", to_string(state)},
                          {"value", state == TrialState::Complete ? value : kNaN}});
      if (!done) return tl::unexpected(done.error());
      return true;
    });
  }

  Expected<std::vector<TrialRecord>> trials() override {
    return locked([&](LocalState& state) -> Expected<std::vector<TrialRecord>> { return state.trials(); });
  }

  /// Opens (creating) the journal once to fail early on a bad path.
  Expected<void> open_check() {
    std::error_code ec;
    if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
    return locked([](LocalState&) -> Expected<void> { return {}; });
  }

 private:
  std::string where() const { return path_.empty() ? std::string("memory study storage") : path_.string(); }

  nlohmann::json start_op(std::int64_t number, const std::string& token, std::int64_t now, std::int64_t attempt,
                          const Params& params) const {
    return {{"op", "start"},         {"n", number},
            {"token", token},        {"t", now},
            {"host", options_.host}, {"pid", static_cast<std::int64_t>(::getpid())},
            {"attempt", attempt},    {"params", detail::params_to_json(params)}};
  }

  Expected<bool> owner_op(std::int64_t number, std::string_view token, nlohmann::json op) {
    return locked([&](LocalState& state) -> Expected<bool> {
      if (state.owned(number, token) == nullptr) return false;
      op["n"] = number;
      op["token"] = token;
      op["t"] = options_.now_ms();
      auto done = append(op);
      if (!done) return tl::unexpected(done.error());
      return true;
    });
  }

  /// Runs `body` with the state current and the journal locked; `append`
  /// may be called inside it.
  template <class F>
  auto locked(F&& body) -> decltype(body(std::declval<LocalState&>())) {
    std::lock_guard guard(mutex_);
    if (path_.empty()) return body(state_);
    // A fresh descriptor per operation: flock belongs to the open file
    // description, so a descriptor inherited through fork() would share the
    // parent's lock instead of excluding it.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return make_error("study journal " + path_.string() + ": open failed: " + std::strerror(errno));
    struct Closer {
      int& fd;
      ~Closer() {
        ::close(fd);  // also releases the flock
        fd = -1;
      }
    } closer{fd_};
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR)
        return make_error("study journal " + path_.string() + ": flock failed: " + std::strerror(errno));
    }
    auto synced = sync();
    if (!synced) return tl::unexpected(synced.error());
    return body(state_);
  }

  /// Reads the lines appended since the last call (under the lock).
  Expected<void> sync() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return make_error(path_.string() + ": fstat failed: " + std::strerror(errno));
    if (st.st_ino != inode_ || static_cast<std::uint64_t>(st.st_size) < offset_) {
      // Another file now, or shorter than what was read: read it whole again.
      state_.reset();
      offset_ = 0;
      line_ = 0;
      inode_ = st.st_ino;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == offset_) return {};
    std::string buf(size - offset_, '\0');
    std::size_t got = 0;
    while (got < buf.size()) {
      const ssize_t n = ::pread(fd_, buf.data() + got, buf.size() - got, static_cast<off_t>(offset_ + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return make_error(path_.string() + ": read failed: " + std::strerror(errno));
      got += static_cast<std::size_t>(n);
    }
    std::size_t pos = 0;
    while (pos < buf.size()) {
      const std::size_t end = buf.find('\n', pos);
      if (end == std::string::npos) {
        // A torn last line: its writer died inside write() (writers hold
        // this lock, so none is writing now). Cut it off so the next append
        // starts on a line of its own.
        const std::uint64_t keep = offset_ + pos;
        if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0 || ::fdatasync(fd_) != 0)
          return make_error(path_.string() + ": cutting a torn last line failed: " + std::strerror(errno));
        break;
      }
      ++line_;
      const std::string_view text(buf.data() + pos, end - pos);
      if (!text.empty()) {
        auto applied = apply_line(text);
        if (!applied) return make_error(path_.string() + ":" + std::to_string(line_) + ": " + applied.error().message);
      }
      pos = end + 1;
    }
    offset_ += pos;
    return {};
  }

  Expected<void> apply_line(std::string_view text) {
    nlohmann::json op = nlohmann::json::parse(text, nullptr, false);
    if (op.is_discarded() || !op.is_object()) return make_error("not a JSON object");
    try {
      return state_.apply(op);
    } catch (const nlohmann::json::exception& e) {
      return make_error(std::string("bad record: ") + e.what());
    }
  }

  /// Appends one record (journal: write + fdatasync) and applies it.
  Expected<void> append(const nlohmann::json& op) {
    if (!path_.empty()) {
      const std::string line = op.dump() + "\n";
      std::size_t put = 0;
      while (put < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + put, line.size() - put);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error("study journal " + path_.string() + ": write failed: " + std::strerror(errno));
        put += static_cast<std::size_t>(n);
      }
      if (::fdatasync(fd_) != 0)
        return make_error("study journal " + path_.string() + ": fdatasync failed: " + std::strerror(errno));
      offset_ += line.size();
      ++line_;
    }
    return state_.apply(op);
  }

  std::filesystem::path path_;
  StorageOptions options_;
  std::mutex mutex_;
  LocalState state_;
  int fd_ = -1;
  std::uint64_t offset_ = 0;  ///< journal bytes applied to state_
  std::uint64_t line_ = 0;    ///< journal lines applied
  ino_t inode_ = 0;
};

std::string definition_of(const SearchSpace& space, const StudyOptions& options) {
  nlohmann::json j;
  j["space"] = nlohmann::json::parse(space.signature());
  j["direction"] = to_string(options.direction);
  j["seed"] = options.seed;
  return j.dump();
}

const ParamSpec& spec_of(const StudyCore& core, std::string_view name, ParamKind kind) {
  const ParamSpec* spec = core.space.find(name);
  QUANT_CHECK(spec != nullptr);     // the objective asked for a parameter the space lacks
  QUANT_CHECK(spec->kind == kind);  // ... or with the wrong kind
  return *spec;
}

/// Refreshes a trial's heartbeat every `interval` on its own thread until destroyed.
class HeartbeatThread {
 public:
  HeartbeatThread(std::shared_ptr<StudyStorage> storage, std::int64_t number, std::string token,
                  std::chrono::milliseconds interval) {
    if (interval.count() <= 0) return;
    thread_ = std::thread([this, storage = std::move(storage), number, token = std::move(token), interval] {
      std::unique_lock lock(mutex_);
      while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
        lock.unlock();
        // A failed refresh is not fatal: the next one may work, and the
        // worst case is another worker re-claiming the trial.
        (void)storage->heartbeat(number, token);
        lock.lock();
      }
    });
  }
  ~HeartbeatThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  HeartbeatThread(const HeartbeatThread&) = delete;
  HeartbeatThread& operator=(const HeartbeatThread&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

std::shared_ptr<StudyStorage> make_memory_storage(StorageOptions options) {
  return std::make_shared<LocalStorage>(std::filesystem::path(), std::move(options));
}

Expected<std::shared_ptr<StudyStorage>> open_file_storage(const std::filesystem::path& path, StorageOptions options) {
  if (path.empty()) return make_error("study journal: empty path");
  auto storage = std::make_shared<LocalStorage>(path, std::move(options));
  auto checked = storage->open_check();
  if (!checked) return tl::unexpected(checked.error());
  return std::shared_ptr<StudyStorage>(std::move(storage));
}

std::int64_t Trial::int_param(std::string_view name) const {
  spec_of(*core_, name, ParamKind::Int);
  return static_cast<std::int64_t>(std::llround(record_.params.find(name)->second));
}

double Trial::float_param(std::string_view name) const {
  spec_of(*core_, name, ParamKind::Float);
  return record_.params.find(name)->second;
}

const std::string& Trial::choice(std::string_view name) const {
  const ParamSpec& spec = spec_of(*core_, name, ParamKind::Categorical);
  const auto index = static_cast<std::size_t>(record_.params.find(name)->second);
  QUANT_CHECK(index < spec.choices.size());
  return spec.choices[index];
}

bool Trial::report(std::int64_t step, double value) {
  Study study = Study(core_);
  auto stop = study.report(*this, step, value);
  if (!stop) {
    error_ = stop.error();
    return true;
  }
  return *stop;
}

Expected<Study> Study::open(std::shared_ptr<StudyStorage> storage, SearchSpace space, StudyOptions options) {
  if (!storage) return make_error("study: no storage");
  auto valid = space.validate();
  if (!valid) return tl::unexpected(valid.error());
  auto bound = storage->bind(definition_of(space, options));
  if (!bound) return tl::unexpected(bound.error());
  auto core = std::make_shared<StudyCore>();
  core->storage = std::move(storage);
  core->space = std::move(space);
  core->options = std::move(options);
  core->sampler = TpeSampler(core->options.sampler);
  if (core->options.pruner) core->pruner = MedianPruner(*core->options.pruner);
  return Study(std::move(core));
}

Trial Study::make_trial(TrialRecord record) const {
  Trial trial;
  trial.core_ = core_;
  trial.record_ = std::move(record);
  return trial;
}

Expected<ClaimResult> Study::claim(std::int64_t max_trials) {
  const StudyCore& core = *core_;
  auto claimed = core.storage->claim(max_trials, [&core](std::span<const TrialRecord> history, std::int64_t number) {
    return core.sampler.sample(core.space, core.options.direction, history, core.options.seed, number);
  });
  if (!claimed) return claimed;
  if (claimed->outcome == ClaimOutcome::Claimed && !core.space.contains(claimed->trial.params))
    return make_error("study: trial " + std::to_string(claimed->trial.number) +
                      " holds params outside the search space (a storage shared by different studies?)");
  return claimed;
}

Expected<Trial> Study::ask() {
  auto claimed = claim(-1);
  if (!claimed) return tl::unexpected(claimed.error());
  QUANT_CHECK(claimed->outcome == ClaimOutcome::Claimed);  // no budget: always a trial
  return make_trial(std::move(claimed->trial));
}

Expected<bool> Study::report(Trial& trial, std::int64_t step, double value) {
  const StudyCore& core = *core_;
  auto stored = core.storage->report(trial.number(), trial.record_.token, step, value);
  if (!stored) return tl::unexpected(stored.error());
  if (!*stored) {
    trial.lost_ = true;
    return true;
  }
  trial.record_.intermediate[step] = value;
  if (!core.pruner) return false;
  auto history = core.storage->trials();
  if (!history) return tl::unexpected(history.error());
  const bool prune = core.pruner->should_prune(core.options.direction, trial.record_.intermediate, *history);
  if (prune) trial.pruned_ = true;
  return prune;
}

namespace {
Expected<void> finish(const StudyCore& core, const Trial& trial, TrialState state, double value) {
  auto done = core.storage->finish(trial.number(), trial.record().token, state, value);
  if (!done) return tl::unexpected(done.error());
  if (!*done)
    return make_error("study: trial " + std::to_string(trial.number()) +
                      " is no longer this worker's (re-claimed after its heartbeat went stale, or already told)");
  return {};
}
}  // namespace

Expected<void> Study::tell(const Trial& trial, double value) {
  if (!std::isfinite(value)) return finish(*core_, trial, TrialState::Failed, kNaN);
  return finish(*core_, trial, TrialState::Complete, value);
}
Expected<void> Study::tell_pruned(const Trial& trial) { return finish(*core_, trial, TrialState::Pruned, kNaN); }
Expected<void> Study::tell_failed(const Trial& trial) { return finish(*core_, trial, TrialState::Failed, kNaN); }

Expected<std::vector<TrialRecord>> Study::trials() const { return core_->storage->trials(); }

Expected<std::optional<TrialRecord>> Study::best() const {
  auto all = trials();
  if (!all) return tl::unexpected(all.error());
  std::optional<TrialRecord> best;
  const bool minimize = core_->options.direction == Direction::Minimize;
  for (TrialRecord& t : *all) {
    if (t.state != TrialState::Complete) continue;
    if (!best || (minimize ? t.value < best->value : t.value > best->value)) best = std::move(t);
  }
  return best;
}

const SearchSpace& Study::space() const { return core_->space; }
const StudyOptions& Study::options() const { return core_->options; }

Expected<void> optimize(Study& study, const Objective& objective, std::int64_t n_trials) {
  const StudyCore& core = *study.core_;
  while (true) {
    auto claimed = study.claim(n_trials);
    if (!claimed) return tl::unexpected(claimed.error());
    if (claimed->outcome == ClaimOutcome::Done) return {};
    if (claimed->outcome == ClaimOutcome::Wait) {
      std::this_thread::sleep_for(core.options.wait_poll);
      continue;
    }
    Trial trial = study.make_trial(std::move(claimed->trial));
    Expected<double> result = make_error("not run");
    {
      HeartbeatThread heartbeat(core.storage, trial.number(), trial.record_.token, core.options.heartbeat_interval);
      result = objective(trial);
    }
    if (trial.error_) return tl::unexpected(*trial.error_);
    if (trial.lost_) continue;
    TrialState state = TrialState::Complete;
    double value = kNaN;
    if (trial.pruned_) {
      state = TrialState::Pruned;
    } else if (!result) {
      state = TrialState::Failed;
    } else if (std::isfinite(*result)) {
      value = *result;
    } else {
      state = TrialState::Failed;
    }
    auto done = core.storage->finish(trial.number(), trial.record_.token, state, value);
    if (!done) return tl::unexpected(done.error());
    if (!trial.pruned_ && !result)
      return make_error("study: trial " + std::to_string(trial.number()) + " failed: " + result.error().message);
  }
}

}  // namespace quant::research
