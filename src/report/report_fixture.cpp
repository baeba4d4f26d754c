// Writes the fixture run directory into argv[1] and its report.html: the
// input of tests/report/render_test.sh (headless Chromium).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "report/report.h"
#include "report/test_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s RUN_DIR\n", argv[0]);
    return 2;
  }
  quant::report::testing::write_fixture_run(argv[1]);
  const auto path = quant::report::write_report(argv[1], {});
  if (!path) {
    std::fprintf(stderr, "report_fixture: %s\n", path.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", path->c_str());
  return 0;
}
