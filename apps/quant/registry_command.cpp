#include "registry_command.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>

#include "core/time.h"
#include "registry/registry.h"

namespace quant::app {

namespace {

using registry::AliasChange;
using registry::ModelVersionInfo;
using registry::Registry;

std::string when(std::int64_t ms) {
  if (ms <= 0) return "-";
  // Whole seconds: enough to tell versions apart in a table.
  return format_utc(Timestamp(std::chrono::duration_cast<Duration>(std::chrono::seconds(ms / 1000))));
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out.empty() ? "-" : out;
}

/// Columns padded to their widest cell; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::string aliases_text(const std::map<std::string, std::int64_t>& aliases) {
  std::vector<std::string> parts;
  parts.reserve(aliases.size());
  for (const auto& [alias, version] : aliases) parts.push_back(alias + "=" + std::to_string(version));
  return join(parts);
}

std::string metrics_text(const std::map<std::string, double>& metrics) {
  std::vector<std::string> parts;
  parts.reserve(metrics.size());
  for (const auto& [key, value] : metrics) parts.push_back(key + "=" + number(value));
  return join(parts, " ");
}

std::string change_text(const AliasChange& c) {
  const std::string from = c.from ? std::to_string(*c.from) : std::string("(unset)");
  std::string out = c.time + "  " + c.action + "  " + from + " -> " + std::to_string(c.to);
  if (!c.user.empty()) out += "  by " + c.user;
  if (!c.reason.empty()) out += "  \"" + c.reason + "\"";
  if (c.decision_json != "{}") out += "  " + c.decision_json;
  return out;
}

int list(Registry& reg) {
  auto models = reg.list_models();
  if (!models) return fail(models.error().message);
  if (models->empty()) {
    std::printf("no models registered in %s\n", reg.uri().c_str());
    return 0;
  }
  std::printf("registry %s\n\n", reg.uri().c_str());
  std::vector<std::vector<std::string>> rows = {{"NAME", "VERSIONS", "LATEST", "ALIASES", "UPDATED"}};
  for (const auto& m : *models) {
    rows.push_back({m.name, std::to_string(m.version_count),
                    m.latest_version > 0 ? std::to_string(m.latest_version) : "-", aliases_text(m.aliases),
                    when(m.last_updated_timestamp_ms)});
  }
  print_table(rows);
  return 0;
}

void print_version(const ModelVersionInfo& v, const std::string& via) {
  std::printf("%s version %lld%s\n", v.name.c_str(), static_cast<long long>(v.version), via.c_str());
  std::vector<std::string> tags;
  for (const auto& [key, value] : v.tags) tags.push_back(key + "=" + value);
  print_table({{"  status",
                v.status + (v.current_stage.empty() || v.current_stage == "None" ? std::string()
                                                                                 : " (stage " + v.current_stage + ")")},
               {"  created", when(v.creation_timestamp_ms)},
               {"  aliases", join(v.aliases)},
               {"  run", v.run_id.empty() ? "-" : v.run_id},
               {"  source", v.source.empty() ? "-" : v.source},
               {"  location", v.storage_location.empty() ? "-" : v.storage_location},
               {"  tags", join(tags, " ")},
               {"  metrics", metrics_text(v.metrics)}});
}

int show(Registry& reg, const RegistryArgs& args) {
  if (!args.target.empty()) {
    const bool numeric =
        std::all_of(args.target.begin(), args.target.end(), [](char c) { return c >= '0' && c <= '9'; });
    std::int64_t version = 0;
    const auto [end, ec] = std::from_chars(args.target.data(), args.target.data() + args.target.size(), version);
    if (numeric && (ec != std::errc{} || end != args.target.data() + args.target.size() || version < 1)) {
      return fail("registry show: version '" + args.target + "' is not a version number (>= 1)");
    }
    if (numeric) {
      auto v = reg.get_version(args.name, version);
      if (!v) return fail(v.error().message);
      print_version(*v, "");
    } else {
      auto v = reg.get_alias(args.name, args.target);
      if (!v) return fail(v.error().message);
      print_version(*v, " (alias " + args.target + ")");
    }
    return 0;
  }
  auto model = reg.get_model(args.name);
  if (!model) return fail(model.error().message);
  auto versions = reg.list_versions(args.name);
  if (!versions) return fail(versions.error().message);
  std::printf("model %s  (registry %s)\n", model->name.c_str(), reg.uri().c_str());
  std::printf("  created %s, updated %s, aliases: %s\n", when(model->creation_timestamp_ms).c_str(),
              when(model->last_updated_timestamp_ms).c_str(), aliases_text(model->aliases).c_str());
  if (!model->description.empty()) std::printf("  %s\n", model->description.c_str());
  std::printf("\n");
  std::vector<std::vector<std::string>> rows = {{"VERSION", "CREATED", "STATUS", "ALIASES", "RUN", "METRICS"}};
  for (const auto& v : *versions) {
    rows.push_back({std::to_string(v.version), when(v.creation_timestamp_ms), v.status, join(v.aliases),
                    v.run_id.empty() ? "-" : v.run_id.substr(0, 8), metrics_text(v.metrics)});
  }
  print_table(rows);
  // The history of every alias the model has, and of the default one even when unset now.
  std::vector<std::string> aliases;
  for (const auto& [alias, version] : model->aliases) aliases.push_back(alias);
  if (std::find(aliases.begin(), aliases.end(), args.alias) == aliases.end()) aliases.push_back(args.alias);
  for (const auto& alias : aliases) {
    auto history = reg.alias_history(args.name, alias);
    if (!history) return fail(history.error().message);
    if (history->empty()) continue;
    std::printf("\nhistory of %s:\n", alias.c_str());
    for (const auto& c : *history) std::printf("  %s\n", change_text(c).c_str());
  }
  return 0;
}

int register_model(Registry& reg, const RegistryArgs& args) {
  registry::Tags tags;
  for (const auto& t : args.tags) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) return fail("registry register: --tag wants KEY=VALUE, got '" + t + "'");
    tags[t.substr(0, eq)] = t.substr(eq + 1);
  }
  auto v = reg.register_version(args.name, args.model_dir, args.run_id, tags);
  if (!v) return fail(v.error().message);
  auto info = reg.get_version(args.name, *v);
  std::printf("registered %s version %lld", args.name.c_str(), static_cast<long long>(*v));
  if (info)
    std::printf(" (files in %s)", (info->storage_location.empty() ? info->source : info->storage_location).c_str());
  std::printf("\n");
  return 0;
}

