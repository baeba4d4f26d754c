#pragma once
/// The alerts a Prometheus server holds (GET /api/v1/alerts), for `quant bot`
/// to forward the rules of config/prometheus/rules.yml to Telegram: an alert
/// that starts firing is sent once, and once more when it resolves.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::bot {

struct PrometheusAlert {
  std::string key;   ///< alertname + every label, canonical: one alert instance
  std::string name;  ///< the rule's alertname
  std::string severity;
  std::string summary;      ///< annotations.summary ("" when none)
  std::string description;  ///< annotations.description
  std::string active_at;    ///< when it became active (RFC 3339, as Prometheus gives it)
};

/// The firing alerts of an /api/v1/alerts answer (pending ones are not
/// news yet). An error names what is wrong with the body.
Expected<std::vector<PrometheusAlert>> parse_prometheus_alerts(std::string_view body);

}  // namespace quant::bot
