#pragma once
// `quant lake ls | query | verify | bars`.

#include <string>

#include "app_context.h"

namespace quant::app {

struct LakeLsArgs {
  std::string symbol;
  std::string dataset;
  bool partitions = false;  ///< one line per partition instead of per dataset/symbol
  bool json = false;        ///< one JSON object on stdout
};
struct LakeQueryArgs {
  std::string sql;
};
struct LakeVerifyArgs {
  std::string symbol;
  int examples = 10;
  bool json = false;  ///< the report as one JSON object on stdout (every finding kept, up to 100 per check)
};
struct LakeBarsArgs {
  std::string symbol;
  std::string timeframe = "1m";
  std::string from, to;  ///< dates/times; local to the instrument's zone when no offset is given
};

int run_lake_ls(const GlobalOptions& global, const LakeLsArgs& args);
int run_lake_query(const GlobalOptions& global, const LakeQueryArgs& args);
int run_lake_verify(const GlobalOptions& global, const LakeVerifyArgs& args);
int run_lake_bars(const GlobalOptions& global, const LakeBarsArgs& args);

}  // namespace quant::app
