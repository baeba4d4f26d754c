#include "core/json_text.h"

#include <gtest/gtest.h>

namespace quant {
namespace {

TEST(JsonTextTest, EscapesQuotesBackslashesAndControlCharactersOnly) {
  std::string out = "x";
  append_json_string(out, std::string("a\"b\\c\n\x01\x1f \xc3\xa9", 11));
  EXPECT_EQ(out, "x\"a\\\"b\\\\c\\u000a\\u0001\\u001f \xc3\xa9\"");
  out.clear();
  append_json_string(out, "");
  EXPECT_EQ(out, "\"\"");
}

}  // namespace
}  // namespace quant
