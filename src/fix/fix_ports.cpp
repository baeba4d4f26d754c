#include "fix/fix_ports.h"

namespace quant::fix {

Expected<void> FixOrderRoute::start(std::int64_t last_report_seq) {
  // The journal is the truth about what was applied: a report received but
  // not journaled before a crash is asked for again (the store counted it as
  // received). With none journaled, everything the exchange's store holds is
  // asked for; reports of another session's orders are unknown to the engine
  // and ignored.
  if (auto r = venue_->expect_next(static_cast<int>(last_report_seq + 1)); !r) return r;
  return venue_->start();
}

std::vector<bridge::Message> FixOrderRoute::poll(std::chrono::milliseconds wait) {
  std::vector<bridge::Message> out;
  for (Report& r : venue_->poll(wait)) out.push_back(std::move(r.message));
  return out;
}

Expected<void> FixOrderChannel::send(const bridge::Body* request, const std::vector<bridge::Body>& reports) {
  if (reports.empty()) return {};
  return request != nullptr ? exchange_->answer(*request, reports) : exchange_->report(reports);
}

}  // namespace quant::fix
