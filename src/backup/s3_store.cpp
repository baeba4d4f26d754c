// An S3-compatible bucket over libcurl (the only file of the module that
// includes curl), every request signed with AWS Signature V4 (sigv4.h).
// Path-style URLs (endpoint/bucket/key): every S3-compatible store accepts
// them, and bucket names with dots keep working over TLS.
//
// Credentials go into the HMAC only: no message, log line or error text
// carries a header, so neither the secret nor the session token can leak.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <thread>

#include <curl/curl.h>

#include "backup/object_store.h"
#include "core/sha256.h"
#include "core/url.h"

namespace quant::backup {
namespace {

constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string amz_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

/// The text of the first <tag>...</tag> in `xml` from `from`, XML entities
/// decoded unless `raw` (an element that holds further elements).
std::string xml_text(std::string_view xml, std::string_view tag, std::size_t from = 0, std::size_t* end = nullptr,
                     bool raw = false) {
  const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  const auto a = xml.find(open, from);
  if (a == std::string_view::npos) return {};
  const auto b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  if (end != nullptr) *end = b + close.size();
  const std::string text(xml.substr(a + open.size(), b - a - open.size()));
  if (raw) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    static constexpr std::pair<const char*, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (const auto& [name, c] : kEntities) {
      if (text.compare(i, std::strlen(name), name) == 0) {
        out += c;
        i += std::strlen(name) - 1;
        done = true;
        break;
      }
    }
    if (!done) out += '&';
  }
  return out;
}

/// What to tell an operator about an S3 error code.
std::string hint_for(const std::string& code) {
  if (code == "InvalidAccessKeyId") return " (check AWS_ACCESS_KEY_ID)";
  if (code == "SignatureDoesNotMatch") return " (check AWS_SECRET_ACCESS_KEY, and the region for this endpoint)";
  if (code == "AuthorizationHeaderMalformed") return " (check the region: the bucket lives in another one)";
  if (code == "NoSuchBucket") return " (create the bucket first, or fix the name in the destination)";
  if (code == "AccessDenied") return " (the key lacks s3:GetObject/PutObject/ListBucket on this bucket)";
  if (code == "RequestTimeTooSkewed") return " (this machine's clock is wrong: sync it with NTP)";
  if (code == "ExpiredToken" || code == "InvalidToken") return " (renew AWS_SESSION_TOKEN)";
  return "";
}

struct Reply {
  long status = 0;
  std::string body;  ///< the body, or the error body of a download
};

struct Transfer {
  CURL* curl = nullptr;
  std::FILE* upload = nullptr;   ///< read from (PUT of a file)
  std::string_view upload_bytes;  ///< or these bytes
  std::size_t upload_at = 0;
  Sha256 sha;                     ///< of what was read, to notice a file that changed
  std::FILE* download = nullptr;  ///< written to on HTTP 200
  std::string* body = nullptr;
  const ByteProgress* progress = nullptr;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = 0;
  if (t->upload != nullptr) {
    n = std::fread(buffer, 1, size * count, t->upload);
    if (n == 0 && std::ferror(t->upload) != 0) return CURL_READFUNC_ABORT;
  } else {
    n = std::min(size * count, t->upload_bytes.size() - t->upload_at);
    std::memcpy(buffer, t->upload_bytes.data() + t->upload_at, n);
    t->upload_at += n;
  }
  t->sha.update(std::string_view(buffer, n));
  return n;
}

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->download != nullptr && status == 200) {
    return std::fwrite(data, 1, size * count, t->download);
  }
  t->body->append(data, size * count);
  return size * count;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
  (void)dltotal;
  (void)ultotal;
  auto* t = static_cast<Transfer*>(user);
  if (t->progress != nullptr && *t->progress) (*t->progress)(static_cast<std::int64_t>(t->upload != nullptr ? ulnow : dlnow));
  return 0;
}

