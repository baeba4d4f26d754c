#include "halt_command.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "core/time.h"
#include "stream/stream.h"

namespace quant::app {

namespace {

Expected<stream::Endpoint> parse_endpoint(const std::string& text, double wait_s) {
  auto hp = parse_host_port("--redis", text);
  if (!hp) return tl::unexpected(hp.error());
  stream::Endpoint e;
  e.host = hp->host;
  e.port = hp->port;
  if (wait_s < 0) return make_error("--wait must be >= 0 seconds");
  const auto wait = std::chrono::milliseconds(static_cast<long long>(wait_s * 1000));
  e.connect_timeout = std::min(e.connect_timeout, std::max(wait, std::chrono::milliseconds(100)));
  e.reconnect.give_up_after = wait;
  e.reconnect.max_delay = std::chrono::milliseconds(500);
  return e;
}

}  // namespace

int run_halt(const GlobalOptions& /*global*/, const HaltArgs& args) {
  if (args.status + args.set + args.clear != 1) return fail("halt: give exactly one of --status, --set, --clear");
  if (args.set && args.reason.empty()) return fail("halt: --set needs --reason TEXT (why trading stops)");
  if (!args.set && !args.reason.empty()) return fail("halt: --reason goes with --set");
  auto endpoint = parse_endpoint(args.redis, args.wait_s);
  if (!endpoint) return fail("halt: " + endpoint.error().message);

  if (args.status) {
    auto halt = stream::read_halt(*endpoint);
    if (!halt) return fail("halt: " + halt.error().message);
    if (!*halt) {
      std::printf("not halted (no %s at %s)\n", std::string(stream::kHalt).c_str(), args.redis.c_str());
      return 0;
    }
    const stream::Halt& h = **halt;
    std::printf("HALTED: %s\n  since  %s\n  equity %.2f\n  by     %s\n", h.reason.c_str(), h.time.c_str(), h.equity,
                h.by.c_str());
    return 0;
  }
  if (args.set) {
    stream::Halt h;
    h.reason = args.reason;
    h.time = format_utc(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
    h.equity = args.equity;
    h.by = args.by;
    if (auto done = stream::set_halt(*endpoint, h); !done) return fail("halt: " + done.error().message);
    std::printf("halt set at %s: %s (by %s, %s); new entries are refused until `quant halt --clear`\n",
                args.redis.c_str(), h.reason.c_str(), h.by.c_str(), h.time.c_str());
    return 0;
  }
  auto cleared = stream::clear_halt(*endpoint);
  if (!cleared) return fail("halt: " + cleared.error().message);
  std::printf(*cleared ? "halt cleared at %s\n" : "no halt was set at %s (nothing to clear)\n", args.redis.c_str());
  return 0;
}

}  // namespace quant::app
