// libcurl behind quant::http::Client (the only file of the module that includes curl).

#include "http/http_client.h"

#include <cstring>
#include <utility>

#include <curl/curl.h>

namespace quant::http {

namespace {

std::size_t collect(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

struct Client::Impl {
  std::string user_agent;
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};  ///< CURLOPT_ERRORBUFFER: must outlive the handle's use of it
  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Expected<Client> Client::create(std::string user_agent) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) return make_error("HTTP client: libcurl failed to initialise");
  auto impl = std::make_unique<Impl>();
  impl->user_agent = std::move(user_agent);
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return make_error("HTTP client: libcurl failed to initialise");
  return Client(std::move(impl));
}

Expected<Response> Client::perform(const Request& request) {
  CURL* curl = impl_->curl;
  curl_easy_reset(curl);
  Response response;
  // The handle keeps the error buffer until it is reset: it lives in Impl.
  char* error = impl_->error;
  error[0] = '\0';
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, impl_->user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  if (!request.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.password.c_str());
  }
  curl_slist* headers = nullptr;
  // No "Expect: 100-continue" round trip before larger bodies (a photo).
  headers = curl_slist_append(headers, "Expect:");
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_mime* mime = nullptr;
  if (!request.form.empty()) {
    mime = curl_mime_init(curl);
    for (const auto& part : request.form) {
      curl_mimepart* p = curl_mime_addpart(mime);
      curl_mime_name(p, part.name.c_str());
      curl_mime_data(p, part.value.data(), part.value.size());
      if (!part.filename.empty()) curl_mime_filename(p, part.filename.c_str());
      if (!part.content_type.empty()) curl_mime_type(p, part.content_type.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  } else if (!request.body.empty() || (!request.method.empty() && request.method != "GET")) {
    headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    if (!request.method.empty() && request.method != "POST")
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_mime_free(mime);
  if (rc != CURLE_OK) {
    // The error buffer names host and port ("Failed to connect to 127.0.0.1
    // port 9 ..."), never the path; curl_easy_strerror is the fallback.
    return make_error(std::strlen(error) > 0 ? std::string(error) : std::string(curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace quant::http
