// Writes the fixture run directory into argv[1] and its report.html: the
// input of tests/report/render_test.sh (headless Chromium). With --gated the
// run also has the gate files (gate.csv, model_metrics.json, ungated/).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "report/report.h"
#include "report/test_fixture.h"

int main(int argc, char** argv) {
  const bool gated = argc == 3 && std::string(argv[1]) == "--gated";
  if (argc != 2 && !gated) {
    std::fprintf(stderr, "usage: %s [--gated] RUN_DIR\n", argv[0]);
    return 2;
  }
  const char* dir = argv[argc - 1];
  quant::report::testing::FixtureOptions fixture;
  fixture.gate = gated;
  quant::report::testing::write_fixture_run(dir, fixture);
  const auto path = quant::report::write_report(dir, {});
  if (!path) {
    std::fprintf(stderr, "report_fixture: %s\n", path.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", path->c_str());
  return 0;
}