int promote(Registry& reg, const RegistryArgs& args) {
  if (args.version < 1) return fail("registry promote: VERSION must be >= 1");
  auto c = reg.promote(args.name, args.version, args.alias, args.decision.empty() ? "{}" : args.decision, args.reason);
  if (!c) return fail(c.error().message);
  std::printf("%s of %s: %s -> %lld (promoted; recorded in the alias history)\n", args.alias.c_str(), args.name.c_str(),
              c->from ? std::to_string(*c->from).c_str() : "(unset)", static_cast<long long>(c->to));
  return 0;
}

int rollback(Registry& reg, const RegistryArgs& args) {
  auto c = reg.rollback(args.name, args.alias, args.reason);
  if (!c) return fail(c.error().message);
  std::printf("%s of %s: %s -> %lld (rolled back; recorded in the alias history)\n", args.alias.c_str(),
              args.name.c_str(), c->from ? std::to_string(*c->from).c_str() : "(unset)", static_cast<long long>(c->to));
  return 0;
}

}  // namespace

int run_registry(const GlobalOptions& /*global*/, const RegistryArgs& args) {
  auto reg = registry::open_registry(registry::tracking_options_from_environment(args.registry));
  if (!reg) return fail("registry: " + reg.error().message);
  switch (args.action) {
    case RegistryArgs::Action::List: return list(**reg);
    case RegistryArgs::Action::Show: return show(**reg, args);
    case RegistryArgs::Action::Register: return register_model(**reg, args);
    case RegistryArgs::Action::Promote: return promote(**reg, args);
    case RegistryArgs::Action::Rollback: return rollback(**reg, args);
  }
  return 1;
}

}  // namespace quant::app
