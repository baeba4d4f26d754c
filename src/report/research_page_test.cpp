// The research page: escaped text, bounded chart size, paged tables.
#include "report/research_page.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace quant::report {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

TEST(ResearchPageTest, TextIsEscapedAndSeriesAreReducedKeepingTheExtremes) {
  Page page;
  page.title = "A <b>title</b> & more";
  Series s{"equity", {}, {}};
  for (int i = 0; i < 100000; ++i) {
    s.x.push_back(1.6e9 + 86400.0 * i);
    s.y.push_back(i == 54321 ? -500.0 : 100.0 + (i % 7));
  }
  Chart c;
  c.title = "curve";
  c.series = {s};
  c.max_points = 600;
  page.charts.push_back(c);
  const std::string html = render_research_page(page);
  EXPECT_NE(html.find("A &lt;b&gt;title&lt;/b&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(html.find("<b>title</b>"), std::string::npos);
  const auto points = html.substr(html.find("points=\""), html.find("\"/>", html.find("points=\"")) - html.find("points=\""));
  EXPECT_LE(count(points, ","), 800u) << "the 100,000 points are reduced";
  EXPECT_GE(count(points, ","), 300u);
  // The lowest point survives the reduction: the axis reaches it.
  EXPECT_NE(html.find(">-5"), std::string::npos);
  EXPECT_LT(html.size(), 60000u);
}

TEST(ResearchPageTest, LongTablesShowTheirEndsAndSayHowManyRowsAreLeftOut) {
  Page page;
  Table t;
  t.caption = "trials";
  t.header = {"n"};
  for (int i = 0; i < 1000; ++i) t.rows.push_back({"row" + std::to_string(i)});
  t.max_rows = 10;
  page.tables.push_back(t);
  const std::string html = render_research_page(page);
  EXPECT_NE(html.find(">row0<"), std::string::npos);
  EXPECT_NE(html.find(">row999<"), std::string::npos);
  EXPECT_EQ(html.find(">row500<"), std::string::npos);
  EXPECT_NE(html.find("990 rows not shown"), std::string::npos);
}

}  // namespace
}  // namespace quant::report
