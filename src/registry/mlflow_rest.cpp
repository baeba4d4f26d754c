// MLflow's REST API over quant::http (libcurl): the RestTracker/RestRun and RestRegistry
// behind tracking.h and registry.h. Request and response shapes follow
// https://mlflow.org/docs/latest/rest-api.html (mlflow/protos/service.proto
// and model_registry.proto).

#include "registry/mlflow_rest.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/url.h"
#include "http/http_client.h"
#include "registry/store_io.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::size_t kMaxBatchParams = 100;
constexpr std::size_t kMaxBatchEntries = 1000;
constexpr std::size_t kMaxHistoryTagChars = 5000;
constexpr const char* kHistoryTagPrefix = "quant.alias_history.";

/// A failed call: the text for the user and MLflow's error_code (empty when
/// the server sent none), so callers can branch on RESOURCE_DOES_NOT_EXIST.
struct Failure {
  std::string message;
  std::string error_code;
};
template <class T>
using Result = tl::expected<T, Failure>;

tl::unexpected<Failure> failure(std::string message, std::string code = "") {
  return tl::unexpected<Failure>(Failure{std::move(message), std::move(code)});
}

Error to_error(const Failure& f) { return Error{f.message}; }


std::string text_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return {};
  const auto& v = j.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  return {};
}

/// int64 fields arrive as numbers (MLflow's message_to_json) or, from other
/// proto-JSON writers, as strings: take both.
std::int64_t int_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const auto& v = j.at(key);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return static_cast<std::int64_t>(v.get<double>());
  if (v.is_string()) return detail::parse_int64(v.get<std::string>()).value_or(0);
  return 0;
}

double double_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return HUGE_VAL;
    if (s == "-Infinity") return -HUGE_VAL;
  }
  return 0;
}

