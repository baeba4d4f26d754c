#pragma once
/// A hyper-parameter study shared by worker processes: a search space, the
/// TPE sampler, the median pruner and a storage that every worker reads and
/// writes, so that workers on one machine (journal file) or on several
/// (Redis) split one budget of trials between them.
///
/// ```
/// auto storage = research::open_file_storage("out/study.jsonl");        // or open_redis_storage
/// research::SearchSpace space;
/// space.add_int("fast", 5, 50).add_float("atr_mult", 1.0, 4.0).add_categorical("filter", {"none", "hmm"});
/// auto study = research::Study::open(*storage, space, {.direction = research::Direction::Maximize, .seed = 7});
/// auto done = research::optimize(*study, [&](research::Trial& trial) -> Expected<double> {
///   double sum = 0;
///   for (int fold = 0; fold < 5; ++fold) {
///     sum += sharpe_of_fold(fold, trial.int_param("fast"), trial.float_param("atr_mult"));
///     if (trial.report(fold, sum / (fold + 1))) return sum / (fold + 1);   // pruned: stop early
///   }
///   return sum / 5;
/// }, 200);
/// ```
///
/// Invariants every storage keeps:
///   - trial numbers are 0, 1, 2, ... without gaps; a number is created once,
///     with its params, in one atomic step (one worker wins a race for it);
///   - a Running trial is owned by one attempt, named by a token; only that
///     token's reports and tells are accepted; Complete, Pruned and Failed
///     are final;
///   - a Running trial whose worker is dead — its heartbeat older than
///     `stale_after`, or (same host) its process gone — is re-claimed by the
///     next worker that asks, with the same number and the same params, its
///     reports cleared (attempt + 1);
///   - what a tell or report returned success for survives a crash of the
///     worker (file: fsync'd before returning; Redis: as durable as the
///     server's AOF setting).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "research/search_space.h"
#include "research/tpe.h"
#include "stream/stream.h"

namespace quant::research {

/// What StudyStorage::claim found.
enum class ClaimOutcome {
  Claimed,  ///< `trial` is this worker's to run
  Wait,     ///< the budget is used up but some trials still run elsewhere: ask again later
  Done,     ///< the budget is used up and every trial in it is finished
};

struct ClaimResult {
  ClaimOutcome outcome = ClaimOutcome::Done;
  TrialRecord trial;  ///< Claimed only
};

/// Draws the params of new trial `number` given every trial stored so far.
using SampleFunction = std::function<Params(std::span<const TrialRecord> history, std::int64_t number)>;

/// Where a study's trials live. Implementations are safe to call from several
/// threads (optimize's heartbeat thread runs beside the objective) and from
/// several processes at once. Each call fails (Expected) only on I/O trouble
/// or a corrupt store; a call made with a token that no longer owns its trial
/// returns false instead.
class StudyStorage {
 public:
  virtual ~StudyStorage() = default;

  /// Binds this storage to a study `definition` (a text naming the space,
  /// direction and seed): the first caller stores it, later callers must pass
  /// the same text, else this fails saying so.
  virtual Expected<void> bind(std::string_view definition) = 0;

  /// In one atomic step: Done when `max_trials` (negative: no limit) trials
  /// are finished; else re-claims the lowest-numbered Running trial whose
  /// worker is dead (same number and params, new token); else, while fewer
  /// than `max_trials` numbers exist, creates the next number with params
  /// from `sample(all trials, number)`; else Wait. The claimant's heartbeat
  /// starts now.
  virtual Expected<ClaimResult> claim(std::int64_t max_trials, const SampleFunction& sample) = 0;
  /// Refreshes the heartbeat of trial `number` (a sign of life).
  virtual Expected<bool> heartbeat(std::int64_t number, std::string_view token) = 0;
  /// Stores an intermediate value (step → value; NaN allowed) and refreshes the heartbeat.
  virtual Expected<bool> report(std::int64_t number, std::string_view token, std::int64_t step, double value) = 0;
  /// Ends the trial: `state` is Complete (with `value`), Pruned or Failed.
  /// Telling a trial that is already finished by the same token again returns true.
  virtual Expected<bool> finish(std::int64_t number, std::string_view token, TrialState state, double value) = 0;
  /// Every trial, by number (index i holds trial i).
  virtual Expected<std::vector<TrialRecord>> trials() = 0;
};

/// How a storage recognises a dead worker, and who this worker is.
struct StorageOptions {
  /// A Running trial whose heartbeat is older than this is re-claimed.
  std::chrono::milliseconds stale_after{60000};
  /// Also re-claim at once a Running trial of this host whose process no
  /// longer exists (kill(pid, 0)). Turn off where one host name covers
  /// several pid namespaces (containers sharing a name).
  bool check_pid = true;
  /// This worker's host name; empty: gethostname().
  std::string host;
  /// File and memory storage: the clock heartbeats are judged by, ms since
  /// the Unix epoch; empty: the system clock. (Redis uses the server's TIME.)
  std::function<std::int64_t()> now_ms;
};

/// A storage held in this process only (tests, benchmarks, a single worker).
std::shared_ptr<StudyStorage> make_memory_storage(StorageOptions options = {});

/// The append-only journal at `path` (created with its parent directory when
/// missing): one JSON object per line, written with one write() and fsync'd
/// under an exclusive flock that also covers reading, so processes on one
/// machine share it (not over NFS). A torn last line — a writer killed while
/// writing — is cut off by the next reader; any other line that does not
/// parse is corruption, reported as path:line.
Expected<std::shared_ptr<StudyStorage>> open_file_storage(const std::filesystem::path& path,
                                                          StorageOptions options = {});

/// Study `study_name` on the Redis server at `endpoint`, under keys
/// `study:<name>:*` (one server, not a cluster). Claims, heartbeats, reports
/// and tells are Lua scripts run atomically by the server, idempotent when
/// the connection re-sends them after a reconnect; heartbeats use the
/// server's clock, so workers' clocks need not agree.
Expected<std::shared_ptr<StudyStorage>> open_redis_storage(const stream::Endpoint& endpoint,
                                                           std::string_view study_name, StorageOptions options = {});

/// How a study samples and prunes.
struct StudyOptions {
  Direction direction = Direction::Minimize;
  std::uint64_t seed = 0;  ///< all workers of a study must use the same seed (the storage checks)
  TpeOptions sampler{};
  std::optional<MedianPrunerOptions> pruner = MedianPrunerOptions{};  ///< nullopt: never prune
  /// optimize(): how often a running trial's heartbeat is refreshed (keep it
  /// well below the storage's stale_after).
  std::chrono::milliseconds heartbeat_interval{5000};
  /// optimize(): how long to sleep when the budget is used up but trials still run elsewhere.
  std::chrono::milliseconds wait_poll{200};
};

namespace detail {
struct StudyCore;
}
class Study;
class Trial;

/// The objective: the value of the trial's params, or an error.
using Objective = std::function<Expected<double>(Trial&)>;

/// One claimed trial: its number and params, and the channel for reports.
/// Used from the thread that claimed it.
class Trial {
 public:
  std::int64_t number() const { return record_.number; }
  const Params& params() const { return record_.params; }
  /// The value of an int / float / categorical parameter; asking for a name
  /// the space does not have, or with the wrong kind, is a bug (aborts).
  std::int64_t int_param(std::string_view name) const;
  double float_param(std::string_view name) const;
  const std::string& choice(std::string_view name) const;

