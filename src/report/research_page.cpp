#include "report/research_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>

#include "report/html.h"

namespace quant::report {

namespace {


std::string num(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string date_of(double seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

/// A short label for a y value: enough digits for the axis range.
std::string axis_label(double v, double range) {
  const int decimals = range >= 100 ? 0 : range >= 1 ? 2 : 4;
  return num(v, decimals);
}

/// At most `max_points` points: per bucket of x, the first, lowest and highest.
std::vector<std::pair<double, double>> reduce(const Series& s, std::size_t max_points) {
  std::vector<std::pair<double, double>> out;
  const std::size_t n = std::min(s.x.size(), s.y.size());
  if (n <= max_points || max_points < 6) {
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(s.x[i], s.y[i]);
    return out;
  }
  const std::size_t buckets = max_points / 3;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t from = b * n / buckets, to = (b + 1) * n / buckets;
    if (from >= to) continue;
    std::size_t lo = from, hi = from;
    for (std::size_t i = from; i < to; ++i) {
      if (s.y[i] < s.y[lo]) lo = i;
      if (s.y[i] > s.y[hi]) hi = i;
    }
    std::vector<std::size_t> keep = {from, lo, hi, to - 1};
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    for (std::size_t i : keep) out.emplace_back(s.x[i], s.y[i]);
  }
  return out;
}

const char* kColours[] = {"#1f6feb", "#d9822b", "#2da44e", "#8250df", "#cf222e"};

std::string render_chart(const Chart& c) {
  constexpr double W = 1000, H = 280, L = 70, R = 12, T = 12, B = 30;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  std::vector<std::vector<std::pair<double, double>>> lines;
  for (const auto& s : c.series) {
    lines.push_back(reduce(s, c.max_points));
    for (const auto& [x, y] : lines.back()) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  std::string out = "<figure class=\"chart\"><figcaption>" + html_escape(c.title) + "</figcaption>";
  if (!(x1 > x0)) return out + "<p class=\"note\">no data</p></figure>";
  if (c.zero_line) y0 = std::min(y0, 0.0), y1 = std::max(y1, 0.0);
  if (!(y1 > y0)) y0 -= 1, y1 += 1;
  const double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return T + (y1 - y) / (y1 - y0) * (H - T - B); };
  out += "<svg viewBox=\"0 0 " + num(W, 0) + " " + num(H, 0) + "\" role=\"img\" aria-label=\"" + html_escape(c.title) +
         "\">";
  // Alternating bands (folds).
  for (std::size_t i = 0; i < c.bands.size(); i += 2) {
    const double a = std::clamp(c.bands[i], x0, x1);
    const double b = i + 1 < c.bands.size() ? std::clamp(c.bands[i + 1], x0, x1) : x1;
    if (b > a) {
      out += "<rect x=\"" + num(px(a)) + "\" y=\"" + num(T) + "\" width=\"" + num(px(b) - px(a)) + "\" height=\"" +
             num(H - T - B) + "\" class=\"band\"/>";
    }
  }
  for (int k = 0; k <= 4; ++k) {
    const double y = y0 + (y1 - y0) * k / 4;
    out += "<line x1=\"" + num(L) + "\" x2=\"" + num(W - R) + "\" y1=\"" + num(py(y)) + "\" y2=\"" + num(py(y)) +
           "\" class=\"grid\"/><text x=\"" + num(L - 6) + "\" y=\"" + num(py(y) + 4) + "\" class=\"ylab\">" +
           axis_label(y, y1 - y0) + "</text>";
  }
  for (int k = 0; k <= 4; ++k) {
    const double x = x0 + (x1 - x0) * k / 4;
    const char* anchor = k == 0 ? "start" : k == 4 ? "end" : "middle";  // the ends stay inside the frame
    out += "<text x=\"" + num(px(x)) + "\" y=\"" + num(H - 8) + "\" class=\"xlab\" text-anchor=\"" + anchor + "\">" +
           html_escape(c.time_axis ? date_of(x) : num(x, 0)) + "</text>";
  }
  if (c.zero_line) {
    out += "<line x1=\"" + num(L) + "\" x2=\"" + num(W - R) + "\" y1=\"" + num(py(0)) + "\" y2=\"" + num(py(0)) +
           "\" class=\"zero\"/>";
  }
  for (std::size_t s = 0; s < lines.size(); ++s) {
    std::string pts;
    for (const auto& [x, y] : lines[s]) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      pts += num(px(x)) + "," + num(py(y)) + " ";
    }
    out += "<polyline fill=\"none\" stroke=\"" + std::string(kColours[s % 5]) + "\" stroke-width=\"1.6\" points=\"" +
           pts + "\"/>";
  }
  out += "</svg><div class=\"legend\">";
  for (std::size_t s = 0; s < c.series.size(); ++s) {
    out += "<span><i style=\"background:" + std::string(kColours[s % 5]) + "\"></i>" + html_escape(c.series[s].name) +
           "</span>";
  }
  if (!c.y_label.empty()) out += "<span class=\"note\">" + html_escape(c.y_label) + "</span>";
  return out + "</div></figure>";
}

std::string render_table(const Table& t) {
  std::string out = "<div class=\"scroll\"><table><caption>" + html_escape(t.caption) + "</caption><thead><tr>";
  for (const auto& h : t.header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr></thead><tbody>";
  const std::size_t n = t.rows.size();
  const bool cut = n > t.max_rows;
  const std::size_t head = cut ? t.max_rows / 2 : n;
  auto row = [&](const std::vector<std::string>& r) {
    out += "<tr>";
    for (const auto& cell : r) out += "<td>" + html_escape(cell) + "</td>";
    out += "</tr>";
  };
  for (std::size_t i = 0; i < head; ++i) row(t.rows[i]);
  if (cut) {
    out += "<tr><td colspan=\"" + std::to_string(t.header.size()) + "\" class=\"note\">… " +
           std::to_string(n - t.max_rows) + " rows not shown …</td></tr>";
    for (std::size_t i = n - (t.max_rows - head); i < n; ++i) row(t.rows[i]);
  }
  return out + "</tbody></table></div>";
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1f2328}
h1{font-size:22px;margin:8px 0 2px}.sub{color:#57606a;margin:0 0 16px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:6px 18px;margin:12px 0 20px}
.facts div{border-bottom:1px solid #eaeef2;padding:3px 0;display:flex;justify-content:space-between;gap:8px}
.facts b{font-weight:600;font-variant-numeric:tabular-nums;text-align:right}
.warning{color:#8a4b00;background:#fff4e0;border-left:3px solid #d98c00;padding:6px 10px}
figure.chart{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto;display:block}.grid{stroke:#eaeef2}.zero{stroke:#8c959f;stroke-dasharray:4 3}
.band{fill:#f6f8fa}.ylab{font-size:11px;fill:#57606a;text-anchor:end}.xlab{font-size:11px;fill:#57606a}
.legend{display:flex;gap:16px;font-size:12px;color:#57606a}.legend i{display:inline-block;width:12px;height:3px;margin-right:5px;vertical-align:middle}
.scroll{overflow-x:auto;margin:16px 0}table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}
caption{text-align:left;font-weight:600;padding:4px 0}th,td{padding:3px 9px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}.note{color:#57606a;font-size:12px}
)";

}  // namespace

std::string render_research_page(const Page& page) {
  std::string out = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                    "content=\"width=device-width,initial-scale=1\"><title>" +
                    html_escape(page.title) + "</title><style>" + kStyle + "</style></head><body><h1>" + html_escape(page.title) +
                    "</h1><p class=\"sub\">" + html_escape(page.subtitle) + "</p>";
  for (const auto& w : page.warnings) out += "<p class=\"warning\">" + html_escape(w) + "</p>";
  out += "<div class=\"facts\">";
  for (const auto& [k, v] : page.facts) out += "<div><span>" + html_escape(k) + "</span><b>" + html_escape(v) + "</b></div>";
  out += "</div>";
  for (const auto& c : page.charts) out += render_chart(c);
  for (const auto& t : page.tables) out += render_table(t);
  for (const auto& n : page.notes) out += "<p class=\"note\">" + html_escape(n) + "</p>";
  return out + "</body></html>\n";
}

Expected<void> write_research_page(const std::string& path, const Page& page) {
  const std::string partial = path + ".partial";
  {
    std::ofstream f(partial, std::ios::binary | std::ios::trunc);
    f << render_research_page(page);
    f.close();
    if (!f) return make_error("cannot write " + partial);
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) return make_error("cannot rename " + partial + " to " + path + ": " + ec.message());
  return {};
}

}  // namespace quant::report