json metric_value(double v) {
  // JSON has no NaN/Infinity; protobuf's JSON mapping spells them as strings.
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

json key_values(const Tags& tags) {
  json out = json::array();
  for (const auto& [key, value] : tags) out.push_back({{"key", key}, {"value", value}});
  return out;
}

/// One connection to the server; requests are serialised (an http::Client
/// is single-threaded) and reuse the connection.
class RestClient {
 public:
  explicit RestClient(TrackingOptions options, std::string base_url)
      : options_(std::move(options)), base_(std::move(base_url)) {}
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;
  ~RestClient() = default;

  [[nodiscard]] const std::string& base_url() const { return base_; }

  /// `endpoint` below /api/2.0/ (e.g. "mlflow/runs/create"). GET sends
  /// `body`'s members as the query string, other methods as a JSON body.
  Result<json> call(const std::string& method, const std::string& endpoint, const json& body) {
    std::string url = base_ + "/api/2.0/" + endpoint;
    std::string payload;
    if (method == "GET") {
      std::string query;
      for (const auto& [key, value] : body.items()) {
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        query += (query.empty() ? "" : "&") + percent_encode(key, false) + "=" + percent_encode(text, false);
      }
      if (!query.empty()) url += "?" + query;
    } else {
      payload = body.dump();
    }
    auto answer = perform(method, url, payload, "application/json");
    if (!answer) return tl::unexpected(answer.error());
    if (answer->empty()) return json::object();
    auto parsed = json::parse(*answer, nullptr, false);
    if (parsed.is_discarded()) {
      return failure("MLflow " + method + " " + url + ": the answer is not JSON: " + answer->substr(0, 200));
    }
    return parsed;
  }

  /// PUT of raw bytes to /api/2.0/mlflow-artifacts/artifacts/<path>.
  Result<void> put_artifact(const std::string& path, const std::string& bytes) {
    const std::string url = base_ + "/api/2.0/mlflow-artifacts/artifacts/" + percent_encode(path, true);
    auto answer = perform("PUT", url, bytes, "application/octet-stream");
    if (!answer) return tl::unexpected(answer.error());
    return {};
  }

 private:
  Result<std::string> perform(const std::string& method, const std::string& url, const std::string& payload,
                              const char* content_type) {
    const std::string where = "MLflow " + method + " " + url;
    std::lock_guard lock(mutex_);
    if (!client_) {
      auto client = http::Client::create("quant-mlflow-client/1");
      if (!client) return failure(where + ": " + client.error().message);
      client_.emplace(std::move(*client));
    }
    http::Request request;
    request.url = url;
    request.method = method;
    request.content_type = content_type;
    request.headers.push_back("Accept: application/json");
    if (!options_.token.empty()) {
      request.headers.push_back("Authorization: Bearer " + options_.token);
    } else if (!options_.username.empty()) {
      request.user = options_.username;
      request.password = options_.password;
    }
    request.timeout = options_.timeout;
    request.connect_timeout = options_.connect_timeout;
    if (method != "GET") request.body = payload;
    auto reply = client_->perform(request);
    if (!reply) return failure(where + ": " + reply.error().message + " (is the MLflow tracking server running?)");
    const long status = reply->status;
    const std::string& answer = reply->body;
    if (status >= 200 && status < 300) return std::move(reply->body);
    // MLflow's errors are {"error_code": "...", "message": "..."}.
    const auto j = json::parse(answer, nullptr, false);
    const std::string code = j.is_object() ? text_of(j, "error_code") : "";
    const std::string message = j.is_object() ? text_of(j, "message") : "";
    std::string text = where + ": HTTP " + std::to_string(status);
    if (!code.empty()) text += " " + code;
    if (!message.empty()) {
      text += ": " + message;
    } else if (!answer.empty()) {
      text += ": " + answer.substr(0, 200);
    }
    if (status == 401 || status == 403) text += " (check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD)";
    return failure(text, code);
  }

  TrackingOptions options_;
  std::string base_;
  std::mutex mutex_;
  std::optional<http::Client> client_;  // one connection, reused; created on the first request
};

std::int64_t clock_now(const TrackingOptions& options) {
  return options.clock_ms ? options.clock_ms() : detail::system_now_ms();
}

/// The path below the artifact proxy that `artifact_uri` names
/// (`mlflow-artifacts:/1/<run>/artifacts` → `1/<run>/artifacts`).
Expected<std::string> proxy_path(const std::string& artifact_uri) {
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (artifact_uri.rfind(kScheme, 0) != 0) {
    return make_error("artifact store '" + artifact_uri +
                      "' is not the server's artifact proxy (mlflow-artifacts:); only proxied artifacts can be "
                      "uploaded (start the server with --serve-artifacts)");
  }
  std::string_view rest = std::string_view(artifact_uri).substr(kScheme.size());
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    const auto slash = rest.find('/');
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return std::string(rest);
}

/// Uploads a file, or a directory's files recursively, to `<dest>/...` on the proxy.
Expected<void> upload(RestClient& client, const fs::path& from, const std::string& dest) {
  std::error_code ec;
  const auto put = [&](const fs::path& file, const std::string& path) -> Expected<void> {
    auto bytes = detail::read_text(file);
    if (!bytes) return tl::unexpected(bytes.error());
    if (auto ok = client.put_artifact(path, *bytes); !ok) return tl::unexpected(to_error(ok.error()));
    return {};
  };
  const auto under = [&](const std::string& rel) { return dest.empty() ? rel : dest + "/" + rel; };
  if (fs::is_regular_file(from, ec)) return put(from, under(from.filename().string()));
  if (!fs::is_directory(from, ec))
    return make_error("artifact " + from.string() + " is neither a file nor a directory");
  for (fs::recursive_directory_iterator it(from, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (auto ok = put(it->path(), under(it->path().lexically_relative(from).generic_string())); !ok) return ok;
  }
  if (ec) return make_error(from.string() + ": cannot list: " + ec.message());
  return {};
}

class RestRun final : public Run {
 public:
  RestRun(std::shared_ptr<RestClient> client, TrackingOptions options, std::string run_id, std::string experiment_id,
          std::string artifact_uri)
      : client_(std::move(client)),
        options_(std::move(options)),
        run_id_(std::move(run_id)),
        experiment_id_(std::move(experiment_id)),
        artifact_uri_(std::move(artifact_uri)) {}
  RestRun(const RestRun&) = delete;
  RestRun& operator=(const RestRun&) = delete;
  ~RestRun() override {
    // A destructor may not throw; what ending the run would report is lost here by design.
    try {
      if (!ended_) (void)end(RunStatus::Failed);
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to report to from a destructor
    }
  }

  [[nodiscard]] const std::string& run_id() const override { return run_id_; }
  [[nodiscard]] const std::string& experiment_id() const override { return experiment_id_; }
  [[nodiscard]] const std::string& artifact_uri() const override { return artifact_uri_; }

  Expected<void> log_metric(const std::string& key, double value, std::int64_t step,
                            std::optional<std::int64_t> timestamp_ms) override {
    if (auto ok = detail::check_key(key, "metric"); !ok) return fail(ok.error().message);
    std::lock_guard lock(mutex_);
    metrics_.push_back({{"key", key},
                        {"value", metric_value(value)},
                        {"timestamp", timestamp_ms.value_or(clock_now(options_))},
                        {"step", step}});
    if (params_.size() + metrics_.size() >= kMaxBatchEntries) return send_batch();
    return {};
  }

  Expected<void> set_tag(const std::string& key, const std::string& value) override {
    if (auto ok = detail::check_key(key, "tag"); !ok) return fail(ok.error().message);
    auto answer = client_->call("POST", "mlflow/runs/set-tag", {{"run_id", run_id_}, {"key", key}, {"value", value}});
    if (!answer) return tl::unexpected(to_error(answer.error()));
    return {};
  }

  Expected<void> log_artifact(const std::string& local_path, const std::string& artifact_subdir) override {
    if (auto ok = detail::check_artifact_path(artifact_subdir); !ok) return fail(ok.error().message);
    auto base = proxy_path(artifact_uri_);
    if (!base) return fail(base.error().message);
    std::string dest = *base;
    if (!artifact_subdir.empty()) dest += "/" + artifact_subdir;
    if (auto ok = upload(*client_, local_path, dest); !ok) return fail(ok.error().message);
    return {};
  }

  Expected<void> flush() override {
    std::lock_guard lock(mutex_);
    return send_batch();
  }

  Expected<void> end(RunStatus status) override {
    std::lock_guard lock(mutex_);
    ended_ = true;
    auto sent = send_batch();
    auto answer =
        client_->call("POST", "mlflow/runs/update",
                      {{"run_id", run_id_}, {"status", run_status_name(status)}, {"end_time", clock_now(options_)}});
    if (!sent) return sent;
    if (!answer) return tl::unexpected(to_error(answer.error()));
    return {};
  }

 protected:
  Expected<void> write_param(const std::string& key, const std::string& value) override {
    if (auto ok = detail::check_key(key, "param"); !ok) return fail(ok.error().message);
    std::lock_guard lock(mutex_);
    for (const auto& p : params_) {
      if (p["key"] == key && p["value"] != value) {
        return fail("param '" + key + "' is already pending with value " + p["value"].dump() +
                    "; params cannot change");
      }
    }
    params_.push_back({{"key", key}, {"value", value}});
    if (params_.size() >= kMaxBatchParams || params_.size() + metrics_.size() >= kMaxBatchEntries) {
      return send_batch();
    }
    return {};
  }

 private:
  Expected<void> fail(const std::string& what) const { return make_error("tracking: run " + run_id_ + ": " + what); }

  /// Sends and clears the pending params and metrics (caller holds mutex_).
  /// Cleared even on failure: resending a batch whose params the server
  /// partly stored would fail again on those params.
  Expected<void> send_batch() {
    if (params_.empty() && metrics_.empty()) return {};
    json body = {{"run_id", run_id_}, {"metrics", json::array()}, {"params", json::array()}, {"tags", json::array()}};
    body["metrics"] = std::exchange(metrics_, {});
    body["params"] = std::exchange(params_, {});
    auto answer = client_->call("POST", "mlflow/runs/log-batch", body);
    if (!answer) return tl::unexpected(to_error(answer.error()));
    return {};
  }

  std::shared_ptr<RestClient> client_;
  TrackingOptions options_;
  std::string run_id_;
  std::string experiment_id_;
  std::string artifact_uri_;
  std::mutex mutex_;
  std::vector<json> params_;
  std::vector<json> metrics_;
  bool ended_ = false;
};

class RestTracker final : public Tracker {
 public:
  RestTracker(std::shared_ptr<RestClient> client, TrackingOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}

  [[nodiscard]] const std::string& uri() const override { return client_->base_url(); }

  Expected<std::string> experiment_id(const std::string& name) override {
    if (name.empty()) return make_error("tracking: experiment name is empty");
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto got = client_->call("GET", "mlflow/experiments/get-by-name", {{"experiment_name", name}});
      if (got) {
        const json& e = (*got)["experiment"];
        const std::string id = text_of(e, "experiment_id");
        if (id.empty()) return make_error("tracking: " + client_->base_url() + ": experiment '" + name + "' has no id");
        if (text_of(e, "lifecycle_stage") == "deleted") {
          return make_error("tracking: experiment '" + name + "' (id " + id +
                            ") is deleted on the server; restore it or pick another name");
        }
        return id;
      }
      if (got.error().error_code != "RESOURCE_DOES_NOT_EXIST") return tl::unexpected(to_error(got.error()));
      auto created = client_->call("POST", "mlflow/experiments/create", {{"name", name}});
      if (created) return text_of(*created, "experiment_id");
      // Another client created it between our two calls: look it up again.
      if (created.error().error_code != "RESOURCE_ALREADY_EXISTS") return tl::unexpected(to_error(created.error()));
    }
    return make_error("tracking: " + client_->base_url() + ": experiment '" + name + "' neither found nor created");
  }

  Expected<std::unique_ptr<Run>> start_run(const std::string& experiment_name, const std::string& run_name,
                                           const Tags& tags) override {
    for (const auto& [key, value] : tags) {
      if (auto ok = detail::check_key(key, "tag"); !ok) return make_error("tracking: " + ok.error().message);
    }
    auto exp = experiment_id(experiment_name);
    if (!exp) return tl::unexpected(exp.error());
    std::string name = run_name;
    if (auto it = tags.find("mlflow.runName"); it != tags.end() && name.empty()) name = it->second;
    Tags all;
    all["mlflow.user"] = options_.user;
    if (!options_.source_name.empty()) all["mlflow.source.name"] = options_.source_name;
    all["mlflow.source.type"] = "LOCAL";
    for (const auto& [key, value] : tags) all[key] = value;
    if (!name.empty()) all["mlflow.runName"] = name;
    json body = {{"experiment_id", *exp},
                 {"user_id", options_.user},
                 {"start_time", clock_now(options_)},
                 {"tags", key_values(all)}};
    if (!name.empty()) body["run_name"] = name;
    auto created = client_->call("POST", "mlflow/runs/create", body);
    if (!created) return tl::unexpected(to_error(created.error()));
    const json& info = (*created)["run"]["info"];
    std::string run_id = text_of(info, "run_id");
    if (run_id.empty()) run_id = text_of(info, "run_uuid");
    if (run_id.empty())
      return make_error("tracking: " + client_->base_url() + ": runs/create answered without a run id");
    return std::unique_ptr<Run>(new RestRun(client_, options_, run_id, *exp, text_of(info, "artifact_uri")));
  }

 private:
  std::shared_ptr<RestClient> client_;
  TrackingOptions options_;
};

AliasChange history_entry(const TrackingOptions& options, const std::string& action, const std::string& alias,
                          std::optional<std::int64_t> from, std::int64_t to, const std::string& reason,
                          const std::string& decision) {
  return detail::make_alias_change(clock_now(options), options.user, action, alias, from, to, reason, decision);
}

class RestRegistry final : public Registry {
 public:
  RestRegistry(std::shared_ptr<RestClient> client, TrackingOptions options)
      : client_(std::move(client)), options_(std::move(options)), tracker_(client_, options_) {}

  [[nodiscard]] const std::string& uri() const override { return client_->base_url(); }

  Expected<std::int64_t> register_version(const std::string& name, const std::string& model_dir,
                                          const std::string& run_id, const Tags& tags) override {
    if (auto ok = detail::check_model_name(name); !ok) return tl::unexpected(ok.error());
    for (const auto& [key, value] : tags) {
      if (auto ok = detail::check_key(key, "tag"); !ok) return fail(ok.error().message);
    }
    const fs::path dir = detail::normal_absolute(model_dir.empty() ? "." : model_dir);
    std::error_code ec;
    if (model_dir.empty() || !fs::is_directory(dir, ec))
      return fail("model directory " + dir.string() + " does not exist");
    if (!fs::is_regular_file(dir / "manifest.json", ec)) return fail("no manifest.json in " + dir.string());
    if (auto ok = ensure_model(name); !ok) return tl::unexpected(ok.error());

    std::unique_ptr<Run> own_run;
    std::string run = run_id;
    std::string artifact_uri;
    if (run.empty()) {
      auto started = tracker_.start_run("Default", "register " + name, {{"quant.registry.model", name}});
      if (!started) return tl::unexpected(started.error());
      own_run = std::move(*started);
      run = own_run->run_id();
      artifact_uri = own_run->artifact_uri();
    } else {
      auto got = client_->call("GET", "mlflow/runs/get", {{"run_id", run}});
      if (!got) return tl::unexpected(to_error(got.error()));
      artifact_uri = text_of((*got)["run"]["info"], "artifact_uri");
    }
    auto base = proxy_path(artifact_uri);
    if (!base) return fail("run " + run + ": " + base.error().message);
    auto sub = free_model_path(run);
    if (!sub) return tl::unexpected(sub.error());
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      if (auto ok = upload(*client_, it->path(), *base + "/" + *sub); !ok) return fail(ok.error().message);
    }
    if (ec) return fail(dir.string() + ": cannot list: " + ec.message());

    json body = {{"name", name}, {"source", artifact_uri + "/" + *sub}, {"run_id", run}, {"tags", key_values(tags)}};
    auto created = client_->call("POST", "mlflow/model-versions/create", body);
    if (!created) return tl::unexpected(to_error(created.error()));
    const auto version = detail::parse_int64(text_of((*created)["model_version"], "version"));
    if (!version) return fail("model-versions/create answered without a version number");
    if (own_run) {
      if (auto ok = own_run->end(RunStatus::Finished); !ok) return tl::unexpected(ok.error());
    }
    return *version;
  }

  Expected<void> set_alias(const std::string& name, const std::string& alias, std::int64_t version) override {
    if (auto ok = detail::check_settable_alias(alias); !ok) return ok;
    auto answer = client_->call("POST", "mlflow/registered-models/alias",
                                {{"name", name}, {"alias", alias}, {"version", std::to_string(version)}});
    if (!answer) return tl::unexpected(to_error(answer.error()));
    return {};
  }

  Expected<void> delete_alias(const std::string& name, const std::string& alias) override {
    if (auto ok = detail::check_alias_chars(alias); !ok) return ok;
    if (auto v = get_alias(name, alias); !v) return tl::unexpected(v.error());
    auto answer = client_->call("DELETE", "mlflow/registered-models/alias", {{"name", name}, {"alias", alias}});
    if (!answer) return tl::unexpected(to_error(answer.error()));
    return {};
  }

  Expected<ModelVersionInfo> get_alias(const std::string& name, const std::string& alias) override {
    if (auto ok = detail::check_alias_chars(alias); !ok) return tl::unexpected(ok.error());
    auto model = get_model(name);
    if (!model) return tl::unexpected(model.error());
    if (model->aliases.count(alias) == 0) {
      std::string have;
      for (const auto& [a, v] : model->aliases) have += (have.empty() ? "" : ", ") + a + "=" + std::to_string(v);
      return fail("model '" + name + "' has no alias '" + alias + "' (aliases: " + (have.empty() ? "none" : have) +
                  ")");
    }
    auto answer = client_->call("GET", "mlflow/registered-models/alias", {{"name", name}, {"alias", alias}});
    if (!answer) return tl::unexpected(to_error(answer.error()));
    return version_info((*answer)["model_version"]);
  }

  Expected<ModelVersionInfo> get_version(const std::string& name, std::int64_t version) override {
    auto answer =
        client_->call("GET", "mlflow/model-versions/get", {{"name", name}, {"version", std::to_string(version)}});
    if (!answer) {
      if (answer.error().error_code == "RESOURCE_DOES_NOT_EXIST") {
        if (auto model = get_model(name); !model) return tl::unexpected(model.error());
        return fail("model '" + name + "' has no version " + std::to_string(version));
      }
      return tl::unexpected(to_error(answer.error()));
    }
    return version_info((*answer)["model_version"]);
  }

  Expected<std::vector<RegisteredModelInfo>> list_models() override {
    auto models = search_models();
    if (!models) return tl::unexpected(models.error());
    std::vector<RegisteredModelInfo> out;
    for (const auto& m : *models) {
      auto info = model_info(m);
      if (!info) return tl::unexpected(info.error());
      out.push_back(std::move(*info));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Expected<RegisteredModelInfo> get_model(const std::string& name) override {
    if (auto ok = detail::check_model_name(name); !ok) return tl::unexpected(ok.error());
    auto answer = client_->call("GET", "mlflow/registered-models/get", {{"name", name}});
    if (!answer) {
      if (answer.error().error_code != "RESOURCE_DOES_NOT_EXIST") return tl::unexpected(to_error(answer.error()));
      auto models = search_models();
      std::string names;
      if (models) {
        for (const auto& m : *models) names += (names.empty() ? "" : ", ") + text_of(m, "name");
      }
      return fail("no model '" + name + "' (" +
                  (names.empty() ? std::string("no models are registered") : "models: " + names) + ")");
    }
    return model_info((*answer)["registered_model"]);
  }

  Expected<std::vector<ModelVersionInfo>> list_versions(const std::string& name) override {
    if (auto model = get_model(name); !model) return tl::unexpected(model.error());
    auto versions = search_versions(name);
    if (!versions) return tl::unexpected(versions.error());
    std::vector<ModelVersionInfo> out;
    std::map<std::string, std::map<std::string, double>> run_metrics;
    for (const auto& v : *versions) {
      auto info = version_info(v, &run_metrics);
      if (!info) return tl::unexpected(info.error());
      if (info->current_stage == "Deleted_Internal") continue;
      out.push_back(std::move(*info));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    return out;
  }

  Expected<std::vector<AliasChange>> alias_history(const std::string& name, const std::string& alias) override {
    if (auto ok = detail::check_alias_chars(alias); !ok) return tl::unexpected(ok.error());
    auto answer = client_->call("GET", "mlflow/registered-models/get", {{"name", name}});
    if (!answer) {
      if (auto model = get_model(name); !model) return tl::unexpected(model.error());
      return tl::unexpected(to_error(answer.error()));
    }
    const std::string key = kHistoryTagPrefix + alias;
    std::string text;
    for (const auto& t : (*answer)["registered_model"].value("tags", json::array())) {
      if (text_of(t, "key") == key) text = text_of(t, "value");
    }
    std::vector<AliasChange> out;
    std::size_t pos = 0;
    std::size_t line_no = 0;
    while (pos < text.size()) {
      const auto eol = text.find('\n', pos);
      const std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
      pos = eol == std::string::npos ? text.size() : eol + 1;
      ++line_no;
      if (detail::trim(line).empty()) continue;
      auto c = detail::parse_alias_change(line, "registered-model tag " + key + " line " + std::to_string(line_no));
      if (!c) return tl::unexpected(c.error());
      out.push_back(std::move(*c));
    }
    return out;
  }

  Expected<AliasChange> promote(const std::string& name, std::int64_t version, const std::string& alias,
                                const std::string& decision_json, const std::string& reason) override {
    if (auto ok = detail::check_settable_alias(alias); !ok) return tl::unexpected(ok.error());
    auto decision = detail::normalise_decision(decision_json);
    if (!decision) return fail("promote '" + name + "': " + decision.error().message);
    auto model = get_model(name);
    if (!model) return tl::unexpected(model.error());
    auto target = get_version(name, version);
    if (!target) return tl::unexpected(target.error());
    std::optional<std::int64_t> current;
    if (auto it = model->aliases.find(alias); it != model->aliases.end()) current = it->second;
    if (auto ok = detail::check_promotion(name, version, target->status, alias, current); !ok) {
      return fail(ok.error().message);
    }
    return record_and_move(name, alias, history_entry(options_, "promote", alias, current, version, reason, *decision));
  }

  Expected<AliasChange> rollback(const std::string& name, const std::string& alias,
                                 const std::string& reason) override {
    if (auto ok = detail::check_settable_alias(alias); !ok) return tl::unexpected(ok.error());
    auto model = get_model(name);
    if (!model) return tl::unexpected(model.error());
    auto history = alias_history(name, alias);
    if (!history) return tl::unexpected(history.error());
    auto target = detail::rollback_target(*history, alias);
    if (!target) return fail("rollback '" + name + "': " + target.error().message);
    if (auto v = get_version(name, *target); !v) return tl::unexpected(v.error());
    std::optional<std::int64_t> current;
    if (auto it = model->aliases.find(alias); it != model->aliases.end()) current = it->second;
    return record_and_move(name, alias, history_entry(options_, "rollback", alias, current, *target, reason, "{}"));
  }

 private:
  [[nodiscard]] tl::unexpected<Error> fail(const std::string& what) const {
    return tl::unexpected<Error>(Error{"registry " + client_->base_url() + ": " + what});
  }

  Expected<void> ensure_model(const std::string& name) {
    auto got = client_->call("GET", "mlflow/registered-models/get", {{"name", name}});
    if (got) return {};
    if (got.error().error_code != "RESOURCE_DOES_NOT_EXIST") return tl::unexpected(to_error(got.error()));
    auto created = client_->call("POST", "mlflow/registered-models/create", {{"name", name}});
    if (created || created.error().error_code == "RESOURCE_ALREADY_EXISTS") return {};
    return tl::unexpected(to_error(created.error()));
  }

  /// "model", or "model-2", ... when the run already has files there.
  Expected<std::string> free_model_path(const std::string& run_id) {
    for (int k = 1; k <= 1000; ++k) {
      const std::string path = k == 1 ? std::string("model") : "model-" + std::to_string(k);
      auto listed = client_->call("GET", "mlflow/artifacts/list", {{"run_id", run_id}, {"path", path}});
      if (!listed) return tl::unexpected(to_error(listed.error()));
      const auto files = listed->value("files", json::array());
      if (!files.is_array() || files.empty()) return path;
    }
    return fail("run " + run_id + ": no free model artifact directory");
  }

  Result<std::vector<json>> paged(const std::string& endpoint, json query, const char* field) {
    std::vector<json> out;
    for (int page = 0; page < 10000; ++page) {
      auto answer = client_->call("GET", endpoint, query);
      if (!answer) return tl::unexpected(answer.error());
      for (const auto& item : answer->value(field, json::array())) out.push_back(item);
      const std::string token = text_of(*answer, "next_page_token");
      if (token.empty()) break;
      query["page_token"] = token;
    }
    return out;
  }

  Expected<std::vector<json>> search_models() {
    auto found = paged("mlflow/registered-models/search", {{"max_results", 1000}}, "registered_models");
    if (!found) return tl::unexpected(to_error(found.error()));
    return *found;
  }

  Expected<std::vector<json>> search_versions(const std::string& name) {
    std::string quoted;
    for (const char c : name) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    auto found = paged("mlflow/model-versions/search", {{"filter", "name='" + quoted + "'"}, {"max_results", 1000}},
                       "model_versions");
    if (!found) return tl::unexpected(to_error(found.error()));
    return *found;
  }

  Expected<RegisteredModelInfo> model_info(const json& m) {
    RegisteredModelInfo info;
    info.name = text_of(m, "name");
    info.creation_timestamp_ms = int_of(m, "creation_timestamp");
    info.last_updated_timestamp_ms = int_of(m, "last_updated_timestamp");
    info.description = text_of(m, "description");
    for (const auto& a : m.value("aliases", json::array())) {
      if (auto v = detail::parse_int64(text_of(a, "version"))) info.aliases[text_of(a, "alias")] = *v;
    }
    auto versions = search_versions(info.name);
    if (!versions) return tl::unexpected(versions.error());
    for (const auto& v : *versions) {
      if (text_of(v, "current_stage") == "Deleted_Internal") continue;
      ++info.version_count;
      info.latest_version = std::max(info.latest_version, detail::parse_int64(text_of(v, "version")).value_or(0));
    }
    return info;
  }

  /// `cache` (run id -> metrics) saves a runs/get per version of one run.
  Expected<ModelVersionInfo> version_info(const json& v,
                                          std::map<std::string, std::map<std::string, double>>* cache = nullptr) {
    ModelVersionInfo info;
    info.name = text_of(v, "name");
    info.version = detail::parse_int64(text_of(v, "version")).value_or(0);
    info.creation_timestamp_ms = int_of(v, "creation_timestamp");
    info.last_updated_timestamp_ms = int_of(v, "last_updated_timestamp");
    info.current_stage = text_of(v, "current_stage");
    info.status = text_of(v, "status");
    if (info.status.empty()) info.status = "READY";
    info.source = text_of(v, "source");
    info.run_id = text_of(v, "run_id");
    info.user_id = text_of(v, "user_id");
    for (const auto& a : v.value("aliases", json::array())) {
      if (a.is_string()) info.aliases.push_back(a.get<std::string>());
    }
    std::sort(info.aliases.begin(), info.aliases.end());
    for (const auto& t : v.value("tags", json::array())) info.tags[text_of(t, "key")] = text_of(t, "value");
    if (!info.run_id.empty()) {
      if (cache != nullptr) {
        if (auto it = cache->find(info.run_id); it != cache->end()) {
          info.metrics = it->second;
          return info;
        }
      }
      // The run may be gone or on another server: the version then has no metrics.
      if (auto run = client_->call("GET", "mlflow/runs/get", {{"run_id", info.run_id}})) {
        for (const auto& m : (*run)["run"]["data"].value("metrics", json::array())) {
          if (m.contains("value")) info.metrics[text_of(m, "key")] = double_of(m.at("value"));
        }
      }
      if (cache != nullptr) (*cache)[info.run_id] = info.metrics;
    }
    return info;
  }

  Expected<AliasChange> record_and_move(const std::string& name, const std::string& alias, const AliasChange& change) {
    auto history = alias_history(name, alias);
    if (!history) return tl::unexpected(history.error());
    std::vector<std::string> lines;
    for (const auto& c : *history) lines.push_back(detail::alias_change_json(c));
    lines.push_back(detail::alias_change_json(change));
    if (lines.back().size() > kMaxHistoryTagChars) {
      return fail("the history entry for alias '" + alias + "' is " + std::to_string(lines.back().size()) +
                  " characters; a registered-model tag holds at most " + std::to_string(kMaxHistoryTagChars) +
                  " (shorten the decision JSON)");
    }
    std::string text;
    for (std::size_t first = 0; first < lines.size(); ++first) {
      text.clear();
      for (std::size_t i = first; i < lines.size(); ++i) text += lines[i] + "\n";
      if (text.size() <= kMaxHistoryTagChars) break;
    }
    auto tagged = client_->call("POST", "mlflow/registered-models/set-tag",
                                {{"name", name}, {"key", kHistoryTagPrefix + alias}, {"value", text}});
    if (!tagged) return tl::unexpected(to_error(tagged.error()));
    if (auto ok = set_alias(name, alias, change.to); !ok) return tl::unexpected(ok.error());
    return change;
  }

  std::shared_ptr<RestClient> client_;
  TrackingOptions options_;
  RestTracker tracker_;
};

Expected<std::shared_ptr<RestClient>> make_client(const TrackingOptions& options) {
  auto where = parse_tracking_uri(options.uri);
  if (!where) return tl::unexpected(where.error());
  if (!where->rest) return make_error("tracking URI '" + options.uri + "' is not an http(s) URL");
  return std::make_shared<RestClient>(options, where->base_url);
}

}  // namespace

Expected<std::unique_ptr<Tracker>> open_rest_tracker(const TrackingOptions& options) {
  auto client = make_client(options);
  if (!client) return tl::unexpected(client.error());
  return std::unique_ptr<Tracker>(new RestTracker(*client, options));
}

Expected<std::unique_ptr<Registry>> open_rest_registry(const TrackingOptions& options) {
  auto client = make_client(options);
  if (!client) return tl::unexpected(client.error());
  return std::unique_ptr<Registry>(new RestRegistry(*client, options));
}

}  // namespace quant::registry
