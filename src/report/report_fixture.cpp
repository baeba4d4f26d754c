// Writes a fixture run directory into RUN_DIR and its report.html: the input
// of tests/report/render_test.sh (headless Chromium) and bench/report/run.sh.
// --gated: the run also has the gate files (gate.csv, model_metrics.json,
// ungated/). --large: a long run (60,000 chart bars, 400,000 trades; see
// test_fixture.h). --report-only: writes only the report of the run already
// in RUN_DIR (bench/report/run.sh times the writer alone). Prints the report's path.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "report/report.h"
#include "report/test_fixture.h"

int main(int argc, char** argv) {
  const std::string flag = argc == 3 ? argv[1] : "";
  if (argc < 2 || argc > 3 || (argc == 3 && flag != "--gated" && flag != "--large" && flag != "--report-only")) {
    std::fprintf(stderr, "usage: %s [--gated|--large|--report-only] RUN_DIR\n", argv[0]);
    return 2;
  }
  const char* dir = argv[argc - 1];
  if (flag == "--report-only") {
    // The run is already there.
  } else if (flag == "--large") {
    quant::report::testing::write_large_fixture_run(dir);
  } else {
    quant::report::testing::FixtureOptions fixture;
    fixture.gate = flag == "--gated";
    quant::report::testing::write_fixture_run(dir, fixture);
  }
  const auto path = quant::report::write_report(dir, {});
  if (!path) {
    std::fprintf(stderr, "report_fixture: %s\n", path.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", path->c_str());
  return 0;
}
