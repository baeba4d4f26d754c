// libFuzzer target: a FIX body as a peer could send it (tag=value fields
// separated by SOH or '|', the first field's value being the MsgType) → both
// codecs. Nothing may crash; what the exchange decodes as an order must encode
// on the venue's side to a request the exchange decodes to the same body.
#include <cstdint>
#include <string>
#include <string_view>

#include "fix/fix_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace quant::fix;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  RawMessage m;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t end = bytes.find_first_of("\x01|", pos);
    if (end == std::string_view::npos) end = bytes.size();
    const std::string_view field = bytes.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    int tag = 0;
    for (char c : field.substr(0, eq)) tag = c >= '0' && c <= '9' && tag < 100000 ? tag * 10 + (c - '0') : tag;
    if (m.type.empty()) {
      m.type = std::string(field.substr(eq + 1));
    } else {
      m.fields.push_back({tag, std::string(field.substr(eq + 1))});
    }
  }
  VenueCodec venue(B3Identity{});
  (void)venue.decode(m);
  ExchangeCodec exchange;
  auto request = exchange.decode(m);
  if (request) {
    if (const auto* o = std::get_if<quant::execution::bridge::OrderNew>(&*request)) {
      auto wire = venue.encode(*o, 0);
      QUANT_CHECK(wire.has_value());
      ExchangeCodec again;
      auto back = again.decode(*wire);
      QUANT_CHECK(back.has_value());
      QUANT_CHECK(quant::execution::bridge::encode({1, 0, *back}) == quant::execution::bridge::encode({1, 0, *o}));
    }
    (void)exchange.encode(&*request, {});
  }
  return 0;
}
