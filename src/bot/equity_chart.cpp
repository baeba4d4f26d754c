// cairo behind equity_chart_png (the only file that includes it).

#include "bot/equity_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <cairo/cairo.h>

namespace quant::bot {

namespace {

cairo_status_t append_png(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string clock_text(std::int64_t local_s) {
  const std::int64_t in_day = ((local_s % 86400) + 86400) % 86400;
  char text[16];
  std::snprintf(text, sizeof text, "%02d:%02d", static_cast<int>(in_day / 3600), static_cast<int>(in_day % 3600 / 60));
  return text;
}

}  // namespace

Expected<std::string> equity_chart_png(std::vector<EquityPoint> points, const ChartOptions& options) {
  points.erase(std::remove_if(points.begin(), points.end(), [](const EquityPoint& p) { return !std::isfinite(p.equity); }),
               points.end());
  if (points.empty()) return make_error("equity chart: no points");
  if (options.width < 200 || options.height < 150) return make_error("equity chart: at least 200 x 150 pixels");
  std::sort(points.begin(), points.end(), [](const EquityPoint& a, const EquityPoint& b) { return a.ts_ms < b.ts_ms; });

  double lo = points.front().equity, hi = lo;
  for (const auto& p : points) {
    lo = std::min(lo, p.equity);
    hi = std::max(hi, p.equity);
  }
  for (double level : {options.day_start_equity, options.breaker_equity}) {
    if (level > 0) {
      lo = std::min(lo, level);
      hi = std::max(hi, level);
    }
  }
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const double pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const std::int64_t t0 = points.front().ts_ms;
  const std::int64_t t1 = std::max(points.back().ts_ms, t0 + 60000);

  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, options.width, options.height);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(surface));
    cairo_surface_destroy(surface);
    return make_error("equity chart: cairo: " + why);
  }
  cairo_t* cr = cairo_create(surface);
  const double left = 80, right = 20, top = 40, bottom = 40;
  const double w = options.width - left - right, h = options.height - top - bottom;
  auto x_of = [&](std::int64_t ts) { return left + w * static_cast<double>(ts - t0) / static_cast<double>(t1 - t0); };
  auto y_of = [&](double v) { return top + h * (hi - v) / (hi - lo); };

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 14);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_move_to(cr, left, 24);
  cairo_show_text(cr, options.title.c_str());

  // Axes and labels: five equity levels, the first and last time.
  cairo_set_font_size(cr, 11);
  cairo_set_line_width(cr, 1);
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4;
    const double y = y_of(v);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, left, y);
    cairo_line_to(cr, left + w, y);
    cairo_stroke(cr);
    char label[32];
    std::snprintf(label, sizeof label, "%.0f", v);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, 8, y + 4);
    cairo_show_text(cr, label);
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_move_to(cr, left, top + h + 18);
  cairo_show_text(cr, clock_text(t0 / 1000 + options.utc_offset_s).c_str());
  cairo_move_to(cr, left + w - 34, top + h + 18);
  cairo_show_text(cr, clock_text(t1 / 1000 + options.utc_offset_s).c_str());

  const double dash[] = {6, 4};
  auto level_line = [&](double level, double r, double g, double b) {
    if (level <= 0) return;
    cairo_set_source_rgb(cr, r, g, b);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, left, y_of(level));
    cairo_line_to(cr, left + w, y_of(level));
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
  };
  level_line(options.day_start_equity, 0.4, 0.4, 0.4);
  level_line(options.breaker_equity, 0.85, 0.1, 0.1);

  cairo_set_source_rgb(cr, 0.1, 0.3, 0.8);
  cairo_set_line_width(cr, 2);
  cairo_move_to(cr, x_of(points.front().ts_ms), y_of(points.front().equity));
  for (const auto& p : points) cairo_line_to(cr, x_of(p.ts_ms), y_of(p.equity));
  if (points.size() == 1) cairo_line_to(cr, x_of(points.front().ts_ms) + 2, y_of(points.front().equity));
  cairo_stroke(cr);

  std::string png;
  const cairo_status_t status = cairo_surface_write_to_png_stream(surface, append_png, &png);
  cairo_destroy(cr);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) return make_error(std::string("equity chart: cairo: ") + cairo_status_to_string(status));
  return png;
}

}  // namespace quant::bot