bool transient_curl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool transient_status(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

class S3Store final : public ObjectStore {
 public:
  explicit S3Store(S3Options options) : o_(std::move(options)) {
    while (!o_.endpoint.empty() && o_.endpoint.back() == '/') o_.endpoint.pop_back();
    const auto scheme = o_.endpoint.find("://");
    host_ = o_.endpoint.substr(scheme == std::string::npos ? 0 : scheme + 3);
    const auto slash = host_.find('/');
    if (slash != std::string::npos) {
      base_path_ = host_.substr(slash);
      host_.resize(slash);
    }
    curl_ = curl_easy_init();
  }
  S3Store(const S3Store&) = delete;
  S3Store& operator=(const S3Store&) = delete;
  ~S3Store() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }

  [[nodiscard]] bool ok() const { return curl_ != nullptr; }

  [[nodiscard]] std::string describe() const override {
    return "s3://" + o_.bucket + (o_.prefix.empty() ? "" : "/" + o_.prefix) + " at " + o_.endpoint;
  }

  Expected<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    std::string token;
    const std::string full = full_key(prefix);
    for (;;) {
      std::map<std::string, std::string> query{
          {"list-type", "2"}, {"prefix", full}, {"max-keys", std::to_string(o_.list_page_size)}};
      if (!token.empty()) query["continuation-token"] = token;
      auto reply = request("GET", "", query, kEmptySha256, nullptr);
      if (!reply) return tl::unexpected(reply.error());
      const std::string& xml = reply->body;
      std::size_t at = 0;
      while (xml.find("<Contents>", at) != std::string::npos) {
        std::size_t end = 0;
        const std::string contents = xml_text(xml, "Contents", at, &end, /*raw=*/true);
        if (end == 0) return make_error("S3 list " + describe() + ": a malformed ListObjectsV2 answer");
        at = end;
        ObjectInfo info;
        info.key = xml_text(contents, "Key");
        info.size = std::atoll(xml_text(contents, "Size").c_str());
        if (!o_.prefix.empty()) info.key.erase(0, o_.prefix.size() + 1);
        out.push_back(std::move(info));
      }
      if (xml_text(xml, "IsTruncated") != "true") break;
      token = xml_text(xml, "NextContinuationToken");
      if (token.empty()) return make_error("S3 list " + describe() + ": a truncated page without a continuation token");
    }
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Expected<void> put_file(const std::string& key, const std::string& path, const std::string& sha256,
                          const ByteProgress& progress) override {
    Transfer t;
    t.progress = &progress;
    auto reply = request("PUT", key, {}, sha256, &t, [&](Transfer& x) -> Expected<void> {
      if (x.upload != nullptr) std::fclose(x.upload);
      x.upload = std::fopen(path.c_str(), "rb");
      if (x.upload == nullptr) return make_error("cannot read " + path + ": " + std::strerror(errno));
      std::fseek(x.upload, 0, SEEK_END);
      const long size = std::ftell(x.upload);
      std::fseek(x.upload, 0, SEEK_SET);
      curl_easy_setopt(curl_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
      x.sha.reset();
      return {};
    });
    if (t.upload != nullptr) std::fclose(t.upload);
    if (!reply) return tl::unexpected(reply.error());
    if (t.sha.hex_digest() != sha256) {
      return make_error(path + " changed while it was uploaded (its SHA-256 is no longer " + sha256 +
                        "): run the backup again");
    }
    return {};
  }

  Expected<void> put_bytes(const std::string& key, std::string_view bytes) override {
    Transfer t;
    auto reply = request("PUT", key, {}, sha256_hex(bytes), &t, [&](Transfer& x) -> Expected<void> {
      x.upload_bytes = bytes;
      x.upload_at = 0;
      x.sha.reset();
      curl_easy_setopt(curl_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(bytes.size()));
      return {};
    });
    if (!reply) return tl::unexpected(reply.error());
    return {};
  }

  Expected<void> get_file(const std::string& key, const std::string& path, const ByteProgress& progress) override {
    Transfer t;
    t.progress = &progress;
    auto reply = request("GET", key, {}, kEmptySha256, &t, [&](Transfer& x) -> Expected<void> {
      if (x.download != nullptr) std::fclose(x.download);
      x.download = std::fopen(path.c_str(), "wb");
      if (x.download == nullptr) return make_error("cannot write " + path + ": " + std::strerror(errno));
      return {};
    });
    bool write_failed = false;
    if (t.download != nullptr) write_failed = std::fclose(t.download) != 0;
    if (!reply) return tl::unexpected(reply.error());
    if (write_failed) return make_error("cannot write " + path + ": " + std::strerror(errno));
    return {};
  }

  Expected<std::string> get_bytes(const std::string& key) override {
    auto reply = request("GET", key, {}, kEmptySha256, nullptr);
    if (!reply) return tl::unexpected(reply.error());
    return std::move(reply->body);
  }

 private:
  [[nodiscard]] std::string full_key(const std::string& key) const {
    return o_.prefix.empty() ? key : o_.prefix + "/" + key;
  }

  /// One signed request with retries. `key` empty = the bucket itself.
  /// `prepare` (re)opens the body source before each attempt.
  Expected<Reply> request(const std::string& method, const std::string& key,
                          const std::map<std::string, std::string>& query, const std::string& payload_sha256,
                          Transfer* transfer, const std::function<Expected<void>(Transfer&)>& prepare = {}) {
    const std::string path = base_path_ + "/" + percent_encode(o_.bucket, false) +
                             (key.empty() ? std::string() : "/" + percent_encode(full_key(key), true));
    std::string url = o_.endpoint + path;
    std::string query_text;
    for (const auto& [name, value] : query)
      query_text += (query_text.empty() ? "?" : "&") + percent_encode(name, false) + "=" + percent_encode(value, false);
    url += query_text;
    const std::string what = "S3 " + method + " " + (key.empty() ? describe() : "s3://" + o_.bucket + "/" + full_key(key));
    Transfer local;
    Transfer& t = transfer != nullptr ? *transfer : local;
    std::string error_text;
    for (int attempt = 1;; ++attempt) {
      Reply reply;
      t.curl = curl_;
      t.body = &reply.body;
      if (prepare) {
        auto ready = prepare(t);
        if (!ready) return tl::unexpected(ready.error());
      }
      const std::string date = amz_now();
      SignedRequest sr;
      sr.method = method;
      sr.path = path;
      sr.query = query;
      sr.headers = {{"host", host_}, {"x-amz-date", date}, {"x-amz-content-sha256", payload_sha256}};
      if (!o_.credentials.session_token.empty()) sr.headers["x-amz-security-token"] = o_.credentials.session_token;
      sr.payload_sha256 = payload_sha256;
      const Signature sig = sign_v4(sr, o_.credentials, o_.region, "s3", date);
      curl_slist* headers = nullptr;
      for (const auto& [name, value] : sr.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
      headers = curl_slist_append(headers, ("Authorization: " + sig.authorization).c_str());
      headers = curl_slist_append(headers, "Expect:");
      curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl_, CURLOPT_USERAGENT, "quant-lake-backup/1");
      curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o_.connect_timeout.count()));
      curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::max<std::int64_t>(1, o_.low_speed_timeout.count() / 1000)));
      curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, write_body);
      curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
      curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, on_progress);
      curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &t);
      if (method == "PUT") {
        curl_easy_setopt(curl_, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl_, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl_, CURLOPT_READDATA, &t);
        if (o_.max_bytes_per_second > 0)
          curl_easy_setopt(curl_, CURLOPT_MAX_SEND_SPEED_LARGE, static_cast<curl_off_t>(o_.max_bytes_per_second));
      } else {
        curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
      }
      const CURLcode rc = curl_easy_perform(curl_);
      curl_slist_free_all(headers);
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
      curl_easy_reset(curl_);
      bool retry = false;
      if (rc != CURLE_OK) {
        error_text = what + ": " + curl_easy_strerror(rc);
        retry = transient_curl(rc);
      } else if (reply.status >= 200 && reply.status < 300) {
        return reply;
      } else {
        const std::string code = xml_text(reply.body, "Code");
        const std::string message = xml_text(reply.body, "Message");
        error_text = what + ": HTTP " + std::to_string(reply.status);
        if (!code.empty()) error_text += " " + code;
        if (!message.empty()) error_text += ": " + message;
        if (code.empty() && reply.status == 404) error_text += " NoSuchKey";
        error_text += hint_for(code);
        // 400 RequestTimeout: the connection was idle too long mid-body.
        retry = transient_status(reply.status) || code == "RequestTimeout" || code == "InternalError";
      }
      if (!retry || attempt >= o_.attempts) {
        if (retry) error_text += " (gave up after " + std::to_string(attempt) + " attempts)";
        return make_error(error_text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500LL << (attempt - 1)));
    }
  }

  S3Options o_;
  std::string host_, base_path_;
  CURL* curl_ = nullptr;
};

}  // namespace

Expected<std::unique_ptr<ObjectStore>> open_s3_store(S3Options options) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) return make_error("S3: libcurl failed to initialise");
  if (options.bucket.empty()) return make_error("S3: no bucket");
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return make_error("S3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (options.region.empty()) options.region = "us-east-1";
  if (options.endpoint.empty()) options.endpoint = "https://s3." + options.region + ".amazonaws.com";
  if (options.endpoint.rfind("http://", 0) != 0 && options.endpoint.rfind("https://", 0) != 0) {
    return make_error("S3 endpoint " + options.endpoint + ": give a URL starting with http:// or https://");
  }
  auto store = std::make_unique<S3Store>(std::move(options));
  if (!store->ok()) return make_error("S3: libcurl failed to initialise");
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace quant::backup
