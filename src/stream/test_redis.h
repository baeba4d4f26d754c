#pragma once
/// A real redis-server for tests (not part of the library): one per test, on a
/// free loopback port, in its own temporary directory, with the AOF fsynced on
/// every write (`--appendonly yes --appendfsync always --save ""`), so stop(),
/// kill() (SIGKILL) and start() again on the same port and directory model a
/// crash and restart that keeps every acknowledged write.
///
/// Tests derive from `RedisTest`: it skips the test with a message when
/// redis-server is not installed, except under CI (the CI environment
/// variable set), where that is a failure.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/test_net.h"
#include "stream/stream.h"

namespace quant::testing {

class RedisServer {
 public:
  /// True when `redis-server` is on the PATH.
  static bool installed() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

  RedisServer() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("quant_redis_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = free_port();
  }
  ~RedisServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Starts the server (again: same port and directory) and waits until it
  /// answers PING; "" on success, else what went wrong with its log.
  std::string start() {
    if (pid_ > 0) return "";
    const std::string port = std::to_string(port_);
    const std::string dir = dir_.string();
    const std::string log = (dir_ / "redis.log").string();
    std::vector<std::string> args{"redis-server",
                                  "--port",
                                  port,
                                  "--bind",
                                  "127.0.0.1",
                                  "--dir",
                                  dir,
                                  "--appendonly",
                                  "yes",
                                  "--appendfsync",
                                  "always",
                                  "--save",
                                  "",
                                  "--daemonize",
                                  "no",
                                  "--logfile",
                                  log,
                                  "--protected-mode",
                                  "no"};
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) return "fork failed";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "redis-server exited at start-up: " + read_log();
      }
      if (ping()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "redis-server did not answer PING on port " + port + " within 10 s: " + read_log();
  }

  /// SIGTERM and wait: a clean shutdown (the AOF is flushed).
  void stop() { signal_and_wait(SIGTERM); }
  /// SIGKILL and wait: a crash.
  void kill() { signal_and_wait(SIGKILL); }
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  /// An endpoint on this server, with a reconnect policy short enough for tests.
  stream::Endpoint endpoint() const {
    stream::Endpoint e;
    e.port = port_;
    e.connect_timeout = std::chrono::milliseconds(500);
    e.reconnect.first_delay = std::chrono::milliseconds(20);
    e.reconnect.max_delay = std::chrono::milliseconds(200);
    e.reconnect.give_up_after = std::chrono::milliseconds(10000);
    return e;
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:

  /// A raw "PING" over a socket (no client library needed): true on "+PONG".
  bool ping() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      const char ping[] = "PING\r\n";
      timeval tv{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof ping - 1)) {
        char buf[16] = {};
        const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
        ok = n >= 5 && std::string(buf, 5) == "+PONG";
      }
    }
    ::close(fd);
    return ok;
  }

  void signal_and_wait(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string read_log() const {
    std::ifstream in(dir_ / "redis.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

/// A test with its own running redis-server (`redis`).
class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && *ci != '\0') FAIL() << "redis-server is not installed, and CI always has it";
      GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it): Redis test skipped";
    }
    const std::string error = redis.start();
    ASSERT_EQ(error, "") << "starting redis-server failed";
  }
  RedisServer redis;
};

}  // namespace quant::testing
