#include "registry/file_registry.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <vector>

#include "registry/store_io.h"

namespace quant::registry {
namespace {

namespace fs = std::filesystem;
using detail::all_digits;
using detail::file_uri;
using detail::kDeletedStage;
using detail::kManifestFile;
using detail::kMetaFile;
using detail::location_path;
using detail::make_directories;
using detail::normal_absolute;
using detail::read_text;
using detail::read_yaml;
using detail::trim;
using detail::write_file_atomic;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// A decimal version >= 1 that fits std::int64_t; nullopt otherwise.
std::optional<std::int64_t> parse_version(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

Expected<void> check_name(const std::string& name) { return detail::check_model_name(name); }

Expected<void> check_root(const std::string& root) {
  if (root.empty()) return make_error("registry: root directory is empty");
  return {};
}

Expected<void> check_alias_chars(const std::string& alias) { return detail::check_alias_chars(alias); }

/// A key the resolver cannot do without.
Expected<std::string> required_scalar(const FlatYaml& yaml, const std::string& key, const fs::path& path) {
  if (auto it = yaml.scalars.find(key); it != yaml.scalars.end()) return it->second;
  if (yaml.nested.count(key) != 0) {
    return make_error(path.string() + ": key '" + key +
                      "' is not a flat scalar (only flat `key: value` lines are read)");
  }
  if (yaml.nulls.count(key) != 0) return make_error(path.string() + ": key '" + key + "' is null");
  return make_error(path.string() + ": missing key '" + key + "'");
}

/// A key that may be absent or null; present but nested is still an error.
Expected<std::optional<std::string>> optional_scalar(const FlatYaml& yaml, const std::string& key,
                                                     const fs::path& path) {
  if (auto it = yaml.scalars.find(key); it != yaml.scalars.end()) return std::optional<std::string>(it->second);
  if (yaml.nested.count(key) != 0) {
    return make_error(path.string() + ": key '" + key +
                      "' is not a flat scalar (only flat `key: value` lines are read)");
  }
  return std::optional<std::string>();
}

std::string list_aliases(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (!file.empty() && file[0] != '.' && it->is_regular_file(ec)) names.push_back(file);
  }
  if (names.empty()) return "none";
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::int64_t now_ms() { return detail::system_now_ms(); }

/// Parses one quoted scalar starting at value[0] (the quote); sets `out` and
/// returns the index just past the closing quote, or an error text.
Expected<std::size_t> parse_quoted(std::string_view value, std::string& out) {
  const char quote = value[0];
  for (std::size_t i = 1; i < value.size(); ++i) {
    const char c = value[i];
    if (quote == '\'') {
      if (c != '\'') {
        out += c;
      } else if (i + 1 < value.size() && value[i + 1] == '\'') {
        out += '\'';
        ++i;
      } else {
        return i + 1;
      }
      continue;
    }
    if (c == '"') return i + 1;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == value.size()) break;
    switch (value[i]) {
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '/': out += '/'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      default: return make_error(std::string("unsupported escape \\") + value[i] + " in a double-quoted value");
    }
  }
  return make_error("unterminated quoted value (multi-line quoted values are not read)");
}

bool is_key_char(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.'; }

}  // namespace

Expected<FlatYaml> parse_flat_yaml(std::string_view text, const std::string& origin) {
  FlatYaml out;
  std::string last_key;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    const auto fail = [&](const std::string& what) {
      return make_error(origin + ":" + std::to_string(line_no) + ": " + what);
    };
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view content = trim(line);
    if (content.empty() || content[0] == '#') continue;
    if (line[0] == ' ' || line[0] == '\t' || line[0] == '-') {
      if (line == "---" || line.substr(0, 4) == "--- ") continue;
      // A list item or indented text continues the key above: its value is not a flat scalar.
      if (last_key.empty()) return fail("indented or list line before any key");
      out.scalars.erase(last_key);
      out.nulls.erase(last_key);
      out.nested.insert(last_key);
      continue;
    }
    if (line == "...") continue;
    std::size_t k = 0;
    while (k < line.size() && is_key_char(line[k])) ++k;
    if (k == 0 || k == line.size() || line[k] != ':' ||
        (k + 1 < line.size() && line[k + 1] != ' ' && line[k + 1] != '\t')) {
      return fail("expected a flat `key: value` line, got '" + std::string(content) + "'");
    }
    std::string key(line.substr(0, k));
    if (out.scalars.count(key) != 0 || out.nulls.count(key) != 0 || out.nested.count(key) != 0) {
      return fail("duplicate key '" + key + "'");
    }
    last_key = key;
    const std::string_view value = trim(line.substr(k + 1));
    if (value.empty() || value[0] == '#') {
      out.nulls.insert(key);
      continue;
    }
    if (value[0] == '\'' || value[0] == '"') {
      std::string parsed;
      auto end = parse_quoted(value, parsed);
      if (!end) return fail("key '" + key + "': " + end.error().message);
      const std::string_view after = trim(value.substr(*end));
      if (!after.empty() && after[0] != '#') {
        return fail("key '" + key + "': unexpected text after the closing quote");
      }
      out.scalars.emplace(std::move(key), std::move(parsed));
      continue;
    }
    // Flow collections, block scalars, anchors, aliases and tags are not flat scalars.
    if (value[0] == '[' || value[0] == '{' || value[0] == '|' || value[0] == '>' || value[0] == '&' ||
        value[0] == '*' || value[0] == '!') {
      out.nested.insert(std::move(key));
      continue;
    }
    std::string_view plain = value;
    if (const auto comment = plain.find(" #"); comment != std::string_view::npos)
      plain = trim(plain.substr(0, comment));
    if (const auto comment = plain.find("\t#"); comment != std::string_view::npos)
      plain = trim(plain.substr(0, comment));
    if (plain == "~" || plain == "null" || plain == "Null" || plain == "NULL") {
      out.nulls.insert(std::move(key));
    } else {
      out.scalars.emplace(std::move(key), std::string(plain));
    }
  }
  return out;
}

Expected<ResolvedModel> resolve(const std::string& root, const std::string& name, const std::string& alias_or_version) {
  if (auto ok = check_root(root); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_name(name); !ok) return tl::unexpected(ok.error());
  const fs::path root_dir = normal_absolute(root);
  const fs::path model_dir = root_dir / "models" / name;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) {
    return make_error("registry " + root_dir.string() + ": no model '" + name + "' (directory " + model_dir.string() +
                      " is absent)");
  }
  const fs::path model_meta = model_dir / kMetaFile;
  if (!fs::is_regular_file(model_meta, ec)) {
    return make_error(model_meta.string() + ": missing (model '" + name + "' is not registered completely)");
  }
  auto model_yaml = read_yaml(model_meta);
  if (!model_yaml) return tl::unexpected(model_yaml.error());
  auto model_name = optional_scalar(*model_yaml, "name", model_meta);
  if (!model_name) return tl::unexpected(model_name.error());
  if (*model_name && **model_name != name) {
    return make_error(model_meta.string() + ": name is '" + **model_name + "', expected '" + name + "'");
  }

