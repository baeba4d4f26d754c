#pragma once
/// JSON text written by hand where a DOM would cost too much per line (the
/// signal service's answers, the ClickHouse logger's rows).

#include <string>
#include <string_view>

namespace quant {

/// Appends `text` as a JSON string literal, quotes included: `"` and `\`
/// escaped, control characters as \u00XX, every other byte unchanged (valid
/// UTF-8 stays valid; other bytes pass through).
void append_json_string(std::string& out, std::string_view text);

}  // namespace quant
