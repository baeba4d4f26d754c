#pragma once
// `quant ingest`: files in outside formats → the lake.

#include <string>
#include <vector>

#include "app_context.h"

namespace quant::app {

struct IngestArgs {
  std::string format;
  std::string symbol;
  std::string time_zone;  ///< empty: histdata → Etc/GMT+5, else the instrument's zone, else UTC
  std::vector<std::string> files;
  bool strict = false;
  bool no_bars = false;  ///< ticks/trades: do not also aggregate 1-minute bars
  std::string time_format = "auto";
  std::string columns;  ///< "ts=time,price=px,volume=qty"
  std::string delimiter;
  std::string header;  ///< "yes", "no" or "" (detect)
  double price_scale = 1.0;
  std::string base_date;
  int book_depth = 10;
  bool replace = false;    ///< key conflicts: the imported rows win (else the lake's rows stay)
  bool generated = false;  ///< mark the import as generated data (also implied by FILE.generated.json)
  bool json = false;       ///< the summary as one JSON object on stdout
};

int run_ingest(const GlobalOptions& global, const IngestArgs& args);

}  // namespace quant::app