  ResolvedModel out{name, 0, "", ""};
  if (all_digits(alias_or_version)) {
    const auto version = parse_version(alias_or_version);
    if (!version) {
      return make_error("registry: version '" + alias_or_version +
                        "' is not a version number (decimal, >= 1, at most 2^63-1)");
    }
    out.version = *version;
  } else {
    if (auto ok = check_alias_chars(alias_or_version); !ok) return tl::unexpected(ok.error());
    const fs::path alias_file = model_dir / "aliases" / alias_or_version;
    if (!fs::is_regular_file(alias_file, ec)) {
      return make_error(alias_file.string() + ": missing: model '" + name + "' has no alias '" + alias_or_version +
                        "' (aliases: " + list_aliases(model_dir / "aliases") + ")");
    }
    auto text = read_text(alias_file);
    if (!text) return tl::unexpected(text.error());
    const std::string_view held = trim(*text);
    const auto version = parse_version(held);
    if (!version) {
      return make_error(alias_file.string() + ": holds '" + std::string(held.substr(0, 64)) +
                        "', not a version number (decimal, >= 1)");
    }
    out.version = *version;
    out.alias = alias_or_version;
  }

  const std::string version_text = std::to_string(out.version);
  const std::string via = out.alias.empty() ? "" : " (alias '" + out.alias + "')";
  const fs::path version_meta = model_dir / ("version-" + version_text) / kMetaFile;
  if (!fs::is_regular_file(version_meta, ec)) {
    return make_error(version_meta.string() + ": missing: version " + version_text + " of model '" + name +
                      "' is not registered" + via);
  }
  auto yaml = read_yaml(version_meta);
  if (!yaml) return tl::unexpected(yaml.error());

  auto meta_name = required_scalar(*yaml, "name", version_meta);
  if (!meta_name) return tl::unexpected(meta_name.error());
  if (*meta_name != name) {
    return make_error(version_meta.string() + ": name is '" + *meta_name + "', expected '" + name + "'");
  }
  auto meta_version = required_scalar(*yaml, "version", version_meta);
  if (!meta_version) return tl::unexpected(meta_version.error());
  if (parse_version(trim(*meta_version)) != out.version) {
    return make_error(version_meta.string() + ": version is '" + *meta_version + "', expected " + version_text);
  }
  auto status = optional_scalar(*yaml, "status", version_meta);
  if (!status) return tl::unexpected(status.error());
  if (*status && **status != "READY") {
    return make_error(version_meta.string() + ": status is '" + **status + "', not READY" + via);
  }
  auto stage = optional_scalar(*yaml, "current_stage", version_meta);
  if (!stage) return tl::unexpected(stage.error());
  if (*stage && **stage == kDeletedStage) {
    return make_error(version_meta.string() + ": version " + version_text + " of model '" + name +
                      "' is deleted (current_stage " + std::string(kDeletedStage) + ")" + via);
  }

