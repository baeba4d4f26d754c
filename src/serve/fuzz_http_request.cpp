// libFuzzer target: raw bytes as a connection would deliver them → the
// server's HTTP parser (Beast, with the server's limits) → the routes, /infer
// and /order bodies included. Models: three tiny Gatekeepers written once.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include <sanitizer/lsan_interface.h>
#include <unistd.h>

#include "serve/paper_desk.h"
#include "serve/service.h"
#include "serve/test_models.h"

namespace {

struct World {
  quant::monitor::Registry registry{"serve", "fuzz"};
  quant::serve::Metrics metrics{registry};
  std::unique_ptr<quant::serve::ModelHost> host;
  std::unique_ptr<quant::serve::PaperDesk> desk;
  std::unique_ptr<quant::serve::SignalService> service;
  quant::serve::ServerOptions options;

  World() {
    const auto dir = std::filesystem::temp_directory_path() / ("fuzz_http_request." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto models = quant::serve::testing::write_test_models(dir.string(), "gk", 1, 5);
    host = std::make_unique<quant::serve::ModelHost>(
        std::vector<quant::serve::GateSpec>{{"gatekeeper", models, "", "champion", 0.5}}, 1);
    QUANT_CHECK(host->reload().has_value());
    quant::serve::PaperDeskConfig pc;
    quant::serve::PaperSymbol win;
    win.spec.symbol = "WIN";
    win.spec.tick_size = 5;
    win.spec.point_value = 0.2;
    pc.symbols.push_back(win);
    desk = std::move(quant::serve::PaperDesk::create(pc, &metrics).value());
    quant::Bar bar{};
    bar.ts = quant::from_epoch_ns(1700000000000000000LL);
    bar.open = bar.high = bar.low = bar.close = 120000;
    for (int i = 0; i < 30; ++i) {
      bar.ts += quant::kMinute;
      bar.high = bar.close + 50;
      bar.low = bar.close - 50;
      desk->on_bar("WIN", bar);
    }
    service = std::make_unique<quant::serve::SignalService>(*host, desk.get(), quant::serve::BearerAuth("t"), metrics);
    options.max_body_bytes = 4096;
    std::filesystem::remove_all(dir);
  }
};

}  // namespace

// ONNX Runtime keeps a few process-lifetime allocations (some from its own
// threads) that LeakSanitizer reports as leaks; they are not ours.
extern "C" const char* __lsan_default_suppressions() { return "leak:libonnxruntime.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* const world = new World();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  quant::serve::parse_requests(bytes, world->options,
                               [&](const quant::serve::HttpRequest& rq, quant::serve::HttpResponse& rs) {
                                 world->service->handle(rq, rs);
                                 QUANT_CHECK(rs.status >= 200 && rs.status < 600);
                               });
  return 0;
}
