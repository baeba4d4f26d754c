// libFuzzer target: getUpdates' result as the network hands it → parse_updates.
// Whatever comes, no crash, no exception; an update without a message's chat
// has chat_id 0 and no text (so it can never run a command).
#include <cstdint>
#include <string_view>

#include "bot/telegram_api.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto updates = quant::bot::parse_updates(bytes)) {
    for (const auto& u : *updates) QUANT_CHECK(u.chat_id != 0 || u.text.empty());
  }
  return 0;
}