  std::string key = "storage_location";
  auto location = optional_scalar(*yaml, key, version_meta);
  if (!location) return tl::unexpected(location.error());
  if (!*location || (*location)->empty()) {
    key = "source";
    location = optional_scalar(*yaml, key, version_meta);
    if (!location) return tl::unexpected(location.error());
    if (!*location) {
      return make_error(version_meta.string() + ": missing key 'storage_location' (and no 'source' to fall back to)");
    }
  }
  auto path = location_path(**location, root_dir, version_meta.string() + ": " + key + " '" + **location + "'");
  if (!path) return tl::unexpected(path.error());
  const fs::path dir = normal_absolute(*path);
  if (!fs::is_directory(dir, ec)) {
    return make_error(version_meta.string() + ": " + key + " '" + **location + "': directory " + dir.string() +
                      " does not exist");
  }
  if (!fs::is_regular_file(dir / kManifestFile, ec)) {
    return make_error(version_meta.string() + ": " + key + " '" + **location + "': no " + std::string(kManifestFile) +
                      " in " + dir.string());
  }
  out.dir = dir.string();
  return out;
}

Expected<void> write_version(const std::string& root, const std::string& name, std::int64_t version,
                             const std::string& model_dir, std::optional<std::int64_t> creation_timestamp_ms) {
  if (auto ok = check_root(root); !ok) return ok;
  if (auto ok = check_name(name); !ok) return ok;
  if (version < 1) return make_error("registry: version " + std::to_string(version) + " of '" + name + "' is < 1");
  if (model_dir.empty()) return make_error("registry: model directory for '" + name + "' is empty");
  const fs::path dir = normal_absolute(model_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error("registry: model directory " + dir.string() + " does not exist");
  if (!fs::is_regular_file(dir / kManifestFile, ec)) {
    return make_error("registry: no " + std::string(kManifestFile) + " in " + dir.string() +
                      " (write the model with model_train::write_models first)");
  }
  const std::int64_t created = creation_timestamp_ms.value_or(now_ms());
  const std::string created_text = std::to_string(created);
  const fs::path model_path = normal_absolute(root) / "models" / name;
  if (auto ok = make_directories(model_path); !ok) return ok;

  // Quoting every string keeps names like "123" or "null" strings for YAML readers.
  const auto yaml_string = [](std::string_view s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  const fs::path model_meta = model_path / kMetaFile;
  if (!fs::exists(model_meta, ec)) {
    const std::string text = "creation_timestamp: " + created_text +
                             "\ndescription: ''\nlast_updated_timestamp: " + created_text +
                             "\nname: " + yaml_string(name) + "\n";
    if (auto ok = write_file_atomic(model_meta, text, model_path); !ok) return ok;
  }

  const std::string version_text = std::to_string(version);
  const fs::path version_dir = model_path / ("version-" + version_text);
  // Creating the directory is the claim on the number: mkdir is atomic, so of
  // two writers registering the same version exactly one proceeds.
  if (!fs::create_directory(version_dir, ec)) {
    if (ec) return make_error(version_dir.string() + ": cannot create directory: " + ec.message());
    return make_error(version_dir.string() + ": version " + version_text + " of '" + name +
                      "' already exists (versions are immutable; register a new number)");
  }
  const std::string uri = file_uri(dir);
  // Keys in alphabetical order, as MLflow's yaml.safe_dump writes them.
  const std::string text =
      "creation_timestamp: " + created_text + "\ncurrent_stage: None\nlast_updated_timestamp: " + created_text +
      "\nname: " + yaml_string(name) + "\nrun_id: ''\nsource: " + yaml_string(uri) +
      "\nstatus: READY\nstorage_location: " + yaml_string(uri) + "\nversion: " + version_text + "\n";
  return write_file_atomic(version_dir / kMetaFile, text, version_dir);
}

Expected<void> set_alias(const std::string& root, const std::string& name, const std::string& alias,
                         std::int64_t version) {
  if (auto ok = check_root(root); !ok) return ok;
  if (auto ok = check_name(name); !ok) return ok;
  if (auto ok = detail::check_settable_alias(alias); !ok) return ok;
  if (version < 1) return make_error("registry: version " + std::to_string(version) + " of '" + name + "' is < 1");
  const fs::path model_path = normal_absolute(root) / "models" / name;
  const fs::path version_meta = model_path / ("version-" + std::to_string(version)) / kMetaFile;
  std::error_code ec;
  if (!fs::is_regular_file(version_meta, ec)) {
    return make_error(version_meta.string() + ": missing: cannot point alias '" + alias + "' at version " +
                      std::to_string(version) + " of '" + name + "', which is not registered");
  }
  const fs::path aliases = model_path / "aliases";
  if (auto ok = make_directories(aliases); !ok) return ok;
  // The temporary file lives in the model directory, not in aliases/, so a
  // crash never leaves something MLflow would list as an alias.
  return write_file_atomic(aliases / alias, std::to_string(version), model_path);
}

}  // namespace quant::registry
