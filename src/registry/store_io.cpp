#include "registry/store_io.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/url.h"

namespace quant::registry::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Expected<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return make_error("bad percent escape at character " + std::to_string(i + 1));
    const int byte = hi * 16 + lo;
    if (byte == 0) return make_error("percent escape %00 (NUL) in a path");
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

}  // namespace

bool all_digits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }

std::string errno_text(int err) { return std::system_category().message(err); }

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string new_uuid_hex() {
  // random_device reads the kernel's CSPRNG on Linux: ids stay unique across
  // processes started in the same millisecond (a seeded PRNG would not).
  static thread_local std::random_device device;
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    const std::uint32_t r = device();
    for (std::size_t k = 0; k < 4; ++k) bytes[i + k] = static_cast<std::uint8_t>(r >> (8 * k));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (const auto b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

Expected<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path.string() + ": cannot open: " + errno_text(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(path.string() + ": read error");
  return text.str();
}

Expected<FlatYaml> read_yaml(const fs::path& path) {
  auto text = read_text(path);
  if (!text) return tl::unexpected(text.error());
  return parse_flat_yaml(*text, path.string());
}

std::string scalar_or(const FlatYaml& yaml, const std::string& key, const std::string& fallback) {
  const auto it = yaml.scalars.find(key);
  return it == yaml.scalars.end() ? fallback : it->second;
}

Expected<std::map<std::string, std::string>> read_key_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto text = read_text(it->path());
    if (!text) return tl::unexpected(text.error());
    out.emplace(it->path().lexically_relative(dir).generic_string(), std::move(*text));
  }
  if (ec) return make_error(dir.string() + ": cannot list: " + ec.message());
  return out;
}

Expected<void> append_durably(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(path.string() + ": cannot open for appending: " + errno_text(errno));
  auto ok = write_fully(fd, text, path);
  if (ok && ::fsync(fd) != 0) ok = make_error(path.string() + ": fsync: " + errno_text(errno));
  ::close(fd);
  return ok;
}

Expected<void> copy_file_atomic(const fs::path& from, const fs::path& to) {
  auto text = read_text(from);
  if (!text) return tl::unexpected(text.error());
  return write_file_atomic(to, *text, to.parent_path());
}

Expected<void> make_directories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(dir.string() + ": cannot create directory: " + ec.message());
  return {};
}

fs::path normal_absolute(const fs::path& p) {
  fs::path out = fs::absolute(p).lexically_normal();
  if (out.has_relative_path() && !out.has_filename()) out = out.parent_path();
  return out;
}

std::string file_uri(const fs::path& absolute_path) { return "file://" + percent_encode(absolute_path.string(), true); }

Expected<fs::path> location_path(const std::string& location, const fs::path& root, const std::string& where) {
  const auto fail = [&](const std::string& what) { return make_error(where + ": " + what); };
  if (location.empty()) return fail("is empty");
  // A URI scheme: a letter, then letters, digits, '+', '-', '.', then ':'.
  std::size_t colon = std::string::npos;
  if (is_alpha(location[0])) {
    std::size_t i = 1;
    while (i < location.size() && (is_alpha(location[i]) || is_digit(location[i]) || location[i] == '+' ||
                                   location[i] == '-' || location[i] == '.')) {
      ++i;
    }
    if (i < location.size() && location[i] == ':') colon = i;
  }
  if (colon == std::string::npos) {
    const fs::path p(location);
    return p.is_absolute() ? p : root / p;
  }
  std::string scheme = location.substr(0, colon);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (scheme != "file") {
    return fail("URI scheme '" + scheme +
                ":' is not supported offline (only file: URIs and paths; runs:/, models:/ and remote stores "
                "need the MLflow REST client)");
  }
  std::string_view rest = std::string_view(location).substr(colon + 1);
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    const auto slash = rest.find('/');
    const std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      return fail("file URI names host '" + std::string(host) + "'; only local files are supported");
    }
    if (slash == std::string_view::npos) return fail("file URI has no path");
    rest.remove_prefix(slash);
  }
  if (rest.empty() || rest[0] != '/') return fail("file URI does not hold an absolute path");
  auto decoded = percent_decode(rest);
  if (!decoded) return fail("file URI: " + decoded.error().message);
  return fs::path(*decoded);
}

std::string yaml_quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 64> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  std::string out(buf.data(), ec == std::errc{} ? end : buf.data());
  // Python's float repr always shows a float: 3 -> "3.0"; shortest round-trip
  // digits otherwise, which to_chars already gives.
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Expected<void> check_model_name(const std::string& name) {
  if (name.empty()) return make_error("registry: model name is empty");
  if (name == "." || name == "..") return make_error("registry: model name " + yaml_quote(name) + " is not allowed");
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || c == '%' || u < 0x20 || u == 0x7f) {
      return make_error("registry: model name " + yaml_quote(name) +
                        " contains a path separator, '%' or a control character");
    }
  }
  return {};
}

Expected<void> check_alias_chars(const std::string& alias) {
  const auto alias_char = [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; };
  if (alias.empty()) return make_error("registry: alias is empty");
  if (alias.size() > 255 || !std::all_of(alias.begin(), alias.end(), alias_char)) {
    return make_error("registry: alias " + yaml_quote(alias) +
                      " is not valid (letters, digits, '_' and '-', at most 255 characters)");
  }
  return {};
}

Expected<void> check_settable_alias(const std::string& alias) {
  if (auto ok = check_alias_chars(alias); !ok) return ok;
  if (all_digits(alias)) {
    return make_error("registry: alias '" + alias + "' is all digits and would read as a version number");
  }
  if (alias == "latest" || (alias.size() > 1 && alias[0] == 'v' && all_digits(std::string_view(alias).substr(1)))) {
    return make_error("registry: alias '" + alias + "' is reserved by MLflow ('latest' and 'v<digits>')");
  }
  return {};
}

Expected<void> check_key(const std::string& key, std::string_view what) {
  const std::string label = std::string(what) + " key " + yaml_quote(key);
  if (key.empty()) return make_error(std::string(what) + " key is empty");
  if (key.size() > 250) return make_error(label + " is longer than 250 characters");
  for (const char c : key) {
    if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == ' ' || c == ':' || c == '/')) {
      return make_error(label + " may contain only letters, digits, '_', '-', '.', ' ', ':' and '/' (as in MLflow)");
    }
  }
  // Keys become paths under params/, metrics/, tags/: they must stay there.
  if (key.front() == '/' || key.back() == '/') return make_error(label + " may not start or end with '/'");
  std::size_t start = 0;
  while (start <= key.size()) {
    const auto slash = key.find('/', start);
    const std::string_view part =
        std::string_view(key).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return make_error(label + " has an empty, '.' or '..' path component");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return {};
}

Expected<void> check_artifact_path(const std::string& path) {
  if (path.empty()) return {};
  if (path.front() == '/') return make_error("artifact path '" + path + "' must be relative");
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') {
      return make_error("artifact path '" + path + "' contains a control character or '\\'");
    }
  }
  for (const auto& part : fs::path(path)) {
    if (part == "." || part == "..") return make_error("artifact path '" + path + "' has a '.' or '..' component");
  }
  return {};
}

Expected<FileLock> FileLock::acquire(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(path.string() + ": cannot open lock file: " + errno_text(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return make_error(path.string() + ": flock: " + errno_text(err));
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  // Closing the last descriptor of the open file description releases the flock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace quant::registry::detail
