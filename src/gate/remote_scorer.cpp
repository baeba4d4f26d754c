#include "gate/remote_scorer.h"

#include <cmath>
#include <limits>
#include <utility>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

namespace quant::gate {

struct RemoteScorer::Impl {
  RemoteScorerConfig config;
  std::vector<std::string> names;
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  std::string body, answer;
  ~Impl() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

float number_or_nan(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::numeric_limits<float>::quiet_NaN();
  return j[key].get<float>();
}

}  // namespace

RemoteScorer::RemoteScorer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteScorer::RemoteScorer(RemoteScorer&&) noexcept = default;
RemoteScorer& RemoteScorer::operator=(RemoteScorer&&) noexcept = default;
RemoteScorer::~RemoteScorer() = default;

Expected<RemoteScorer> RemoteScorer::create(RemoteScorerConfig config, std::vector<std::string> feature_names) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) return make_error("remote gate: libcurl failed to initialise");
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->names = std::move(feature_names);
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return make_error("remote gate: libcurl failed to initialise");
  impl->headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(impl->curl, CURLOPT_URL, impl->config.url.c_str());
  curl_easy_setopt(impl->curl, CURLOPT_HTTPHEADER, impl->headers);
  curl_easy_setopt(impl->curl, CURLOPT_TIMEOUT_MS, static_cast<long>(impl->config.timeout.count()));
  curl_easy_setopt(impl->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(impl->curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(impl->curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(impl->curl, CURLOPT_WRITEDATA, &impl->answer);
  return RemoteScorer(std::move(impl));
}

Expected<model::GatekeeperScore> RemoteScorer::score(std::span<const float> row) {
  Impl& m = *impl_;
  if (row.size() != m.names.size()) {
    return make_error("remote gate: " + std::to_string(row.size()) + " features for " + std::to_string(m.names.size()) +
                      " names");
  }
  nlohmann::json features = nlohmann::json::object();
  for (std::size_t i = 0; i < row.size(); ++i) features[m.names[i]] = static_cast<double>(row[i]);
  nlohmann::json request{{"model", m.config.model}, {"features", std::move(features)}};
  if (!m.config.symbol.empty()) request["symbol"] = m.config.symbol;
  m.body = request.dump();
  m.answer.clear();
  curl_easy_setopt(m.curl, CURLOPT_POSTFIELDS, m.body.c_str());
  curl_easy_setopt(m.curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(m.body.size()));
  const CURLcode rc = curl_easy_perform(m.curl);
  if (rc != CURLE_OK) return make_error("remote gate: " + m.config.url + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(m.curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return make_error("remote gate: " + m.config.url + " answered " + std::to_string(status) + ": " +
                      m.answer.substr(0, 300));
  }
  auto j = nlohmann::json::parse(m.answer, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("prob") || !j["prob"].is_number()) {
    return make_error("remote gate: " + m.config.url + ": not an /infer answer: " + m.answer.substr(0, 300));
  }
  model::GatekeeperScore s;
  s.prob = j["prob"].get<float>();
  s.q10 = number_or_nan(j, "q10");
  s.q90 = number_or_nan(j, "q90");
  if (!std::isfinite(s.prob)) return make_error("remote gate: a non-finite probability");
  return s;
}

}  // namespace quant::gate
