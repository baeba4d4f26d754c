#include "serve/http_server.h"

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace quant::serve {
namespace {

using namespace std::chrono_literals;

/// A blocking TCP client on 127.0.0.1 (the test's side of the socket).
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  /// Everything until the server closes the connection (or 5 s pass).
  std::string read_all() {
    std::string out;
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
};

std::string post(const std::string& body, bool close = false) {
  return std::string("POST /echo HTTP/1.1\r\nHost: t\r\n") + (close ? "Connection: close\r\n" : "") +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

Handler echo() {
  return [](const HttpRequest& request, HttpResponse& response) { response.body = std::string(request.body); };
}

TEST(HttpServerTest, ASecondServerOnAPortInUseFailsNamingIt) {
  ServerOptions options;
  options.workers = 2;
  auto first = HttpServer::start(options, echo());
  ASSERT_TRUE(first) << first.error().message;
  const std::uint16_t port = (*first)->port();
  ASSERT_NE(port, 0);

  ServerOptions same = options;
  same.port = port;
  auto second = HttpServer::start(same, echo());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message,
            "serve: 127.0.0.1:" + std::to_string(port) + " is already in use (another quant serve?)");

  // The first one still has the port to itself.
  Client c(port);
  ASSERT_TRUE(c.connected());
  c.send(post("hello", true));
  EXPECT_NE(c.read_all().find("hello"), std::string::npos);
}

TEST(HttpServerTest, APortAnotherProgramListensOnIsInUse) {
  const int other = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  // With SO_REUSEPORT, as a worker socket would have: still refused.
  ::setsockopt(other, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(other, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(other, 4), 0);
  socklen_t length = sizeof addr;
  ::getsockname(other, reinterpret_cast<sockaddr*>(&addr), &length);
  ServerOptions options;
  options.port = ntohs(addr.sin_port);
  auto server = HttpServer::start(options, echo());
  ::close(other);
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().message.find("is already in use"), std::string::npos) << server.error().message;
}

TEST(HttpServerTest, DrainAnswersTheRequestInFlightAndRefusesNewConnections) {
  std::promise<void> entered;
  std::atomic<bool> release{false};
  ServerOptions options;
  options.workers = 1;
  auto server = HttpServer::start(options, [&](const HttpRequest& request, HttpResponse& response) {
    // This one is slow: it is being handled when the drain begins.
    if (request.body == "in flight") {
      entered.set_value();
      while (!release) std::this_thread::sleep_for(1ms);
    }
    response.body = std::string(request.body);
  });
  ASSERT_TRUE(server) << server.error().message;
  const std::uint16_t port = (*server)->port();

  Client idle(port);  // keep-alive, answered before the drain, then idle
  idle.send(post("warm"));
  Client busy(port);
  std::this_thread::sleep_for(50ms);
  busy.send(post("in flight"));
  ASSERT_EQ(entered.get_future().wait_for(5s), std::future_status::ready);

  (*server)->begin_drain();
  EXPECT_FALSE(Client(port).connected());  // refused at once, although the only worker is busy
  release = true;
  const std::string answer = busy.read_all();
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_NE(answer.find("in flight"), std::string::npos) << answer;
  const std::string first = idle.read_all();  // its answer, then the close
  EXPECT_NE(first.find("warm"), std::string::npos) << first;

  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((*server)->open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ((*server)->open_connections(), 0u);
  EXPECT_EQ((*server)->drain(0ms), 0u);
}

TEST(HttpServerTest, DrainCutsARequestThatNeverCompletesAfterTheTimeout) {
  ServerOptions options;
  auto server = HttpServer::start(options, echo());
  ASSERT_TRUE(server) << server.error().message;
  Client stuck((*server)->port());
  stuck.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part");
  std::this_thread::sleep_for(50ms);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ((*server)->drain(200ms), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(stuck.read_all(), "");
}

}  // namespace
}  // namespace quant::serve
