// libFuzzer target: one line as a terminal would send it → the bridge codec.
// Whatever decodes must encode to a line that decodes to the same line again
// (the codec is canonical), and the line reader must never over-buffer.
#include <cstdint>
#include <string_view>

#include "execution/bridge_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  using namespace quant::execution::bridge;
  if (auto m = decode(bytes)) {
    const std::string line = encode(*m);
    auto again = decode(line);
    QUANT_CHECK(again.has_value());
    QUANT_CHECK(encode(*again) == line);
  }
  LineReader reader;
  if (reader.feed(bytes)) {
    while (auto line = reader.next()) QUANT_CHECK(line->size() < kMaxLine);
  }
  return 0;
}
