// HistData M1 bars: no header, ';'-separated (',' accepted), "YYYYMMDD HHMMSS"
// in the caller's zone (EST without DST by default), volume optional.
#include <memory>
#include <string_view>

#include "ingest/bar_parser.h"
#include "ingest/parser.h"

namespace quant::ingest::detail {

namespace {

class HistDataParser final : public BarParser {
 public:
  using BarParser::BarParser;

  Expected<bool> start(std::string_view line) override {
    delimiter_ = options_.delimiter != '\0' ? options_.delimiter
                 : line.find(';') == std::string_view::npos && line.find(',') != std::string_view::npos ? ','
                                                                                                        : ';';
    split(line, delimiter_, fields_);
    TextTime t;
    const std::string_view first = trim(fields_[0]);
    if (fields_.size() < 5 || fields_.size() > 6 || first.size() != 15 || !parse_text_time(first, t) || !t.has_time) {
      return tl::unexpected(header_error(
          "a HistData M1 file: expected rows like '20170102 020000;1.051550;1.051970;1.051550;1.051900;0'", line));
    }
    ts_kind_ = TsKind::Text;
    ts_col_ = 0;
    open_ = 1;
    high_ = 2;
    low_ = 3;
    close_ = 4;
    volume_ = fields_.size() == 6 ? 5 : -1;
    n_fields_ = fields_.size();
    default_names(n_fields_, {{0, "DATETIME"}, {1, "OPEN"}, {2, "HIGH"}, {3, "LOW"}, {4, "CLOSE"}, {5, "VOLUME"}});
    return false;
  }
};

}  // namespace

std::unique_ptr<Parser> make_histdata_parser(const ByteSource& source, const ImportOptions& options, Emitter& out) {
  return std::make_unique<HistDataParser>(source, options, out);
}

}  // namespace quant::ingest::detail
