#include "bot/prometheus_alerts.h"

#include <nlohmann/json.hpp>

namespace quant::bot {

using json = nlohmann::json;

Expected<std::vector<PrometheusAlert>> parse_prometheus_alerts(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("Prometheus /api/v1/alerts: the answer is not JSON");
  if (j.value("status", std::string()) != "success") {
    return make_error("Prometheus /api/v1/alerts: status '" + j.value("status", std::string("?")) +
                      "': " + j.value("error", std::string()));
  }
  const auto data = j.find("data");
  if (data == j.end() || !data->is_object() || !data->contains("alerts") || !(*data)["alerts"].is_array()) {
    return make_error("Prometheus /api/v1/alerts: no data.alerts list");
  }
  std::vector<PrometheusAlert> out;
  for (const json& a : (*data)["alerts"]) {
    if (!a.is_object() || a.value("state", std::string()) != "firing") continue;
    const json labels = a.value("labels", json::object());
    const json annotations = a.value("annotations", json::object());
    if (!labels.is_object() || !labels.contains("alertname") || !labels["alertname"].is_string()) continue;
    PrometheusAlert p;
    p.key = labels.dump();  // an object's keys are sorted: the same labels give the same key
    p.name = labels["alertname"].get<std::string>();
    if (labels.contains("severity") && labels["severity"].is_string()) p.severity = labels["severity"].get<std::string>();
    if (annotations.is_object()) {
      if (annotations.contains("summary") && annotations["summary"].is_string())
        p.summary = annotations["summary"].get<std::string>();
      if (annotations.contains("description") && annotations["description"].is_string())
        p.description = annotations["description"].get<std::string>();
    }
    if (a.contains("activeAt") && a["activeAt"].is_string()) p.active_at = a["activeAt"].get<std::string>();
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace quant::bot
