#include "core/order_book.h"

#include <cmath>

namespace quant {

namespace {
template <class Map>
void set_level(Map& levels, double price, double size) {
  if (size == 0) {
    levels.erase(price);
  } else {
    levels.insert_or_assign(price, size);
  }
}

template <class Map>
void copy_top(const Map& levels, std::size_t depth, std::vector<BookLevel>& out) {
  out.clear();
  for (auto it = levels.begin(); it != levels.end() && out.size() < depth; ++it) {
    out.push_back(BookLevel{it->first, it->second});
  }
}
}  // namespace

bool OrderBook::apply(BookSide side, double price, double size) {
  if (!std::isfinite(price) || price <= 0 || !std::isfinite(size) || size < 0) return false;
  if (side == BookSide::Bid) {
    set_level(bids_, price, size);
  } else {
    set_level(asks_, price, size);
  }
  return true;
}

void OrderBook::clear() {
  bids_.clear();
  asks_.clear();
}

std::optional<BookLevel> OrderBook::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return BookLevel{bids_.begin()->first, bids_.begin()->second};
}

std::optional<BookLevel> OrderBook::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return BookLevel{asks_.begin()->first, asks_.begin()->second};
}

void OrderBook::snapshot(Timestamp ts, std::size_t depth, BookSnapshot& out) const {
  out.ts = ts;
  copy_top(bids_, depth, out.bids);
  copy_top(asks_, depth, out.asks);
}

}  // namespace quant
