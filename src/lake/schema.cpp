#include "lake/schema.h"

namespace quant::lake {

using duck::ColumnType;

const Schema& schema_of(Dataset dataset) {
  static const Schema kBars{{{"ts", "TIMESTAMP_NS", ColumnType::TimestampNs},
                             {"open", "DOUBLE", ColumnType::Double},
                             {"high", "DOUBLE", ColumnType::Double},
                             {"low", "DOUBLE", ColumnType::Double},
                             {"close", "DOUBLE", ColumnType::Double},
                             {"tick_volume", "BIGINT", ColumnType::BigInt},
                             {"volume", "DOUBLE", ColumnType::Double},
                             {"spread", "INTEGER", ColumnType::Integer}},
                            "ts",
                            "ts",
                            "row(open, high, low, close, tick_volume, volume, spread)",
                            false};
  static const Schema kTicks{{{"ts", "TIMESTAMP_NS", ColumnType::TimestampNs},
                              {"seq", "INTEGER", ColumnType::Integer},
                              {"bid", "DOUBLE", ColumnType::Double},
                              {"ask", "DOUBLE", ColumnType::Double},
                              {"last", "DOUBLE", ColumnType::Double},
                              {"volume", "DOUBLE", ColumnType::Double},
                              {"bid_size", "DOUBLE", ColumnType::Double},
                              {"ask_size", "DOUBLE", ColumnType::Double},
                              {"flags", "UINTEGER", ColumnType::UInteger}},
                             "ts, seq",
                             "ts, seq",
                             "row(bid, ask, last, volume, bid_size, ask_size, flags)",
                             false};
  static const Schema kTrades{{{"ts", "TIMESTAMP_NS", ColumnType::TimestampNs},
                               {"seq", "INTEGER", ColumnType::Integer},
                               {"price", "DOUBLE", ColumnType::Double},
                               {"volume", "DOUBLE", ColumnType::Double},
                               {"aggressor", "TINYINT", ColumnType::TinyInt}},
                              "ts, seq",
                              "ts, seq",
                              "row(price, volume, aggressor)",
                              false};
  static const Schema kBook{{{"ts", "TIMESTAMP_NS", ColumnType::TimestampNs},
                             {"seq", "INTEGER", ColumnType::Integer},
                             {"level", "SMALLINT", ColumnType::SmallInt},
                             {"bid_price", "DOUBLE", ColumnType::Double},
                             {"bid_size", "DOUBLE", ColumnType::Double},
                             {"ask_price", "DOUBLE", ColumnType::Double},
                             {"ask_size", "DOUBLE", ColumnType::Double}},
                            "ts, seq, level",
                            "ts, seq",
                            "list(row(level, bid_price, bid_size, ask_price, ask_size) ORDER BY level)",
                            true};
  switch (dataset) {
    case Dataset::Bars1m: return kBars;
    case Dataset::Ticks: return kTicks;
    case Dataset::Trades: return kTrades;
    case Dataset::Book: return kBook;
  }
  return kBars;
}

std::vector<duck::ColumnType> column_types(const Schema& schema) {
  std::vector<duck::ColumnType> types;
  for (const Column& c : schema.columns) types.push_back(c.type);
  return types;
}

std::string column_list(const Schema& schema, const char* prefix) {
  std::string out;
  for (const Column& c : schema.columns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += c.name;
  }
  return out;
}

std::string column_ddl(const Schema& schema) {
  std::string out;
  for (const Column& c : schema.columns) {
    if (!out.empty()) out += ", ";
    out += std::string(c.name) + " " + c.sql_type;
  }
  return out;
}

std::string sql_string(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace quant::lake