  /// Reports the objective's value after `step` (e.g. a walk-forward fold)
  /// and returns true when the objective should stop now: the pruner says
  /// so, the trial was re-claimed by another worker, or the storage failed
  /// (optimize() then returns that error).
  bool report(std::int64_t step, double value);

  bool pruned() const { return pruned_; }
  /// The reports made so far in this attempt.
  const std::map<std::int64_t, double>& intermediate_values() const { return record_.intermediate; }
  /// The whole record as claimed (token, attempt, ...).
  const TrialRecord& record() const { return record_; }

 private:
  friend class Study;
  friend Expected<void> optimize(Study& study, const Objective& objective, std::int64_t n_trials);
  std::shared_ptr<detail::StudyCore> core_;
  TrialRecord record_;
  bool pruned_ = false;
  bool lost_ = false;           ///< taken over by another worker
  std::optional<Error> error_;  ///< a storage failure met by report()
};

/// A study: space + sampler + pruner + storage. Copies share one study.
class Study {
 public:
  /// Checks the space and binds the storage to (space, direction, seed).
  static Expected<Study> open(std::shared_ptr<StudyStorage> storage, SearchSpace space, StudyOptions options = {});

  /// Claims a trial: a dead worker's Running trial (same params) or a new one
  /// sampled from every trial in the storage. No budget (see optimize). No
  /// heartbeat thread either: report (which refreshes it) or tell within the
  /// storage's stale_after, or another worker may take the trial over.
  Expected<Trial> ask();
  /// Stores the report and asks the pruner (true: stop the trial). The trial
  /// having been re-claimed by another worker also answers true.
  Expected<bool> report(Trial& trial, std::int64_t step, double value);
  /// Ends the trial as Complete with `value` (a NaN or infinite value ends it
  /// as Failed, as Optuna does). Fails when the trial is no longer this
  /// worker's (re-claimed after its heartbeat went stale).
  Expected<void> tell(const Trial& trial, double value);
  Expected<void> tell_pruned(const Trial& trial);
  Expected<void> tell_failed(const Trial& trial);

  Expected<std::vector<TrialRecord>> trials() const;
  /// The best Complete trial, or nullopt when none is complete.
  Expected<std::optional<TrialRecord>> best() const;

  const SearchSpace& space() const;
  const StudyOptions& options() const;

 private:
  friend class Trial;
  friend Expected<void> optimize(Study& study, const Objective& objective, std::int64_t n_trials);
  Expected<ClaimResult> claim(std::int64_t max_trials);
  Trial make_trial(TrialRecord record) const;
  explicit Study(std::shared_ptr<detail::StudyCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::StudyCore> core_;
};

/// Runs trials until the study holds `n_trials` finished trials (Complete,
/// Pruned or Failed, counted across all workers): claims a trial (or waits
/// while the remaining ones run elsewhere, re-claiming any whose worker
/// dies), keeps its heartbeat fresh on a second thread while the objective
/// runs, and tells the outcome: Pruned when a report said stop, Complete with
/// the returned value, Failed for a NaN/infinite value. An objective error
/// ends the trial as Failed and is returned (the study stops, as Optuna's
/// does without `catch`); so is a storage error. A trial re-claimed by another
/// worker meanwhile is left to that worker.
Expected<void> optimize(Study& study, const Objective& objective, std::int64_t n_trials);

}  // namespace quant::research
