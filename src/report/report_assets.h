#pragma once
/// The files embedded into the library at build time (embed_files.cmake
/// generates the definitions into the build tree). Each view holds the exact
/// bytes of its file and lives as long as the program.

#include <string_view>

namespace quant::report::assets {

/// third_party/lightweight-charts/lightweight-charts.standalone.production.js
std::string_view lightweight_charts_js();
/// The library's Apache 2.0 licence text.
std::string_view lightweight_charts_license();
/// assets/report.html: the page skeleton with {{PLACEHOLDERS}}.
std::string_view page_html();
/// assets/report.css
std::string_view page_css();
/// assets/report.js: builds the page from the embedded data.
std::string_view page_js();

}  // namespace quant::report::assets
