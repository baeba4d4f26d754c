#pragma once
/// HTML text helpers shared by the report pages.

#include <string>
#include <string_view>

namespace quant::report {

/// `text` with & < > " ' as entities, safe inside elements and quoted attributes.
std::string html_escape(std::string_view text);

}  // namespace quant::report
