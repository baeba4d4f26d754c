#pragma once
/// A self-contained HTML page for research results (walk-forward,
/// optimisation): facts, line charts drawn as inline SVG, tables. No script,
/// no outside file: it opens offline, prints, and stays small (each series is
/// reduced to at most `max_points` points, keeping each bucket's extremes).

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace quant::report {

struct Series {
  std::string name;
  std::vector<double> x;  ///< seconds since the epoch (time axis) or any increasing value
  std::vector<double> y;
};

struct Chart {
  std::string title, y_label;
  std::vector<Series> series;
  bool time_axis = true;          ///< x in seconds since the epoch, labelled as dates
  std::vector<double> bands;      ///< x positions where a shaded band alternates (fold starts)
  bool zero_line = false;         ///< draw y = 0
  std::size_t max_points = 2000;  ///< per series
};

struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::size_t max_rows = 500;  ///< more: the first and last halves, with a note
};

struct Page {
  std::string title, subtitle;
  std::vector<std::pair<std::string, std::string>> facts;
  std::vector<std::string> warnings;
  std::vector<Chart> charts;
  std::vector<Table> tables;
  std::vector<std::string> notes;
};

/// The page as HTML text (escaped; numbers as given).
std::string render_research_page(const Page& page);

/// Writes the page to `path` through `path`.partial renamed into place.
Expected<void> write_research_page(const std::string& path, const Page& page);

}  // namespace quant::report
